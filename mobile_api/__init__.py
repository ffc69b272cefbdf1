"""The mobile app's HTTP API, ``/mobile/v1/``: versioned in the URL, additive changes only.
Thin views over the catalog selectors, the intake pipeline and the work-order services:
residents (catalog, filing, nearby requests, their requests, timelines, following,
feedback), crews (their team's work orders and the offline-safe start / hold / complete),
accounts with DRF tokens, and devices for push messages (``push.py``)."""
