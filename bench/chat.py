"""Chatbot benchmark: the assistant's NLU parse time, a whole chat turn through
``POST /api/v1/chat/`` with the real Rasa, and the training time of both NLU pipelines.

    .venv/bin/python bench/chat.py [--conversations 30] [--train]

What it does, in order:

1. Prepares its own database, ``city311_bench_chat`` (bench/intake.py's helpers: created
   with PostGIS if missing, migrated, flushed, catalog loaded), issues the chatbot's Open311
   key (``manage.py chatbot_key``) and files one request to check the status of.
2. Starts uvicorn (one worker, DEBUG off) on a free loopback port, and the assistant's two
   processes (backend/scripts/chatbot-run.sh: Rasa with the cached model, the action server
   filing through that uvicorn) on free loopback ports. Celery tasks run eagerly in uvicorn.
3. NLU parse: the model parses the held-out examples of both sets in process
   (Agent.parse_message, chatbot/assistant/evaluate.py, warm; keys en, es and en-2, es-2,
   vi-2): median and p95. Goal p95 < 50 ms, Vietnamese's on its own too; the held-out
   accuracy (intents, services) of English, Spanish and Vietnamese is printed side by side.
4. Chat turns: ``--conversations`` conversations, one after another, each: greet, a report
   in the resident's words, the size, no contact, yes (files the request through Open311),
   and a status check. Every ``POST /api/v1/chat/`` is timed from this process (Django,
   the relay, Rasa, the action server and its calls back to the site). Goal p95 < 300 ms.
5. Gateways (bench/chat_gateways.py): the same conversations by SMS through Twilio's
   signed webhook (timed to the TwiML answer) and on WhatsApp through Meta's signed webhook
   (timed until a local fake Graph API has the reply, sent through the outbox). Goal p95
   < 400 ms each.
6. Training: the seconds chatbot/reports/nlu-evaluation.json recorded for each pipeline
   (``--train`` measures again with backend/scripts/chatbot-evaluate.sh, ~10 minutes).
7. Prints the figures and PASS/FAIL per goal, writes bench/results/chat.json. Exits 1 if a
   goal fails or a turn did not answer 200.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import chat_gateways, common  # noqa: E402  (the path is set up above)
from bench.realtime import percentile  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "chat.json"
REPORT = ROOT / "chatbot" / "reports" / "nlu-evaluation.json"
GOAL_PARSE_P95_MS = 50.0
GOAL_TURN_P95_MS = 300.0
READY_WITHIN_S = 300.0
TURNS = [
    ("greet", "hi"),
    ("report", "theres a huge hole on elm st"),
    ("attribute", "large"),
    ("contact", "no"),
    ("file", "yes"),
    ("status", "status of {public_id}"),
]


@contextmanager
def assistant(what: str, *, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "backend/scripts/chatbot-run.sh", what],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_ready(
    url: str, *, process: subprocess.Popen[bytes], log: Path, within: float = READY_WITHIN_S
) -> None:
    """Waits until ``url`` answers 200; ``SystemExit`` (with the log's tail) when ``process``
    exits first or ``within`` seconds pass. The integration test waits with it too."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: exited {process.returncode}\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} not ready in {within:.0f} s\n{log.read_text()[-3000:]}")


def nlu_parse() -> dict[str, Any]:
    model = (ROOT / ".var/chatbot/models/current").read_text().strip()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [
                str(ROOT / ".var/chatbot/venv/bin/python"),
                str(ROOT / "chatbot/assistant/evaluate.py"),
                model,
                "--out",
                out.name,
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, RASA_TELEMETRY_ENABLED="false"),
        )
        figures = next(iter(json.loads(Path(out.name).read_text()).values()))
    return {
        language: {k: v for k, v in f.items() if k.startswith("parse_") or "accuracy" in k}
        for language, f in figures.items()
    }


def accuracy_lines(parse: dict[str, Any]) -> list[str]:
    """Held-out accuracy per set, the three languages side by side."""
    lines = []
    for suffix, folder in (("", "heldout/"), ("-2", "heldout-2/")):
        cells = [
            f"{lang} {parse[lang + suffix]['intent_accuracy']:.1%} intents, "
            f"{parse[lang + suffix]['service_accuracy']:.1%} services"
            for lang in ("en", "es", "vi")
            if lang + suffix in parse
        ]
        lines.append(f"held-out accuracy ({folder}): " + " | ".join(cells))
    return lines


def turns_run(*, base_url: str, conversations: int, public_id: str) -> dict[str, Any]:
    times: dict[str, list[float]] = {kind: [] for kind, _ in TURNS}
    failures: list[str] = []
    filed = 0
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(conversations):
            conversation = None
            for kind, text in TURNS:
                body: dict[str, Any] = {"message": text.format(public_id=public_id)}
                body["language"] = "en"
                if conversation:
                    body["conversation_id"] = conversation
                start = time.perf_counter()
                response = client.post("/api/v1/chat/", json=body)
                times[kind].append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    failures.append(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
                    break
                data = response.json()
                conversation = data["conversation_id"]
                said = " ".join(r["text"] for r in data["replies"])
                filed += kind == "file" and "SR-" in said
    every = [t for values in times.values() for t in values]
    return {
        "turns": len(every),
        "filed": filed,
        "failures": failures,
        "p50_ms": round(statistics.median(every), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "max_ms": round(max(every), 1),
        "by_kind_p95_ms": {k: round(percentile(v, 95), 1) for k, v in times.items() if v},
    }


def training() -> dict[str, Any]:
    report = json.loads(REPORT.read_text())["pipelines"]
    return {
        name.removesuffix(".tar.gz"): next(iter(figures.values())).get("train_seconds")
        for name, figures in report.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--database", default="city311_bench_chat")
    parser.add_argument("--train", action="store_true", help="measure training again")
    args = parser.parse_args()

    loadavg_before = Path("/proc/loadavg").read_text().split()[:3]
    subprocess.run(["bash", "backend/scripts/chatbot-train.sh"], cwd=ROOT, check=True)
    if args.train:
        subprocess.run(["bash", "backend/scripts/chatbot-evaluate.sh"], cwd=ROOT, check=True)
    url = common.database_url(args.database)
    rasa_port, actions_port, port = common.free_port(), common.free_port(), common.free_port()
    base_url = f"http://127.0.0.1:{port}"
    graph = chat_gateways.FakeGraph().start()  # the Graph API the WhatsApp replies go to
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DEBUG="0",
        DB_POOL="0",
        CELERY_TASK_ALWAYS_EAGER="1",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        RATELIMIT_ENABLED="0",
        CHATBOT_RASA_URL=f"http://127.0.0.1:{rasa_port}",
        CHATBOT_RASA_PORT=str(rasa_port),
        CHATBOT_ACTIONS_PORT=str(actions_port),
        CHATBOT_BACKEND_URL=base_url,
        **chat_gateways.gateway_env(base_url=base_url, graph=graph),
    )
    os.environ.update(DATABASE_URL=url, DB_POOL="0", CELERY_TASK_ALWAYS_EAGER="1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    print(f"preparing database {args.database}", flush=True)
    common.database_prepare(url=url, env=env, flush=True)
    import django

    django.setup()
    from chatbot.services import chatbot_api_key_ensure

    env["CHATBOT_API_KEY"] = chatbot_api_key_ensure()
    public_id = common.request_at_city_hall(
        service_code="streetlight",
        description="Light out at the corner",
        attributes={"problem": "out"},
    )

    print("NLU parse (held-out examples, in process)", flush=True)
    parse = nlu_parse()
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp:
        logs = {name: Path(tmp) / f"{name}.log" for name in ("uvicorn", "rasa", "actions")}
        server = common.server_start(port=port, workers=1, env=env, log=logs["uvicorn"])
        try:
            with (
                assistant("actions", env=env, log=logs["actions"]) as actions,
                assistant("rasa", env=env, log=logs["rasa"]) as rasa,
            ):
                common.server_wait_ready(server=server, base_url=base_url, log=logs["uvicorn"])
                wait_ready(
                    f"http://127.0.0.1:{actions_port}/health", process=actions, log=logs["actions"]
                )
                wait_ready(
                    f"http://127.0.0.1:{rasa_port}/webhooks/rest/", process=rasa, log=logs["rasa"]
                )
                print(f"{args.conversations} conversations through /api/v1/chat/", flush=True)
                turns_run(base_url=base_url, conversations=2, public_id=public_id)  # warm-up
                turns = turns_run(
                    base_url=base_url, conversations=args.conversations, public_id=public_id
                )
                print(f"{args.conversations} conversations by SMS and WhatsApp", flush=True)
                chat_gateways.sms_run(base_url=base_url, conversations=2, first=9000)  # warm-up
                sms = chat_gateways.sms_run(base_url=base_url, conversations=args.conversations)
                whatsapp = chat_gateways.whatsapp_run(
                    base_url=base_url, graph=graph, conversations=args.conversations
                )
        finally:
            common.server_stop(server)
            graph.close()
    train = training()
    parse_p95 = max(f["parse_ms_p95"] for f in parse.values())
    goals = {
        "parse_p95": parse_p95 <= GOAL_PARSE_P95_MS,
        "vi_parse_p95": parse.get("vi-2", {}).get("parse_ms_p95", 1e9) <= GOAL_PARSE_P95_MS,
        "turn_p95": turns["p95_ms"] <= GOAL_TURN_P95_MS,
        "sms_p95": (sms["p95_ms"] or 1e9) <= chat_gateways.GOAL_P95_MS,
        "whatsapp_p95": (whatsapp["p95_ms"] or 1e9) <= chat_gateways.GOAL_P95_MS,
        "no_failures": not (turns["failures"] or sms["failures"] or whatsapp["failures"]),
    }
    result = {
        "commit": common.git("rev-parse", "--short", "HEAD"),
        "cpus": os.cpu_count(),
        "loadavg_before": loadavg_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "nlu_parse": parse,
        "chat_turns": turns,
        "sms": sms,
        "whatsapp": whatsapp,
        "train_seconds": train,
        "goals": {"parse_p95_ms": GOAL_PARSE_P95_MS, "turn_p95_ms": GOAL_TURN_P95_MS},
        "passed": goals,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for language, figures in parse.items():
        print(
            f"NLU parse {language}: median {figures['parse_ms_median']} ms, "
            f"p95 {figures['parse_ms_p95']} ms"
        )
    for line in accuracy_lines(parse):
        print(line)
    print(
        f"chat turn: p50 {turns['p50_ms']} ms, p95 {turns['p95_ms']} ms, max {turns['max_ms']} ms "
        f"over {turns['turns']} turns ({turns['filed']} requests filed)"
    )
    print(f"  p95 by turn: {turns['by_kind_p95_ms']}")
    for name, figures in (("SMS (TwiML answer)", sms), ("WhatsApp (reply at the fake)", whatsapp)):
        print(
            f"{name}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, max "
            f"{figures['max_ms']} ms over {figures['messages']} messages "
            f"({figures['replied']} answered), goal p95 < {chat_gateways.GOAL_P95_MS:.0f} ms"
        )
    print(f"training seconds: {train}")
    for failure in [*turns["failures"], *sms["failures"], *whatsapp["failures"]]:
        print("FAILED TURN", failure)
    for name, ok in goals.items():
        print(f"{name}: {'PASS' if ok else 'FAIL'}")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
