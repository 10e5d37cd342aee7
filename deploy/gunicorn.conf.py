"""gunicorn for CityOps behind nginx: `gunicorn -c deploy/gunicorn.conf.py cityops.wsgi`.

Sync workers, one request per process: nginx buffers request bodies and responses, so slow
clients never reach gunicorn, and no request waits on anything but PostgreSQL (e-mail, SMS and
webhooks go through the outbox and the Celery worker). Measured with `bench/api_http.py` at 1M
tasks on 2 cores (2026-12-06, idle host): the completion API at saturation, 16 connections,
gave 310-324 req/s with p95 55-61 ms with sync workers, against 234-264 req/s with p95
106-132 ms with gthread workers of 4 threads, which share one GIL per process and take
connections unevenly. Every value can be overridden from the environment.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
# More than one thread turns the workers into gthread workers (see above before raising it).
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# A request taking longer than this is a bug or a stuck dependency: the worker is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# The application is imported once, in the master, and each worker is forked from it: a
# worker that is recycled is back in milliseconds instead of re-importing Django for 1.6 s
# of CPU (with 2000 ± 200 and an even load, four of five workers were recycled within the
# same second at 300 req/s, and the queue waited two seconds behind them). No app's ready()
# opens a database connection, so none is shared across the fork.
preload_app = True
# Recycle workers now and then (bounded memory growth), spread out: ±50 %.
max_requests = 10000
max_requests_jitter = 5000
# Only nginx on this machine may tell us the client's scheme (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "cityops-web"
