"""Every string the code marks for translation has its Spanish and Vietnamese, and the
compiled catalogues are the ones of the ``.po`` files.

The extraction is Django's own (``makemessages``, as the README says to run it) into a copy
of ``backend/locale``: a string added to a template or a view without its translations shows
up there as untranslated, and fails here."""

from __future__ import annotations

import gettext
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

LOCALE = Path(settings.BASE_DIR) / "backend" / "locale"
LANGUAGES = ("es", "vi")
# Folders that hold no strings for people (the README's makemessages command skips them too).
IGNORED = [
    ".venv/*",
    ".var/*",
    "chatbot/assistant/*",
    "tests/*",
    "bench/*",
    "docs/*",
    "*/node_modules/*",
]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("locale") / "locale"
    shutil.copytree(LOCALE, copy)
    for mo in copy.rglob("*.mo"):
        mo.unlink()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(settings.BASE_DIR)
        patch.setattr(settings, "LOCALE_PATHS", [copy])
        # The real catalogue folder is skipped: makemessages would otherwise find it on its
        # walk, write the strings of every file under backend/ into it (not into this copy)
        # and leave them out of what this test checks.
        call_command(
            "makemessages", locale=list(LANGUAGES), no_location=True,
            ignore_patterns=[*IGNORED, "backend/locale"], verbosity=0,
        )  # fmt: skip
    return copy


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_is_translated(extracted: Path, language: str) -> None:
    catalogue = polib.pofile(str(extracted / language / "LC_MESSAGES" / "django.po"))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not untranslated, f"{language}: no translation for {untranslated}"
    assert not fuzzy, f"{language}: guessed (fuzzy) translations for {fuzzy}"
    # The extraction found the apps' strings (it would find nothing from the wrong folder).
    msgids = {entry.msgid for entry in catalogue}
    assert {"My team's queue", "Sign in", "Get updates on this phone"} <= msgids


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_the_po_file(language: str) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    source = polib.pofile(str(folder / "django.po"))
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in source.translated_entries():
        if entry.msgid_plural:
            found = compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
            assert found == entry.msgstr_plural[0], entry.msgid
        elif entry.msgctxt:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid
