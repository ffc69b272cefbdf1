"""Feedback by signed link after a request is closed as resolved: "Was it fixed?", a 1-5
rating and a comment; "not fixed" within 14 days reopens the request with a new work order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from backend.service_requests.models import CloseReason, ServiceRequestEvent, Status
from backend.service_requests.services import do_service_request_close
from tests.openapi import assert_matches_schema
from tests.workorders.factories import Staff, order_in, request_make
from workorders.feedback import (
    feedback_close_event_get,
    feedback_token_make,
    feedback_url_make,
)
from workorders.models import Feedback, WorkOrder, WorkOrderStatus

pytestmark = pytest.mark.django_db


def _closed(staff: Staff) -> tuple[WorkOrder, ServiceRequestEvent, str]:
    order = order_in(WorkOrderStatus.COMPLETED, staff=staff)
    event = ServiceRequestEvent.objects.filter(
        service_request=order.service_request, to_status=Status.CLOSED
    ).get()
    return order, event, feedback_token_make(close_event=event)


def _api(token: str) -> str:
    return f"/api/v1/feedback/{token}"


def test_the_link_shows_what_was_done(staff: Staff, api: APIClient) -> None:
    order, event, token = _closed(staff)

    response = api.get(_api(token))

    assert response.status_code == 200
    body = response.json()
    assert body["service_request_id"] == order.service_request.public_id
    assert body["can_reopen"] is True and body["answer"] is None
    assert body["closing_note"] == event.public_note
    assert_matches_schema(body, path="/api/v1/feedback/{token}", method="get", status=200)
    # The closing message's link carries a token for the same closing (the signature's
    # timestamp may differ by a second from ``token``'s, so compare what it opens).
    url = feedback_url_make(close_event=event)
    assert "/feedback/" in url
    assert feedback_close_event_get(token=url.rsplit("/feedback/", 1)[1]).pk == event.pk


def test_not_fixed_reopens_the_request_with_a_new_work_order(staff: Staff, api: APIClient) -> None:
    order, _, token = _closed(staff)

    response = api.post(
        _api(token), {"fixed": False, "rating": 2, "comment": "Still a hole."}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reopened"] is True and body["status"] == Status.IN_PROGRESS
    assert_matches_schema(body, path="/api/v1/feedback/{token}", method="post", status=201)
    sr = order.service_request
    sr.refresh_from_db()
    assert sr.status == Status.IN_PROGRESS and sr.closed_at is None
    reopen = sr.events.filter(from_status=Status.CLOSED).get()
    assert reopen.channel == "web" and "Still a hole." in reopen.internal_note
    fresh = WorkOrder.objects.exclude(pk=order.pk).get(service_request=sr)
    assert fresh.status == WorkOrderStatus.NEW
    assert fresh.created_at == reopen.created_at
    assert fresh.due_at == reopen.created_at + timedelta(hours=72)  # the SLA restarts
    assert sr.expected_at == fresh.due_at
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.COMPLETED and order.on_time is True  # kept
    feedback = Feedback.objects.get()
    assert (feedback.fixed, feedback.rating, feedback.reopened) == (False, 2, True)


def test_fixed_just_records_the_answer(staff: Staff, api: APIClient) -> None:
    order, _, token = _closed(staff)

    response = api.post(_api(token), {"fixed": True, "rating": 5}, format="json")

    assert response.status_code == 201 and response.json()["reopened"] is False
    order.service_request.refresh_from_db()
    assert order.service_request.status == Status.CLOSED
    assert api.get(_api(token)).json()["answer"]["rating"] == 5


def test_after_14_days_not_fixed_no_longer_reopens(staff: Staff, api: APIClient) -> None:
    order, _, token = _closed(staff)

    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = api.post(_api(token), {"fixed": False}, format="json")

    assert response.status_code == 201
    assert response.json()["reopened"] is False
    assert "report the problem again" in response.json()["message"]
    order.service_request.refresh_from_db()
    assert order.service_request.status == Status.CLOSED


def test_one_answer_per_closing(staff: Staff, api: APIClient) -> None:
    _, _, token = _closed(staff)
    api.post(_api(token), {"fixed": False}, format="json")

    again = api.post(_api(token), {"fixed": False}, format="json")

    assert again.status_code == 409
    assert "token" in again.json()["errors"]
    assert WorkOrder.objects.count() == 2  # reopened once, not twice


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rating": 4}, "fixed"),
        ({"fixed": True, "rating": 6}, "rating"),
        ({"fixed": "perhaps"}, "fixed"),
        ({"fixed": True, "comment": "x" * 2001}, "comment"),
    ],
)
def test_bad_answers_name_the_field(
    staff: Staff, api: APIClient, payload: dict[str, Any], field: str
) -> None:
    _, _, token = _closed(staff)
    response = api.post(_api(token), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Feedback.objects.exists()


def test_bad_or_old_links_are_refused(staff: Staff, api: APIClient) -> None:
    _, event, token = _closed(staff)
    forged = signing.TimestampSigner(salt="another-salt").sign_object({"e": event.pk})
    cancelled = do_service_request_close(
        service_request=request_make(), reason=CloseReason.CANCELLED
    )
    not_resolved = feedback_token_make(
        close_event=ServiceRequestEvent.objects.get(service_request=cancelled, to_status="closed")
    )

    for bad in (token[:-2] + "xx", forged, not_resolved, "nonsense"):
        response = api.post(_api(bad), {"fixed": False}, format="json")
        assert response.status_code == 404, bad
        assert "token" in response.json()["errors"]
    with time_machine.travel(timezone.now() + timedelta(days=61)):
        expired = api.get(_api(token))
    assert expired.status_code == 410 and "token" in expired.json()["errors"]


def test_the_page_works_without_javascript(staff: Staff) -> None:
    order, _, token = _closed(staff)
    browser = Client()

    page = browser.get(f"/feedback/{token}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Was it fixed?" in html and 'name="viewport"' in html
    assert order.service_request.public_id in html

    missing = browser.post(f"/feedback/{token}", {"rating": "3"})
    assert missing.status_code == 400 and "This field is required" in missing.content.decode()

    answered = browser.post(f"/feedback/{token}", {"fixed": "no", "rating": "1", "comment": "No"})
    assert answered.status_code == 201
    assert "reopened your request" in answered.content.decode()
    assert browser.get(f"/feedback/{token}").status_code == 200  # shows the answer now
    assert browser.get("/feedback/garbage").status_code == 404


@pytest.mark.parametrize(
    ("language", "heading", "fixed", "thanks"),
    [
        ("es", "¿Se arregló?", "Sí, está arreglado", "nos alegra que esté arreglado"),
        ("vi", "Sự cố đã được khắc phục chưa?", "Có, đã được sửa", "rất vui vì vấn đề đã được sửa"),
    ],
)
def test_the_page_speaks_the_language_the_resident_reported_in(
    staff: Staff, language: str, heading: str, fixed: str, thanks: str
) -> None:
    order, _, token = _closed(staff)
    order.service_request.language = language
    order.service_request.save(update_fields=["language"])
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")

    page = browser.get(f"/feedback/{token}").content.decode()
    assert f'<html lang="{language}">' in page
    assert heading in page and fixed in page
    assert "Was it fixed?" not in page

    answered = browser.post(f"/feedback/{token}", {"fixed": "yes", "rating": "5"})
    assert answered.status_code == 201
    assert thanks in answered.content.decode()
    # A link that is not valid answers in the visitor's language.
    assert "We cannot use this link" in browser.get("/feedback/garbage").content.decode()
