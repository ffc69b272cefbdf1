"""The container set-up (docker/) and the settings' production guard, checked without a
Docker engine: the compose file is parsed and compared with the Procfile, and the settings
are imported in a fresh interpreter with production environments."""

from __future__ import annotations

import json
import re
import secrets
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.processes import python_with_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
PROCFILE = ROOT / "Procfile"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_FILE = ROOT / "backend" / "settings.py"

APP_SERVICES = ("web", "worker", "beat")
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def procfile() -> dict[str, str]:
    processes = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes


def signature(command: str | list[str]) -> tuple[str, ...]:
    """The program (without its directory) and the arguments before the first --option:
    `uvicorn backend.asgi:application`, `celery -A backend worker`."""
    args = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    head = [Path(args[0]).name]
    for arg in args[1:]:
        if arg.startswith("--"):
            break
        head.append(arg)
    return tuple(head)


def one_shot_services() -> set[str]:
    """Services others wait for to finish (the migrate job): not long-running."""
    return {
        name
        for service in services().values()
        for name, dependency in (service.get("depends_on") or {}).items()
        if isinstance(dependency, dict)
        and dependency.get("condition") == "service_completed_successfully"
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def test_procfile_lists_the_processes() -> None:
    assert set(procfile()) == {"web", "worker", "beat", "outbox", "chatbot", "actions"}


@pytest.mark.parametrize("process", sorted(procfile()))
def test_compose_runs_every_procfile_process(process: str) -> None:
    wanted = signature(procfile()[process])
    running = {
        name: signature(service["command"])
        for name, service in services().items()
        if "command" in service
    }
    assert wanted in running.values(), f"no compose service runs {' '.join(wanted)}: {running}"


def test_compose_has_the_production_services() -> None:
    assert {"postgis", "redis", "migrate", *APP_SERVICES} <= set(services())
    assert services()["postgis"]["image"].startswith("postgis/postgis:15-")
    assert services()["redis"]["image"].startswith("redis:7")


def test_every_long_running_service_has_a_healthcheck() -> None:
    one_shot = one_shot_services()
    assert one_shot == {"migrate"}
    for name, service in services().items():
        if name in one_shot:
            continue
        check = service.get("healthcheck") or {}
        assert not check.get("disable"), name
        assert check.get("test"), f"{name} has no healthcheck"


def test_web_healthcheck_asks_healthz() -> None:
    check = services()["web"]["healthcheck"]["test"]
    assert "/healthz" in " ".join(check)


def test_app_services_wait_for_healthy_databases_and_migrations() -> None:
    for name in ("web", "worker"):
        depends_on = services()[name]["depends_on"]
        assert depends_on["postgis"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
    assert services()["beat"]["depends_on"]["redis"]["condition"] == "service_healthy"
    migrate = " ".join(services()["migrate"]["command"])
    assert "manage.py migrate" in migrate
    assert "manage.py catalog_load" in migrate


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_take_settings_from_the_environment(name: str) -> None:
    service = services()[name]
    assert service.get("env_file"), f"{name} reads no env_file"
    env = environment(service)
    assert env["CITY311_ENV"] == "production"
    assert env["DEBUG"] in {"0", "false", "False"}
    # The secret comes from the environment, never written into the file.
    assert re.fullmatch(r"\$\{SECRET_KEY(:?[-?].*)?\}", env["SECRET_KEY"]), env["SECRET_KEY"]
    for key in ("DATABASE_URL", "REDIS_URL"):
        credentials = re.match(r"^[a-z+]+://[^:/@]*:(?P<password>.*)@", env[key])
        if credentials:
            assert credentials["password"].startswith("${"), f"{key} of {name} holds a password"


def test_web_and_worker_share_the_media_volume() -> None:
    web, worker = services()["web"], services()["worker"]
    assert set(web["volumes"]) & set(worker["volumes"]), "the worker writes photos web serves"
    mounts = [volume.split(":")[1] for volume in web["volumes"]]
    env = environment(web)
    for key in ("MEDIA_ROOT", "PRIVATE_UPLOAD_ROOT"):
        assert any(env[key].startswith(mount) for mount in mounts), key
    assert "media" in compose()["volumes"]


def test_postgres_password_is_not_in_the_compose_file() -> None:
    password = services()["postgis"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD")


def test_compose_builds_the_image_from_the_repo_root() -> None:
    for name in ("migrate", *APP_SERVICES):
        build = services()[name]["build"]
        assert build["context"] == ".."
        assert build["dockerfile"] == "docker/Dockerfile"


def test_dockerfile_uses_python_3_11_and_production_settings() -> None:
    instructions = dockerfile_instructions()
    stages = [args.split()[0] for keyword, args in instructions if keyword == "FROM"]
    assert len(stages) >= 2, "multi-stage build"
    assert all(image.startswith("python:3.11-slim") for image in stages), stages
    env = " ".join(args for keyword, args in instructions if keyword == "ENV")
    assert re.search(r"(^|\s)CITY311_ENV=production(\s|$)", env)
    assert re.search(r"(^|\s)DEBUG=0(\s|$)", env)
    assert "SECRET_KEY" not in env, "no secret in the image's environment"
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    cmd = [args for keyword, args in instructions if keyword == "CMD"][-1]
    assert signature(json.loads(cmd)) == signature(procfile()["web"])
    assert any("collectstatic" in args for keyword, args in instructions if keyword == "RUN")


def test_env_example_documents_every_setting() -> None:
    read = set(
        re.findall(r"env_(?:str|bool|int|list)\(\s*\"([A-Z0-9_]+)\"", SETTINGS_FILE.read_text())
    )
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"} <= read
    documented = set(re.findall(r"^#? ?([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert read - documented == set(), "settings missing from .env.example"


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    """Imports the settings and sets Django up in a fresh interpreter."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"
    )
    return python_with_settings(code, **env)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY, "DEBUG": "0"}, "SECRET_KEY"),
        ({"DEBUG": "0"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short-but-private", "DEBUG": "0"}, "SECRET_KEY"),
        ({"SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "1"}, "DEBUG"),
    ],
    ids=["development-key", "no-key", "short-key", "debug-on"],
)
def test_production_refuses_to_start_unsafe(env: dict[str, str], named: str) -> None:
    result = start_django(CITY311_ENV="production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]


def test_production_starts_with_a_private_key() -> None:
    result = start_django(CITY311_ENV="production", SECRET_KEY=secrets.token_urlsafe(50), DEBUG="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_installed_celery_lets_beat_answer_pings() -> None:
    """The beat healthcheck pings beat; that needs Celery 5.7's --enable-remote-control."""
    from celery.bin.beat import beat

    options = {option for param in beat.params for option in param.opts}
    assert "--enable-remote-control" in options


# --- The scale-out topology: compose, the rehearsal (bench/scaleout.py, tests/netstack.py)
# and docs/deploy.md run the same docker/haproxy.cfg and docker/pgbouncer.ini.

HAPROXY_CFG = ROOT / "docker" / "haproxy.cfg"
PGBOUNCER_INI = ROOT / "docker" / "pgbouncer.ini"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"


def pgbouncer_settings() -> dict[str, str]:
    found = {}
    for line in PGBOUNCER_INI.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith((";", "#")):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def haproxy_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+)\}", HAPROXY_CFG.read_text()))


def test_compose_runs_the_load_balancer_and_pgbouncer_with_the_shared_files() -> None:
    lb, pgbouncer = services()["lb"], services()["pgbouncer"]
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in lb["volumes"]
    assert "./pgbouncer.ini:/etc/pgbouncer/city311.ini:ro" in pgbouncer["volumes"]
    # PgBouncer on the database host: postgis's network, PostgreSQL on its loopback.
    assert pgbouncer["network_mode"] == "service:postgis"
    dockerfile = (ROOT / "docker" / pgbouncer["build"]["dockerfile"].split("/")[-1]).read_text()
    assert "%%include /etc/pgbouncer/city311.ini" in dockerfile
    assert "host=127.0.0.1 port=5432" in dockerfile
    # Clients reach the web servers through the load balancer only.
    assert [p.rsplit(":", 1)[1] for p in lb["ports"]] == ["8080"]
    assert all("ports" not in services()[name] for name in ("web", "web2"))


def test_the_load_balancer_checks_healthz_of_every_web_service() -> None:
    cfg = HAPROXY_CFG.read_text()
    assert re.search(r"http-check send meth GET uri /healthz\b", cfg)
    assert re.search(r"\binter \d+s fall \d+ rise \d+", cfg)
    servers = re.findall(r"^\s*server (\S+) \"\$\{([A-Z0-9_]+)\}\" check", cfg, re.MULTILINE)
    assert [name for name, _ in servers] == ["web1", "web2"]
    env = environment(services()["lb"])
    assert haproxy_variables() <= set(env), "a variable of haproxy.cfg that compose does not set"
    for _, variable in servers:
        host, port = env[variable].rsplit(":", 1)
        assert host in services(), f"{variable}: no compose service {host}"
        assert signature(services()[host]["command"]) == signature(procfile()["web"])
        assert f"--port\x00{port}" in "\x00".join(services()[host]["command"])
    assert env["CITY311_LB_BIND"] == ":8080"


def test_pgbouncer_is_in_transaction_mode_with_short_waits() -> None:
    settings = pgbouncer_settings()
    assert settings["pool_mode"] == "transaction"
    # A client gets the 503 within seconds while PostgreSQL is away, not a two-minute hang.
    assert int(settings["query_wait_timeout"]) <= 10
    assert int(settings["server_connect_timeout"]) <= 5
    assert int(settings["server_login_retry"]) <= 2


def test_the_application_reaches_postgres_through_pgbouncer_and_migrates_directly() -> None:
    port = pgbouncer_settings()["listen_port"]
    for name in ("web", "web2", "worker", "beat", "outbox"):
        url = environment(services()[name])["DATABASE_URL"]
        assert re.search(rf"@postgis:{port}/city311\?connect_timeout=\d+$", url), (name, url)
        assert "pgbouncer" in services()[name].get("depends_on", {}) or name == "beat", name
    assert "@postgis:5432/" in environment(services()["migrate"])["DATABASE_URL"]


def test_the_rehearsal_runs_the_same_files_and_settings() -> None:
    from tests import netstack

    assert netstack.HAPROXY_CFG == HAPROXY_CFG
    assert netstack.PGBOUNCER_INI == PGBOUNCER_INI
    assert str(netstack.PGBOUNCER_PORT) == pgbouncer_settings()["listen_port"]
    env = netstack.NetStack().env
    assert haproxy_variables() <= set(env), "a variable of haproxy.cfg the rehearsal does not set"
    compose_url = environment(services()["web"])["DATABASE_URL"]
    assert env["DATABASE_URL"].rsplit("?", 1)[1] == compose_url.rsplit("?", 1)[1]
    assert env["DATABASE_URL"].split("@")[1].split("/")[0].endswith(f":{netstack.PGBOUNCER_PORT}")


def test_the_deploy_guide_describes_the_same_topology() -> None:
    doc = DEPLOY_DOC.read_text()
    section = doc[doc.index("## Scaling past one machine") :]
    for name in ("lb", "web", "web2", "worker", "beat", "outbox", "redis", "postgis", "pgbouncer"):
        assert f"`{name}`" in section, name
        assert name in services(), name
    for path in ("docker/haproxy.cfg", "docker/pgbouncer.ini", "bench/scaleout.py", "/healthz"):
        assert path in section, path
    timing = re.search(r"\binter (\d+)s fall (\d+) rise (\d+)", HAPROXY_CFG.read_text())
    assert timing and f"`inter {timing[1]}s fall {timing[2]} rise {timing[3]}`" in section
    settings = pgbouncer_settings()
    for key in ("server_connect_timeout", "server_login_retry", "query_wait_timeout"):
        said = re.search(rf"(\d+) s[^()]*\(`{key}`\)", section)
        assert said and said[1] == settings[key], key
    url = environment(services()["web"])["DATABASE_URL"]
    said = re.search(r"after (\d+) s \(`connect_timeout`\)", section)
    assert said and url.endswith(f"connect_timeout={said[1]}")
