"""The work orders' refusals: each a ``City311Error`` carrying its code (so the HTTP status)
and the field it is about. The JSON APIs' exception handler answers them; views do not catch
them."""

from __future__ import annotations

from backend.errors import City311Error, ErrorCode
from backend.errors import IllegalTransition as IllegalTransition


class WorkOrderError(City311Error):
    """A work-order operation refused (400 unless a subclass or the raise site says else)."""

    detail_is_message = True

    def __init__(
        self,
        message: str,
        *,
        field: str = "body",
        status_code: int | None = None,
        code: ErrorCode | None = None,
    ) -> None:
        super().__init__({field: [message]}, field=field, code=code, status_code=status_code)


class InvalidInput(WorkOrderError):
    """Input that cannot be used (400, or 413 for an oversized photo)."""


class ProofRequired(WorkOrderError):
    """Completion without any proof photo (400)."""

    def __init__(self) -> None:
        super().__init__(
            "At least one proof photo of the finished work is required to complete a work order.",
            field="photos",
        )


class Conflict(WorkOrderError):
    """The request or work order is not in a state that allows this (409)."""

    code = ErrorCode.CONFLICT
