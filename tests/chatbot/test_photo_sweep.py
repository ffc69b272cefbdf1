"""Photos uploaded in a chat and never used are deleted once the assistant can no longer use
them (a day after the conversation's last message), raw file and row; attached ones keep
their row; raw files no row names go after an hour."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from chatbot.models import ChatMessage, ChatPhoto, Conversation, Direction
from chatbot.services import (
    CHAT_PHOTO_UNUSED_KEEP,
    CHAT_RAW_ORPHAN_AFTER,
    chat_photo_store,
    chat_photos_sweep,
)
from chatbot.tasks import chat_photos_sweep as chat_photos_sweep_task
from tests.conftest import jpeg_bytes
from tests.factories import submit

pytestmark = pytest.mark.django_db


def conversation(name: str, *, last_message_ago: timedelta) -> Conversation:
    started = timezone.now() - last_message_ago - timedelta(minutes=10)
    convo = Conversation.objects.create(
        public_id=name, created_at=started, language="en", source="api"
    )
    ChatMessage.objects.create(
        conversation=convo,
        at=timezone.now() - last_message_ago,
        direction=Direction.IN,
        text="hi",
        language="en",
    )
    return convo


def stored(convo: Conversation, *, uploaded_ago: timedelta, seed: int) -> tuple[ChatPhoto, Path]:
    photo = chat_photo_store(conversation=convo, data=jpeg_bytes(color=(seed, 40, 40)))
    ChatPhoto.objects.filter(pk=photo.pk).update(created_at=timezone.now() - uploaded_ago)
    path = Path(settings.PRIVATE_UPLOAD_ROOT) / photo.raw_path
    assert path.is_file()
    return photo, path


def aged(path: Path, by: timedelta) -> None:
    then = (timezone.now() - by).timestamp()
    os.utime(path, (then, then))


def test_unused_photos_of_quiet_conversations_and_orphans_go_the_rest_stay(
    catalog: None,
) -> None:
    long_ago = CHAT_PHOTO_UNUSED_KEEP + timedelta(hours=2)
    quiet = conversation("quiet", last_message_ago=long_ago)
    active = conversation("active", last_message_ago=timedelta(minutes=5))
    unused_old, unused_old_file = stored(quiet, uploaded_ago=long_ago, seed=10)
    still_usable, still_usable_file = stored(active, uploaded_ago=long_ago, seed=20)
    fresh, fresh_file = stored(quiet, uploaded_ago=timedelta(minutes=1), seed=30)
    attached, _ = stored(quiet, uploaded_ago=long_ago, seed=40)
    ChatPhoto.objects.filter(pk=attached.pk).update(
        service_request=submit("pothole", channel="chat")
    )
    for path in (unused_old_file, still_usable_file, fresh_file):
        aged(path, long_ago)
    folder = Path(settings.PRIVATE_UPLOAD_ROOT) / "chat"
    orphan = folder / "no-row.jpg"
    orphan.write_bytes(b"exif")
    aged(orphan, CHAT_RAW_ORPHAN_AFTER + timedelta(minutes=5))
    recent_orphan = folder / "row-coming.jpg"
    recent_orphan.write_bytes(b"exif")

    assert chat_photos_sweep() == 2

    assert not unused_old_file.exists()
    assert not ChatPhoto.objects.filter(pk=unused_old.pk).exists()
    assert not orphan.exists()
    assert still_usable_file.is_file()  # its conversation is still talking
    assert fresh_file.is_file()
    assert recent_orphan.is_file()
    assert set(ChatPhoto.objects.values_list("pk", flat=True)) == {
        still_usable.pk,
        fresh.pk,
        attached.pk,
    }
    assert chat_photos_sweep_task.apply().get() == 0
