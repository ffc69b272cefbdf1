"""Sending messages to residents, once each (a ``ResidentNotification`` row is the marker)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format

from backend.service_requests.models import ResidentNotification, ServiceRequest


def receipt_send(*, service_request_id: int) -> bool:
    """E-mails the reporter the request id and the expected date. True if it sent now."""
    with transaction.atomic():
        service_request = (
            ServiceRequest.objects.select_related("service_type")
            .filter(pk=service_request_id)
            .first()
        )
        if service_request is None or not service_request.contact_email:
            return False
        marker, _ = ResidentNotification.objects.get_or_create(
            service_request=service_request, kind="receipt", medium="email"
        )
        marker = ResidentNotification.objects.select_for_update().get(pk=marker.pk)
        if marker.sent_at is not None:
            return False
        with translation.override(service_request.language or "en"):
            name = service_request.service_type.localized_name()
            expected = (
                date_format(timezone.localtime(service_request.expected_at), "l j F Y")
                if service_request.expected_at
                else ""
            )
            body = (
                f"Thank you for your report. Your request number is {service_request.public_id} "
                f"({name})."
            )
            if expected:
                body += f" We aim to deal with it by {expected}."
        send_mail(
            subject=f"city311: we received your request {service_request.public_id}",
            message=body,
            from_email=None,
            recipient_list=[service_request.contact_email],
        )
        marker.sent_at = timezone.now()
        marker.save(update_fields=["sent_at"])
    return True
