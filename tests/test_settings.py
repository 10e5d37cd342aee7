import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _check_deploy(tmp_path, **env):
    return _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY="x" * 64 + "-production-secret-for-the-check-only",
        ALLOWED_HOSTS="cityops.example.gov.cn",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        **env,
    )


def test_check_deploy_is_clean_with_production_values(tmp_path):
    result = _check_deploy(tmp_path, CACHE_URL="redis://127.0.0.1:6379/1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_when_login_counts_are_not_shared(tmp_path):
    """Without CACHE_URL each process would count failed logins alone (issue 14)."""
    result = _check_deploy(tmp_path, CACHE_URL="locmemcache://")
    assert result.returncode != 0
    assert "axes.W001" in result.stderr


def test_secret_key_is_required_without_debug(tmp_path):
    result = _manage(
        "check",
        DEBUG="False",
        SECRET_KEY="",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
