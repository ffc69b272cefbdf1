"""GET requests and requests/{id}: the spec's fields and filters, the extensions, the errors,
and no personal data."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from backend.service_requests.models import CloseReason, ServiceRequest
from backend.service_requests.services import (
    do_service_request_close,
    do_service_request_reopen,
    service_request_acknowledge,
    service_request_start,
)
from tests.conftest import BOSTON
from tests.factories import submit
from tests.open311.conftest import (
    assert_xml_twin,
    georeport_validate,
    get_both,
    get_json,
    openapi_validate,
)

pytestmark = pytest.mark.django_db


def ids(data: list[dict[str, Any]]) -> list[str]:
    return [r["service_request_id"] for r in data]


def days_ago(n: float) -> Any:
    return timezone.now() - timedelta(days=n)


def check(api: APIClient, path: str = "requests", **params: Any) -> list[dict[str, Any]]:
    """A 200 answer, valid against both schemas, whose XML twin matches."""
    status, data, xml = get_both(api, path, **params)
    assert status == 200, data
    georeport_validate(data, "requests")
    openapi_path = "/open311/v2/requests.json" if path == "requests" else None
    openapi_validate(data, path=openapi_path or "/open311/v2/requests/{service_request_id}.json")
    assert_xml_twin(xml, data, root="service_requests", item="request")
    return list(data)


def test_a_request_has_every_spec_field(catalog: None, api: APIClient) -> None:
    sr = submit(
        "pothole",
        description="Deep hole",
        address="1 City Hall Sq",
        contact_name="Ada Reporter",
        contact_email="ada@example.org",
        contact_phone="+1 617 555 0100",
        requested_at=days_ago(1),
    )
    sr = service_request_acknowledge(service_request=sr, public_note="Crew scheduled for Monday.")
    (data,) = check(api, f"requests/{sr.public_id}")
    local = timezone.localtime
    assert data == {
        "service_request_id": sr.public_id,
        "status": "open",
        "status_notes": "Crew scheduled for Monday.",
        "service_name": "Pothole",
        "service_code": "pothole",
        "description": "Deep hole",
        "agency_responsible": "Public Works",
        "service_notice": "Public Works aims to handle this within 72 hours.",
        "requested_datetime": local(sr.requested_at).replace(microsecond=0).isoformat(),
        "updated_datetime": local(sr.updated_at).replace(microsecond=0).isoformat(),
        "expected_datetime": local(sr.expected_at).replace(microsecond=0).isoformat(),
        "address": "1 City Hall Sq",
        "address_id": None,
        "zipcode": None,
        "lat": BOSTON[0],
        "long": BOSTON[1],
        "media_url": None,
    }
    assert data["requested_datetime"][-6:] in {"-05:00", "-04:00"}  # the city's zone


def test_no_personal_data_in_any_answer(catalog: None, api: APIClient) -> None:
    sr = submit(
        contact_name="Ada Reporter", contact_email="ada@example.org", contact_phone="6175550100"
    )
    service_request_start(service_request=sr, internal_note="Caller was rude, SECRET-NOTE")
    for path, params in [
        ("requests", {}),
        (f"requests/{sr.public_id}", {}),
        ("requests", {"extensions": "true"}),
        (f"requests/{sr.public_id}", {"extensions": "true"}),
        ("servicerequestupdates", {}),
    ]:
        _, _, xml = get_both(api, path, **params)
        json_body = api.get(f"/open311/v2/{path}.json", params).content
        for body in (xml, json_body):
            for secret in (b"Ada", b"ada@example.org", b"6175550100", b"SECRET-NOTE"):
                assert secret not in body, (path, params, secret)


def test_status_is_open_or_closed_and_notes_follow_the_history(
    catalog: None, api: APIClient
) -> None:
    sr = submit()
    (data,) = check(api, f"requests/{sr.public_id}")
    assert (data["status"], data["status_notes"]) == ("open", "Request received.")
    before = data["updated_datetime"]
    sr = service_request_start(service_request=sr, at=timezone.now() + timedelta(seconds=2))
    (data,) = check(api, f"requests/{sr.public_id}")
    # A status change without a note keeps the latest note; the update time moves.
    assert (data["status"], data["status_notes"]) == ("open", "Request received.")
    assert data["updated_datetime"] > before
    sr = do_service_request_close(
        service_request=sr,
        reason=CloseReason.RESOLVED,
        public_note="Filled.",
        at=timezone.now() + timedelta(seconds=4),
    )
    (data,) = check(api, f"requests/{sr.public_id}")
    assert (data["status"], data["status_notes"]) == ("closed", "Filled.")
    sr = do_service_request_reopen(
        service_request=sr, public_note="Back again.", at=timezone.now() + timedelta(seconds=6)
    )
    (data,) = check(api, f"requests/{sr.public_id}")
    assert (data["status"], data["status_notes"]) == ("open", "Back again.")


def test_sensitive_services_show_an_area_not_a_house(catalog: None, api: APIClient) -> None:
    sr = submit("rodents", lat=42.361234, long=-71.058789)
    (data,) = check(api, f"requests/{sr.public_id}")
    assert (data["lat"], data["long"]) == (42.361, -71.059)


def test_unknown_request_is_404(catalog: None, api: APIClient) -> None:
    status, errors, xml = get_both(api, "requests/SR-1999-000001")
    assert status == 404
    assert errors == [
        {"code": 404, "description": "service_request_id: There is no request 'SR-1999-000001'."}
    ]
    assert_xml_twin(xml, errors, root="errors", item="error")


def test_default_window_is_the_last_90_days_newest_first(catalog: None, api: APIClient) -> None:
    old = submit(requested_at=days_ago(91), lat=42.30)
    recent = submit(requested_at=days_ago(89), lat=42.31)
    newest = submit(requested_at=days_ago(1), lat=42.32)
    data = check(api)
    assert ids(data) == [newest.public_id, recent.public_id]
    assert old.public_id not in ids(data)


def test_service_request_id_list_overrides_the_other_filters(catalog: None, api: APIClient) -> None:
    old = submit(requested_at=days_ago(400), lat=42.30)
    recent = submit("graffiti", lat=42.31)
    data = check(
        api,
        service_request_id=f"{old.public_id}, {recent.public_id},SR-1999-000001",
        service_code="streetlight",
        status="closed",
        start_date="2000-01-01T00:00:00Z",
        end_date="2000-01-02T00:00:00Z",
    )
    assert ids(data) == [recent.public_id, old.public_id]


def test_filters_by_service_code_status_and_dates(catalog: None, api: APIClient) -> None:
    pothole = submit("pothole", requested_at=days_ago(10), lat=42.30)
    light = submit("streetlight", requested_at=days_ago(20), lat=42.31)
    graffiti = submit("graffiti", requested_at=days_ago(30), lat=42.32)
    do_service_request_close(service_request=light, reason=CloseReason.RESOLVED)
    assert ids(check(api, service_code="pothole,streetlight")) == [
        pothole.public_id,
        light.public_id,
    ]
    assert ids(check(api, status="closed")) == [light.public_id]
    assert ids(check(api, status="open")) == [pothole.public_id, graffiti.public_id]
    assert len(check(api, status="open,closed")) == 3
    window = check(
        api,
        start_date=days_ago(25).isoformat(),
        end_date=days_ago(15).isoformat(),
    )
    assert ids(window) == [light.public_id]
    # Only a start: 90 days from there; only an end: 90 days up to it.
    assert ids(check(api, start_date=days_ago(15).isoformat())) == [pothole.public_id]
    assert ids(check(api, end_date=days_ago(25).isoformat())) == [graffiti.public_id]


def test_dates_in_other_spellings(catalog: None, api: APIClient) -> None:
    sr = submit(requested_at=days_ago(2))
    three_days_ago = days_ago(3).replace(microsecond=0)
    day = timezone.localtime(three_days_ago).date().isoformat()  # a date: local midnight
    utc = three_days_ago.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    naive = timezone.localtime(three_days_ago).replace(tzinfo=None).isoformat()  # local time
    # "+05:00" sent without percent-encoding arrives as " 05:00": still read as an offset.
    plus = three_days_ago.astimezone(timezone.get_fixed_timezone(300)).isoformat()
    for start in (day, utc, naive, plus, plus.replace("+", " ")):
        assert ids(check(api, start_date=start)) == [sr.public_id], start


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-02-30T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, "end_date"),
        ({"status": "pending"}, "status"),
        ({"page": "0"}, "page"),
        ({"page_size": "501"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "-71,42,-72,43"}, "bbox"),
        ({"updated_after": "2026-13-01"}, "updated_after"),
        ({"extensions": "maybe"}, "extensions"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(
    catalog: None, api: APIClient, params: dict[str, str], field: str
) -> None:
    status, errors, xml = get_both(api, "requests", **params)
    assert status == 400
    assert errors and all(e["code"] == 400 for e in errors)
    assert errors[0]["description"].startswith(f"{field}: ")
    openapi_validate(errors, path="/open311/v2/requests.json", status=400)
    assert_xml_twin(xml, errors, root="errors", item="error")


def test_several_wrong_parameters_are_reported_together(catalog: None, api: APIClient) -> None:
    status, errors = get_json(
        api, "requests", status="pending", start_date="soon", page_size="0", bbox="x"
    )
    assert status == 400
    fields = [e["description"].split(":")[0] for e in errors]
    assert fields == ["status", "start_date", "bbox", "page_size"]


def test_unknown_service_code_filter_is_404(catalog: None, api: APIClient) -> None:
    status, errors = get_json(api, "requests", service_code="pothole,unicorns")
    assert status == 404
    assert errors == [{"code": 404, "description": "service_code: There is no service 'unicorns'."}]


def test_at_most_1000_by_default_and_pages_on_request(catalog: None, api: APIClient) -> None:
    made = [submit(requested_at=days_ago(1 + i / 100), lat=42.30 + i / 1000) for i in range(7)]
    newest_first = [sr.public_id for sr in made]
    assert ids(check(api)) == newest_first
    assert ids(check(api, page_size="3")) == newest_first[:3]
    assert ids(check(api, page="2", page_size="3")) == newest_first[3:6]
    assert ids(check(api, page="3", page_size="3")) == newest_first[6:]
    assert check(api, page="9", page_size="3") == []


def test_default_limit_is_1000(catalog: None, api: APIClient) -> None:
    from backend.open311 import parameters

    assert parameters.requests_query_parse({}).limit == 1000
    assert parameters.requests_query_parse({"page": "1"}).limit == 50


def test_updated_after_and_before_poll_by_change_time(catalog: None, api: APIClient) -> None:
    old = submit(requested_at=days_ago(200), lat=42.30)
    untouched = submit(requested_at=days_ago(5), lat=42.31)
    mark = timezone.now()
    service_request_start(service_request=old, at=mark + timedelta(seconds=1))
    # Old requests changed recently are found: no requested-date window applies.
    assert ids(check(api, updated_after=mark.isoformat())) == [old.public_id]
    assert untouched.public_id in ids(check(api, updated_before=mark.isoformat()))
    assert old.public_id not in ids(check(api, updated_before=mark.isoformat()))


def test_bbox_and_q_narrow_the_list(catalog: None, api: APIClient) -> None:
    inside = submit(lat=42.3601, long=-71.0589, description="Deep crater near the bakery")
    outside = submit(lat=40.7128, long=-74.0060, description="Crater on Broadway")
    assert ids(check(api, bbox="-71.1,42.3,-71.0,42.4")) == [inside.public_id]
    assert ids(check(api, q="crater")) == [outside.public_id, inside.public_id]
    assert ids(check(api, q="bakery crater")) == [inside.public_id]
    assert ids(check(api, q="crater", bbox="-74.1,40.7,-73.9,40.8")) == [outside.public_id]
    assert check(api, q="submarine") == []


def test_extensions_add_channel_photos_notes_and_duplicate(catalog: None, api: APIClient) -> None:
    original = submit(lat=42.30)
    copy = submit(lat=42.30, channel="chat")
    do_service_request_close(
        service_request=copy,
        reason=CloseReason.DUPLICATE,
        duplicate_of=original,
        public_note="Already reported.",
    )
    plain = check(api, f"requests/{copy.public_id}")[0]
    assert "notes" not in plain and "extended_attributes" not in plain
    (data,) = check(api, f"requests/{copy.public_id}", extensions="true")
    assert data["extended_attributes"] == {"channel": "chat", "photos": []}
    assert data["duplicate"] == data["parent_service_request_id"] == original.public_id
    assert [(n["type"], n["summary"], n["description"]) for n in data["notes"]] == [
        ("created", "Request received", "Request received."),
        ("status_changed", "Closed: Duplicate", "Already reported."),
    ]
    listed = check(api, extensions="true")
    assert {r["service_request_id"]: r["duplicate"] for r in listed} == {
        copy.public_id: original.public_id,
        original.public_id: None,
    }


def test_list_queries_do_not_grow_with_the_page(
    catalog: None, api: APIClient, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        submit(lat=42.30 + i / 1000)
    # The catalog and the page (notes and photo in subqueries); with extensions, the photos
    # and public events of the page too.
    with django_assert_max_num_queries(2):
        assert len(get_json(api, "requests")[1]) == 30
    with django_assert_max_num_queries(4):
        assert len(get_json(api, "requests", extensions="true")[1]) == 30


def test_client_media_url_is_shown_until_a_photo_is_ready(catalog: None, api: APIClient) -> None:
    sr = submit(media_url="https://img.example.org/pothole.jpg")
    (data,) = check(api, f"requests/{sr.public_id}")
    assert data["media_url"] == "https://img.example.org/pothole.jpg"
    assert ServiceRequest.objects.get(pk=sr.pk).media_url == "https://img.example.org/pothole.jpg"


@pytest.mark.parametrize(
    ("zone", "month", "offset"),
    [
        ("America/New_York", 1, "-05:00"),
        ("America/New_York", 3, "-05:00"),  # 7 March, local: DST starts on the 9th
        ("America/New_York", 7, "-04:00"),
        ("America/St_Johns", 7, "-02:30"),
        ("Asia/Kolkata", 1, "+05:30"),
        ("UTC", 7, "+00:00"),
    ],
)
def test_datetimes_carry_the_offset_of_their_day(
    catalog: None, api: APIClient, settings: Any, zone: str, month: int, offset: str
) -> None:
    """The database formats the list's datetimes; they agree with Python's, DST included."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    settings.TIME_ZONE = zone
    at = datetime(2025, month, 8, 1, 59, 59, 987654, tzinfo=ZoneInfo("UTC"))
    sr = submit(requested_at=at)
    (data,) = check(api, f"requests/{sr.public_id}")
    expected = timezone.localtime(at).replace(microsecond=0).isoformat()
    assert expected.endswith(offset)
    assert data["requested_datetime"] == expected


def test_pollers_asking_the_same_question_share_one_read_for_a_few_seconds(
    catalog: None, api: APIClient, settings: Any, django_assert_num_queries: Any
) -> None:
    """OPEN311_LIST_CACHE_SECONDS (5 in production, 0 in the other tests): the same GET
    within it is answered from the process's memo, reading only the moderation version from
    the database; another query, another language or a refused query is not."""
    from backend.process_cache import process_caches_clear

    settings.OPEN311_LIST_CACHE_SECONDS = 60
    process_caches_clear()
    first = submit(description="first")
    try:
        assert ids(get_json(api, "requests")[1]) == [first.public_id]
        second = submit(description="second")
        # One read of the moderation version (a primary-key lookup), the list from the memo.
        with django_assert_num_queries(1):
            status, again = get_json(api, "requests")
        assert status == 200 and ids(again) == [first.public_id]  # the memo's answer
        fresh = ids(get_json(api, "requests", status="open")[1])  # another question
        assert fresh == [second.public_id, first.public_id]
        status, refused = get_json(api, "requests", start_date="not a date")
        assert status == 400 and "start_date" in json.dumps(refused)
        assert get_json(api, "requests", start_date="not a date")[0] == 400  # not kept
        for n in range(40):  # many different queries: the memo stays bounded
            get_json(api, "requests", page_size=str(n + 1))
        from backend.open311.views import _REQUEST_LISTS

        assert len(_REQUEST_LISTS._entries) <= 32
        settings.OPEN311_LIST_CACHE_SECONDS = 0
        assert ids(get_json(api, "requests")[1]) == [second.public_id, first.public_id]
    finally:
        process_caches_clear()
