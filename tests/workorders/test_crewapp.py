"""The crew app's server side (workorders/crewapp): who may open /crew/, the page's strings
and settings, the web app manifest and its icons, the service worker's script and the size
budget of the app's own files. Its behaviour in a browser: tests/web/test_crew_app.py."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image
from rest_framework.serializers import ChoiceField

from mobile_api.crew_serializers import CrewListQueryIn
from tests.workorders.factories import Staff, user_make
from workorders.crewapp.views import APP_STATIC

pytestmark = pytest.mark.django_db

# The app's own JavaScript and CSS (Leaflet and the shared shrink.js not counted): the issue's
# budget is 40 KB compressed.
OWN_FILES = ("crewapp/crew.js", "crewapp/outbox.js", "crewapp/crew.css")
BUDGET_BYTES = 40 * 1024


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def json_script(html: str, element_id: str) -> Any:
    found = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, element_id
    return json.loads(found.group(1))


def test_signed_out_visitors_are_sent_to_sign_in(catalog: None) -> None:
    response = Client().get("/crew/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/crew/"


def test_residents_get_a_clear_refusal(catalog: None) -> None:
    response = signed_in(user_make("rita@example.org")).get("/crew/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "This app is for the city's crews" in html
    assert "rita@example.org" in html and 'action="/accounts/logout/"' in html


@pytest.mark.parametrize("who", ["crew", "supervisor"])
def test_crews_and_supervisors_get_the_app(staff: Staff, who: str, settings: Any) -> None:
    settings.WEB_MAP_TILE_URL = ""
    response = signed_in(getattr(staff, who)).get("/crew/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"
    assert "csrftoken" in response.cookies  # what the app reads when it sends
    html = response.content.decode()
    assert '<link rel="manifest" href="/crew/manifest.webmanifest">' in html
    assert 'type="file" accept="image/*" capture="environment" multiple' in html

    # Every hold reason the API accepts, and only those; the queue's orders likewise
    def options(select_id: str) -> list[str]:
        select = re.search(rf'<select id="{select_id}".*?</select>', html, flags=re.DOTALL)
        assert select, select_id
        return re.findall(r'<option value="(\w+)">', select[0])

    assert options("hold-reason") == ["parts", "weather", "access", "contractor", "other"]
    sort = CrewListQueryIn().fields["sort"]
    assert isinstance(sort, ChoiceField)
    assert options("queue-sort") == list(sort.choices)
    config = json_script(html, "crew-config")
    assert config["user"] == getattr(staff, who).pk
    assert config["queue"].startswith("/mobile/v1/crew/workorders?status=")
    assert config["tileUrl"] == "" and config["photoMaxBytes"] == settings.PHOTO_MAX_BYTES
    assert config["services"]["pothole"] == "Pothole"
    strings = json_script(html, "crew-strings")
    assert strings["offline"].startswith("You are offline.")
    for script in (
        "web/vendor/leaflet/leaflet.js",
        "web/shrink.js",
        "crewapp/outbox.js",
        "crewapp/crew.js",
    ):
        assert f'<script src="/static/{script}" defer></script>' in html


def test_the_app_speaks_the_crews_language(staff: Staff) -> None:
    response = signed_in(staff.crew).get("/crew/", HTTP_ACCEPT_LANGUAGE="es")
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert json_script(html, "crew-config")["services"]["pothole"] == "Bache"


def test_manifest_has_the_fields_and_icons_that_exist() -> None:
    response = Client().get("/crew/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/crew/" and manifest["scope"] == "/crew/"
    assert manifest["display"] == "standalone"
    sizes = set()
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with Image.open(str(path)) as image:
            assert image.format == "PNG" and icon["type"] == "image/png"
            assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes


def test_the_service_worker_is_scoped_to_crew_and_precaches_files_that_exist() -> None:
    response = Client().get("/crew/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    found = re.search(r"^var CONFIG = (\{.*\});$", body, re.M)
    assert found
    config = json.loads(found.group(1))
    assert config["scope"] == "/crew/" and config["api"] == "/mobile/v1/crew/workorders"
    assert "/crew/manifest.webmanifest" in config["precache"]
    for name in APP_STATIC:
        assert f"/static/{name}" in config["precache"]
        assert finders.find(name), name
    assert 'request.method !== "GET"' in body  # POSTs are never cached
    # The version follows the files: the same files, the same worker
    assert Client().get("/crew/sw.js").content == response.content


def test_a_fresh_csrf_token_for_queued_actions(staff: Staff) -> None:
    client = signed_in(staff.crew)
    response = client.get("/crew/csrf")
    assert response.status_code == 200 and len(response.json()["token"]) >= 32
    assert "no-cache" in response["Cache-Control"]


def test_the_apps_own_javascript_and_css_stay_under_40_kb_compressed() -> None:
    total = 0
    for name in OWN_FILES:
        path = finders.find(name)
        assert path, name
        total += len(gzip.compress(Path(str(path)).read_bytes(), compresslevel=9))
    assert 0 < total <= BUDGET_BYTES
