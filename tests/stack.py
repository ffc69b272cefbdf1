"""A whole city311 of its own, with real processes, for the fault tests and the load test.

``Stack`` runs, under ``.var/stacks/<id>/``: a PostgreSQL + PostGIS cluster (migrated, the
catalog loaded), a Redis, the ASGI server (uvicorn), a Celery worker and the outbox
dispatcher, each on free loopback ports, with DEBUG off. Any of them can be stopped,
killed and started again while the others run, which is the point: the dev cluster and
Redis that other tests use are never touched. PostgreSQL refuses to run as root; on a root
shell the cluster belongs to the ``postgres`` account, as in backend/scripts/services.sh."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The rate limits of servers that tests and benches start: far above any load they offer, so
# none is throttled (the limits' own tests use the site's defaults: tests/security/).
RATE_LIMITS_UNTHROTTLED = {
    f"RATELIMIT_{name}": "1000000/60"
    for name in (
        "INTAKE_IP",
        "INTAKE_KEY",
        "INTAKE_PARTNER",
        "LOGIN_IP",
        "LOGIN_FAILED_IP",
        "CHAT_IP",
        "CHAT_KEY",
    )
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (make system installs them)")
    return found[-1]


def _as_pg(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


class Stack:
    def __init__(
        self,
        *,
        visibility_timeout_s: int = 5,
        web_workers: int = 1,
        catalog_cache_s: int = 0,
        open311_list_cache_s: int = 0,
        code: Path = ROOT,
    ) -> None:
        # ``code``: the checkout whose application runs (another one's source first on the
        # path, this one's venv; the load bench compares two commits this way).
        self.code = code
        self.dir = ROOT / ".var" / "stacks" / uuid.uuid4().hex[:10]
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.web_port = free_port()
        self.web_workers = web_workers
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **RATE_LIMITS_UNTHROTTLED,
            **os.environ,
            "CITY311_ENV": "test",
            "DEBUG": "0",
            "DATABASE_URL": f"postgis://city311:city311@127.0.0.1:{self.pg_port}/city311",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CHANNELS_PREFIX": f"stack{self.redis_port}_",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_VISIBILITY_TIMEOUT_S": str(visibility_timeout_s),
            # Off by default: the fault tests edit the catalog under a running server.
            "CATALOG_CACHE_SECONDS": str(catalog_cache_s),
            "OPEN311_LIST_CACHE_SECONDS": str(open311_list_cache_s),
            "DB_POOL_TIMEOUT": "2",
            "CITY311_VAR_DIR": str(self.dir),
            "MEDIA_ROOT": str(self.dir / "media"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            **({"PYTHONPATH": str(code)} if code != ROOT else {}),
        }
        self.pg_bin = _pg_bin()
        self.pgdata = self.dir / "pg"
        self.rundir = self.dir / "run"
        # Where each service listens (tests/netstack.py puts them on hosts of their own).
        self.pg_host = self.redis_host = self.web_host = "127.0.0.1"

    # --- the whole thing
    def start(self) -> Stack:
        self.dir.mkdir(parents=True)
        (self.dir / "log").mkdir()
        self.postgres_init()
        self.postgres_start()
        self.redis_start()
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("catalog_load")
        self.web_start()
        self.worker_start()
        self.dispatcher_start()
        return self

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name, sig=signal.SIGTERM)
        self.postgres_stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def log(self, name: str) -> str:
        path = self.dir / "log" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def manage(self, *args: str) -> None:
        subprocess.run(
            [str(BIN / "python"), "manage.py", *args], cwd=self.code, env=self.env, check=True
        )

    # --- database
    def postgres_init(self) -> None:
        self.pgdata.mkdir()
        self.rundir.mkdir()
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
            for path in (self.pgdata, self.rundir, self.dir / "log"):
                shutil.chown(path, "postgres")
        subprocess.run(
            _as_pg(
                [
                    str(self.pg_bin / "initdb"),
                    "-D", str(self.pgdata),
                    "-U", "city311",
                    "--auth=trust",
                    "-E", "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{self.pg_host}'\nport = {self.pg_port}\n"
                f"unix_socket_directories = '{self.rundir}'\nfsync = off\n"
                "max_connections = 100\n"
            )
        self.postgres_configured()
        self.postgres_start()
        self.sql("CREATE DATABASE city311", database="postgres")
        self.postgres_stop()

    def postgres_configured(self) -> None:
        """After initdb wrote the configuration, before the first start (a hook)."""

    def on_host(self, name: str, command: list[str]) -> list[str]:
        """``command`` as run for the process ``name`` (here as it is; tests/netstack.py runs
        it inside the network namespace of its host)."""
        return command

    def postgres_start(self) -> None:
        subprocess.run(
            self.on_host("postgres", _as_pg(
                [
                    str(self.pg_bin / "pg_ctl"),
                    "-D", str(self.pgdata),
                    "-l", str(self.dir / "log" / "postgres.log"),
                    "-w", "-t", "60", "start",
                ]
            )),
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def postgres_stop(self) -> None:
        if not (self.pgdata / "postmaster.pid").exists():
            return
        subprocess.run(
            _as_pg(
                [str(self.pg_bin / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
        )

    def sql(self, query: str, *params: Any, database: str = "city311") -> list[tuple[Any, ...]]:
        with psycopg.connect(
            host=self.pg_host,
            port=self.pg_port,
            user="city311",
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        ) as conn:
            cursor = conn.execute(query, params or None)
            return cursor.fetchall() if cursor.description else []

    def scalar(self, query: str, *params: Any) -> Any:
        return self.sql(query, *params)[0][0]

    # --- Redis
    def redis_start(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--port", str(self.redis_port),
                "--bind", self.redis_host,
                # Off the loopback (tests/netstack.py): no password on that private network.
                "--protected-mode", "yes" if self.redis_host == "127.0.0.1" else "no",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.dir),
            ],
        )  # fmt: skip
        wait_for("redis answers", self._redis_answers, timeout=20)

    def _redis_answers(self) -> bool:
        try:
            with socket.create_connection((self.redis_host, self.redis_port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    # --- application processes
    def web_address(self, name: str = "web") -> tuple[str, int]:
        """Where the web server ``name`` listens (tests/netstack.py runs several)."""
        return self.web_host, self.web_port

    def web_start(self, name: str = "web") -> None:
        host, port = self.web_address(name)
        self._spawn(
            name,
            [
                str(BIN / "uvicorn"), "backend.asgi:application",
                "--host", host, "--port", str(port),
                "--workers", str(self.web_workers),
                "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            ],
        )  # fmt: skip
        wait_for("the web server answers", lambda: self._web_answers(name))

    def _web_answers(self, name: str = "web") -> bool:
        try:
            with socket.create_connection(self.web_address(name), timeout=1):
                return True
        except OSError:
            return False

    def worker_start(self, name: str = "worker") -> None:
        self._spawn(
            name,
            [
                str(BIN / "celery"), "-A", "backend", "worker",
                "-P", "solo", "--loglevel", "INFO",
                "--without-heartbeat", "--without-gossip", "--without-mingle",
                "--hostname", f"{name}-{uuid.uuid4().hex[:6]}@%h",
            ],
        )  # fmt: skip
        wait_for(f"the Celery {name} is ready", lambda: "ready." in self.log(name), timeout=60)

    def dispatcher_start(self) -> None:
        self._spawn(
            "dispatcher",
            [str(BIN / "python"), "manage.py", "outbox_dispatch", "--interval", "0.2"],
        )

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.dir / "log" / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            self.on_host(name, command), cwd=self.code, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def kill(self, name: str, *, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
