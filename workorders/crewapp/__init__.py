"""The crews' installable, offline-first field app at ``/crew/``: one page (its HTML shell,
small scripts, Leaflet), its web app manifest and its service worker. It reads and acts only
through the crew API (``/mobile/v1/crew/...``); the server decides every transition."""
