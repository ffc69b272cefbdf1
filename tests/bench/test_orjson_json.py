"""The orjson renderer that bench/stack_options.py measures writes the very bytes of DRF's
JSONRenderer for the shapes the APIs answer with, so the comparison times the same answers."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from bench.orjson_json import ORJSONParser, ORJSONRenderer

SERIALIZER: serializers.Serializer[Any] = serializers.Serializer()
EASTERN = datetime.timezone(datetime.timedelta(hours=-5))
ANSWERS: list[Any] = [
    {"id": 1, "text": "é ü 中文 🙂", "none": None, "floats": [1.5, 0.1, 1e16, -2.0], "yes": True},
    {
        "utc": datetime.datetime(2026, 12, 6, 15, 19, 1, 798256, tzinfo=datetime.UTC),
        "eastern": datetime.datetime(2026, 1, 1, tzinfo=EASTERN),
        "day": datetime.date(2026, 1, 2),
        "time": datetime.time(3, 4, 5, 600),
    },
    {
        "decimal": decimal.Decimal("42.360100"),
        "uuid": uuid.UUID("faa2eda6-4bfe-4013-ac89-fa4978a5c900"),
        "lazy": gettext_lazy("Not found."),
        "duration": datetime.timedelta(hours=3),
    },
    ReturnDict({"rows": ReturnList([1, 2], serializer=SERIALIZER)}, serializer=SERIALIZER),
    {"separators": "a\u2028b\u2029c", "controls": '\x01\t\n"\\/'},
    {"big": 2**70, 3: "a key that is not a string"},
    [],
    {},
    "plain",
    12,
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_same_bytes_as_drf(answer: Any) -> None:
    assert ORJSONRenderer().render(answer) == JSONRenderer().render(answer)


def test_indented_and_empty_answers_as_drf() -> None:
    context = {"indent": 2}
    assert ORJSONRenderer().render({"a": [1]}, None, context) == JSONRenderer().render(
        {"a": [1]}, None, context
    )
    assert ORJSONRenderer().render(None) == b""


def test_the_parser_refuses_what_drf_refuses() -> None:
    from io import BytesIO

    from rest_framework.exceptions import ParseError

    assert ORJSONParser().parse(BytesIO(b'{"a": [1, "\\u00e9"]}')) == {"a": [1, "é"]}
    for body in (b"{", b'{"a": NaN}', b"[" * 2000 + b"]" * 2000):
        with pytest.raises(ParseError):
            ORJSONParser().parse(BytesIO(body))
