"""Photos of service requests: the resident's report photos and the crew's proof photos.
Validated by content at upload, processed (orientation, metadata stripped, display size and
thumbnail) by a Celery task after the request commits."""
