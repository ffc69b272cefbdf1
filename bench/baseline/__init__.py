"""The bench-only baseline: one bare DRF endpoint inserting one row, on the same server stack
as the real API. Installed only when ``CITY311_BENCH=1`` (see ``backend/settings.py``)."""
