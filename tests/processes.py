"""Real processes for the tests: a Celery worker or uvicorn on the pytest database (its
address for their DATABASE_URL, the start and sure stop of a process), and a fresh
interpreter that sets Django up with other settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from tests.stack import RATE_LIMITS_UNTHROTTLED

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The pytest database (test_...), as a subprocess's DATABASE_URL."""
    db = connection.settings_dict
    user = quote(str(db["USER"] or ""), safe="")
    password = quote(str(db["PASSWORD"] or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgis://{auth}{host}:{port}/{quote(str(db['NAME']), safe='')}"


@contextmanager
def running(
    command: list[str], *, env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` run in the project's folder, its output in ``log``, never rate limited
    unless ``env`` says so. Always stopped: a warm shutdown first, killed if it has not gone
    within 15 s (a process left behind would hold the test database open)."""
    env = {**RATE_LIMITS_UNTHROTTLED, **env}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=15)


def python_with_settings(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter with the project's settings, in the tests'
    environment less DEBUG and SECRET_KEY, plus ``env``."""
    clean = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY"}}
    clean.update(DJANGO_SETTINGS_MODULE="backend.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
