"""The cells of every CSV city311 writes (the open data, the staff analytics exports),
neutralised against formula injection as OWASP advises ("CSV Injection"): a text cell that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a formula
by a spreadsheet, so it gets a leading single quote, which the spreadsheet shows as text.
Quotes, commas and line breaks inside a cell are the ``csv`` module's to escape. Numbers
stay numbers (``-3`` as an int is a value, not a formula): only text is changed. JSON and
GeoJSON answers carry the values as they are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell: text that a spreadsheet would read as a formula gets a
    leading ``'``; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Every cell of ``row`` through ``csv_cell`` (for ``csv.DictWriter``)."""
    return {key: csv_cell(value) for key, value in row.items()}
