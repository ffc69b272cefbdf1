"""The language of the current request or task, as the catalog and the answers name it: a
two-letter code ("en", "es", "vi"). One place, for every edge."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def language_current() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]
