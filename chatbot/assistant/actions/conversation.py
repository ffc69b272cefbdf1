"""Everything around reporting: what the widget sends along (language, photo, location),
not understanding, a person, cancelling, and checking a request's status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, client, web_form_url
from actions.base import CityReply, Reply, ask_again
from actions.fallback import fallback_events
from actions.questions import own_requests, when_words
from actions.report import problem_choice, report_pending
from actions.slots import (
    REPORT_SLOTS,
    intent,
    language,
    metadata,
    photo_reference,
    report_reset,
    request_id_find,
    shared_location,
)
from actions.texts import language_of, text


class ActionReadMetadata(Action):
    """Runs on every message (the slots' custom mapping): the conversation's language, a
    photo reference and shared coordinates from the message metadata; and the count of
    messages not understood in a row, reset by one that was."""

    def name(self) -> str:
        return "action_read_metadata"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        name = intent(tracker)
        if (
            name.startswith("report_")
            and not tracker.active_loop_name
            and any(tracker.get_slot(slot) is not None for slot in REPORT_SLOTS)
        ):
            # A new report while an earlier one waits for its yes or no: start afresh (the
            # new message's service, photo and location are set after this).
            events += report_reset()
        given = metadata(tracker).get("language")
        if given and language_of(given) != tracker.get_slot("language"):
            events.append(SlotSet("language", language_of(given)))
        photo = photo_reference(tracker)
        if photo and photo != tracker.get_slot("photo"):
            events.append(SlotSet("photo", photo))
        shared = shared_location(tracker)
        if shared is not None:
            events += [SlotSet("lat", shared[0]), SlotSet("long", shared[1])]
        pending = tracker.get_slot("review_step") or tracker.active_loop_name
        # A yes, a no or an answer to no question is not understood either (rules.yml,
        # ActionReviewAnswer): they are what unknown short messages mostly look like.
        answers = ("affirm", "deny", "inform")
        understood = name != "nlu_fallback" and (name not in answers or pending)
        if understood and tracker.get_slot("fallback_count"):
            events.append(SlotSet("fallback_count", 0))
        return events


class ActionFallback(Reply):
    """Not understood (actions/fallback.py), unless a very short message names a problem:
    then which service, with buttons (actions/report.py: problem_choice)."""

    action_name = "action_fallback"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        chosen = problem_choice(dispatcher, tracker)
        return chosen if chosen is not None else fallback_events(dispatcher, tracker)


def _report_dropped(
    dispatcher: CollectingDispatcher, tracker: Tracker, key: str
) -> list[EventType]:
    """Says text ``key`` and forgets the report and the request number asked about."""
    dispatcher.utter_message(text=text(key, language(tracker), url=web_form_url()))
    return [*report_reset(), SlotSet("request_id", None)]


class ActionHumanHandoff(Reply):
    """ "Talk to a person": during the call centre's hours the conversation goes to the agent
    inbox (and the assistant stays quiet until an agent closes it); outside them, a callback
    request with the time the call centre opens again. Django files either on the custom
    message ``{"city311": {"handoff": true}}`` (chatbot/handoffs.py). The city unreachable:
    311's number and the web form, as before."""

    action_name = "action_human_handoff"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        try:
            hours = client().hours(language=lang)
        except BackendUnavailable:
            return _report_dropped(dispatcher, tracker, "human")
        opens = None
        if not hours.get("open_now"):
            try:
                opens = datetime.fromisoformat(str(hours.get("next_open")))
            except ValueError:
                return _report_dropped(dispatcher, tracker, "human")  # no opening ahead
        if opens is None:
            said = text("handoff_live", lang)
        else:
            phone = metadata(tracker).get("channel") in ("sms", "whatsapp")
            said = text(
                "handoff_callback_phone" if phone else "handoff_callback_web",
                lang,
                when=when_words(opens, datetime.now().astimezone(), lang),
                time=f"{opens:%H:%M}",
                url=web_form_url(),
            )
        dispatcher.utter_message(text=said)
        dispatcher.utter_message(json_message={"city311": {"handoff": True}})
        return [*report_reset(), SlotSet("request_id", None)]


class ActionCancelReport(Reply):
    action_name = "action_cancel_report"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if not report_pending(tracker):
            # Nothing to cancel: a short message naming a problem ("report dumping") that
            # its "report" made look like a cancel is asked which service instead.
            chosen = problem_choice(dispatcher, tracker, named_only=True)
            if chosen is not None:
                return chosen
        return _report_dropped(dispatcher, tracker, "cancelled")


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """No number asked for when none was given and the resident has requests of their
        own (Django's metadata): ActionCheckStatus answers with those."""
        given = tracker.get_slot("request_id") or request_id_find(
            (tracker.latest_message or {}).get("text")
        )
        if not given and own_requests(tracker):
            return []
        return domain_slots

    async def extract_request_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A number written in the message that the NLU did not mark as an entity."""
        if tracker.get_slot("request_id"):
            return {}
        found = request_id_find((tracker.latest_message or {}).get("text"))
        return {"request_id": found} if found else {}

    def validate_request_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = request_id_find(value)
        if found is None:
            return ask_again(dispatcher, tracker, "request_id", "request_id_invalid")
        return {"request_id": found}


class ActionCheckStatus(CityReply):
    action_name = "action_check_status"

    def city_down_events(self) -> list[EventType]:
        return [SlotSet("request_id", None)]

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        request_id = request_id_find(tracker.get_slot("request_id"))
        if request_id is None and own_requests(tracker):
            return _own_statuses(dispatcher, tracker, lang)
        if request_id is None:
            dispatcher.utter_message(text=text("request_id_invalid", lang))
            return [SlotSet("request_id", None)]
        found = client().request_status(service_request_id=request_id, language=lang)
        if found is None:
            dispatcher.utter_message(text=text("status_not_found", lang, id=request_id))
            return [SlotSet("request_id", None)]
        status = text("status_closed" if found.get("status") == "closed" else "status_open", lang)
        note = found.get("status_notes")
        expected = found.get("expected_datetime") if found.get("status") != "closed" else None
        dispatcher.utter_message(
            text=text(
                "status",
                lang,
                id=request_id,
                service=found.get("service_name") or found.get("service_code") or "",
                status=status,
                note=text("status_note", lang, note=note) if note else "",
                expected=text("status_expected", lang, date=str(expected)[:10]) if expected else "",
            )
        )
        return [SlotSet("request_id", None)]


def _own_statuses(dispatcher: CollectingDispatcher, tracker: Tracker, lang: str) -> list[EventType]:
    """ "What's the status of my report?" without a number: the resident's own latest
    requests (by this conversation, account or phone number; never anyone else's). The city
    not answering: ActionCheckStatus.city_down_events."""
    lines: list[str] = []
    for request_id in own_requests(tracker):
        found = client().request_status(service_request_id=request_id, language=lang)
        if found is None:
            continue
        closed = found.get("status") == "closed"
        expected = None if closed else found.get("expected_datetime")
        lines.append(
            text(
                "own_request_line",
                lang,
                id=request_id,
                service=found.get("service_name") or found.get("service_code") or "",
                status=text("status_closed" if closed else "status_open", lang),
                expected=text("status_expected", lang, date=str(expected)[:10]) if expected else "",
            )
        )
    if not lines:
        dispatcher.utter_message(text=text("request_id_invalid", lang))
        return [SlotSet("request_id", None)]
    dispatcher.utter_message(text=text("own_requests", lang, lines="\n".join(lines)))
    return [SlotSet("request_id", None)]
