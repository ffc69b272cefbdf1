"""One error type for the whole project (zulip's ``JsonableError``, the Styleguide's single
exception handler).

Every refusal the domain or an edge raises is a ``City311Error``: a ``code`` from
``ErrorCode``, an HTTP status, the fields it is about and a translatable message for each.
It is turned into an answer once per API style: ``backend.api_errors.exception_handler`` for
the JSON APIs (``{"detail": ..., "errors": {field: [message]}}``) and
``backend.open311.errors.exception_handler`` for GeoReport v2 (``[{"code", "description"}]``).
Views raise these or let them pass; they never translate them by hand.

The base layer: it imports nothing of the project.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

Errors = dict[str, list[str]]


class ErrorCode(StrEnum):
    """What went wrong, independent of the answer's format. Each has its HTTP status."""

    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    GONE = "gone"
    TOO_LARGE = "too_large"
    UNPROCESSABLE = "unprocessable"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    ErrorCode.INVALID: 400,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.GONE: 410,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.UNPROCESSABLE: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
}
_CODE_FOR_STATUS = {status: code for code, status in _HTTP_STATUS.items()}


class City311Error(Exception):
    """A refusal naming its fields. ``errors`` maps each field to its messages (already
    translated into the active language when raised: use ``gettext``); ``code`` says what kind
    of refusal it is and so the HTTP status (``status_code``; ``status`` is the same number).

    Subclasses set a default ``code``; a raise site may give another (``code=``) or, where the
    answer needs a status no code names, ``status_code=``.

    ``detail`` is the one sentence of the JSON answer: given by the raise site, else the first
    message for the classes whose ``detail_is_message`` says so, else empty (the JSON APIs then
    say "Invalid input: " and the fields).
    """

    code: ErrorCode = ErrorCode.INVALID
    detail_is_message: bool = False

    def __init__(
        self,
        errors: Errors | str | None = None,
        *,
        field: str = "body",
        code: ErrorCode | None = None,
        status_code: int | None = None,
        detail: str = "",
    ) -> None:
        if isinstance(errors, str) or errors is None:
            errors = {field: [errors or ""]}
        self.errors: Errors = errors
        self.detail = detail
        self.field = next(iter(errors), field)
        if code is not None:
            self.code = code
        elif status_code is not None and status_code in _CODE_FOR_STATUS:
            self.code = _CODE_FOR_STATUS[status_code]
        self.status_code: int = status_code if status_code is not None else self.code.http_status
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))

    @property
    def message(self) -> str:
        """The first message: the one sentence an answer's ``detail`` shows."""
        return next((m for messages in self.errors.values() for m in messages), "")

    @property
    def status(self) -> int:
        return self.status_code

    def answer_detail(self) -> str:
        """The answer's ``detail`` ("" lets the JSON APIs name the fields)."""
        return self.detail or (self.message if self.detail_is_message else "")

    def answer(self, detail: str) -> dict[str, Any]:
        """The JSON APIs' body; a refusal that says more (the current status, a link) adds
        its keys here."""
        return {"detail": detail, "errors": self.errors}


def not_found(value: object, *, field: str = "id", what: str = "work order") -> City311Error:
    """What the user may not see does not exist: 404 naming the field ("No request X.")."""
    return City311Error(
        {field: [f"No {what} {value}."]}, code=ErrorCode.NOT_FOUND, detail="Not found."
    )


T = TypeVar("T")


def found(obj: T | None, value: object, *, field: str = "id", what: str = "work order") -> T:
    """``obj``, or the 404 of ``not_found`` when a selector found nothing the user may see."""
    if obj is None:
        raise not_found(value, field=field, what=what)
    return obj


def forbidden(message: str, *, field: str = "role") -> City311Error:
    """Seen but not theirs to act on: 403 naming the role needed."""
    return City311Error({field: [message]}, code=ErrorCode.FORBIDDEN, detail=message)


class IllegalTransition(City311Error):
    """A state machine's refusal: the object is not in a status the transition starts from
    (409 naming ``status``). The message says the status in words ("Cannot start a work order
    that is on hold."; a status's label is its value in words); ``raw`` keeps the request
    state machine's own wording, the value as stored and no full stop ("Cannot close a
    request that is closed")."""

    code = ErrorCode.CONFLICT
    detail_is_message = True

    def __init__(
        self, *, action: str, current_status: str, entity: str = "work order", raw: bool = False
    ) -> None:
        self.action = action
        self.current_status = current_status
        self.entity = entity
        self.raw = raw
        if raw:
            message = f"Cannot {action} a {entity} that is {current_status}"
        else:
            message = f"Cannot {action} a {entity} that is {current_status.replace('_', ' ')}."
        super().__init__(message, field="status")

    def answer(self, detail: str) -> dict[str, Any]:
        return {**super().answer(detail), "current_status": self.current_status}
