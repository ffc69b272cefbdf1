"""The mobile app's HTTP API, ``/mobile/v1/``: versioned in the URL, additive changes only.
Thin views over the catalog selectors and the intake pipeline."""
