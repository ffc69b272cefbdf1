"""Emergency-mode rows through the real services, for tests outside tests/catalog (the admin
pages)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from backend.catalog.emergency import service_suspension_set, site_banner_set
from backend.catalog.models import ServiceType


def one_of_each_emergency_model(actor: User | None = None) -> None:
    """A banner and a switched-off service (graffiti, for an hour): their events too."""
    until = timezone.now() + timedelta(hours=1)
    site_banner_set(message="Storm: expect delays.", ends_at=until, actor=actor)
    service_suspension_set(
        service_type=ServiceType.objects.get(service_code="graffiti"),
        message="Graffiti crews are clearing storm damage.",
        ends_at=until,
        actor=actor,
    )
