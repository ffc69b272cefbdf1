"""The held-out examples (heldout/) measure the model only if it never saw them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

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


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_heldout_example_is_in_the_training_data(language: str) -> None:
    trained = set().union(
        *(examples(p) for p in (HERE / "data").rglob("*.yml") if "nlu" in p.parts)
    )
    heldout = examples(HERE / "heldout" / f"{language}.yml")
    assert len(heldout) > 80
    assert not trained & heldout
