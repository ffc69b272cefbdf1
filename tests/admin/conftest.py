"""Fixtures of the admin tests: a signed-in superuser and requests filed through intake."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from backend.service_requests.models import ServiceRequest
from tests.factories import submit


@pytest.fixture
def superuser(db: None) -> User:
    return get_user_model().objects.create_superuser(
        username="root", email="root@example.com", password="unused-password"
    )


@pytest.fixture
def admin_client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def service_request(catalog: None) -> ServiceRequest:
    return submit("pothole", description="Hole by the bus stop")


def change_url(service_request: ServiceRequest) -> str:
    return reverse("admin:service_requests_servicerequest_change", args=[service_request.pk])


def changelist_url() -> str:
    return reverse("admin:service_requests_servicerequest_changelist")


def phone_report_url() -> str:
    return reverse("admin:service_requests_servicerequest_phone_report")


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]
