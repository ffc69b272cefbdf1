"""POST ``servicerequestupdates``: a partner front end (FixMyStreet) posts a resident's
update. It becomes a comment held for moderation; a partner cannot close city work; "not
fixed" on a closed request follows the feedback reopen rules; replays answer the first
answer; only keys with the "updates" permission may post."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from backend.cases.close import service_request_close_for_staff
from backend.errors import IllegalTransition
from backend.open311.models import ApiKey, PartnerUpdate
from backend.open311.services import api_key_create
from backend.service_requests.comments import resident_comment_publish, resident_comment_reject
from backend.service_requests.models import (
    CloseReason,
    CommentFlag,
    CommentState,
    EventKind,
    ResidentComment,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from tests.factories import submit
from tests.open311.conftest import BASE, openapi_validate, xml_parse
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

NAME = ("Wilhelmina", "Partnerfield")
EMAIL = "wilhelmina.partnerfield@partner.example"


@pytest.fixture
def partner_key(db: None) -> str:
    return api_key_create(name="fixmystreet", channel="open311", may_post_updates=True).raw


@pytest.fixture
def request_open(catalog: None) -> ServiceRequest:
    return submit("pothole", description="Deep hole")


def update_form(key: str | None, sr: ServiceRequest, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "api_key": key,
        "service_request_id": sr.public_id,
        "update_id": "fms-1001",
        "status": "OPEN",
        "description": "Still there, and getting deeper",
        "updated_datetime": "2026-03-02T09:30:00-05:00",
        "first_name": NAME[0],
        "last_name": NAME[1],
        "email": EMAIL,
        "account_id": "",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def post(api: APIClient, form: dict[str, Any], *, fmt: str = "json") -> Any:
    return api.post(BASE + f"servicerequestupdates.{fmt}", form)


def descriptions(response: Any) -> list[str]:
    return [e["description"] for e in json.loads(response.content)]


def only_comment() -> ResidentComment:
    (comment,) = ResidentComment.objects.all()
    return comment


# --- Posting


def test_post_stores_a_pending_comment_and_answers_its_id(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    response = post(api, update_form(partner_key, request_open, status="investigating"))
    assert response.status_code == 200, response.content
    data = json.loads(response.content)
    openapi_validate(data, path="/open311/v2/servicerequestupdates.json", method="post")
    comment = only_comment()
    assert data == [{"update_id": f"c{comment.pk}"}]
    assert comment.state == CommentState.PENDING
    assert comment.text == "Still there, and getting deeper"
    assert comment.claimed_status == "INVESTIGATING"
    assert (comment.author_name, comment.author_email) == (" ".join(NAME), EMAIL)
    assert comment.flag == "" and not comment.reopened
    record = PartnerUpdate.objects.get()
    assert record.update_id == "fms-1001" and record.comment == comment
    assert record.partner_updated_at is not None
    # Staff see it in the request's history; the request itself has not moved.
    note = ServiceRequestEvent.objects.get(
        service_request=request_open, kind=EventKind.NOTE, internal_note__contains="#"
    )
    assert "awaiting moderation" in note.internal_note and note.public_note == ""
    request_open.refresh_from_db()
    assert request_open.status == Status.SUBMITTED


def test_post_answers_xml(api: APIClient, partner_key: str, request_open: ServiceRequest) -> None:
    response = post(api, update_form(partner_key, request_open), fmt="xml")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    tree = xml_parse(response.content)
    assert tree.tag == "service_request_updates"
    (item,) = list(tree)
    assert item.tag == "request_update"
    assert [(child.tag, child.text) for child in item] == [("update_id", f"c{only_comment().pk}")]


def test_media_url_is_kept_as_a_reference(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    url = "https://fixmystreet.example/photo/1001.0.jpeg"
    response = post(api, update_form(partner_key, request_open, description="", media_url=url))
    assert response.status_code == 200, response.content
    assert only_comment().media_url == url


# --- Who may post


def test_no_key_or_a_wrong_key_is_refused(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    for key, message in (
        (None, "api_key: An api_key is required."),
        ("nope-nope", "api_key: Wrong"),
    ):
        response = post(api, update_form(key, request_open))
        assert response.status_code == 403
        assert descriptions(response)[0].startswith(message)
    assert not ResidentComment.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_key_without_the_updates_permission_gets_403(
    api: APIClient, open311_key: str, request_open: ServiceRequest, fmt: str
) -> None:
    response = post(api, update_form(open311_key, request_open), fmt=fmt)
    assert response.status_code == 403
    if fmt == "json":
        assert descriptions(response)[0].startswith("api_key: ")
    else:
        assert xml_parse(response.content).tag == "errors"
    assert not ResidentComment.objects.exists()


def test_a_revoked_key_may_not_post(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    ApiKey.objects.update(active=False)
    assert post(api, update_form(partner_key, request_open)).status_code == 403


# --- Bad input


def test_unknown_request_is_404(api: APIClient, partner_key: str, catalog: None) -> None:
    form = update_form(partner_key, submit("pothole"), service_request_id="NOPE-1")
    response = post(api, form)
    assert response.status_code == 404
    assert descriptions(response) == ["service_request_id: There is no request 'NOPE-1'."]
    xml = post(api, form, fmt="xml")
    assert xml.status_code == 404 and xml_parse(xml.content).tag == "errors"


def test_bad_input_is_400_naming_every_field(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    response = post(
        api,
        update_form(
            partner_key,
            request_open,
            update_id="",
            status="SOLVED",
            email="not an address",
            media_url="ftp://example.org/x.jpg",
            updated_datetime="yesterday",
        ),
    )
    assert response.status_code == 400
    fields = {d.split(":")[0] for d in descriptions(response)}
    assert fields == {"update_id", "status", "email", "media_url", "updated_datetime"}
    assert post(api, update_form(partner_key, request_open, description="")).status_code == 400
    too_long = update_form(partner_key, request_open, description="x" * 4001)
    assert descriptions(post(api, too_long))[0].startswith("description: ")
    nul = update_form(partner_key, request_open, description="a\x00b")
    assert descriptions(post(api, nul))[0].startswith("description: ")
    assert not ResidentComment.objects.exists()


# --- Replays


def test_a_replay_returns_the_first_answer(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    first = post(api, update_form(partner_key, request_open))
    again = post(api, update_form(partner_key, request_open, description="changed", status="FIXED"))
    assert again.status_code == 200
    assert json.loads(again.content) == json.loads(first.content)
    assert ResidentComment.objects.count() == 1
    assert only_comment().text == "Still there, and getting deeper"
    # The same update_id from another partner is another update.
    other = api_key_create(name="another front end", channel="open311", may_post_updates=True)
    third = post(api, update_form(other.raw, request_open))
    assert third.status_code == 200
    assert json.loads(third.content) != json.loads(first.content)
    assert ResidentComment.objects.count() == 2


# --- What an update may do to the work


@pytest.mark.parametrize("status", ["FIXED", "closed", "NO_FURTHER_ACTION"])
def test_fixed_or_closed_is_a_flagged_comment_not_a_close(
    api: APIClient, partner_key: str, request_open: ServiceRequest, status: str
) -> None:
    orders = list(WorkOrder.objects.filter(service_request=request_open).values("id", "status"))
    response = post(api, update_form(partner_key, request_open, status=status))
    assert response.status_code == 200, response.content
    request_open.refresh_from_db()
    assert request_open.status == Status.SUBMITTED and request_open.closed_at is None
    assert list(WorkOrder.objects.filter(service_request=request_open).values("id", "status")) == (
        orders
    )
    comment = only_comment()
    assert comment.flag == CommentFlag.SAYS_FIXED and comment.state == CommentState.PENDING
    note = ServiceRequestEvent.objects.get(
        service_request=request_open, kind=EventKind.NOTE, internal_note__contains="#"
    )
    assert "says it is fixed" in note.internal_note


def _closed(sr: ServiceRequest, *, days_ago: int) -> ServiceRequest:
    return service_request_close_for_staff(
        service_request=sr,
        reason=CloseReason.RESOLVED,
        at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.mark.parametrize("status", ["REOPEN", "OPEN"])
def test_reopen_inside_the_feedback_window_reopens_with_a_new_work_order(
    api: APIClient, partner_key: str, request_open: ServiceRequest, status: str, settings: Any
) -> None:
    settings.FEEDBACK_REOPEN_DAYS = 14
    sr = _closed(request_open, days_ago=3)
    orders_before = WorkOrder.objects.filter(service_request=sr).count()
    response = post(api, update_form(partner_key, sr, status=status))
    assert response.status_code == 200, response.content
    sr.refresh_from_db()
    assert sr.status == Status.IN_PROGRESS
    assert WorkOrder.objects.filter(service_request=sr).count() == orders_before + 1
    comment = only_comment()
    assert comment.reopened and comment.flag == ""
    reopen = ServiceRequestEvent.objects.filter(service_request=sr, from_status=Status.CLOSED)
    assert reopen.get().channel == "open311"


def test_reopen_after_the_window_is_a_comment_flagged_for_staff(
    api: APIClient, partner_key: str, request_open: ServiceRequest, settings: Any
) -> None:
    settings.FEEDBACK_REOPEN_DAYS = 14
    sr = _closed(request_open, days_ago=30)
    orders_before = WorkOrder.objects.filter(service_request=sr).count()
    response = post(api, update_form(partner_key, sr, status="REOPEN"))
    assert response.status_code == 200, response.content
    sr.refresh_from_db()
    assert sr.status == Status.CLOSED
    assert WorkOrder.objects.filter(service_request=sr).count() == orders_before
    comment = only_comment()
    assert comment.flag == CommentFlag.ASKS_REOPEN and not comment.reopened


def test_open_on_an_open_request_is_a_comment(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    assert post(api, update_form(partner_key, request_open, status="OPEN")).status_code == 200
    comment = only_comment()
    assert comment.flag == "" and not comment.reopened
    request_open.refresh_from_db()
    assert request_open.status == Status.SUBMITTED


# --- Moderation and the public feed


def _feed(api: APIClient, fmt: str = "json") -> bytes:
    response = api.get(BASE + f"servicerequestupdates.{fmt}")
    assert response.status_code == 200
    content: bytes = response.content
    return content


def test_only_published_comments_appear_in_public_without_their_author(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    post(api, update_form(partner_key, request_open, update_id="a", description="Text one"))
    post(api, update_form(partner_key, request_open, update_id="b", description="Text two"))
    first, second = ResidentComment.objects.order_by("id")
    public = [
        f"requests/{request_open.public_id}.json?extensions=true",
        f"requests/{request_open.public_id}.xml?extensions=true",
    ]
    for fmt in ("json", "xml"):
        assert b"Text one" not in _feed(api, fmt)
    for path in public:
        assert b"Text one" not in api.get(BASE + path).content
    resident_comment_publish(comment=first, actor=None)
    resident_comment_reject(comment=second, actor=None, reason="Abusive")
    data = json.loads(_feed(api))
    item = next(row for row in data if row["update_id"] == f"c{first.pk}")
    assert item["service_request_id"] == request_open.public_id
    assert item["description"] == "Text one"
    assert item["status"] == "OPEN"
    openapi_validate(data, path="/open311/v2/servicerequestupdates.json")
    for fmt in ("json", "xml"):
        body = _feed(api, fmt)
        assert b"Text one" in body and b"Text two" not in body
        for private in (*NAME, EMAIL, "partner.example"):
            assert private.encode() not in body
    for path in public:
        body = api.get(BASE + path).content
        for private in (*NAME, EMAIL):
            assert private.encode() not in body
    with pytest.raises(IllegalTransition):
        resident_comment_publish(comment=second, actor=None)


def test_a_published_comment_shows_on_the_track_page_and_in_the_app_without_its_author(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    post(api, update_form(partner_key, request_open, update_id="a", description="Text one"))
    post(api, update_form(partner_key, request_open, update_id="b", description="Text two"))
    post(api, update_form(partner_key, request_open, update_id="c", description="Text three"))
    first, second, third = ResidentComment.objects.order_by("id")
    track = reverse("web:track", args=[request_open.public_id])
    detail = f"/mobile/v1/requests/{request_open.public_id}"
    timeline = f"{detail}/timeline"
    for url in (track, detail, timeline):
        assert b"Text one" not in Client().get(url).content  # pending: nobody sees it yet
    resident_comment_publish(comment=first, actor=None)
    resident_comment_reject(comment=second, actor=None, reason="Abusive")
    page = Client().get(track).content.decode()
    assert "A resident wrote" in page and "Text one" in page
    assert "Text two" not in page and "Text three" not in page
    for url in (detail, timeline):
        response = APIClient().get(url)
        assert response.status_code == 200, response.content
        comments = response.json()["comments"]
        assert [c["text"] for c in comments] == ["Text one"]
        assert comments[0]["at"]
    for body in (page, *(APIClient().get(u).content.decode() for u in (detail, timeline))):
        for private in (*NAME, EMAIL):
            assert private not in body
    # Oldest first, with the request's own events on the track page.
    resident_comment_publish(comment=third, actor=None)
    comments = APIClient().get(timeline).json()["comments"]
    assert [c["text"] for c in comments] == ["Text one", "Text three"]
    page = Client().get(track).content.decode()
    assert page.index("Text one") < page.index("Text three")


def test_existing_feed_items_keep_their_shape(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    data = json.loads(_feed(api))
    kinds = [EventKind.CREATED, EventKind.STATUS_CHANGED]
    events = ServiceRequestEvent.objects.filter(kind__in=kinds).order_by("created_at", "id")
    assert [row["update_id"] for row in data] == [str(e.pk) for e in events]
    assert post(api, update_form(partner_key, request_open)).status_code == 200
    assert json.loads(_feed(api)) == data  # a pending comment adds nothing


# --- Keys


def test_the_key_command_grants_the_updates_permission(db: None) -> None:
    out = StringIO()
    call_command("open311_key", "create", "--name", "FMS", "--updates", stdout=out)
    key = ApiKey.objects.get(name="FMS")
    assert key.may_post_updates
    call_command("open311_key", "updates", "--name", "FMS", "--forbid", stdout=out)
    key.refresh_from_db()
    assert not key.may_post_updates
    call_command("open311_key", "create", "--name", "plain", stdout=out)
    assert not ApiKey.objects.get(name="plain").may_post_updates


# --- Moderation in the admin


def test_staff_publish_in_the_admin_and_others_cannot(
    api: APIClient, partner_key: str, request_open: ServiceRequest
) -> None:
    post(api, update_form(partner_key, request_open))
    comment = only_comment()
    url = reverse("admin:service_requests_residentcomment_changelist")
    action = {"action": "publish", "_selected_action": [str(comment.pk)]}
    resident = Client()
    resident.force_login(get_user_model().objects.create_user(username="res", password=None))
    assert resident.post(url, action).status_code == 302  # to the login page
    comment.refresh_from_db()
    assert comment.state == CommentState.PENDING
    staff = Client()
    staff.force_login(
        get_user_model().objects.create_superuser(username="root", email="r@example.org")
    )
    page = staff.get(reverse("admin:service_requests_residentcomment_change", args=[comment.pk]))
    assert page.status_code == 200 and EMAIL.encode() in page.content  # staff see the author
    assert staff.post(url, action).status_code == 302
    comment.refresh_from_db()
    assert comment.state == CommentState.PUBLISHED
    assert comment.moderated_by is not None and comment.moderated_at is not None
