"""Proof photos of the finished work: checked as uploads, attached to the request, checked
against it (taken after it was reported, near it) and added to the work order before or at
completion."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from backend.photos.models import PhotoKind
from backend.photos.processing import PhotoRejected
from backend.photos.services import (
    CheckedUpload,
    photo_attach,
    photo_process_enqueue,
    photo_upload_check,
)
from backend.service_requests.models import ServiceRequest
from backend.users import actor_user
from workorders.errors import IllegalTransition, InvalidInput
from workorders.locks import request_and_order_lock
from workorders.models import ProofPhoto, WorkOrder, WorkOrderEventKind
from workorders.proof import proof_check, proof_exif_read
from workorders.services.machine import PROOF_STATUSES, User, _event


def _uploads_check(photos: list[bytes]) -> list[CheckedUpload]:
    if len(photos) > settings.PHOTO_MAX_PER_REQUEST:
        raise InvalidInput(f"At most {settings.PHOTO_MAX_PER_REQUEST} photos.", field="photos")
    checked = []
    for index, data in enumerate(photos):
        try:
            checked.append(photo_upload_check(data=data))
        except PhotoRejected as exc:
            raise InvalidInput(
                f"Photo {index + 1}: {exc.message}", field="photos", status_code=exc.status
            ) from exc
    return checked


def _proof_attach(
    *,
    service_request: ServiceRequest,
    work_order: WorkOrder,
    upload: CheckedUpload,
    number: int,
    actor: User,
    at: datetime,
) -> tuple[ProofPhoto, bool]:
    """Attaches one proof photo and checks its EXIF data; the same bytes again are the
    same photo (a retried upload)."""
    photo, _ = photo_attach(service_request=service_request, upload=upload, kind=PhotoKind.PROOF)
    if photo.kind != PhotoKind.PROOF:
        raise InvalidInput(
            f"Photo {number} is one of the resident's photos of the problem, not a photo of the "
            "finished work.",
            field="photos",
        )
    existing = ProofPhoto.objects.filter(photo=photo).first()
    if existing is not None:
        if existing.work_order_id != work_order.pk:
            raise InvalidInput(
                f"Photo {number} was already sent as proof for an earlier work order.",
                field="photos",
            )
        return existing, False
    exif = proof_exif_read(data=upload.data, default_tz=settings.TIME_ZONE)
    check = proof_check(
        taken_at=exif.taken_at,
        gps=exif.gps,
        requested_at=service_request.requested_at,
        request_location=service_request.location,
        max_distance_m=settings.PROOF_PHOTO_MAX_DISTANCE_M,
    )
    proof = ProofPhoto.objects.create(
        work_order=work_order,
        photo=photo,
        uploaded_by=actor_user(actor),
        created_at=at,
        taken_at=exif.taken_at,
        location=Point(*exif.gps, srid=4326) if exif.gps else None,
        distance_m=check.distance_m,
        verified=check.verified,
        reasons=check.reasons,
    )
    _event(
        work_order=work_order,
        kind=WorkOrderEventKind.PROOF_ADDED,
        at=at,
        actor=actor,
        data={"photo": photo.pk, "verified": check.verified, "reasons": check.reasons},
    )
    return proof, True


def _proofs_attach(
    *,
    service_request: ServiceRequest,
    work_order: WorkOrder,
    uploads: list[CheckedUpload],
    actor: User,
    at: datetime,
) -> list[int]:
    """Attaches the uploads; the ids of the photos that are new (to process)."""
    created_photo_ids = []
    for number, upload in enumerate(uploads, start=1):
        proof, created = _proof_attach(
            service_request=service_request,
            work_order=work_order,
            upload=upload,
            number=number,
            actor=actor,
            at=at,
        )
        if created:
            created_photo_ids.append(proof.photo_id)
    return created_photo_ids


def _proofs_of(work_order: WorkOrder) -> list[ProofPhoto]:
    return list(work_order.proofs.select_related("photo").order_by("created_at", "id"))


def work_order_proof_add(
    *,
    work_order: WorkOrder,
    photos: list[bytes],
    actor: User = None,
    at: datetime | None = None,
) -> list[ProofPhoto]:
    """Adds proof photos before completing (a crew uploading as it goes). Sending the same
    photo again adds nothing."""
    if not photos:
        raise InvalidInput("Send at least one photo.", field="photos")
    uploads = _uploads_check(photos)
    with transaction.atomic():
        service_request, locked = request_and_order_lock(work_order)
        if locked.status not in PROOF_STATUSES:
            raise IllegalTransition(action="add proof photos to", current_status=locked.status)
        created = _proofs_attach(
            service_request=service_request,
            work_order=locked,
            uploads=uploads,
            actor=actor,
            at=at or timezone.now(),
        )
        photo_process_enqueue(photo_ids=created)
        return _proofs_of(locked)
