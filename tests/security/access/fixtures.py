"""What the access cases build in the world before calling: orders in a state, a closed
request and its feedback link, a processed photo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.urls import resolve

from backend.photos.models import Photo, ProcessingState
from tests.security.conftest import World
from tests.workorders.factories import order_in, order_of
from workorders.feedback import feedback_token_make
from workorders.models import WorkOrder, WorkOrderStatus
from workorders.selectors import close_event_latest


def order(world: World, status: str = WorkOrderStatus.NEW) -> WorkOrder:
    """The world's request's order, brought into ``status`` (once)."""
    current = order_of(world.service_request)
    if current.status == status:
        return current
    return order_in(status, staff=world.staff, service_request=world.service_request)


def order_pk(status: str = WorkOrderStatus.NEW) -> Callable[[World], int]:
    return lambda world: order(world, status).pk


def feedback_token(world: World) -> str:
    order(world, WorkOrderStatus.COMPLETED)
    event = close_event_latest(service_request_id=world.service_request.pk)
    assert event is not None
    return feedback_token_make(close_event=event)


def closed_public_id(world: World) -> str:
    order(world, WorkOrderStatus.COMPLETED)
    return world.service_request.public_id


def photo_path(world: World) -> str:
    """A processed (served) photo of the world's request: its display file."""
    from backend.intake.services import PhotoUpload
    from backend.photos.services import photo_process
    from tests.conftest import jpeg_bytes
    from tests.factories import submit

    sr = submit("pothole", reporter=world.resident, photos=[PhotoUpload(data=jpeg_bytes())])
    photo = Photo.objects.get(service_request=sr)
    photo_process(photo_id=photo.pk)  # what the worker does after commit
    photo.refresh_from_db()
    assert photo.state == ProcessingState.READY
    # The route serves the folder MEDIA_ROOT named at start-up; the tests write theirs
    # elsewhere: a copy goes there.
    url = f"/media/{photo.display.name}"
    served = Path(resolve(url).kwargs["document_root"]) / str(photo.display.name)
    served.parent.mkdir(parents=True, exist_ok=True)
    served.write_bytes(photo.display.read())
    return url


def flagged_order_pk(world: World) -> int:
    """A completed order whose only proof photo has no position: flagged for review."""
    from tests.workorders.factories import proof_jpeg
    from workorders.services import work_order_complete

    started = order(world, WorkOrderStatus.IN_PROGRESS)
    done = work_order_complete(
        work_order=started, actor=world.staff.crew, proof_photos=[proof_jpeg(lat=None, long=None)]
    ).work_order
    assert done.review_required
    return done.pk


def second_public_id(world: World) -> str:
    """Another pothole report at the same place: a duplicate to merge."""
    from tests.factories import submit

    return submit("pothole", reporter=world.other_resident).public_id
