"""The work orders' part of the retention run (``backend/service_requests/retention.py``),
registered with the request domain's hooks in ``WorkOrdersConfig.ready()``: the private EXIF
copied from a proof photo (when and where it was taken) goes with the photo's own, while the
proof check's verdict (``verified``, ``reasons``, ``distance_m``) stays for the review
history and the analytics; and the accounts of crews and supervisors are never a resident's
to anonymise."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from workorders.models import ProofPhoto, TeamMember


def retention_contact_erase(
    *, service_request_ids: list[int], public_ids: list[str], contacts: list[str]
) -> dict[str, int]:
    erased = ProofPhoto.objects.filter(
        Q(taken_at__isnull=False) | Q(location__isnull=False),
        photo__service_request_id__in=service_request_ids,
    ).update(taken_at=None, location=None)
    return {"proof_exif": erased}


def retention_accounts_active(*, user_ids: list[int], since: datetime) -> set[int]:
    """Team members: staff accounts, kept whatever their activity."""
    return set(TeamMember.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
