"""The mixed load of a busy day (locust): residents filing with photos, crews starting and
completing work orders with proof photos, managers reading their queues and dashboards,
Open311 clients polling. Driven by bench/load.py (and tests/faults/test_load.py), which
starts the system, runs this headless and counts the database afterwards.

The offered rate is explicit: every kind of user has a fixed number of users, each paced
with ``constant_throughput`` (a new round every 1/rate seconds, whatever the answer time), so
the requests offered per second are the sum over kinds of users x rate x requests per round,
as long as a round's answers take less than its period. bench/load.py computes the counts
and the rates from ``--rate``. FastHttpUser (geventhttpclient): the load generator shares the
2 cores with the system under test, and it costs a fraction of what ``HttpUser`` does.

Settings come from the environment (set by bench/load.py):
  LOAD_RUN        a marker put in every description, to count this run's requests
  LOAD_POINTS     a JSON file of [lat, long] points spread over the ward whose potholes go to
                  the demo crew (a busy day's reports are all over a ward, not on one spot)
  LOAD_RESULTS    a directory: each locust process writes what it filed and completed there
  LOAD_USERS      JSON {"Resident": [users, rounds per second per user], "Crew": [...],
                  "Manager": [...], "Open311Client": [...]}
  LOAD_CREW_USERS how many crew users run (each takes the orders whose id modulo that is its
                  own number, so two crews never race for one order)
  LOAD_CREW_TOKEN, LOAD_MANAGER_TOKEN  API tokens of the demo crew member and supervisor

A filing that gets no answer (connection refused or reset, a load balancer's 502/504) or a
503 is sent again, with the same Idempotency-Key and the same body, after Retry-After (or a
short pause), for up to ``FILING_RETRY_S``: the server answers the first request's 201 to a
repeat, so a request is never lost nor filed twice because an answer was (bench/scaleout.py
kills a web host under this load). Each process also writes when every failed request
failed, its status and Retry-After, for the fault windows of bench/scaleout.py.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from locust import constant_throughput, events, task
from locust.contrib.fasthttp import FastHttpUser
from PIL import Image

RUN = os.environ.get("LOAD_RUN", "load")
POINTS: list[list[float]] = (
    json.loads(Path(os.environ["LOAD_POINTS"]).read_text())
    if os.environ.get("LOAD_POINTS")
    else [[42.33, -71.05]]
)
RESULTS = Path(os.environ.get("LOAD_RESULTS", "."))
CREW_USERS = int(os.environ.get("LOAD_CREW_USERS", "2"))
# Users and rounds per second per user, by kind (bench/load.py sets them from --rate).
USERS: dict[str, list[float]] = {
    "Resident": [10, 1.0],
    "Crew": [CREW_USERS, 0.3],
    "Manager": [2, 0.5],
    "Open311Client": [4, 0.5],
    **json.loads(os.environ.get("LOAD_USERS", "{}")),
}
CREW_TOKEN = f"Token {os.environ.get('LOAD_CREW_TOKEN', '')}"
MANAGER_TOKEN = f"Token {os.environ.get('LOAD_MANAGER_TOKEN', '')}"

FILED: list[str] = []
COMPLETED: list[int] = []
# [epoch seconds, request name, status (0: no answer), Retry-After or None] of each failure.
FAILURES: list[list[Any]] = []
RETRIED: list[int] = []  # the filings that were sent again
FILING_RETRY_S = 60.0
RETRY_STATUSES = {0, 502, 503, 504}
_crew_numbers = itertools.count()


def _jpeg(seed: int) -> bytes:
    image = Image.new("RGB", (480, 360), (seed % 256, (seed * 7) % 256, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _proof_jpeg(seed: int) -> bytes:
    """Unlike the residents' photos (flat colours), a striped picture: the proof check refuses
    a "proof" that looks like the resident's own photo of the problem."""
    image = Image.new("RGB", (480, 360), (200, 200, 200))
    for x in range(0, 480, 40):
        image.paste((seed * 13 % 256, 40, 40), (x, 0, x + 20, 360))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


PHOTOS = [_jpeg(seed) for seed in range(16)]
PROOFS = [_proof_jpeg(seed) for seed in range(16)]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Resident(FastHttpUser):
    """Files a pothole with a photo, anonymously, as the app does (an idempotency key each)."""

    fixed_count = int(USERS["Resident"][0])
    wait_time = constant_throughput(USERS["Resident"][1])

    @task
    def report(self) -> None:
        lat, long = random.choice(POINTS)
        data = {
            "service_code": "pothole",
            "lat": f"{lat:.6f}",
            "long": f"{long:.6f}",
            "description": f"Deep hole in the right lane [{RUN}]",
            "attribute[size]": random.choice(["small", "medium", "large"]),
        }
        photo = random.choice(PHOTOS)
        key = uuid.uuid4().hex
        give_up = time.monotonic() + FILING_RETRY_S
        for attempt in itertools.count():
            if attempt:
                RETRIED.append(attempt)
            with self.client.post(
                "/mobile/v1/requests",
                data=data,
                files={"photos": ("hole.jpg", photo, "image/jpeg")},
                headers={"Idempotency-Key": key},
                name="resident: submit with photo",
                catch_response=True,
            ) as answer:
                status = answer.status_code or 0
                if status == 201:
                    FILED.append(answer.json()["service_request_id"])
                    return
                answer.failure(f"{status}: {(answer.text or '')[:200]}")
                retry_after = (answer.headers or {}).get("Retry-After")
                wait = min(float(retry_after or 0.5), 5.0)
            if status not in RETRY_STATUSES or time.monotonic() + wait > give_up:
                return
            time.sleep(wait)


class Crew(FastHttpUser):
    """Takes its share of the team's assigned orders: start, then complete with a proof photo
    (three requests a round)."""

    fixed_count = int(USERS["Crew"][0])
    wait_time = constant_throughput(USERS["Crew"][1])

    def on_start(self) -> None:
        self.number = next(_crew_numbers) % CREW_USERS

    @task
    def work(self) -> None:
        answer = self.client.get(
            "/mobile/v1/crew/workorders?status=assigned",
            headers={"Authorization": CREW_TOKEN},
            name="crew: my queue",
        )
        if answer.status_code != 200:
            return
        orders = [o for o in answer.json() if o["id"] % CREW_USERS == self.number]
        if not orders:
            return
        order = orders[0]["id"]
        started = self.client.post(
            f"/mobile/v1/crew/workorders/{order}/start",
            json={"client_at": _now(), "note": "On site"},
            headers={"Authorization": CREW_TOKEN, "Idempotency-Key": uuid.uuid4().hex},
            name="crew: start",
        )
        if started.status_code != 200:
            return
        with self.client.post(
            f"/mobile/v1/crew/workorders/{order}/complete",
            data={"client_at": _now(), "note": "Filled"},
            files={"photos": ("done.jpg", random.choice(PROOFS), "image/jpeg")},
            headers={"Authorization": CREW_TOKEN, "Idempotency-Key": uuid.uuid4().hex},
            name="crew: complete with proof",
            catch_response=True,
        ) as done:
            if done.status_code == 200:
                COMPLETED.append(order)
            else:
                done.failure(f"{done.status_code}: {done.text[:200]}")


class Manager(FastHttpUser):
    """Reads the department's queue and the dashboards."""

    fixed_count = int(USERS["Manager"][0])
    wait_time = constant_throughput(USERS["Manager"][1])

    @task(3)
    def queue(self) -> None:
        self.client.get(
            "/api/v1/workorders?status=assigned",
            headers={"Authorization": MANAGER_TOKEN},
            name="manager: queue",
        )

    @task(1)
    def department(self) -> None:
        self.client.get(
            "/api/v1/workorders?department=public-works",
            headers={"Authorization": MANAGER_TOKEN},
            name="manager: department",
        )


class Open311Client(FastHttpUser):
    """Polls the city's open requests and its service list, as Open311 apps do."""

    fixed_count = int(USERS["Open311Client"][0])
    wait_time = constant_throughput(USERS["Open311Client"][1])

    @task(4)
    def requests(self) -> None:
        self.client.get(
            "/open311/v2/requests.json?service_code=pothole&status=open",
            name="open311: requests",
        )

    @task(1)
    def services(self) -> None:
        self.client.get("/open311/v2/services.json", name="open311: services")


@events.request.add_listener
def _note_failure(name: str, response: Any = None, exception: Any = None, **kwargs: Any) -> None:
    if exception is None:
        return
    status = getattr(response, "status_code", 0) or 0
    headers = getattr(response, "headers", None) or {}
    FAILURES.append([time.time(), name, status, headers.get("Retry-After")])


@events.quitting.add_listener
def _write_results(environment: Any, **kwargs: Any) -> None:
    out = RESULTS / f"locust-{os.getpid()}.json"
    out.write_text(
        json.dumps(
            {"filed": FILED, "completed": COMPLETED, "failures": FAILURES, "retried": RETRIED}
        )
    )
