"""The replies' texts: what a refusal tells the resident in each language."""

from __future__ import annotations

import string

from actions.texts import LANGUAGES, TEXTS, rejection_reasons, service_notice, text
from folding import fold

SWITCHED_OFF = "service_code: Gas leak cannot be reported at the moment. Call 911 for a gas leak."


def test_a_switched_off_service_keeps_the_citys_words_in_every_language() -> None:
    for language in ("en", "es", "vi"):
        reply = rejection_reasons([SWITCHED_OFF], language)
        assert "Call 911 for a gas leak." in reply, language


def test_other_refusals_name_the_answers_to_check_without_the_english_text() -> None:
    reply = rejection_reasons(["lat: Outside the city."], "es")
    assert "Outside the city" not in reply
    assert reply


def test_every_text_has_every_language_with_the_same_placeholders() -> None:
    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    for key, variants in TEXTS.items():
        assert set(variants) == set(LANGUAGES) == {"en", "es", "vi"}, key
        for language in LANGUAGES:
            assert fields(variants[language]) == fields(variants["en"]), (key, language)


def test_vietnamese_replies() -> None:
    assert text("ask_service", "vi") == "Đó là loại sự cố gì?"
    assert text("status_open", "vi-VN") == "đang mở"
    notice = "Streets Department aims to handle this within 72 hours."
    assert service_notice(notice, "vi") == "Streets Department dự kiến xử lý trong vòng 72 giờ."
    reply = rejection_reasons(["lat: Outside the city.", "description: Too short."], "vi")
    assert reply == "kiểm tra vị trí, phần mô tả"


def test_folding_keeps_the_length_so_offsets_hold() -> None:
    for said in ("ổ gà trên đường Lê Lợi", "Đèn giao thông", "pequeño", "o\u0302\u0309 ga"):
        assert len(fold(said)) == len(said)
    assert fold("ổ gà trên đường Lê Lợi") == "o ga tren duong Le Loi"
    assert fold("plain text") == "plain text"
