"""gunicorn for CityOps behind nginx: `gunicorn -c deploy/gunicorn.conf.py cityops.wsgi`.

Threaded workers (gthread): a request waiting on the database or a slow client's upload holds
one thread, not a whole process; nginx buffers request bodies and responses, so slow clients
never reach gunicorn at all. Every value can be overridden from the environment.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A request taking longer than this is a bug or a stuck dependency: the worker is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5  # nginx keeps connections to us open (upstream keepalive)
# Recycle workers now and then (bounded memory growth), not all at once.
max_requests = 2000
max_requests_jitter = 200
# Only nginx on this machine may tell us the client's scheme (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "cityops-web"
