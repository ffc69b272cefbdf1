"""The replies' texts: what a refusal tells the resident in each language."""

from __future__ import annotations

from actions.texts import rejection_reasons

SWITCHED_OFF = "service_code: Gas leak cannot be reported at the moment. Call 911 for a gas leak."


def test_a_switched_off_service_keeps_the_citys_words_in_every_language() -> None:
    for language in ("en", "es", "vi"):
        reply = rejection_reasons([SWITCHED_OFF], language)
        assert "Call 911 for a gas leak." in reply, language


def test_other_refusals_name_the_answers_to_check_without_the_english_text() -> None:
    reply = rejection_reasons(["lat: Outside the city."], "es")
    assert "Outside the city" not in reply
    assert reply
