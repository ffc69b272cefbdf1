"""The JSON body parser of every JSON API: DRF's, with a body nested too deeply for the
decoder (``[[[[...]]]]`` a thousand levels down raises ``RecursionError``, not ``ValueError``)
answered like any other malformed body: 400 naming the body, never 500."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

TOO_DEEP = "JSON nested too deeply."
# A NUL character, which PostgreSQL can neither store nor compare in text, in a path, a
# parameter or a field (backend.middleware, Open311's form intake).
NUL_MESSAGE = "NUL characters are not allowed."


def json_loads(text: str) -> Any:
    """``json.loads`` for text from outside: ``ValueError`` also when nested too deeply."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError(TOO_DEEP) from exc


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - {TOO_DEEP}") from exc
