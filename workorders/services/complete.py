"""Completing a work order: at least one proof photo (sent now or before), the on-time
verdict, a supervisor's review when no photo passes its checks, and the request closed as
resolved. Retries with the same idempotency key return the first completion."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.photos.services import photo_process_enqueue
from backend.service_requests.models import CloseReason
from workorders.errors import InvalidInput, ProofRequired
from workorders.locks import request_and_order_lock
from workorders.models import ProofPhoto, WorkOrder, WorkOrderEventKind
from workorders.services.machine import KEY_MAX, User, _check, _event, _follow, _move, note_clean
from workorders.services.proofs import _proofs_attach, _proofs_of, _uploads_check

# What residents read when a crew closes without a note of its own.
DEFAULT_CLOSING_NOTE = "The work is done. Thank you for reporting it."


@dataclass
class CompletionResult:
    work_order: WorkOrder
    replayed: bool = False
    proofs: list[ProofPhoto] = field(default_factory=list)


def work_order_complete(
    *,
    work_order: WorkOrder,
    actor: User = None,
    proof_photos: list[bytes] | None = None,
    note: str = "",
    idempotency_key: str | None = None,
    at: datetime | None = None,
    public_note: str = "",
) -> CompletionResult:
    """Completes the order; at least one proof photo (sent now or before) is required.

    Each proof photo is checked against the request (taken after it was created, within
    ``PROOF_PHOTO_MAX_DISTANCE_M`` of it). When none passes, the order still completes but
    is flagged for a supervisor's review with the reasons. ``on_time`` is decided here and
    kept. The request closes as resolved with ``public_note`` (or else ``note``) as its public
    closing note. A retry with the same ``idempotency_key`` returns the completed order
    (``replayed``)."""
    note = note_clean(note)
    public_note = note_clean(public_note, field="public_note")
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > KEY_MAX:
        raise InvalidInput(f"At most {KEY_MAX} characters.", field="Idempotency-Key")
    uploads = _uploads_check(proof_photos or [])
    with transaction.atomic():
        service_request, locked = request_and_order_lock(work_order)
        if key is not None and locked.completion_key == key:
            return CompletionResult(work_order=locked, replayed=True, proofs=_proofs_of(locked))
        _check("complete", locked)
        now = at or timezone.now()
        created = _proofs_attach(
            service_request=service_request, work_order=locked, uploads=uploads, actor=actor, at=now
        )
        proofs = _proofs_of(locked)
        if not proofs:
            raise ProofRequired()
        locked.completed_at = now
        locked.on_time = now <= locked.due_at if locked.due_at is not None else None
        locked.completion_note = note
        locked.completion_key = key
        fields: tuple[str, ...] = ("completed_at", "on_time", "completion_note", "completion_key")
        if not any(proof.verified for proof in proofs):
            locked.review_required = True
            locked.review_reasons = [
                f"Photo {number}: {reason}"
                for number, proof in enumerate(proofs, start=1)
                for reason in proof.reasons
            ]
            fields += ("review_required", "review_reasons")
        _move(
            locked,
            "complete",
            at=now,
            actor=actor,
            note=note,
            fields=fields,
            data={"on_time": locked.on_time, "proof_photos": [p.photo_id for p in proofs]},
        )
        if locked.review_required:
            _event(
                work_order=locked,
                kind=WorkOrderEventKind.REVIEW_FLAGGED,
                at=now,
                actor=actor,
                data={"reasons": locked.review_reasons},
            )
        # Photo processing is queued first, so that the closing message (queued by the
        # request's close) finds the photo ready when the worker is quick enough.
        photo_process_enqueue(photo_ids=created)
        _follow(
            service_request,
            "close",
            actor=actor,
            public_note=public_note or note or DEFAULT_CLOSING_NOTE,
            reason=CloseReason.RESOLVED,
            at=now,
        )
    return CompletionResult(work_order=locked, proofs=proofs)
