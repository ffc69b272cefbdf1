"""The residents' "Was it fixed?" page (/feedback/<token>): public, reached from the link in
a closing message, in the language the request was reported in. The answer is written by
``backend.cases.feedback.feedback_submit`` ("not fixed" within the window reopens)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from backend.cases.feedback import feedback_submit
from backend.errors import City311Error
from workorders.feedback import FeedbackForm as FeedbackFormData
from workorders.feedback import feedback_form_get
from workorders.web.forms import FeedbackForm


def refusal_page(request: HttpRequest, template: str, exc: City311Error) -> HttpResponse:
    """A refusal answered as a page with its message, at its status."""
    return render(request, template, {"message": exc.message}, status=exc.status_code)


@require_http_methods(["GET", "POST"])
def feedback_page(request: HttpRequest, token: str) -> HttpResponse:
    """The "Was it fixed?" page of a closing message's link, in the language the resident
    reported in (the message was written in it)."""
    try:
        form_data = feedback_form_get(token=token)
    except City311Error as exc:
        return refusal_page(request, "workorders/feedback/problem.html", exc)
    language = (form_data.service_request.language or "")[:2]
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        return _feedback_answer(request, form_data)


def _feedback_answer(request: HttpRequest, form_data: FeedbackFormData) -> HttpResponse:
    context: dict[str, Any] = {"info": form_data, "request_": form_data.service_request}
    if form_data.answer is not None:
        return render(
            request, "workorders/feedback/thanks.html", {**context, "answer": form_data.answer}
        )
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = feedback_submit(
                close_event=form_data.close_event,
                fixed=form.cleaned_data["fixed"],
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                channel="web",
            )
        except City311Error as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return render(
                request,
                "workorders/feedback/thanks.html",
                {**context, "answer": result.feedback, "result": result},
                status=201,
            )
    return render(
        request,
        "workorders/feedback/form.html",
        {**context, "form": form},
        status=400 if request.method == "POST" else 200,
    )
