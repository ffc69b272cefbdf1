"""A whole city311 spread over hosts of its own on this one machine: Linux network namespaces
(``ip netns``, veth pairs, a bridge), for the rehearsed scale-out (bench/scaleout.py) and its
short version in the tests (tests/faults/test_scaleout.py).

``NetStack`` is ``tests.stack.Stack`` with each tier on a host of its own, every host a
network namespace named ``c311s-<pid>-<n>-<host>`` joined by a veth pair to a bridge inside a
switch namespace (``...-sw``) of its own:

    db      10.31.1.10  PostgreSQL + PostGIS (5432), PgBouncer in transaction mode (6432)
    broker  10.31.1.11  Redis (6379)
    web1/2  10.31.1.21  uvicorn (8000), one process per host
    lb      10.31.1.30  HAProxy (80), health checks on /healthz (docker/haproxy.cfg)
    worker  10.31.1.40  Celery worker, Celery beat, the outbox dispatcher
    client  10.31.1.50  whoever drives it: while the stack runs, the thread that started it
                        works inside this namespace (setns), as do the processes it starts

No traffic touches the root namespace's interfaces: every address is on that bridge or on a
namespace's own loopback. The application reaches PostgreSQL through PgBouncer
(docker/pgbouncer.ini, the compose file's settings); migrations and the counting queries go to
PostgreSQL directly. ``stop()`` kills what runs in the namespaces and deletes them; it runs on
every way out (the callers' ``finally``, ``atexit``, SIGTERM and SIGINT turned into
``SystemExit``), and ``start()`` first sweeps the namespaces of runs whose process is gone (a
killed CI job): their processes killed (``ip netns pids``), then the namespaces deleted.
Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)."""

from __future__ import annotations

import atexit
import ctypes
import itertools
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

import httpx

from tests.stack import BIN, ROOT, Stack, _as_pg, wait_for

PREFIX = "c311s-"
SUBNET = "10.31.1"
HOSTS = {"db": 10, "broker": 11, "web1": 21, "web2": 22, "lb": 30, "worker": 40, "client": 50}
# The host each process runs on (web1, web2 and worker... by their own name).
PROCESS_HOSTS = {
    "postgres": "db",
    "pgbouncer": "db",
    "redis": "broker",
    "haproxy": "lb",
    "beat": "worker",
    "dispatcher": "worker",
}
HAPROXY_CFG = ROOT / "docker" / "haproxy.cfg"
PGBOUNCER_INI = ROOT / "docker" / "pgbouncer.ini"
PG_PORT, PGBOUNCER_PORT, REDIS_PORT, WEB_PORT, LB_PORT = 5432, 6432, 6379, 8000, 80
CLONE_NEWNET = 0x40000000
_numbers = itertools.count(1)


def address(host: str) -> str:
    return f"{SUBNET}.{HOSTS[host]}"


def _ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def namespaces() -> list[str]:
    """The network namespaces of this prefix (any run's)."""
    names = (line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip())
    return [name for name in names if name.startswith(PREFIX)]


def _owner(name: str) -> int:
    try:
        return int(name[len(PREFIX) :].split("-")[0])
    except ValueError:
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def kill_namespace(name: str) -> list[int]:
    """SIGKILL to every process in the namespace; their pids."""
    pids = [int(pid) for pid in _ip("netns", "pids", name, check=False).split()]
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


def remove_namespace(name: str) -> None:
    """Kills every process in the namespace, then deletes it."""
    for _ in range(50):
        if not kill_namespace(name):
            break
        time.sleep(0.1)
    _ip("netns", "delete", name, check=False)


def sweep() -> list[str]:
    """Deletes the namespaces left by runs whose process is gone; the names deleted."""
    stale = [name for name in namespaces() if not _alive(_owner(name))]
    for name in stale:
        remove_namespace(name)
    return stale


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


@contextmanager
def inside(name: str) -> Iterator[None]:
    """The calling thread in the network namespace ``name`` (sockets it opens and processes
    it starts meanwhile live there), then back where it was."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(here)
    finally:
        os.close(target)
        os.close(here)


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


class NetStack(Stack):
    def __init__(self, *, web_hosts: int = 2, **options: Any) -> None:
        super().__init__(**options)
        self.run_id = f"{os.getpid()}-{next(_numbers)}"
        self.web_names = [f"web{n}" for n in range(1, web_hosts + 1)]
        self.pg_host, self.pg_port = address("db"), PG_PORT
        self.redis_host, self.redis_port = address("broker"), REDIS_PORT
        self.web_port = WEB_PORT
        self.lb = f"{address('lb')}:{LB_PORT}"
        db_url = f"postgis://city311:city311@{address('db')}:{{}}/city311?connect_timeout=3"
        self.env.update(
            DATABASE_URL=db_url.format(PGBOUNCER_PORT),
            REDIS_URL=f"redis://{self.redis_host}:{REDIS_PORT}/0",
            CHANNELS_PREFIX="scaleout_",
            ALLOWED_HOSTS=",".join(["localhost", *(address(h) for h in ("lb", "web1", "web2"))]),
            # docker/haproxy.cfg's addresses.
            CITY311_LB_BIND=self.lb,
            CITY311_WEB1=f"{address('web1')}:{WEB_PORT}",
            CITY311_WEB2=f"{address('web2')}:{WEB_PORT}",
            CITY311_HEALTH_HOST="localhost",
        )
        # Migrations, management commands and the counting go to PostgreSQL directly.
        self.direct_env = {**self.env, "DATABASE_URL": db_url.format(PG_PORT)}
        self._root_ns: int | None = None
        self._signals: dict[int, Any] = {}
        self._stopped = False
        self._restarts = itertools.count(2)

    def ns(self, host: str) -> str:
        return f"{PREFIX}{self.run_id}-{host}"

    def host_of(self, name: str) -> str:
        base = name.rstrip("0123456789")  # worker2, beat2: restarted on the same host
        if base in PROCESS_HOSTS:
            return PROCESS_HOSTS[base]
        return "worker" if base == "worker" else name

    def on_host(self, name: str, command: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns(self.host_of(name)), *command]

    # --- the whole thing
    def start(self) -> NetStack:
        atexit.register(self.stop)
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._signals[signum] = signal.signal(signum, _raise_exit)
        sweep()
        self.dir.mkdir(parents=True)
        (self.dir / "log").mkdir()
        self.network_up()
        # From here on this thread (and what it starts) is the client host.
        self._root_ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/var/run/netns/{self.ns('client')}", os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        self.postgres_init()
        self.postgres_start()
        self.pgbouncer_start()
        self.redis_start()
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("catalog_load")
        for name in self.web_names:
            self.web_start(name)
        self.haproxy_start()
        self.worker_host_start()
        return self

    def network_up(self) -> None:
        switch = self.ns("sw")
        _ip("netns", "add", switch)
        _ip("-n", switch, "link", "set", "lo", "up")
        _ip("-n", switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", switch, "link", "set", "br0", "up")
        for host, number in HOSTS.items():
            name = self.ns(host)
            _ip("netns", "add", name)
            _ip("-n", switch, "link", "add", f"v-{host}", "type", "veth", "peer", "name", "eth0",
                "netns", name)  # fmt: skip
            _ip("-n", switch, "link", "set", f"v-{host}", "master", "br0", "up")
            _ip("-n", name, "addr", "add", f"{SUBNET}.{number}/24", "dev", "eth0")
            _ip("-n", name, "link", "set", "eth0", "up")
            _ip("-n", name, "link", "set", "lo", "up")

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            super().stop()
        finally:
            if self._root_ns is not None:
                _setns(self._root_ns)
                os.close(self._root_ns)
                self._root_ns = None
            for name in [self.ns("sw"), *(self.ns(host) for host in HOSTS)]:
                remove_namespace(name)
            for signum, handler in self._signals.items():
                signal.signal(signum, handler)
            shutil.rmtree(self.dir, ignore_errors=True)
            atexit.unregister(self.stop)

    def url(self, path: str) -> str:
        return f"http://{self.lb}{path}"

    def log(self, name: str) -> str:
        if name == "web":
            return "".join(super(NetStack, self).log(web) for web in self.web_names)
        return super().log(name)

    def manage(self, *args: str) -> None:
        subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=self.code,
            env=self.direct_env,
            check=True,
        )

    def sql(self, query: str, *params: Any, database: str = "city311") -> list[tuple[Any, ...]]:
        with inside(self.ns("client")):
            return super().sql(query, *params, database=database)

    # --- the database host
    def postgres_configured(self) -> None:
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1,{self.pg_host}'\n")
        with (self.pgdata / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {SUBNET}.0/24 trust\n")

    def pgbouncer_start(self) -> None:
        """PgBouncer on the database host with docker/pgbouncer.ini's settings (it refuses to
        run as root: as ``postgres`` there)."""
        folder = self.dir / "pgbouncer"
        folder.mkdir(exist_ok=True)
        (folder / "userlist.txt").write_text('"city311" "city311"\n')
        (folder / "pgbouncer.ini").write_text(
            f"[databases]\ncity311 = host=127.0.0.1 port={PG_PORT} dbname=city311\n"
            f"[pgbouncer]\nauth_file = {folder / 'userlist.txt'}\n%include {PGBOUNCER_INI}\n"
        )
        if os.getuid() == 0:
            for path in (folder, folder / "userlist.txt", folder / "pgbouncer.ini"):
                shutil.chown(path, "postgres")
        self._spawn("pgbouncer", _as_pg(["pgbouncer", str(folder / "pgbouncer.ini")]))
        wait_for("PgBouncer answers", lambda: self._listens(self.pg_host, PGBOUNCER_PORT))

    def _listens(self, host: str, port: int) -> bool:
        try:
            with inside(self.ns("client")), socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False

    # --- the web hosts and the load balancer
    def web_address(self, name: str = "web") -> tuple[str, int]:
        return address(name), WEB_PORT

    def _web_answers(self, name: str = "web") -> bool:
        return self._listens(*self.web_address(name))

    def haproxy_start(self) -> None:
        self._spawn("haproxy", ["haproxy", "-f", str(HAPROXY_CFG), "-db"])
        wait_for("the load balancer answers", lambda: self.healthy(self.url("/healthz")))

    def healthy(self, url: str) -> bool:
        try:
            with inside(self.ns("client")):
                return httpx.get(url, timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    # --- the worker host
    def worker_host_start(self) -> None:
        number = next(self._restarts) - 1
        suffix = "" if number == 1 else str(number)
        self.worker_start(f"worker{suffix}")
        self._spawn(
            f"beat{suffix}",
            [
                str(BIN / "celery"), "-A", "backend", "beat", "--loglevel", "INFO",
                "--schedule", str(self.dir / f"beat-schedule{suffix}"),
            ],
        )  # fmt: skip
        self._spawn(
            f"dispatcher{suffix}",
            [str(BIN / "python"), "manage.py", "outbox_dispatch", "--interval", "0.2"],
        )

    def host_kill(self, host: str) -> list[int]:
        """SIGKILL to every process on ``host`` (a lost machine); the pids killed."""
        pids = kill_namespace(self.ns(host))
        for name in [n for n in self.processes if self.host_of(n) == host]:
            self.processes.pop(name).wait(timeout=10)
        return pids
