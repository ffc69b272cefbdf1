"""Faults, with the real processes (tests/stack.py): Redis stopped under a burst of
submissions, the Celery worker killed in the middle of a photo, PostgreSQL restarted under
the running application. Nothing accepted is lost, nothing is done twice, nobody sees a
stack trace."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.stack import Stack, wait_for

pytestmark = pytest.mark.integration

BURST = 20


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack(visibility_timeout_s=5).start()
    try:
        yield running
    finally:
        running.stop()


def _jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    """A smooth gradient: small as a file, as slow to process as its pixel count."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _submit(stack: Stack, *, email: str, photo: bytes, timeout: float = 30.0) -> httpx.Response:
    return httpx.post(
        stack.url("/mobile/v1/requests"),
        data={
            "service_code": "pothole",
            "lat": "42.3601",
            "long": "-71.0589",
            "description": "Deep hole in the right lane",
            "attribute[size]": "large",
            "contact[email]": email,
        },
        files={"photos": ("hole.jpg", photo, "image/jpeg")},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=timeout,
    )


def _requests_of(stack: Stack, marker: str) -> list[int]:
    return [
        row[0]
        for row in stack.sql(
            "SELECT id FROM service_requests_servicerequest WHERE contact_email LIKE %s",
            f"%{marker}%",
        )
    ]


def _receipts_sent(stack: Stack, ids: list[int]) -> int:
    return int(
        stack.scalar(
            "SELECT count(*) FROM service_requests_residentnotification "
            "WHERE service_request_id = ANY(%s) AND medium = 'email' AND sent_at IS NOT NULL",
            ids,
        )
    )


def _photos(stack: Stack, ids: list[int]) -> dict[str, int]:
    rows = stack.sql(
        "SELECT state, count(*) FROM photos_photo WHERE service_request_id = ANY(%s) "
        "GROUP BY state",
        ids,
    )
    return {state: count for state, count in rows}


def test_with_redis_stopped_a_burst_is_accepted_and_its_work_done_once_redis_is_back(
    stack: Stack,
) -> None:
    marker = f"burst{uuid.uuid4().hex[:6]}"
    stack.kill("redis")
    answers = []
    started = time.monotonic()
    for number in range(BURST):
        answers.append(_submit(stack, email=f"{marker}+{number}@example.org", photo=_jpeg()))
    took = time.monotonic() - started

    assert [a.status_code for a in answers] == [201] * BURST, answers[0].text
    assert took < BURST * 2.0  # no request sat out a long broker timeout
    ids = _requests_of(stack, marker)
    assert len(ids) == BURST
    waiting = stack.scalar("SELECT count(*) FROM outbox_outboxmessage WHERE dispatched_at IS NULL")
    assert waiting >= BURST  # each photo (and receipt) kept for later, none lost
    assert _photos(stack, ids) == {"pending": BURST}

    stack.redis_start()

    wait_for(
        "every photo processed after Redis came back",
        lambda: _photos(stack, ids) == {"ready": BURST},
        timeout=90,
    )
    wait_for("every receipt sent", lambda: _receipts_sent(stack, ids) == BURST, timeout=60)
    wait_for(
        "the outbox drained",
        lambda: (
            stack.scalar("SELECT count(*) FROM outbox_outboxmessage WHERE dispatched_at IS NULL")
            == 0
        ),
        timeout=60,
    )
    assert len(_requests_of(stack, marker)) == BURST  # none doubled either
    assert "Traceback" not in stack.log("web")


def test_a_worker_killed_mid_photo_leaves_it_to_the_next_which_processes_it_once(
    stack: Stack,
) -> None:
    marker = f"killed{uuid.uuid4().hex[:6]}"
    seen = len(stack.log("worker"))
    answer = _submit(stack, email=f"{marker}@example.org", photo=_jpeg((7000, 7000)))
    assert answer.status_code == 201, answer.text
    (request_id,) = _requests_of(stack, marker)

    deadline = time.monotonic() + 30
    while not re.search(r"photo_process\[[^]]+\] received", stack.log("worker")[seen:]):
        assert time.monotonic() < deadline, "the worker never took the photo task"
        time.sleep(0.02)
    stack.kill("worker")  # SIGKILL, mid-way through a 49-megapixel photo
    assert _photos(stack, [request_id]) == {"pending": 1}, "the photo finished before the kill"

    # A worker hands back the tasks that were taken but never acknowledged for longer than
    # the visibility timeout (5 s here, CELERY_VISIBILITY_TIMEOUT_S) as it starts, and then
    # every ~100 s; in production the beat's photo sweep re-queues a stuck photo sooner.
    time.sleep(6)
    stack.worker_start("worker2")
    wait_for(
        "the photo processed by the next worker",
        lambda: _photos(stack, [request_id]) == {"ready": 1},
        timeout=60,
    )
    wait_for("its receipt sent", lambda: _receipts_sent(stack, [request_id]) == 1, timeout=30)
    time.sleep(2)
    assert _photos(stack, [request_id]) == {"ready": 1}  # one photo, processed once
    assert _receipts_sent(stack, [request_id]) == 1
    assert stack.log("worker2").count("photo_process") >= 1


def test_a_postgres_restart_answers_503_then_recovers_without_an_application_restart(
    stack: Stack,
) -> None:
    answer = _submit(stack, email="pg-restart@example.org", photo=_jpeg())
    assert answer.status_code == 201
    public_id = answer.json()["service_request_id"]
    detail = stack.url(f"/mobile/v1/requests/{public_id}")
    assert httpx.get(detail, timeout=10).status_code == 200
    web = stack.processes["web"].pid

    stack.postgres_stop()
    try:
        away = [httpx.get(detail, timeout=30), _submit(stack, email="x@example.org", photo=_jpeg())]
        open311 = httpx.get(stack.url("/open311/v2/requests.json"), timeout=30)
    finally:
        stack.postgres_start()

    for response in [*away, open311]:
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert "try again" in response.json()["detail"]
        assert "Traceback" not in response.text and "psycopg" not in response.text
    wait_for(
        "the application answers again",
        lambda: httpx.get(detail, timeout=10).status_code == 200,
        timeout=30,
    )
    assert _submit(stack, email="after@example.org", photo=_jpeg()).status_code == 201
    assert stack.processes["web"].pid == web and stack.processes["web"].poll() is None
