"""Moderation in the Django admin: list actions hide and show again with the reason from the
action bar, a page removes part of a request's description, a photo's page blurs part of it.
Bad input comes back naming the field; staff without the permission are refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from backend.photos.models import Photo
from backend.service_requests.models import EventKind, ServiceRequest
from tests.moderation.conftest import DESCRIPTION, SECRET

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/service_requests/servicerequest/"


@pytest.fixture
def admin_client(db: None) -> Client:
    root = get_user_model().objects.create_superuser(
        username="root", email="root@example.com", password="unused-password"
    )
    client = Client()
    client.force_login(root)
    return client


def _viewer(codenames: tuple[str, ...] = ("view_servicerequest", "view_photo")) -> Client:
    """Staff who may look at requests and photos in the admin but not change requests."""
    user: User = get_user_model().objects.create_user(username="viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def _action(client: Client, action: str, sr: ServiceRequest, reason: str) -> object:
    data = {"action": action, "_selected_action": [sr.pk], "moderation_reason": reason}
    return client.post(CHANGELIST, data, follow=True)


def test_hide_and_show_again_from_the_list(admin_client: Client, sr: ServiceRequest) -> None:
    _action(admin_client, "hide_from_public", sr, "Abusive")
    sr.refresh_from_db()
    assert sr.hidden_at is not None and sr.hidden_reason == "Abusive"
    page = admin_client.get(reverse("admin:service_requests_servicerequest_change", args=[sr.pk]))
    assert "Hidden from the public since" in page.content.decode()
    _action(admin_client, "show_to_public", sr, "Checked")
    sr.refresh_from_db()
    assert sr.hidden_at is None
    assert sr.events.filter(kind=EventKind.UNHIDDEN, internal_note="Checked").exists()


def test_hiding_without_a_reason_changes_nothing(admin_client: Client, sr: ServiceRequest) -> None:
    response = _action(admin_client, "hide_from_public", sr, "")
    messages = [str(m) for m in response.context["messages"]]  # type: ignore[attr-defined]
    assert any(m.startswith("reason:") for m in messages), messages
    sr.refresh_from_db()
    assert sr.hidden_at is None


def test_redact_page(admin_client: Client, sr: ServiceRequest) -> None:
    url = reverse("admin:service_requests_servicerequest_redact", args=[sr.pk])
    assert admin_client.get(url).status_code == 200
    bad = admin_client.post(url, {"text": "not in it", "reason": "why"})
    assert bad.status_code == 400
    assert "does not contain this text" in bad.content.decode()
    response = admin_client.post(url, {"text": SECRET, "reason": "Names someone"})
    assert response.status_code == 302
    sr.refresh_from_db()
    assert SECRET not in sr.description and sr.description_original == DESCRIPTION
    page = admin_client.get(reverse("admin:service_requests_servicerequest_change", args=[sr.pk]))
    assert SECRET in page.content.decode()  # staff see the original


def test_blur_page(admin_client: Client, photo: Photo) -> None:
    url = reverse("admin:photos_photo_blur", args=[photo.pk])
    assert (
        url
        in admin_client.get(reverse("admin:photos_photo_change", args=[photo.pk])).content.decode()
    )
    assert admin_client.get(url).status_code == 200
    bad = admin_client.post(url, {"x": "0", "y": "0", "w": "0", "h": "10", "reason": "Face"})
    assert bad.status_code == 400 and "The rectangle must not be empty." in bad.content.decode()
    name = photo.display.name
    response = admin_client.post(
        url, {"x": "10", "y": "10", "w": "100", "h": "80", "reason": "Face"}
    )
    assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.display.name != name and photo.blurred_at is not None


def test_staff_without_the_permission_cannot_moderate(sr: ServiceRequest, photo: Photo) -> None:
    viewer = _viewer()
    redact = reverse("admin:service_requests_servicerequest_redact", args=[sr.pk])
    assert viewer.post(redact, {"text": SECRET, "reason": "x"}).status_code == 403
    blur = reverse("admin:photos_photo_blur", args=[photo.pk])
    data = {"x": "0", "y": "0", "w": "10", "h": "10", "reason": "x"}
    assert viewer.post(blur, data).status_code == 403
    _action(viewer, "hide_from_public", sr, "Abusive")  # not offered: nothing happens
    sr.refresh_from_db()
    photo.refresh_from_db()
    assert sr.hidden_at is None and sr.description == DESCRIPTION and photo.blurred_at is None
    assert Client().get(redact).status_code == 302  # signed out: to the log-in page
