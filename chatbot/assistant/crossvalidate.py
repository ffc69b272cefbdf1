"""Cross-validation on the training data only (data/nlu/), to choose pipeline settings
without looking at a held-out set (docs/chatbot.md, "Adding examples").

    .var/chatbot/venv/bin/python chatbot/assistant/crossvalidate.py [--config config.yml]
        [--folds 5] [--work .var/chatbot/cv] [--thresholds 0.2,0.25,0.3]

Splits every intent's examples of both languages into ``--folds`` folds (a fixed shuffle),
trains an NLU model on all folds but one (``rasa train nlu``) and parses the one left out,
for each fold. Prints per language: intent accuracy before the fallback threshold, and at
each threshold of ``--thresholds`` (a message whose best intent is under it counts as
wrong, as the ``FallbackClassifier`` would make it), service accuracy of the problem
reports, and the training seconds per fold; the figures also go to ``--work``/report.json,
the errors to ``--work``/errors.json. Every Vietnamese example left out that has diacritics
is also scored without them (key ``vi-plain``), as residents often type it;
``--augment-folded`` adds such a copy of every Vietnamese training example of the fold (the
alternative to folding in the tokenizer, measured in chatbot/reports/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from rasa.core.agent import Agent

HERE = Path(__file__).parent
# The project's root, from which Rasa runs and imports the tokenizer (chatbot/assistant/folding.py).
sys.path.insert(0, str(HERE.parent.parent))
from chatbot.assistant.folding import fold as fold_text  # noqa: E402

LANGUAGES = ("en", "es", "vi")
RASA = str(Path(sys.executable).parent / "rasa")


def _blocks(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text())["nlu"])


def _fold_files(
    work: Path, folds: int, *, augment: bool = False
) -> list[tuple[Path, list[tuple[str, str, str]]]]:
    """Per fold: the training file (every other fold, with the regexes) and the examples
    left out as (language, intent, text)."""
    rng = random.Random(6)
    train: list[dict[str, list[str]]] = [{} for _ in range(folds)]
    test: list[list[tuple[str, str, str]]] = [[] for _ in range(folds)]
    extra: list[dict[str, Any]] = []
    for language in LANGUAGES:
        for block in _blocks(HERE / "data" / "nlu" / f"{language}.yml"):
            if "intent" not in block:
                extra.append(block)
                continue
            lines = [
                line.strip()[2:]
                for line in str(block["examples"]).splitlines()
                if line.strip().startswith("- ")
            ]
            # Examples that are the same once folded ("vỉa hè hư", "via he hu") stay in one
            # fold: one in training and the other left out would score a copy.
            groups: dict[str, list[str]] = {}
            for line in lines:
                groups.setdefault(fold_line(line).lower(), []).append(line)
            keys = list(groups)
            rng.shuffle(keys)
            for index, key in enumerate(keys):
                for fold in range(folds):
                    for line in groups[key]:
                        if index % folds == fold:
                            test[fold].append((language, block["intent"], line))
                            if language == "vi" and fold_line(line) != line:
                                test[fold].append(("vi-plain", block["intent"], fold_line(line)))
                        else:
                            train[fold].setdefault(block["intent"], []).append(line)
                            if augment and language == "vi" and fold_line(line) != line:
                                train[fold][block["intent"]].append(fold_line(line))
    out = []
    for fold in range(folds):
        nlu = [
            {"intent": name, "examples": "".join(f"- {line}\n" for line in lines)}
            for name, lines in train[fold].items()
        ]
        path = work / f"fold-{fold}.yml"
        path.write_text(yaml.safe_dump({"version": "3.1", "nlu": extra + nlu}, allow_unicode=True))
        out.append((path, test[fold]))
    return out


def fold_line(line: str) -> str:
    """The example as typed without diacritics (annotations kept)."""
    return fold_text(line)


def _plain(text: str) -> str:
    """The text of an annotated example (``[SR-…](request_id)`` → ``SR-…``)."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)


async def _score(model: Path, examples: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    agent = Agent.load(str(model))
    rows = []
    for language, expected, text in examples:
        parsed = await agent.parse_message(_plain(text))
        ranking = [r for r in parsed.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
        top = ranking[0] if ranking else parsed["intent"]
        rows.append(
            {
                "language": language,
                "text": _plain(text),
                "expected": expected,
                "top": top["name"],
                "confidence": float(top.get("confidence") or 0.0),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(HERE / "config.yml"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--work", default=".var/chatbot/cv")
    parser.add_argument("--thresholds", default="0.2,0.25,0.3")
    parser.add_argument("--augment-folded", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    seconds: list[int] = []
    files = _fold_files(work, args.folds, augment=args.augment_folded)
    for fold, (path, examples) in enumerate(files):
        start = time.monotonic()
        subprocess.run(  # noqa: S603 - rasa of this virtualenv, our own arguments
            [
                RASA,
                "train",
                "nlu",
                "--config",
                args.config,
                "--nlu",
                str(path),
                "--out",
                str(work),
                "--fixed-model-name",
                f"fold-{fold}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds.append(round(time.monotonic() - start))
        rows += asyncio.run(_score(work / f"fold-{fold}.tar.gz", examples))
    thresholds = [float(t) for t in args.thresholds.split(",")]
    report: dict[str, Any] = {"config": args.config, "folds": args.folds, "train_s": seconds}
    for language in (*LANGUAGES, "vi-plain"):
        mine = [r for r in rows if r["language"] == language]
        services = [
            r
            for r in mine
            if r["expected"].startswith("report_") and r["expected"] != "report_problem"
        ]
        figures: dict[str, Any] = {
            "examples": len(mine),
            "before_fallback": round(sum(r["top"] == r["expected"] for r in mine) / len(mine), 4),
        }
        for t in thresholds:
            right = [r["top"] == r["expected"] and r["confidence"] >= t for r in mine]
            s_right = [r["top"] == r["expected"] and r["confidence"] >= t for r in services]
            figures[f"intent@{t}"] = round(sum(right) / len(mine), 4)
            figures[f"service@{t}"] = round(sum(s_right) / len(services), 4)
        report[language] = figures
    print(json.dumps(report, indent=1))
    (work / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    errors = [r for r in rows if r["top"] != r["expected"]]
    (work / "errors.json").write_text(json.dumps(errors, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
