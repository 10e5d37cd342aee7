"""The fault suite's topology (bench/faults/run.py): its ports, database and environment, the
production processes started from the Procfile and deploy/ (gunicorn, Celery worker and beat,
nginx), and the webhook receivers (one answering at once, one slow, one failing)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DB = "cityops_faults"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB}"
REDIS_DB = 3
NGINX, WEB, FAST, SLOW, FAILING = 8130, 8131, 8132, 8133, 8134
PASSWORD = "faults-" + secrets.token_hex(4)
MARK = f"fault-suite-{secrets.token_hex(3)}"  # this run's cases
PY = str(ROOT / ".venv" / "bin" / "python")

ENV = {
    **os.environ,
    "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "CACHE_URL": f"rediscache://127.0.0.1:6379/{REDIS_DB}",
    "DEBUG": "False",
    "SECRET_KEY": secrets.token_urlsafe(40),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "False",  # plain HTTP on loopback for the trial
    "NUM_PROXIES": "1",
    "DEMO_PASSWORD": PASSWORD,
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "CITYOPS_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "CITYOPS_WEBHOOK_TIMEOUT_SECONDS": "10",
    "CITYOPS_OUTBOX_INTERVAL_SECONDS": "2",
    "GUNICORN_BIND": f"127.0.0.1:{WEB}",
    # Workers and threads as deploy/gunicorn.conf.py sets them: the suite faults the deployed form.
    "GUNICORN_LOG_LEVEL": "warning",
}
WORK = Path(tempfile.mkdtemp(prefix="cityops-faults-"))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", flush=True)


# --- processes -------------------------------------------------------------------------------


class Processes:
    """The Procfile's processes and nginx, each in its own process group."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen] = {}
        self.commands = {}
        for line in (ROOT / "Procfile").read_text().splitlines():
            if ":" in line and not line.startswith("#"):
                name, command = line.split(":", 1)
                self.commands[name.strip()] = command.strip()

    def start(self, name: str, command: str | None = None) -> None:
        command = command or self.commands[name]
        out = open(WORK / f"{name}.log", "ab")  # noqa: SIM115 - kept open with the process
        self.running[name] = subprocess.Popen(
            shlex.split(command) if command.startswith("nginx") else ["sh", "-c", command],
            cwd=ROOT,
            env=ENV,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.kill(name, signal.SIGTERM)


def nginx_conf() -> str:
    """deploy/nginx/cityops.conf for the trial: plain HTTP on 8130, this checkout, logs here."""
    site = (ROOT / "deploy" / "nginx" / "cityops.conf").read_text()
    site = site.replace("/srv/cityops", str(ROOT)).replace("127.0.0.1:8000", f"127.0.0.1:{WEB}")
    site = re.sub(r"listen 443 ssl[^;]*;", f"listen 127.0.0.1:{NGINX};", site)
    site = re.sub(r"listen 80;", "listen 127.0.0.1:8139;", site)
    site = re.sub(r"\n\s*ssl_[a-z_]+ [^\n]*;", "", site)
    site = re.sub(
        r"(access|error)_log [^;]*;", lambda m: f"{m[1]}_log {WORK}/nginx.{m[1]}.log;", site
    )
    (WORK / "site.conf").write_text(site)
    main = f"""
daemon off;
worker_processes 1;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx.error.log;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {WORK}/body;
    proxy_temp_path {WORK}/proxy;
    fastcgi_temp_path {WORK}/fastcgi;
    uwsgi_temp_path {WORK}/uwsgi;
    scgi_temp_path {WORK}/scgi;
    include {WORK}/site.conf;
}}
"""
    (WORK / "nginx.conf").write_text(main)
    return f"nginx -c {WORK}/nginx.conf -p {WORK}"


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=ENV, capture_output=True, text=True, check=check
    )


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-Atc", sql],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def redis_flush() -> None:
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "FLUSHDB"], check=True, capture_output=True)


# --- webhook receivers -----------------------------------------------------------------------


class Receiver:
    def __init__(self, port: int, *, delay: float = 0.0, status: int = 200) -> None:
        self.delay, self.status = delay, status
        self.posts: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.posts.append(self.headers.get("X-CityOps-Delivery") or "")
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{port}/hook"
