"""A candidate JSON renderer and parser for the APIs, through orjson, for
``bench/stack_options.py --compare renderer``: the same JSON as DRF's ``JSONRenderer`` (compact,
UTF-8 unescaped, datetimes in DRF's format ("Z" for UTC), decimals as numbers, lazy
strings translated, U+2028/U+2029 escaped), and DRF's own renderer for anything orjson refuses
(integers past 64 bits, keys that are not strings) or for an indented answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from rest_framework import renderers
from rest_framework.exceptions import ParseError
from rest_framework.utils.encoders import JSONEncoder

from backend.parsers import JSONParser

# Dates and times go through DRF's encoder, whose format differs from orjson's own.
OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME
ENCODER = JSONEncoder()
Context = Mapping[str, Any] | None  # DRF's renderer context
LINE_SEPARATOR, PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class ORJSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, media_type: str | None = None, context: Context = None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(media_type or "", context or {}) is not None:
            return super().render(data, media_type, context)
        try:
            answer = orjson.dumps(data, default=ENCODER.default, option=OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, media_type, context)
        # DRF escapes these two: valid in JSON, not in JavaScript before ES2019.
        if LINE_SEPARATOR in answer or PARAGRAPH_SEPARATOR in answer:
            answer = answer.replace(LINE_SEPARATOR, b"\\u2028").replace(
                PARAGRAPH_SEPARATOR, b"\\u2029"
            )
        return answer


class ORJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return orjson.loads(stream.read().decode(encoding))
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
