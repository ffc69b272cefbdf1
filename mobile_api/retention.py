"""The mobile API's part of the retention run (``backend/service_requests/retention.py``),
registered with the request domain's hooks in ``MobileApiConfig.ready()``: push
subscriptions bound to a request whose contact data is erased, and the devices and API
tokens of an anonymised account (with the outbox rows that carry their push tokens)."""

from __future__ import annotations

from datetime import datetime

from rest_framework.authtoken.models import Token

from backend.outbox.services import outbox_payloads_erase
from mobile_api.models import Device


def _devices_delete(devices: list[Device]) -> dict[str, int]:
    tokens = [device.push_token for device in devices]
    deleted, _ = Device.objects.filter(pk__in=[device.pk for device in devices]).delete()
    return {"outbox_payloads": outbox_payloads_erase(needles=tokens), "push_subscriptions": deleted}


def retention_contact_erase(
    *, service_request_ids: list[int], public_ids: list[str], contacts: list[str]
) -> dict[str, int]:
    """Browsers bound to these requests: an anonymous reporter's subscription is deleted
    (it exists for that request alone); a signed-in resident's is only unbound from it."""
    bound = Device.objects.filter(service_request_id__in=service_request_ids)
    counts = _devices_delete(list(bound.filter(user__isnull=True).only("pk", "push_token")))
    counts["push_subscriptions"] += bound.update(service_request=None)
    return counts


def retention_accounts_active(*, user_ids: list[int], since: datetime) -> set[int]:
    """Accounts whose phone or browser was registered or refreshed, or that signed in to the
    app (a new token), since ``since``."""
    seen = set(
        Device.objects.filter(user_id__in=user_ids, last_seen_at__gte=since).values_list(
            "user_id", flat=True
        )
    )
    signed_in = Token.objects.filter(user_id__in=user_ids, created__gte=since)
    return {pk for pk in seen if pk is not None} | set(signed_in.values_list("user_id", flat=True))


def retention_account_erase(*, user_ids: list[int]) -> dict[str, int]:
    """The anonymised accounts' phones and browsers, and their app tokens (signed out)."""
    counts = _devices_delete(
        list(Device.objects.filter(user_id__in=user_ids).only("pk", "push_token"))
    )
    counts["api_tokens"], _ = Token.objects.filter(user_id__in=user_ids).delete()
    return counts
