"""Writes to work orders, one module per use case:

- ``machine``: the transition table (``TRANSITIONS``), the crew's actions it allows and the
  helpers every transition shares;
- ``create``: creation with routing (the intake's ``work_order_create``);
- ``assign``, ``lifecycle`` (start, hold, resume), ``notes``, ``proofs`` (proof photos before
  completing), ``complete``, ``cancel``, ``review`` (recording a supervisor's verdict).

Which to call: the plain ``work_order_*`` functions check their input, lock the request and
then the order (``workorders.locks``) and keep the two consistent; call them. A ``do_*``
function does one step under locks its caller already holds, as its docstring says; it is
for ``backend.cases``, whose entry points (reopen for work, close by staff, change of
service, merge, a review's verdict, the resident's feedback) span a request and its order.

These functions do not check who may call them (the system calls them too): the edges check
access first (``workorders.selectors.staff_access_get``)."""

from workorders.services.assign import do_work_order_assign, work_order_assign
from workorders.services.cancel import CANCEL_CLOSE_REASONS, do_work_order_cancel, work_order_cancel
from workorders.services.complete import DEFAULT_CLOSING_NOTE, CompletionResult, work_order_complete
from workorders.services.create import do_work_order_create, work_order_create
from workorders.services.lifecycle import work_order_hold, work_order_resume, work_order_start
from workorders.services.machine import (
    KEY_MAX,
    NOTE_MAX,
    TRANSITIONS,
    Transition,
    note_clean,
    work_order_actions,
)
from workorders.services.notes import work_order_note_add
from workorders.services.proofs import work_order_proof_add
from workorders.services.review import do_work_order_review, review_decision_check

__all__ = [
    "CANCEL_CLOSE_REASONS",
    "DEFAULT_CLOSING_NOTE",
    "KEY_MAX",
    "NOTE_MAX",
    "TRANSITIONS",
    "CompletionResult",
    "Transition",
    "do_work_order_assign",
    "do_work_order_cancel",
    "do_work_order_create",
    "do_work_order_review",
    "note_clean",
    "review_decision_check",
    "work_order_actions",
    "work_order_assign",
    "work_order_cancel",
    "work_order_complete",
    "work_order_create",
    "work_order_hold",
    "work_order_note_add",
    "work_order_proof_add",
    "work_order_resume",
    "work_order_start",
]
