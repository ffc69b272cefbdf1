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
    """

    code: ErrorCode = ErrorCode.INVALID

    def __init__(
        self,
        errors: Errors | str | None = None,
        *,
        field: str = "body",
        code: ErrorCode | None = None,
        status_code: int | None = None,
    ) -> None:
        if isinstance(errors, str) or errors is None:
            errors = {field: [errors or ""]}
        self.errors: Errors = errors
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
