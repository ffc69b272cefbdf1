"""Measures trained models on the held-out examples (never trained on, never tuned on).

    .var/chatbot/venv/bin/python chatbot/assistant/evaluate.py MODEL.tar.gz [MODEL2 ...]

Two held-out sets: ``heldout/`` (the first, whose scores were seen while the training data
was written) and ``heldout-2/`` (written later, before the data was extended; Vietnamese has
only this one, written before its training data). Prints and writes (``--out``) per model,
set and language — keys ``en``, ``es`` for heldout/ and ``en-2``, ``es-2``, ``vi-2`` for
heldout-2/ —: intent accuracy, service-type accuracy (of the examples reporting a problem,
the share given the right service), and parse latency (median and p95 of
Agent.parse_message, in process). ``--min-intent-en/-es/-vi`` apply to every set of that
language."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data

HERE = Path(__file__).parent
# The project's root, from which the model's tokenizer is imported (chatbot/assistant/folding.py).
sys.path.insert(0, str(HERE.parent.parent))
LANGUAGES = ("en", "es", "vi")
SETS = {"heldout": "", "heldout-2": "-2"}  # folder: suffix of the language's key


def _examples(language: str, folder: str = "heldout") -> list[tuple[str, str]]:
    data = load_data(str(HERE / folder / f"{language}.yml"))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _service_of(parsed: dict[str, Any]) -> str | None:
    for entity in parsed.get("entities") or []:
        if entity.get("entity") == "service":
            return str(entity.get("value"))
    return None


async def _measure(
    model: str,
    *,
    design: str = "intents",
    languages: tuple[str, ...] = LANGUAGES,
    sets: tuple[str, ...] = tuple(SETS),
) -> dict[str, Any]:
    """``design="entity"``: a model with one ``report_problem`` intent and the service as an
    entity (design_variant.py); a report counts as right with the right entity value."""
    agent = Agent.load(model)
    result: dict[str, Any] = {}
    for folder, language in [(f, lang) for f in sets for lang in languages]:
        if not (HERE / folder / f"{language}.yml").exists():
            continue  # no Vietnamese in the first set
        examples = _examples(language, folder)
        await agent.parse_message("warm up")
        right = top_right = fallbacks = service_right = service_total = 0
        latencies: list[float] = []
        errors: list[dict[str, str]] = []
        for text, expected in examples:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            latencies.append((time.perf_counter() - start) * 1000)
            got = parsed["intent"]["name"]
            # The classifier's own best guess, before the FallbackClassifier's threshold.
            ranking = [r["name"] for r in parsed.get("intent_ranking") or []]
            top = next((name for name in ranking if name != "nlu_fallback"), got)
            if design == "entity" and got == "report_problem" and _service_of(parsed):
                got = f"report_{_service_of(parsed)}"
            if design == "entity" and top == "report_problem" and _service_of(parsed):
                top = f"report_{_service_of(parsed)}"
            right += got == expected
            top_right += top == expected
            fallbacks += got == "nlu_fallback"
            if expected.startswith("report_") and expected != "report_problem":
                service_total += 1
                service_right += got == expected
            if got != expected:
                errors.append({"text": text, "expected": expected, "got": got})
        result[language + SETS[folder]] = {
            "heldout": folder,
            "examples": len(examples),
            "intent_accuracy": round(right / len(examples), 4),
            "intent_accuracy_before_fallback": round(top_right / len(examples), 4),
            "fallback_rate": round(fallbacks / len(examples), 4),
            "service_examples": service_total,
            "service_accuracy": round(service_right / service_total, 4),
            "parse_ms_median": round(statistics.median(latencies), 2),
            "parse_ms_p95": round(_p95(latencies), 2),
            "errors": errors,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--out", default="")
    parser.add_argument("--design", choices=["intents", "entity"], default="intents")
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--sets", default=",".join(SETS), help="held-out folders to score")
    parser.add_argument("--min-intent-en", type=float, default=0.0)
    parser.add_argument("--min-intent-es", type=float, default=0.0)
    parser.add_argument("--min-intent-vi", type=float, default=0.0)
    args = parser.parse_args()
    languages = tuple(args.languages.split(","))
    sets = tuple(args.sets.split(","))
    report = {
        Path(m).name: asyncio.run(_measure(m, design=args.design, languages=languages, sets=sets))
        for m in args.models
    }
    for model in args.models:
        seconds = Path(model.removesuffix(".tar.gz") + ".seconds")
        if seconds.exists():
            for figures in report[Path(model).name].values():
                figures["train_seconds"] = int(seconds.read_text())
    for model, languages in report.items():
        for language, figures in languages.items():
            shown = {k: v for k, v in figures.items() if k != "errors"}
            print(model, language, json.dumps(shown))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    floors = {"en": args.min_intent_en, "es": args.min_intent_es, "vi": args.min_intent_vi}
    below = [
        f"{model} {key}: {figures['intent_accuracy']} < {floors.get(key[:2], 0.0)}"
        for model, keyed in report.items()
        for key, figures in keyed.items()
        if figures["intent_accuracy"] < floors.get(key[:2], 0.0)
    ]
    if below:
        raise SystemExit("Held-out intent accuracy below the floor: " + "; ".join(below))


if __name__ == "__main__":
    main()
