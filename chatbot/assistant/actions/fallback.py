"""Not understood: a hint the first time, an apology with a person and the web form the
second time in a row (``fallback_count``, reset by any message that was understood)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import web_form_url
from actions.slots import language
from actions.texts import text


def fallback_events(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    lang = language(tracker)
    count = int(tracker.get_slot("fallback_count") or 0) + 1
    if count < 2:
        dispatcher.utter_message(text=text("fallback", lang))
        return [SlotSet("fallback_count", count)]
    dispatcher.utter_message(
        text=text("fallback_twice", lang, url=web_form_url()),
        buttons=[{"title": text("talk_to_person", lang), "payload": "/ask_human"}],
    )
    return [SlotSet("fallback_count", 0)]
