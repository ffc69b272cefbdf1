"""Support ("me too"): residents saying they have the same problem as an open request.

One supporter per request and person: a signed-in resident (their account) or an app without
an account (its device id, kept only as a SHA-256 hash). Each write locks the request's row,
so the supporter rows and ``ServiceRequest.supporters_count`` change together, in one
transaction; supporting twice counts once, taking back what was never given changes nothing.
Supporting is not a change of the request: no event, and ``updated_at`` stays (pollers of
Open311's ``updated_after`` are not woken by every "me too")."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User as UserModel
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from backend.errors import IllegalTransition, found
from backend.service_requests.models import (
    RequestFollower,
    RequestSupporter,
    ServiceRequest,
    Status,
)
from backend.service_requests.services import service_request_follower_add
from backend.users import Actor, actor_user


@dataclass(frozen=True)
class SupportResult:
    service_request: ServiceRequest
    supporters: int
    supporting: bool
    # True when this call added or took back a support (False: nothing to do).
    changed: bool
    # Whether the signed-in supporter follows the request (always False for a device).
    following: bool = False


def device_hash(device_id: str) -> str:
    """How a device id is stored: its SHA-256, hex (the id itself is never kept)."""
    return hashlib.sha256(device_id.encode()).hexdigest()


def _supporter_rows(
    *, service_request: ServiceRequest, user: Actor, device_id: str
) -> tuple[UserModel | None, QuerySet[RequestSupporter]]:
    """The account that supports (None: the device), and its support rows of the request."""
    account = actor_user(user)
    rows = RequestSupporter.objects.filter(service_request=service_request)
    if account is not None:
        return account, rows.filter(user=account)
    if not device_id:
        raise ValueError("A supporter is a signed-in user or a device id.")
    return None, rows.filter(device_hash=device_hash(device_id))


def _following(*, service_request: ServiceRequest, account: UserModel | None) -> bool:
    if account is None:
        return False
    return RequestFollower.objects.filter(service_request=service_request, user=account).exists()


def _count_add(*, service_request: ServiceRequest, delta: int) -> int:
    ServiceRequest.objects.filter(pk=service_request.pk).update(
        supporters_count=F("supporters_count") + delta
    )
    service_request.refresh_from_db(fields=["supporters_count"])
    return service_request.supporters_count


def service_request_support_add(
    *,
    service_request: ServiceRequest,
    user: Actor = None,
    device_id: str = "",
    follow: bool = False,
    at: datetime | None = None,
) -> SupportResult:
    """The user (or, without an account, the device) reports the open request too: counted
    once however often it is sent. ``follow`` also makes a signed-in supporter a follower (its
    status messages reach them). A closed request takes no support (409 naming ``status``);
    a hidden one is not found (404 naming ``public_id``)."""
    with transaction.atomic():
        # Hidden since the caller found it (service_request_get_visible): gone for the
        # public, as if it did not exist.
        requests = ServiceRequest.objects.visible().select_for_update()
        locked = found(
            requests.filter(pk=service_request.pk).first(),
            service_request.public_id,
            field="public_id",
            what="request",
        )
        if locked.status == Status.CLOSED:
            raise IllegalTransition(
                action="support", current_status=locked.status, entity="request"
            )
        account, rows = _supporter_rows(service_request=locked, user=user, device_id=device_id)
        changed = not rows.exists()
        if changed:
            RequestSupporter.objects.create(
                service_request=locked,
                user=account,
                device_hash="" if account is not None else device_hash(device_id),
                created_at=at or timezone.now(),
            )
            count = _count_add(service_request=locked, delta=1)
        else:
            count = locked.supporters_count
        if follow and account is not None:
            service_request_follower_add(
                service_request=locked, user=account, source="support", at=at
            )
        following = _following(service_request=locked, account=account)
    return SupportResult(
        service_request=locked,
        supporters=count,
        supporting=True,
        changed=changed,
        following=following,
    )


def service_request_support_remove(
    *, service_request: ServiceRequest, user: Actor = None, device_id: str = ""
) -> SupportResult:
    """The user (or the device) takes their support back; only their own: nobody else's
    support is touched, and taking back none changes nothing. Allowed on a closed request
    too. A follow stays (unfollowing is its own action)."""
    with transaction.atomic():
        locked = ServiceRequest.objects.select_for_update().get(pk=service_request.pk)
        account, rows = _supporter_rows(service_request=locked, user=user, device_id=device_id)
        deleted, _ = rows.delete()
        if deleted:
            count = _count_add(service_request=locked, delta=-deleted)
        else:
            count = locked.supporters_count
        following = _following(service_request=locked, account=account)
    return SupportResult(
        service_request=locked,
        supporters=count,
        supporting=False,
        changed=bool(deleted),
        following=following,
    )
