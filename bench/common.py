"""What the benches share: the bench database, the uvicorn server they measure, and the
clock and thread set-up of their wrk scripts.

    from bench import common

``common.database_prepare(url=..., env=...)`` creates a bench database with PostGIS when it
is missing, migrates it (and empties it with ``flush=True``) and loads the catalog;
``common.server_start`` / ``server_wait_ready`` / ``server_stop`` run uvicorn (or granian,
``server="granian"``) on a free loopback port (``common.free_port()``).

``common.Stack`` names the server-stack options a bench can switch (``stack_arguments_add``
gives a parser their flags, ``Stack.env()`` the environment that selects them; the options
themselves are applied by ``bench/stack_settings.py``); ``bench/stack_options.py`` measures
each against its alternative in one run.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.stack import RATE_LIMITS_UNTHROTTLED

ROOT = Path(__file__).resolve().parent.parent
DEV_DATABASE_URL = "postgis://city311:city311@127.0.0.1:54329/city311"

# The start of every wrk script. Every thread has its own Lua state: counters live there, and
# done() adds them up through thread:get() over ``threads``. Timing uses CLOCK_MONOTONIC
# through LuaJIT's ffi.
WRK_LUA_PRELUDE = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

-- A connection sends for `active` seconds from its first request (t_first), then stops;
-- wrk runs on for the drain time so every request sent gets its answer.
local function past_deadline()
  local t = now()
  if deadline == nil then
    t_first = t
    deadline = t + active
    return false
  end
  return t >= deadline
end
"""


# --- The database


def database_url_with_name(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def database_url(name: str) -> str:
    """The database ``name`` on the cluster of ``DATABASE_URL`` (the dev cluster by default)."""
    return database_url_with_name(os.environ.get("DATABASE_URL", DEV_DATABASE_URL), name)


def database_prepare(*, url: str, env: dict[str, str], flush: bool = False) -> None:
    """Creates the bench database with PostGIS if missing, migrates it, empties it when
    ``flush`` and loads the catalog."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists is None:
            print(f"creating database {name}", flush=True)
            conn.execute(f'CREATE DATABASE "{name}"')
    target = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    manage_quietly("migrate", "--noinput", env=env)
    if flush:
        manage_quietly("flush", "--noinput", env=env)
    manage_quietly("catalog_load", env=env)


def django_setup_on(name: str) -> str:
    """Prepares the bench database ``name`` (``database_prepare``) and sets Django up in this
    process on it, DEBUG off and without the pool; returns its URL."""
    url = database_url(name)
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", DB_POOL="0")
    os.environ.update(DATABASE_URL=url, DEBUG="0", DB_POOL="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    print(f"preparing database {name}", flush=True)
    database_prepare(url=url, env=env)
    import django

    django.setup()
    return url


def manage_quietly(*args: str, env: dict[str, str]) -> None:
    """Runs ``manage.py`` with ``args`` (and ``-v 0``) in ``env``, its output thrown away;
    raises if it fails."""
    subprocess.run(
        [sys.executable, "manage.py", *args, "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def request_at_city_hall(*, service_code: str, description: str, attributes: dict[str, str]) -> str:
    """Files one request at City Hall through the intake (Django set up) and returns its public
    id; closes the connection so that the database can be used by the server."""
    from django.db import connection

    from backend.intake.services import service_request_submit

    public_id = service_request_submit(
        service_code=service_code,
        channel="app",
        lat=42.3601,
        long=-71.0589,
        description=description,
        attributes=attributes,
    ).service_request.public_id
    connection.close()
    return str(public_id)


# --- The server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVERS = ("uvicorn", "granian")


def server_command(*, server: str, port: int, workers: int) -> list[str]:
    """The command line of the ASGI server ``server`` serving ``backend.asgi:application``
    on ``port`` with ``workers`` processes, no access log."""
    bin_dir = Path(sys.executable).parent
    if server == "granian":
        # "asginl": ASGI without lifespan events, as uvicorn's --lifespan off (Channels'
        # router has no lifespan application). Keep-alive connections are kept while open.
        return [
            str(bin_dir / "granian"),
            "--interface", "asginl",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--workers", str(workers),
            "--no-access-log",
            "--log-level", "warning",
            "backend.asgi:application",
        ]  # fmt: skip
    if server != "uvicorn":
        raise ValueError(f"unknown server {server!r} (one of {', '.join(SERVERS)})")
    # uvicorn picks uvloop and httptools when they are installed (uvicorn[standard]).
    return [
        str(bin_dir / "uvicorn"),
        "backend.asgi:application",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(workers),
        "--lifespan", "off",
        "--no-access-log",
        "--log-level", "warning",
        # Idle keep-alive connections stay open through the drain: wrk would count the
        # server closing them as read errors.
        "--timeout-keep-alive", "60",
    ]  # fmt: skip


def server_start(
    *,
    port: int,
    workers: int,
    env: dict[str, str],
    log: Path,
    server: str = "uvicorn",
    code: str = "",
) -> subprocess.Popen[bytes]:
    """The server, never rate limited unless ``env`` says so (the site's limits are for
    residents, not for a bench's load). ``code``: another checkout's application (its
    source first on the path, this virtualenv), to measure old code against new."""
    command = server_command(server=server, port=port, workers=workers)
    env = {**RATE_LIMITS_UNTHROTTLED, **env}
    cwd = ROOT
    if code:
        cwd = Path(code).resolve()
        env["PYTHONPATH"] = str(cwd)
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def server_wait_ready(*, server: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer /healthz within 60 s:\n{log.read_text()}")


def server_stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's supervisor (it stops its workers), SIGKILL to its process
    group if it has not gone within 15 s."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# --- The stack's options (bench/stack_settings.py applies them in the server)


@dataclass(frozen=True)
class Stack:
    """One choice of each server-stack option; the defaults are what production runs."""

    server: str = "uvicorn"  # uvicorn | granian
    renderer: str = "drf"  # drf | orjson: the JSON renderer and parser of the APIs
    binding: str = "client"  # client | prepared: psycopg's server-side binding, prepared
    health_checks: bool = True  # the pool checks a connection on every checkout
    middleware: str = "full"  # full | api: API paths skip the pages' middleware
    code: str = ""  # another checkout's application ("": this one); server_start runs it

    def env(self) -> dict[str, str]:
        """The environment that selects these options (none when all are the defaults)."""
        if self == Stack(server=self.server, code=self.code):
            return {}
        return {
            "DJANGO_SETTINGS_MODULE": "bench.stack_settings",
            "BENCH_RENDERER": self.renderer,
            "BENCH_BINDING": self.binding,
            "BENCH_HEALTH_CHECKS": "1" if self.health_checks else "0",
            "BENCH_MIDDLEWARE": self.middleware,
        }

    def label(self) -> str:
        changed = [
            f"{key}={value}"
            for key, value in asdict(self).items()
            if value != getattr(Stack(), key)
        ]
        return ", ".join(changed) or "defaults"


def stack_arguments_add(parser: argparse.ArgumentParser) -> None:
    """The flags of ``Stack`` (``stack_from_arguments`` reads them back)."""
    group = parser.add_argument_group("server stack (defaults: what production runs)")
    group.add_argument("--server", choices=SERVERS, default="uvicorn")
    group.add_argument("--renderer", choices=("drf", "orjson"), default="drf")
    group.add_argument(
        "--binding",
        choices=("client", "prepared"),
        default="client",
        help="psycopg: client-side binding, or server-side binding with prepared statements",
    )
    group.add_argument(
        "--no-health-checks", action="store_true", help="the pool hands out connections unchecked"
    )
    group.add_argument(
        "--middleware", choices=("full", "api"), default="full", help="api: a trimmed chain"
    )


def stack_from_arguments(args: argparse.Namespace) -> Stack:
    return Stack(
        server=args.server,
        renderer=args.renderer,
        binding=args.binding,
        health_checks=not args.no_health_checks,
        middleware=args.middleware,
    )
