"""The phone and browser pushes of a request's status messages.

``MobileApiConfig.ready()`` registers ``status_pushes`` with the request domain's hooks
(``backend.service_requests.hooks.status_pushes``): the status-message task
(``backend.service_requests.messaging.status_notify``) then sends each push once, under its own
sent marker (``device:<id>``), after the e-mails and the websocket push."""

from __future__ import annotations

from functools import partial

from django.db.models import Q
from django.urls import reverse

from backend.service_requests.hooks import Delivery
from backend.service_requests.models import RequestFollower, ServiceRequest, ServiceRequestEvent
from mobile_api.models import Device
from mobile_api.push import PushMessage, PushTarget, push_to_device


def status_push_targets(*, service_request: ServiceRequest) -> list[PushTarget]:
    """The devices that hear about the request: the reporter's and the following users'
    phones and browsers registered through the mobile API, and the browsers bound to this
    request alone (anonymous reporters' Web Push subscriptions)."""
    user_ids = set(
        RequestFollower.objects.filter(
            service_request=service_request, user__isnull=False
        ).values_list("user_id", flat=True)
    )
    if service_request.reporter_id is not None:
        user_ids.add(service_request.reporter_id)
    rows = (
        Device.objects.filter(Q(user_id__in=user_ids) | Q(service_request=service_request))
        .order_by("pk")
        .values_list("pk", "platform", "push_token", "p256dh", "auth")
    )
    return [PushTarget(*row) for row in rows]


def status_pushes(*, event: ServiceRequestEvent, subject: str) -> list[Delivery]:
    """One push of the status message of ``event`` to each device of its request."""
    service_request = event.service_request
    # Public words only: anyone may bind a browser to a request (ADR 0017).
    message = PushMessage(
        title=subject,
        body=event.public_note or subject,
        data={"service_request_id": service_request.public_id, "status": event.to_status},
        url=reverse("web:track", kwargs={"public_id": service_request.public_id}),
        tag=f"city311-{service_request.public_id}",
    )
    return [
        Delivery(
            recipient=f"device:{target.device_id}",
            send=partial(push_to_device, target=target, message=message),
        )
        for target in status_push_targets(service_request=service_request)
    ]
