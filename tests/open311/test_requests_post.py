"""POST requests: API keys and their channels, the intake pipeline's checks under Open311's
names, photos (``media``, FixMyStreet's ``photo1..N``), ``media_url`` kept as a reference and
never fetched, and the asynchronous intake through tokens."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from backend.catalog.models import ServiceType
from backend.open311.models import ApiKey, IntakeToken, TokenState
from backend.open311.services import api_key_revoke, intake_token_process
from backend.photos.models import Photo, ProcessingState
from backend.service_requests.models import ServiceRequest
from tests.conftest import jpeg_bytes
from tests.open311.conftest import (
    BASE,
    assert_xml_twin,
    get_json,
    openapi_validate,
    pothole_form,
    xml_parse,
)

pytestmark = pytest.mark.django_db
URL = BASE + "requests.json"


def post(api: APIClient, form: dict[str, Any], *, fmt: str = "json", **kwargs: Any) -> Any:
    return api.post(BASE + f"requests.{fmt}", form, **kwargs)


def descriptions(response: Any) -> list[str]:
    return [e["description"] for e in json.loads(response.content)]


def test_post_files_a_request_with_the_keys_channel(
    catalog: None, api: APIClient, open311_key: str
) -> None:
    response = post(api, pothole_form(api_key=open311_key, first_name="Ada", email="a@b.org"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    openapi_validate(body, path=URL, method="post")
    (filed,) = body
    assert set(filed) == {"service_request_id", "service_notice", "account_id"}
    sr = ServiceRequest.objects.get(public_id=filed["service_request_id"])
    assert (sr.channel, sr.contact_name, sr.contact_email) == ("open311", "Ada", "a@b.org")
    assert sr.attributes == {"size": "large"}
    assert filed["service_notice"] == "Public Works aims to handle this within 72 hours."
    assert ApiKey.objects.get(name="partner app").last_used_at is not None


def test_the_chatbots_key_files_chat_requests(catalog: None, api: APIClient, chat_key: str) -> None:
    response = post(api, pothole_form(api_key=chat_key))
    sr = ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])
    assert sr.channel == "chat"


def test_post_answers_xml_too(catalog: None, api: APIClient, open311_key: str) -> None:
    response = post(api, pothole_form(api_key=open311_key), fmt="xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    tree = xml_parse(response.content)
    assert tree.tag == "service_requests"
    (request,) = list(tree)
    public_id = request.findtext("service_request_id", "")
    assert ServiceRequest.objects.filter(public_id=public_id).exists()
    # Field by field what the JSON answer for the same request says (account_id: null, out).
    twin = {
        "service_request_id": public_id,
        "service_notice": "Public Works aims to handle this within 72 hours.",
        "account_id": None,
    }
    assert_xml_twin(response.content, [twin], root="service_requests", item="request")


@pytest.mark.parametrize(
    ("key", "message"),
    [(None, "api_key: An api_key is required."), ("guess", "api_key: Wrong or revoked api_key.")],
)
def test_missing_or_wrong_key_is_403(
    catalog: None, api: APIClient, key: str | None, message: str
) -> None:
    form = pothole_form(api_key=key, lat=None, description="x" * 5000)
    for fmt in ("json", "xml"):
        response = post(api, form, fmt=fmt)
        assert response.status_code == 403
    assert descriptions(post(api, form)) == [message]
    assert_xml_twin(
        post(api, form, fmt="xml").content, post(api, form).json(), root="errors", item="error"
    )
    assert not ServiceRequest.objects.exists()


def test_a_revoked_key_is_403(catalog: None, api: APIClient, open311_key: str) -> None:
    api_key_revoke(api_key=ApiKey.objects.get(name="partner app"))
    assert post(api, pothole_form(api_key=open311_key)).status_code == 403


def test_a_key_in_the_query_string_works(catalog: None, api: APIClient, open311_key: str) -> None:
    response = api.post(f"{URL}?api_key={open311_key}", pothole_form())
    assert response.status_code == 200


def test_every_wrong_field_is_named_at_once(
    catalog: None, api: APIClient, open311_key: str
) -> None:
    form = {
        "api_key": open311_key,
        "service_code": "abandoned_vehicle",
        "attribute[days_parked]": "a week",
        "attribute[colour]": "",
        "attribute[wheels]": "4",
        "description": "x" * 4001,
        "email": "not-an-address",
        "media_url": "ftp://example.org/x.jpg",
    }
    response = post(api, form)
    assert response.status_code == 400
    openapi_validate(response.json(), path=URL, method="post", status=400)
    fields = sorted({d.split(":")[0] for d in descriptions(response)})
    assert fields == [
        "attribute[colour]",
        "attribute[days_parked]",
        "attribute[wheels]",
        "description",
        "email",
        "lat",
        "media_url",
    ]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"lat": "north"}, "lat"),
        ({"lat": "95"}, "lat"),
        ({"long": None}, "long"),
        ({"attribute[size]": "huge"}, "attribute[size]"),
        ({"attribute[size]": None}, "attribute[size]"),
        ({"description": "x" * 4001}, "description"),
        ({"phone": "call me"}, "phone"),
        ({"first_name": "A" * 201}, "first_name"),
        ({"address_string": "x" * 501}, "address_string"),
        ({"media_url": "https://" + "x" * 1000 + ".org/"}, "media_url"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"service_code": ""}, "service_code"),
    ],
)
def test_a_wrong_field_is_400_naming_it(
    catalog: None, api: APIClient, open311_key: str, form: dict[str, Any], field: str
) -> None:
    response = post(api, pothole_form(api_key=open311_key, **form))
    assert response.status_code == 400, response.content
    assert field in {d.split(":")[0] for d in descriptions(response)}


def test_unknown_service_code_is_404(catalog: None, api: APIClient, open311_key: str) -> None:
    response = post(api, pothole_form(api_key=open311_key, service_code="unicorns"))
    assert response.status_code == 404
    assert descriptions(response) == ["service_code: There is no active service 'unicorns'."]


def test_unknown_jurisdiction_is_404(catalog: None, api: APIClient, open311_key: str) -> None:
    response = post(api, pothole_form(api_key=open311_key, jurisdiction_id="springfield"))
    assert response.status_code == 404


def test_address_string_alone_is_a_location(
    catalog: None, api: APIClient, open311_key: str
) -> None:
    form = pothole_form(api_key=open311_key, lat=None, long=None, address_string="1 Main St")
    response = post(api, form)
    assert response.status_code == 200
    sr = ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])
    assert (sr.location, sr.address) == (None, "1 Main St")


def test_address_id_alone_is_explained(catalog: None, api: APIClient, open311_key: str) -> None:
    form = pothole_form(api_key=open311_key, lat=None, long=None, address_id="A-17")
    response = post(api, form)
    assert response.status_code == 400
    assert descriptions(response)[0].startswith("address_id: This server keeps no address")


def test_multivaluelist_attributes(catalog: None, api: APIClient, open311_key: str) -> None:
    form = {
        "api_key": open311_key,
        "service_code": "illegal_dumping",
        "lat": "42.36",
        "long": "-71.05",
        "attribute[items][]": ["tyres", "furniture"],
    }
    response = post(api, form)
    assert response.status_code == 200, response.content
    sr = ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])
    assert sr.attributes == {"items": ["furniture", "tyres"]}


def test_a_json_body_is_415_naming_the_content_type(
    catalog: None, api: APIClient, open311_key: str
) -> None:
    response = api.post(URL, pothole_form(api_key=open311_key), format="json")
    assert response.status_code == 415
    assert descriptions(response)[0].startswith("Content-Type: ")


def test_a_malformed_multipart_body_is_400(catalog: None, api: APIClient) -> None:
    response = api.generic("POST", URL, "--x\r\nbroken", content_type="multipart/form-data")
    assert response.status_code == 400
    assert descriptions(response)[0].startswith("body: Malformed body")


def test_other_methods_are_405(api: APIClient) -> None:
    response = api.delete(URL)
    assert response.status_code == 405
    assert response.json()[0]["code"] == 405


# --- Photos


def _photo(name: str, color: tuple[int, int, int] = (200, 30, 30)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(color=color), content_type="image/jpeg")


@pytest.mark.parametrize("fields", [["media"], ["photo1", "photo2"]])
def test_photos_upload_and_show_as_media_url(
    catalog: None,
    api: APIClient,
    open311_key: str,
    fields: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    form: dict[str, Any] = pothole_form(api_key=open311_key)
    for index, field in enumerate(fields):
        form[field] = _photo(f"{field}.jpg", color=(index * 80, 30, 30))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, form, format="multipart")
    assert response.status_code == 200, response.content
    sr = ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])
    photos = list(Photo.objects.filter(service_request=sr).order_by("created_at", "id"))
    assert len(photos) == len(fields)
    assert all(p.state == ProcessingState.READY for p in photos)
    (data,) = get_json(api, f"requests/{sr.public_id}")[1]
    assert data["media_url"] == "http://testserver" + photos[0].display.url
    # The photo is a public change: the update time moved when it became ready.
    assert ServiceRequest.objects.get(pk=sr.pk).updated_at == photos[-1].processed_at
    (extended,) = get_json(api, f"requests/{sr.public_id}", extensions="true")[1]
    shown = extended["extended_attributes"]["photos"]
    assert [p["media_url"] for p in shown] == ["http://testserver" + p.display.url for p in photos]
    assert all(max(p["width"], p["height"]) <= 1600 for p in shown)
    # A display file gone missing costs its dimensions, not the answer.
    photos[0].display.storage.delete(str(photos[0].display.name))
    (extended,) = get_json(api, f"requests/{sr.public_id}", extensions="true")[1]
    assert extended["extended_attributes"]["photos"][0]["width"] is None


def test_a_file_that_is_no_photo_is_400_naming_its_field(
    catalog: None, api: APIClient, open311_key: str
) -> None:
    form: dict[str, Any] = pothole_form(api_key=open311_key)
    form["photo1"] = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    response = api.post(URL, form, format="multipart")
    assert response.status_code == 400
    assert descriptions(response)[0].startswith("photo1: ")
    assert not ServiceRequest.objects.exists()


@override_settings(PHOTO_MAX_BYTES=1000)
def test_an_oversized_photo_is_413(catalog: None, api: APIClient, open311_key: str) -> None:
    form: dict[str, Any] = pothole_form(api_key=open311_key, media=_photo("big.jpg"))
    response = api.post(URL, form, format="multipart")
    assert response.status_code == 413
    assert descriptions(response)[0].startswith("media: ")


# --- media_url is a reference


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """A local port that would notice anybody fetching from it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def test_media_url_is_stored_and_never_fetched(
    catalog: None,
    api: APIClient,
    open311_key: str,
    listening_socket: socket.socket,
    django_capture_on_commit_callbacks: Any,
) -> None:
    port = listening_socket.getsockname()[1]
    url = f"http://127.0.0.1:{port}/photo.jpg"
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, pothole_form(api_key=open311_key, media_url=url))
    assert response.status_code == 200
    public_id = response.json()[0]["service_request_id"]
    assert ServiceRequest.objects.get(public_id=public_id).media_url == url
    assert get_json(api, f"requests/{public_id}")[1][0]["media_url"] == url
    with pytest.raises(BlockingIOError):
        listening_socket.accept()  # nobody connected


# --- Asynchronous intake


@override_settings(OPEN311_ASYNC_INTAKE=True)
def test_async_intake_answers_a_token_that_resolves(
    catalog: None, api: APIClient, open311_key: str, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(api, pothole_form(api_key=open311_key, email="ada@example.org"))
    assert response.status_code == 200
    (filed,) = response.json()
    openapi_validate(response.json(), path=URL, method="post")
    assert set(filed) == {"token", "service_notice", "account_id"}
    token = filed["token"]
    assert not ServiceRequest.objects.exists()
    status, pending = get_json(api, f"tokens/{token}")
    assert (status, pending) == (200, [{"service_request_id": None, "token": token}])
    openapi_validate(pending, path="/open311/v2/tokens/{token}.json")
    for callback in callbacks:  # the worker's turn (CELERY_TASK_ALWAYS_EAGER in tests)
        callback()
    sr = ServiceRequest.objects.get()
    assert (sr.channel, sr.contact_email) == ("open311", "ada@example.org")
    status, done = get_json(api, f"tokens/{token}")
    assert done == [{"service_request_id": sr.public_id, "token": token}]
    stored = IntakeToken.objects.get(token=token)
    assert (stored.state, stored.payload) == (TokenState.DONE, {})  # contact data not kept
    assert sr.requested_at == stored.created_at
    xml = api.get(BASE + f"tokens/{token}.xml")
    assert_xml_twin(xml.content, done, root="service_requests", item="request")
    assert intake_token_process(token_id=stored.pk) is None  # only once


@override_settings(OPEN311_ASYNC_INTAKE=True)
def test_async_intake_still_names_every_wrong_field_at_once(
    catalog: None, api: APIClient, open311_key: str
) -> None:
    response = post(api, pothole_form(api_key=open311_key, lat=None, **{"attribute[size]": "x"}))
    assert response.status_code == 400
    assert {d.split(":")[0] for d in descriptions(response)} == {"lat", "attribute[size]"}
    assert not IntakeToken.objects.exists()


@override_settings(OPEN311_ASYNC_INTAKE=True)
def test_a_token_the_pipeline_rejects_answers_its_errors(
    catalog: None, api: APIClient, open311_key: str, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        token = post(api, pothole_form(api_key=open311_key)).json()[0]["token"]
    ServiceType.objects.filter(service_code="pothole").update(active=False)
    for callback in callbacks:
        callback()
    assert IntakeToken.objects.get(token=token).state == TokenState.REJECTED
    status, errors = get_json(api, f"tokens/{token}")
    assert status == 404
    assert errors == [
        {"code": 404, "description": "service_code: There is no active service 'pothole'."}
    ]
    assert not ServiceRequest.objects.exists()


def test_an_unknown_token_is_404(api: APIClient, db: None) -> None:
    status, errors = get_json(api, "tokens/nope")
    assert status == 404
    assert errors == [{"code": 404, "description": "token: There is no token 'nope'."}]


@override_settings(OPEN311_ASYNC_INTAKE=True)
def test_pending_tokens_are_swept(catalog: None, api: APIClient, open311_key: str) -> None:
    from backend.open311.tasks import intake_tokens_process_pending

    token = post(api, pothole_form(api_key=open311_key)).json()[0]["token"]  # task never ran
    assert intake_tokens_process_pending(older_than_seconds=0) == 1
    assert IntakeToken.objects.get(token=token).state == TokenState.DONE
    assert intake_tokens_process_pending(older_than_seconds=0) == 0
