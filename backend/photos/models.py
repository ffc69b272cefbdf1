"""A photo attached to a service request.

Only processed images (metadata stripped) are ever served. The raw upload waits in a private
folder until the processing task has run, then is deleted. The EXIF capture time and GPS
position are kept in private columns for proof-photo verification; they never leave the
server.
"""

from __future__ import annotations

from django.contrib.gis.db import models as gis_models
from django.db import models

from backend.service_requests.models import ServiceRequest


class PhotoKind(models.TextChoices):
    REPORT = "report", "Reported by the resident"
    PROOF = "proof", "Proof of work by the crew"


class ProcessingState(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Photo(models.Model):
    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="photos"
    )
    kind = models.CharField(max_length=10, choices=PhotoKind.choices, default=PhotoKind.REPORT)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the uploaded bytes")
    source_format = models.CharField(max_length=10)
    width = models.PositiveIntegerField(help_text="Upload width before orientation")
    height = models.PositiveIntegerField()
    byte_size = models.PositiveIntegerField()
    raw_path = models.CharField(max_length=300, blank=True, editable=False)
    state = models.CharField(
        max_length=10, choices=ProcessingState.choices, default=ProcessingState.PENDING
    )
    failure_reason = models.CharField(max_length=300, blank=True)
    display = models.ImageField(upload_to="photos/display/%Y/%m/", blank=True)
    thumbnail = models.ImageField(upload_to="photos/thumb/%Y/%m/", blank=True)
    # Private EXIF data (never public): for verifying proof photos.
    exif_taken_at = models.DateTimeField(null=True, blank=True)
    exif_location = gis_models.PointField(srid=4326, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Moderation (``photos.services.photo_blur``): when staff last blurred a region; the
    # display image as it was before the first blur, kept in PRIVATE_UPLOAD_ROOT (never
    # served) when MODERATION_KEEP_ORIGINAL is on, else "".
    blurred_at = models.DateTimeField(null=True, blank=True, editable=False)
    original_path = models.CharField(
        max_length=300, blank=True, default="", db_default="", editable=False
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_request", "content_hash"], name="uniq_photo_per_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} photo {self.pk} of {self.service_request_id}"
