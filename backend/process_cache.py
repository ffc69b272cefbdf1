"""A per-process memo for configuration that changes a few times a year and is read on every
submission: the catalog, routing rules, business calendars.

Each entry is kept for ``settings.CATALOG_CACHE_SECONDS`` (0 turns caching off, as in the
tests); an edit made in the admin clears this process's entries at once and reaches the other
processes within that time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

V = TypeVar("V")

_all: list[ProcessCache[object]] = []


class ProcessCache(Generic[V]):
    """``ttl_setting`` names the setting with the seconds an entry is kept (0: no caching);
    at most ``max_entries`` are kept (the expired ones go first, then the oldest).
    ``version``, when given, is read on each cached ``get`` and is part of the key: a change
    that every process must see at once (a request hidden by moderation, in whichever process)
    raises it, and no entry kept under an older version is served again."""

    def __init__(
        self,
        name: str,
        *,
        ttl_setting: str = "CATALOG_CACHE_SECONDS",
        max_entries: int = 0,
        version: Callable[[], Hashable] | None = None,
    ) -> None:
        self.name = name
        self.ttl_setting = ttl_setting
        self.max_entries = max_entries
        self.version = version
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _all.append(self)  # type: ignore[arg-type]

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        ttl = getattr(settings, self.ttl_setting)
        if ttl <= 0:
            return load()
        if self.version is not None:
            key = (key, self.version())
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (now + ttl, value)
            if self.max_entries and len(self._entries) > self.max_entries:
                for old in [k for k, (until, _) in self._entries.items() if until <= now]:
                    del self._entries[old]
                while len(self._entries) > self.max_entries:
                    del self._entries[next(iter(self._entries))]
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def process_caches_clear() -> None:
    """Forget every cached entry of this process (after an admin edit, in tests)."""
    for cache in _all:
        cache.clear()


class ClearsProcessCachesAdmin:
    """Admin mixin for the configuration the caches hold: saving or deleting clears them."""

    def save_related(self, request: object, form: object, formsets: object, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        process_caches_clear()

    def delete_model(self, request: object, obj: object) -> None:
        super().delete_model(request, obj)  # type: ignore[misc]
        process_caches_clear()

    def delete_queryset(self, request: object, queryset: object) -> None:
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        process_caches_clear()
