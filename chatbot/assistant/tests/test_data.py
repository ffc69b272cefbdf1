"""The held-out examples (heldout/, heldout-2/) measure the model only if it never saw them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from folding import fold

HERE = Path(__file__).resolve().parents[1]
ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def examples(path: Path) -> set[str]:
    found: set[str] = set()
    for block in yaml.safe_load(path.read_text())["nlu"]:
        for line in str(block.get("examples") or "").splitlines():
            text = line.strip()[2:] if line.strip().startswith("- ") else ""
            if text:
                found.add(" ".join(ANNOTATION.sub(r"\1", text).lower().split()))
    return found


@pytest.mark.parametrize(
    ("folder", "language", "at_least"),
    [
        ("heldout", "en", 80),
        ("heldout", "es", 80),
        ("heldout-2", "en", 150),
        ("heldout-2", "es", 120),
        ("heldout-2", "vi", 120),
    ],
)
def test_no_heldout_example_is_in_the_training_data(
    folder: str, language: str, at_least: int
) -> None:
    trained = set().union(
        *(examples(p) for p in (HERE / "data").rglob("*.yml") if "nlu" in p.parts)
    )
    heldout = examples(HERE / folder / f"{language}.yml")
    assert len(heldout) >= at_least
    assert not trained & heldout
    # Nor the same words with the diacritics left out (the tokenizer folds them).
    assert not {fold(t) for t in trained} & {fold(t) for t in heldout}


def test_half_the_vietnamese_heldout_is_typed_without_diacritics() -> None:
    heldout = examples(HERE / "heldout-2" / "vi.yml")
    plain = [t for t in heldout if t.isascii()]
    assert len(plain) >= len(heldout) * 0.45


def test_vietnamese_has_every_intent_english_has() -> None:
    def intents(language: str) -> set[str]:
        files = (HERE / "data" / "nlu").glob(f"{language}*.yml")  # vi.yml, vi_questions.yml
        blocks = [b for f in files for b in yaml.safe_load(f.read_text())["nlu"]]
        return {b["intent"] for b in blocks if "intent" in b}

    # The questions' Vietnamese examples have a file of their own (vi_questions.yml).
    assert intents("vi") | intents("vi_questions") == intents("en") == intents("es")


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_second_heldout_set_is_new(language: str) -> None:
    assert not examples(HERE / "heldout" / f"{language}.yml") & examples(
        HERE / "heldout-2" / f"{language}.yml"
    )


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_heldout_set_covers_every_intent(language: str) -> None:
    intents = set(yaml.safe_load((HERE / "domain.yml").read_text())["intents"])
    for folder in ("heldout", "heldout-2"):
        blocks = yaml.safe_load((HERE / folder / f"{language}.yml").read_text())["nlu"]
        assert {b["intent"] for b in blocks if b.get("examples")} == intents, folder
