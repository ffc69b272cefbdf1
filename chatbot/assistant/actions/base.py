"""What the actions share: an action named by a class attribute that builds its reply from the
tracker (and the answer when the city's system it asks does not answer), and the answer a form
gives when a slot's value does not fit."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, web_form_url
from actions.slots import language
from actions.texts import text


class Reply(Action, ABC):
    """An action that answers from the tracker alone (the domain is not needed): a subclass
    sets ``action_name`` and writes ``reply``. Abstract, so the action server does not
    register it."""

    action_name: ClassVar[str]

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return self.reply(dispatcher, tracker)

    @abstractmethod
    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """What to say (through ``dispatcher``) and the events to apply."""


class CityReply(Reply, ABC):
    """A reply that asks the city's system: when it does not answer, the resident is told so
    (with the web form's address) and the events are ``city_down_events()``."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            return self.reply(dispatcher, tracker)
        except BackendUnavailable:
            lang = language(tracker)
            dispatcher.utter_message(text=text("backend_down", lang, url=web_form_url()))
            return self.city_down_events()

    def city_down_events(self) -> list[EventType]:
        return []


def ask_again(
    dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, key: str
) -> dict[str, Any]:
    """The answer does not fit ``slot``: say why (text ``key``) and empty the slot, so the
    form asks for it again."""
    dispatcher.utter_message(text=text(key, language(tracker)))
    return {slot: None}
