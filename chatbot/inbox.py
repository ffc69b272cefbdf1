"""The agent inbox in the staff console (/staff/chat/): conversations waiting for a person,
newest waiting first, and callback requests; each with its transcript, an answer form (the
answer goes back on the resident's channel) and "close" (the assistant answers again).

For staff with the permission ``chatbot.answer_conversations`` (a group such as "311
agents", or a superuser); anyone else signed in gets 403, and the anonymous the sign-in
page. Plain forms: it works without JavaScript. The work is in ``chatbot.handoffs``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chatbot.handoffs import (
    ANSWER_MAX_CHARS,
    PERMISSION,
    HandoffError,
    agent_hours,
    handoff_answer,
    handoff_close,
)
from chatbot.models import Handoff, HandoffState
from chatbot.selectors import handoff_transcript, handoffs_inbox

LOGIN_URL = "accounts:login"
PK_MAX = 2**63 - 1
INBOX_MAX = 200


def _agent(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied("The agent inbox is for the call centre's agents.")


def _handoff(pk: int) -> Handoff:
    handoff = (
        Handoff.objects.select_related("conversation").filter(pk=pk).first()
        if pk <= PK_MAX
        else None
    )
    if handoff is None:
        raise Http404(f"No conversation {pk} in the inbox.")
    return handoff


@login_required(login_url=LOGIN_URL)
@never_cache
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    _agent(request)
    return render(
        request,
        "chatbot/inbox.html",
        {"handoffs": list(handoffs_inbox()[:INBOX_MAX]), "hours": agent_hours()},
    )


@login_required(login_url=LOGIN_URL)
@never_cache
@require_GET
def inbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _agent(request)
    handoff = _handoff(pk)
    return render(
        request,
        "chatbot/inbox_detail.html",
        {
            "handoff": handoff,
            "transcript": list(handoff_transcript(handoff=handoff)),
            "answer_max": ANSWER_MAX_CHARS,
            "closed": handoff.state == HandoffState.CLOSED,
        },
    )


def _back(pk: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("chatbot-inbox:detail", args=[pk]))


@login_required(login_url=LOGIN_URL)
@require_POST
def inbox_answer(request: HttpRequest, pk: int) -> HttpResponse:
    _agent(request)
    handoff = _handoff(pk)
    try:
        handoff_answer(handoff=handoff, agent=request.user, text=request.POST.get("text", ""))
    except HandoffError as exc:
        for field_messages in exc.errors.values():
            for message in field_messages:
                messages.error(request, message)
        return _back(pk)
    messages.success(request, _("Your answer was sent."))
    return _back(pk)


@login_required(login_url=LOGIN_URL)
@require_POST
def inbox_close(request: HttpRequest, pk: int) -> HttpResponse:
    _agent(request)
    handoff_close(handoff=_handoff(pk), agent=request.user)
    messages.success(request, _("Closed: the assistant answers this conversation again."))
    return HttpResponseRedirect(reverse("chatbot-inbox:inbox"))
