"""Everything around reporting: what the widget sends along (language, photo, location),
not understanding, a person, cancelling, and checking a request's status."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, client, web_form_url
from actions.base import Reply, ask_again
from actions.fallback import fallback_events
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
    """Not understood (actions/fallback.py)."""

    action_name = "action_fallback"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        return fallback_events(dispatcher, tracker)


def _report_dropped(
    dispatcher: CollectingDispatcher, tracker: Tracker, key: str
) -> list[EventType]:
    """Says text ``key`` and forgets the report and the request number asked about."""
    dispatcher.utter_message(text=text(key, language(tracker), url=web_form_url()))
    return [*report_reset(), SlotSet("request_id", None)]


class ActionHumanHandoff(Reply):
    action_name = "action_human_handoff"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        return _report_dropped(dispatcher, tracker, "human")


class ActionCancelReport(Reply):
    action_name = "action_cancel_report"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        return _report_dropped(dispatcher, tracker, "cancelled")


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

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


class ActionCheckStatus(Reply):
    action_name = "action_check_status"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        request_id = request_id_find(tracker.get_slot("request_id"))
        if request_id is None:
            dispatcher.utter_message(text=text("request_id_invalid", lang))
            return [SlotSet("request_id", None)]
        try:
            found = client().request_status(service_request_id=request_id, language=lang)
        except BackendUnavailable:
            dispatcher.utter_message(text=text("backend_down", lang, url=web_form_url()))
            return [SlotSet("request_id", None)]
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
