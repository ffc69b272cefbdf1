"""The crew app on a weak phone link: first load, repeat load from the service worker, its
own weight, and twenty actions queued offline delivered after reconnecting.

    .venv/bin/python bench/apps.py [--orders 25] [--runs 3] [--kbit 400] [--rtt-ms 400]

What it does, in order:

1. Prepares its own database, ``city311_bench_apps`` on the dev cluster (created with PostGIS
   if missing; migrate, flush, catalog_load), and fills it: a Public Works team with a crew
   member and a supervisor, and ``--orders`` potholes filed and assigned to the team.
2. Collects the static files into a temporary folder and starts uvicorn (one worker, DEBUG
   off: the static files come from WhiteNoise as in production, compressed where the
   browser accepts it; the Celery tasks run eagerly in the server).
3. Puts a **weak link** between Chromium and the server: a TCP relay in this process that
   holds every byte for half the round trip in each direction, sends at most ``--kbit``
   kbit/s each way (shared by all connections, as on one phone), and costs one round trip
   to open a connection. It is a relay, not DevTools' network emulation, so that the
   service worker's own fetches cross the same link as the page's (DevTools' emulation is
   per target and leaves the worker's requests alone). Its byte counts say what each phase
   moved over the link.
4. For each of ``--runs`` fresh phones (browser contexts: empty cache, no service worker;
   signed in by a session cookie): times the first load of ``/crew/`` until it is ready to
   use (every order of the queue listed and the Leaflet map made; measured in the page,
   from the navigation's start), waits for the service worker to take the page, then times
   a repeat load the same way. The same two loads are also timed on loopback without the
   relay (the baseline: what the link costs).
5. Weighs the crew app's own JavaScript and CSS as served, gzip-compressed (and the shared
   scripts it loads: Leaflet, the photo shrinker).
6. On a phone with the app loaded: goes offline (every request of the context refused, the
   service worker's included, and ``navigator.onLine`` false), takes 20 actions (public
   notes on the orders) through the app's forms, goes back online through the relay, and
   times until the server has all 20 (its idempotency records and events), then checks 0
   lost and 0 doubled.
7. Prints each figure beside its goal (first load <= 3.5 s, repeat load <= 1 s, own JS+CSS
   <= 40 KB compressed, 20 actions within 15 s with 0 lost and 0 doubled), writes
   bench/results/apps.json and exits 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (the path is set up above)

RESULTS = ROOT / "bench" / "results" / "apps.json"
GOAL_FIRST_S = 3.5
GOAL_REPEAT_S = 1.0
GOAL_OWN_KB = 40.0
GOAL_ACTIONS_S = 15.0
ACTIONS = 20
PASSWORD = "Bench-apps-5ecret"
CHUNK = 4096
STEP_MS = 60_000
PHONE = {"width": 390, "height": 844}
# The crew app's own files (workorders/crewapp/static/crewapp/) and the shared ones it loads.
OWN_STATIC = ["crewapp/crew.js", "crewapp/outbox.js", "crewapp/crew.css"]
SHARED_STATIC = ["web/shrink.js", "web/vendor/leaflet/leaflet.js", "web/vendor/leaflet/leaflet.css"]
READY_JS = """(count) => {
    const ready = document.querySelectorAll('#queue a[data-id]').length >= count
        && document.querySelector('#map.leaflet-container') !== null;
    if (ready && window.__benchReady === undefined) window.__benchReady = performance.now();
    return ready;
}"""


# --- The weak link


@dataclass
class Direction:
    """One direction of the link: bytes queue behind each other at the link's rate."""

    bytes_per_s: float
    one_way_s: float
    free_at: float = 0.0
    moved: int = 0

    def arrival(self, size: int, *, now: float) -> float:
        self.free_at = max(self.free_at, now) + size / self.bytes_per_s
        self.moved += size
        return self.free_at + self.one_way_s


@dataclass
class WeakLink:
    """A TCP relay on loopback in front of the server (see the module's text, step 3)."""

    upstream_port: int
    kbit: int
    rtt_ms: int
    port: int = 0
    up: Direction = field(init=False)
    down: Direction = field(init=False)

    def __post_init__(self) -> None:
        rate = self.kbit * 1000 / 8
        self.up = Direction(rate, self.rtt_ms / 2000)
        self.down = Direction(rate, self.rtt_ms / 2000)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> WeakLink:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(close(), self._loop)
        self._thread.join(10)

    def moved(self) -> int:
        return self.up.moved + self.down.moved

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def serve() -> None:
            server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(serve())
        self._loop.run_forever()

    async def _connection(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        opened = time.monotonic() + self.rtt_ms / 1000  # the handshake's round trip
        try:
            server_reader, server_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port
            )
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                self._pump(client_reader, server_writer, self.up, not_before=opened),
                self._pump(server_reader, client_writer, self.down, not_before=opened),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            # The relay is stopping: end quietly (asyncio's server callback would log a
            # cancelled connection task as an error).
            client_writer.close()
            server_writer.close()

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: Direction,
        *,
        not_before: float,
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                at, data = await queue.get()
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not data:
                    with contextlib.suppress(OSError):
                        writer.close()
                    return
                writer.write(data)
                with contextlib.suppress(OSError):
                    await writer.drain()

        sender = asyncio.create_task(deliver())
        try:
            while True:
                data = await reader.read(CHUNK)
                now = max(time.monotonic(), not_before)
                if not data:
                    queue.put_nowait((now + direction.one_way_s, b""))
                    break
                queue.put_nowait((direction.arrival(len(data), now=now), data))
        except OSError:
            queue.put_nowait((time.monotonic(), b""))
        await sender


# --- The app's data


def data_prepare(*, orders: int) -> dict[str, Any]:
    """The crew, its team's orders; the crew member's session cookie value."""
    from tests.workorders.factories import order_of, request_make, staff_make
    from workorders.services import work_order_assign

    staff = staff_make()
    staff.crew.set_password(PASSWORD)
    staff.crew.save(update_fields=["password"])
    from django.utils import timezone

    now = timezone.now()
    made = []
    for number in range(orders):
        service_request = request_make(
            requested_at=now - timedelta(hours=number % 48 + 1),
            lat=42.3601 + (number % 7) * 0.004,
            long=-71.0589 + (number // 7) * 0.004,
            description=f"Pothole number {number} in the right lane, about a foot across",
        )
        order = work_order_assign(
            work_order=order_of(service_request), team=staff.team, actor=staff.supervisor
        )
        made.append((order.pk, service_request.public_id))
    return {"crew": staff.crew, "orders": made}


def session_cookie(user: Any) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


# --- The browser side


def phone(browser: Any, base: str, *, cookie: str) -> tuple[Any, Any]:
    from django.conf import settings

    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US", service_workers="allow"
    )
    context.set_default_timeout(STEP_MS)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    return context, context.new_page()


def load_ms(page: Any, url: str, *, count: int) -> float:
    """Navigates and waits until the app is ready; the time from the navigation's start."""
    page.goto(url, wait_until="commit")
    page.wait_for_function(READY_JS, arg=count, polling="raf")
    return float(page.evaluate("window.__benchReady"))


def worker_controls(page: Any) -> None:
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def loads_measure(
    browser: Any, *, base: str, cookie: str, count: int, link: WeakLink | None
) -> dict[str, Any]:
    context, page = phone(browser, base, cookie=cookie)
    try:
        before = link.moved() if link else 0
        first = load_ms(page, f"{base}/crew/", count=count)
        first_bytes = (link.moved() - before) if link else 0
        worker_controls(page)
        time.sleep(1.0)  # the worker's precache and the page's own reads settle
        before = link.moved() if link else 0
        repeat = load_ms(page, f"{base}/crew/", count=count)
        repeat_bytes = (link.moved() - before) if link else 0
        return {
            "first_ms": first,
            "repeat_ms": repeat,
            "first_kb": first_bytes / 1024,
            "repeat_kb": repeat_bytes / 1024,
        }
    finally:
        context.close()


def actions_measure(
    browser: Any,
    *,
    base: str,
    cookie: str,
    count: int,
    orders: list[tuple[int, str]],
    crew: Any,
) -> dict[str, Any]:
    """Twenty public notes taken offline through the app's forms; the time until the server
    has them all once reconnected."""
    from mobile_api.models import ActionReplay
    from tests.web.browser import offline, online
    from workorders.models import WorkOrder

    context, page = phone(browser, base, cookie=cookie)
    try:
        load_ms(page, f"{base}/crew/", count=count)
        worker_controls(page)
        texts = [f"Bench note {number} of {ACTIONS}" for number in range(ACTIONS)]
        targets = [orders[number % len(orders)] for number in range(ACTIONS)]
        cut = offline(context)
        for number, (text, (pk, public_id)) in enumerate(zip(texts, targets, strict=True)):
            page.evaluate(f"location.hash = '#/order/{pk}'")
            page.wait_for_selector(
                f"#order-view:not([hidden]) #order-title:has-text('{public_id}')"
            )
            page.locator('details[data-action="note"] > summary').click()
            page.fill("#note-public", text)
            page.locator('form[data-action="note"] button[type="submit"]').click()
            page.wait_for_function(
                "n => document.querySelectorAll('#outbox li[data-state=\"waiting\"]').length >= n",
                arg=number + 1,
            )
        assert not ActionReplay.objects.filter(user=crew).exists(), "an action got through"
        refused_posts = len(cut.refused_urls(method="POST"))
        online(context)
        started = time.monotonic()
        delivered_s = None
        while time.monotonic() - started < 60:
            done = ActionReplay.objects.filter(user=crew, action__startswith="note:").count()
            waiting = page.locator('#outbox li[data-state="waiting"]').count()
            if done >= ACTIONS and waiting == 0:
                delivered_s = time.monotonic() - started
                break
            page.wait_for_timeout(50)
        replays = ActionReplay.objects.filter(user=crew, action__startswith="note:").count()
        notes: list[str] = []
        for order in WorkOrder.objects.filter(pk__in={pk for pk, _ in targets}).select_related(
            "service_request"
        ):
            notes += list(
                order.service_request.events.filter(
                    public_note__startswith="Bench note "
                ).values_list("public_note", flat=True)
            )
        lost = len(set(texts) - set(notes))
        doubled = len(notes) - len(set(notes))
        return {
            "delivered_s": delivered_s,
            "replays": replays,
            "lost": lost,
            "doubled": doubled,
            "refused_while_offline": refused_posts,
        }
    finally:
        context.close()


def weigh() -> dict[str, Any]:
    """The served files gzip-compressed (level 9, as WhiteNoise's compressed copies)."""
    from django.contrib.staticfiles import finders

    sizes: dict[str, Any] = {}
    for name in OWN_STATIC + SHARED_STATIC:
        path = finders.find(name)
        assert path, f"static file {name} not found"
        raw = Path(str(path)).read_bytes()
        sizes[name] = {"raw": len(raw), "gzip": len(gzip.compress(raw, 9))}
    own = sum(sizes[name]["gzip"] for name in OWN_STATIC) / 1024
    return {"files": sizes, "own_gzip_kb": own}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kbit", type=int, default=400)
    parser.add_argument("--rtt-ms", type=int, default=400)
    parser.add_argument("--database", default="city311_bench_apps")
    args = parser.parse_args()

    url = common.database_url(args.database)
    redis_port = os.environ.get("CITY311_REDIS_PORT", "63799")
    redis_url = f"redis://127.0.0.1:{redis_port}/7"
    static_root = tempfile.mkdtemp(prefix="bench-apps-static-")
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DEBUG="0",
        DB_POOL="0",
        STATIC_ROOT=static_root,
        REDIS_URL=redis_url,
        CHANNELS_REDIS_URL=redis_url,
        CHANNELS_PREFIX=f"city311_bench_apps_{os.getpid()}_",
        CELERY_BROKER_URL=redis_url,
        CELERY_TASK_ALWAYS_EAGER="1",
        CATALOG_CACHE_SECONDS="0",
        RATELIMIT_ENABLED="0",
        WEB_MAP_TILE_URL="",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    os.environ.update({key: value for key, value in env.items() if key != "DEBUG"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM reads between Playwright's calls
    import django

    django.setup()
    from django.db import connection
    from playwright.sync_api import sync_playwright

    from tests.web.test_e2e import CHROMIUM, CHROMIUM_ARGS

    print(f"preparing database {args.database}", flush=True)
    common.database_prepare(url=url, env=env, flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    data = data_prepare(orders=args.orders)
    cookie = session_cookie(data["crew"])
    connection.close()

    port = common.free_port()
    results: dict[str, Any] = {
        "config": vars(args),
        "commit": common.git("rev-parse", "--short", "HEAD"),
    }
    with tempfile.TemporaryDirectory(prefix="bench-apps-") as tmp:
        log = Path(tmp) / "uvicorn.log"
        server = common.server_start(port=port, workers=1, env=env, log=log)
        link = WeakLink(upstream_port=port, kbit=args.kbit, rtt_ms=args.rtt_ms)
        try:
            common.server_wait_ready(server=server, base_url=f"http://127.0.0.1:{port}", log=log)
            link.start()
            weak = f"http://127.0.0.1:{link.port}"
            direct = f"http://127.0.0.1:{port}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=CHROMIUM_ARGS,
                )
                try:
                    runs: dict[str, list[dict[str, Any]]] = {"weak": [], "loopback": []}
                    for run in range(args.runs):
                        for name, base, relay in (
                            ("loopback", direct, None),
                            ("weak", weak, link),
                        ):
                            figures = loads_measure(
                                browser, base=base, cookie=cookie, count=args.orders, link=relay
                            )
                            runs[name].append(figures)
                            print(
                                f"run {run + 1} {name:8}: first {figures['first_ms']:7.0f} ms"
                                f" ({figures['first_kb']:.0f} KB over the link), repeat"
                                f" {figures['repeat_ms']:6.0f} ms"
                                f" ({figures['repeat_kb']:.0f} KB)",
                                flush=True,
                            )
                    results["loads"] = runs
                    results["actions"] = actions_measure(
                        browser,
                        base=weak,
                        cookie=cookie,
                        count=args.orders,
                        orders=data["orders"],
                        crew=data["crew"],
                    )
                finally:
                    browser.close()
        finally:
            link.stop()
            common.server_stop(server)
            connection.close()
    results["weight"] = weigh()

    def median(name: str, key: str) -> float:
        return statistics.median(run[key] for run in results["loads"][name])

    first_s = median("weak", "first_ms") / 1000
    repeat_s = median("weak", "repeat_ms") / 1000
    own_kb = results["weight"]["own_gzip_kb"]
    actions = results["actions"]
    delivered = actions["delivered_s"]
    rows = [
        (
            "first load of /crew/, ready (s)",
            f"{first_s:.2f}",
            f"<= {GOAL_FIRST_S}",
            f"{median('loopback', 'first_ms') / 1000:.2f}",
            first_s <= GOAL_FIRST_S,
        ),
        (
            "repeat load from the service worker (s)",
            f"{repeat_s:.2f}",
            f"<= {GOAL_REPEAT_S}",
            f"{median('loopback', 'repeat_ms') / 1000:.2f}",
            repeat_s <= GOAL_REPEAT_S,
        ),
        (
            "crew app's own JS + CSS, gzip (KB)",
            f"{own_kb:.1f}",
            f"<= {GOAL_OWN_KB:.0f}",
            "",
            own_kb <= GOAL_OWN_KB,
        ),
        (
            f"{ACTIONS} offline actions delivered after reconnecting (s)",
            "never" if delivered is None else f"{delivered:.2f}",
            f"<= {GOAL_ACTIONS_S:.0f}",
            "",
            delivered is not None and delivered <= GOAL_ACTIONS_S,
        ),
        (
            "  of them lost / doubled",
            f"{actions['lost']} / {actions['doubled']}",
            "0 / 0",
            "",
            actions["lost"] == 0 and actions["doubled"] == 0 and actions["replays"] == ACTIONS,
        ),
    ]
    print()
    print(
        f"weak link: {args.kbit} kbit/s each way, {args.rtt_ms} ms round trip; "
        f"{args.orders} orders in the queue; medians of {args.runs} fresh phones"
    )
    print(f"{'measure':58} {'figure':>9} {'goal':>8} {'loopback':>9}  result")
    for label, figure, goal, baseline, ok in rows:
        print(f"{label:58} {figure:>9} {goal:>8} {baseline:>9}  {'PASS' if ok else 'FAIL'}")
    for name, size in results["weight"]["files"].items():
        print(f"  {name:40} {size['raw'] / 1024:7.1f} KB raw {size['gzip'] / 1024:6.1f} KB gzip")
    results["summary"] = {
        "first_s": first_s,
        "repeat_s": repeat_s,
        "own_gzip_kb": own_kb,
        "actions_s": delivered,
        "pass": all(row[-1] for row in rows),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str))
    return 0 if results["summary"]["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
