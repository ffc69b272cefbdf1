"""Response templates' placeholders: which there are, the check staff's texts pass when
saved, and the filling in. Pure text work: the values come from the work-order layer
(``workorders.response_templates``), which knows the order."""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What a template may say, in braces: the service's name, the expected date, the team's
# name, the request's id.
PLACEHOLDERS = ("service", "expected_date", "team", "public_id")


def _parts(text: str) -> list[tuple[str, str | None]]:
    """The literal pieces and placeholder names of ``text``; ValueError for stray braces."""
    return [(literal, name) for literal, name, _spec, _conv in Formatter().parse(text)]


def placeholders_check(text: str, *, field: str = "text") -> None:
    """ValidationError naming ``field`` for a placeholder not in ``PLACEHOLDERS`` (or one
    with a format, or a stray brace: write ``{{`` and ``}}`` for braces themselves)."""
    allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as exc:
        message = _("A brace is not closed or not opened (write {{ and }} for braces): %(e)s")
        raise ValidationError({field: message % {"e": exc}}) from exc
    unknown = sorted(
        {
            "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            for _literal, name, spec, conv in parsed
            if name is not None and (name not in PLACEHOLDERS or spec or conv)
        }
    )
    if unknown:
        message = _("Unknown placeholder %(unknown)s: use %(allowed)s.") % {
            "unknown": ", ".join(unknown),
            "allowed": allowed,
        }
        raise ValidationError({field: message})


def template_fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each placeholder replaced by its value (a missing one by nothing). A
    text that fails ``placeholders_check`` is returned with its unknown placeholders left
    out, never an error: it was checked when saved."""
    try:
        parts = _parts(text)
    except ValueError:
        return text
    return "".join(
        literal + (str(values.get(name, "")) if name in PLACEHOLDERS else "")
        for literal, name in parts
    )
