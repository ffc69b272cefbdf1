"""The city311 backend as the assistant sees it: its public HTTP API, nothing else.

Filing goes through the Open311 POST with the chatbot's own API key (so requests get the
channel ``chat``), statuses through the Open311 GET, likely duplicates through the mobile
API's public ``requests/nearby``, turnarounds through its public ``services``, the call
centre's hours through ``/api/v1/chat/hours``. Short timeouts: a resident is waiting on the
other end.

Configuration (environment of the action server, set by backend/scripts/chatbot-run.sh):
``CHATBOT_BACKEND_URL`` (default ``http://127.0.0.1:8000``), ``CHATBOT_API_KEY`` or
``CHATBOT_API_KEY_FILE`` (a file holding the key), ``CHATBOT_WEB_FORM_URL``,
``CHATBOT_BACKEND_HOST`` (a Host header from ``ALLOWED_HOSTS`` when the URL's host is not).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

TIMEOUT = (2.0, 6.0)  # connect, read (seconds)
CACHE_SECONDS = 300.0


class BackendUnavailable(Exception):
    """city311 did not answer (down, timed out, 5xx)."""


class BackendRejected(Exception):
    """city311 refused a submission; ``messages`` are its error descriptions."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


@dataclass(frozen=True)
class Filed:
    service_request_id: str
    notice: str


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    entries: dict[tuple[str, ...], tuple[float, Any]] = field(default_factory=dict)

    def get(self, key: tuple[str, ...]) -> Any:
        with self.lock:
            hit = self.entries.get(key)
        if hit is None or time.monotonic() - hit[0] > CACHE_SECONDS:
            return None
        return hit[1]

    def put(self, key: tuple[str, ...], value: Any) -> None:
        with self.lock:
            self.entries[key] = (time.monotonic(), value)


def backend_url() -> str:
    return os.environ.get("CHATBOT_BACKEND_URL", "http://127.0.0.1:8000").rstrip("/")


def web_form_url() -> str:
    return os.environ.get("CHATBOT_WEB_FORM_URL") or backend_url() + "/report"


def api_key() -> str:
    key = os.environ.get("CHATBOT_API_KEY", "").strip()
    if key:
        return key
    path = os.environ.get("CHATBOT_API_KEY_FILE", "")
    if path and Path(path).is_file():
        return Path(path).read_text().strip()
    return ""


class CityClient:
    """One per action server process (``client()``); caches the catalog for five minutes."""

    def __init__(self, base_url: str | None = None, session: requests.Session | None = None):
        self.base_url = (base_url or backend_url()).rstrip("/")
        self.session = session or requests.Session()
        host = os.environ.get("CHATBOT_BACKEND_HOST", "").strip()
        if host:
            self.session.headers["Host"] = host
        self.cache = _Cache()

    def _get(self, path: str, *, language: str, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self.session.get(
                self.base_url + path,
                params=params,
                headers={"Accept-Language": language, "Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise BackendUnavailable(str(exc)) from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise BackendUnavailable(f"GET {path}: HTTP {response.status_code}")
        return response.json()

    def _cached(self, key: tuple[str, ...], fetch: Callable[[], Any]) -> Any:
        """What ``fetch()`` answers, kept in the cache under ``key`` (None is not kept)."""
        cached = self.cache.get(key)
        if cached is None:
            cached = fetch()
            if cached is not None:
                self.cache.put(key, cached)
        return cached

    def services(self, *, language: str) -> list[dict[str, Any]]:
        """The catalog: ``[{service_code, service_name, ...}]`` in the language."""
        path = "/open311/v2/services.json"
        return list(
            self._cached(("services", language), lambda: self._get(path, language=language) or [])
        )

    def catalog(self, *, language: str) -> list[dict[str, Any]]:
        """The mobile API's catalog (public): names, keywords, department and expected
        turnaround of every service, in the language."""
        path = "/mobile/v1/services"
        return list(
            self._cached(("catalog", language), lambda: self._get(path, language=language) or [])
        )

    def hours(self, *, language: str) -> dict[str, Any]:
        """The call centre's hours (``GET /api/v1/chat/hours``): open now, until when, or
        when it opens next. Not cached: "open now" changes."""
        found = self._get("/api/v1/chat/hours", language=language)
        if not isinstance(found, dict):
            raise BackendUnavailable("GET /api/v1/chat/hours: no hours")
        return found

    def service_definition(self, *, service_code: str, language: str) -> dict[str, Any] | None:
        path = f"/open311/v2/services/{service_code}.json"
        found = self._cached(
            ("definition", service_code, language), lambda: self._get(path, language=language)
        )
        return None if found is None else dict(found)

    def nearby(
        self, *, service_code: str, lat: float, long: float, language: str
    ) -> list[dict[str, Any]]:
        """Open requests of the service near the point, nearest first (public data only)."""
        found = self._get(
            "/mobile/v1/requests/nearby",
            language=language,
            params={"service_code": service_code, "lat": lat, "long": long},
        )
        return list(found or [])

    def request_status(self, *, service_request_id: str, language: str) -> dict[str, Any] | None:
        found = self._get(
            f"/open311/v2/requests/{service_request_id}.json",
            language=language,
            params={"extensions": "true"},
        )
        return found[0] if found else None

    def file(
        self,
        *,
        service_code: str,
        description: str,
        language: str,
        address: str = "",
        lat: float | None = None,
        long: float | None = None,
        attributes: dict[str, Any] | None = None,
        email: str = "",
        phone: str = "",
    ) -> Filed:
        """Files the request through the Open311 POST; raises BackendRejected with the
        server's messages, or BackendUnavailable."""
        form: list[tuple[str, str]] = [
            ("api_key", api_key()),
            ("service_code", service_code),
            ("description", description),
        ]
        if lat is not None and long is not None:
            form += [("lat", str(lat)), ("long", str(long))]
        if address:
            form.append(("address_string", address))
        for code, value in (attributes or {}).items():
            if isinstance(value, list):
                form += [(f"attribute[{code}][]", str(v)) for v in value]
            else:
                form.append((f"attribute[{code}]", str(value)))
        if email:
            form.append(("email", email))
        if phone:
            form.append(("phone", phone))
        try:
            response = self.session.post(
                self.base_url + "/open311/v2/requests.json",
                data=form,
                headers={"Accept-Language": language},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise BackendUnavailable(str(exc)) from exc
        if response.status_code >= 500:
            raise BackendUnavailable(f"POST requests: HTTP {response.status_code}")
        body = response.json()
        if response.status_code >= 400:
            raise BackendRejected([str(e.get("description", "")) for e in body])
        first = body[0]
        if not first.get("service_request_id") and first.get("token"):
            # Asynchronous intake (OPEN311_ASYNC_INTAKE) answers a token; a worker files it.
            first = self._token_wait(token=first["token"], language=language)
        return Filed(
            service_request_id=first["service_request_id"], notice=first.get("service_notice") or ""
        )

    def _token_wait(self, *, token: str, language: str) -> dict[str, Any]:
        for _ in range(10):
            found = self._get(f"/open311/v2/tokens/{token}.json", language=language)
            if found and found[0].get("service_request_id"):
                return {"service_request_id": found[0]["service_request_id"]}
            time.sleep(0.5)
        raise BackendUnavailable("The request was queued but not filed yet.")


_client: CityClient | None = None


def client() -> CityClient:
    global _client
    if _client is None:
        _client = CityClient()
    return _client
