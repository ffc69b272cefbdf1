"""Closing needs a proof photo, checked from its private EXIF data: taken after the request
was created and within PROOF_PHOTO_MAX_DISTANCE_M of it. Real JPEGs with GPS tags written
by the test; a failing photo still closes the order, flagged for review with the reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from backend.intake.services import PhotoUpload
from backend.photos.models import Photo, PhotoKind
from tests.conftest import BOSTON, jpeg_bytes
from tests.workorders.factories import Staff, order_in, order_of, proof_jpeg, request_make
from workorders.errors import IllegalTransition, InvalidInput
from workorders.models import ProofPhoto, WorkOrderEvent, WorkOrderStatus
from workorders.proof import distance_m, proof_check
from workorders.services import work_order_complete, work_order_proof_add

pytestmark = pytest.mark.django_db

LAT, LONG = BOSTON
# 0.0009 degrees of latitude is about 100 m; 0.0027 about 300 m.
NEAR = (LAT + 0.0005, LONG)
FAR = (LAT + 0.0027, LONG)


def _complete(staff: Staff, *photos: bytes, **kwargs: Any) -> Any:
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff, **kwargs)
    return work_order_complete(work_order=order, actor=staff.crew, proof_photos=list(photos))


def _recent() -> Any:
    return timezone.now() - timedelta(minutes=20)


def test_a_photo_taken_after_the_request_and_near_it_verifies(staff: Staff) -> None:
    result = _complete(staff, proof_jpeg(lat=NEAR[0], long=NEAR[1], taken=_recent()))

    order = result.work_order
    assert order.status == WorkOrderStatus.COMPLETED and not order.review_required
    proof = ProofPhoto.objects.get(work_order=order)
    assert proof.verified and proof.reasons == []
    assert proof.distance_m is not None and 50 < proof.distance_m < 60
    assert proof.location is not None and round(proof.location.y, 4) == round(NEAR[0], 4)
    assert proof.photo.kind == PhotoKind.PROOF


@pytest.mark.parametrize(
    ("photo", "reason"),
    [
        (lambda: proof_jpeg(lat=FAR[0], long=FAR[1], taken=_recent()), "300 m from the"),
        (lambda: proof_jpeg(lat=None, long=None, taken=_recent()), "no GPS position"),
        (lambda: proof_jpeg(taken=None), "no capture time"),
        (
            lambda: proof_jpeg(taken=timezone.now() - timedelta(days=3)),
            "before the request was created",
        ),
        (lambda: jpeg_bytes(), "no GPS position"),  # no EXIF at all
    ],
    ids=["too-far", "no-gps", "no-time", "taken-before", "no-exif"],
)
def test_a_failing_photo_still_closes_but_flags_the_order_for_review(
    staff: Staff, photo: Any, reason: str
) -> None:
    result = _complete(staff, photo())

    order = result.work_order
    assert order.status == WorkOrderStatus.COMPLETED
    order.service_request.refresh_from_db()
    assert order.service_request.status == "closed"
    assert order.review_required and order.reviewed_at is None
    assert any(reason in text and text.startswith("Photo 1:") for text in order.review_reasons)
    flagged = WorkOrderEvent.objects.get(work_order=order, kind="review_flagged")
    assert flagged.data["reasons"] == order.review_reasons


def test_a_request_without_a_map_location_cannot_be_compared(staff: Staff) -> None:
    sr = request_make(lat=None, long=None, address="12 Main St")
    result = _complete(staff, proof_jpeg(taken=_recent()), service_request=sr)
    assert result.work_order.review_required
    assert "no map location" in result.work_order.review_reasons[0]


def test_one_good_photo_among_several_is_enough(staff: Staff) -> None:
    result = _complete(
        staff,
        proof_jpeg(lat=None, long=None, taken=_recent(), seed=1),
        proof_jpeg(lat=NEAR[0], long=NEAR[1], taken=_recent(), seed=2),
    )
    assert not result.work_order.review_required
    assert [p.verified for p in result.proofs] == [False, True]


def test_the_distance_is_configurable(staff: Staff, settings: Any) -> None:
    settings.PROOF_PHOTO_MAX_DISTANCE_M = 500
    result = _complete(staff, proof_jpeg(lat=FAR[0], long=FAR[1], taken=_recent()))
    assert not result.work_order.review_required


def test_a_retried_proof_upload_is_one_photo(staff: Staff) -> None:
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    photo = proof_jpeg(taken=_recent())

    work_order_proof_add(work_order=order, photos=[photo], actor=staff.crew)
    work_order_proof_add(work_order=order, photos=[photo], actor=staff.crew)  # a retry
    result = work_order_complete(work_order=order, actor=staff.crew, proof_photos=[photo])

    assert Photo.objects.filter(service_request=order.service_request).count() == 1
    assert [p.photo_id for p in result.proofs] == [ProofPhoto.objects.get().photo_id]
    assert WorkOrderEvent.objects.filter(work_order=order, kind="proof_added").count() == 1


def test_a_residents_photo_is_not_a_proof_of_work(staff: Staff) -> None:
    picture = proof_jpeg(taken=_recent())
    sr = request_make(photos=[PhotoUpload(picture)])
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff, service_request=sr)

    with pytest.raises(InvalidInput, match="resident's photos") as info:
        work_order_complete(work_order=order, actor=staff.crew, proof_photos=[picture])

    assert info.value.field == "photos"
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.IN_PROGRESS
    assert not ProofPhoto.objects.exists()


def test_a_bad_file_is_refused_naming_the_photo(staff: Staff) -> None:
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    with pytest.raises(InvalidInput, match="Photo 2") as info:
        work_order_complete(
            work_order=order,
            actor=staff.crew,
            proof_photos=[proof_jpeg(taken=_recent()), b"<html>not a photo</html>"],
        )
    assert (info.value.field, info.value.status_code) == ("photos", 400)
    assert not Photo.objects.filter(service_request=order.service_request).exists()


def test_proof_photos_are_only_taken_for_open_work(staff: Staff) -> None:
    order = order_in(WorkOrderStatus.COMPLETED, staff=staff)
    with pytest.raises(IllegalTransition):
        work_order_proof_add(
            work_order=order_of(order.service_request),
            photos=[proof_jpeg(taken=_recent(), seed=9)],
        )


def test_the_checks_themselves() -> None:
    now = timezone.now()
    here = Point(LONG, LAT, srid=4326)
    ok = proof_check(
        taken_at=now,
        gps=(LONG, LAT),
        requested_at=now - timedelta(hours=1),
        request_location=here,
        max_distance_m=100,
    )
    assert ok.verified and ok.distance_m == 0
    same_second = proof_check(
        taken_at=now,
        gps=(LONG, LAT),
        requested_at=now,
        request_location=here,
        max_distance_m=100,
    )
    assert not same_second.verified
    # A degree of latitude is about 111.2 km.
    assert 111_000 < distance_m(a=(0.0, 0.0), b=(0.0, 1.0)) < 111_400
