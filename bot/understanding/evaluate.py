"""Score readings against messages labelled with what the bot should do.

    python -m bot.understanding.evaluate eval/messages.calibrate.jsonl [--baseline]
        [--today 2026-11-29] [--encoder module:factory] [--failures] [--json]

Each line of a file: {"text", "lang", "expect": {"action": answer|flow|list|
switch_language|ask_which|no_answer|help, ...}} (see eval/README.md). What a reading says
the bot should do is derived as the routing would (reading.py's docstring): a question
goes to the knowledge base, so it is right for "answer", "ask_which" and "no_answer"
alike (which article, whether to ask which, and whether to answer at all are the KB's
decisions, scored by kb.evaluate); a flow must be the expected one, and each slot the
message fills must hold the expected value; a language switch must name the language and,
when the message asks something else too, that must be right as well.

The product catalogue and subscriptions are the demo data's (services/demo.py).
`--baseline` reads with the rules of bot.nlu.understand instead, for comparison.
`--failures` lists the messages read wrong — refused for a held-out file, whose lines
are never looked at one by one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.nlu import Intent, understand
from bot.understanding.intents import Encoder
from bot.understanding.reading import LISTS, Reading, read
from bot.understanding.values import IncidentRef, Values, compact, normalize_identifier
from kb.evaluate import is_held_out

FLOW_NAMES = {
    Intent.REGISTER_PRODUCT: "register_product",
    Intent.ACTIVATE_SERVICE: "activate_service",
    Intent.FILE_INCIDENT: "file_incident",
    Intent.CHECK_INCIDENT: "check_incident",
    Intent.REOPEN_INCIDENT: "reopen_incident",
    Intent.ANSWER_INCIDENT: "answer_incident",
}
LIST_NAMES = {
    Intent.LIST_PRODUCTS: "products",
    Intent.LIST_SERVICES: "services",
    Intent.LIST_INCIDENTS: "incidents",
    Intent.LIST_SUBSCRIPTIONS: "subscriptions",
}
KB_ACTIONS = frozenset({"answer", "ask_which", "no_answer"})

Reader = Callable[[str], Reading]


def action_of(reading: Reading) -> dict[str, Any]:
    """What the bot does with a message read so, outside a flow."""
    if reading.lang_switch is not None:
        then = reading.then
        out: dict[str, Any] = {"action": "switch_language", "lang": reading.lang_switch}
        if then is not None:
            out["then"] = action_of(then)
        return out
    intent = reading.intent
    if intent is None or intent in (Intent.HELP, Intent.GREETING):
        return {"action": "help"}
    if intent is Intent.QUESTION:
        return {"action": "kb"}
    if intent in LISTS:
        return {"action": "list", "what": LIST_NAMES[intent]}
    if intent in FLOW_NAMES:
        return {"action": "flow", "flow": FLOW_NAMES[intent], "values": reading.values}
    return {"action": str(intent)}


@dataclass
class Verdict:
    action: bool
    slots: bool | None  # None when no slot was expected
    why: str = ""


def judge(expect: dict[str, Any], got: dict[str, Any]) -> Verdict:
    wanted = expect["action"]
    if wanted in KB_ACTIONS:
        return Verdict(got["action"] == "kb", None, "" if got["action"] == "kb" else "not KB")
    if wanted != got["action"]:
        return Verdict(False, None, f"action {got['action']}")
    if wanted == "list":
        return Verdict(expect["what"] == got["what"], None, f"list {got['what']}")
    if wanted == "switch_language":
        if expect["lang"] != got["lang"]:
            return Verdict(False, None, f"lang {got['lang']}")
        if "then" in expect:
            if "then" not in got:
                return Verdict(False, None, "then missing")
            inner = judge(expect["then"], got["then"])
            return Verdict(inner.action, inner.slots, "then: " + inner.why)
        return Verdict("then" not in got, None, "unexpected then")
    if wanted == "flow":
        if expect["flow"] != got["flow"]:
            return Verdict(False, None, f"flow {got['flow']}")
        slots = expect.get("slots") or {}
        if not slots:
            return Verdict(True, None)
        wrong = [
            name for name, value in slots.items() if not slot_right(name, value, got["values"])
        ]
        return Verdict(True, not wrong, "slots " + ",".join(wrong) if wrong else "")
    return Verdict(True, None)


def slot_right(name: str, expected: Any, values: Values) -> bool:
    if name == "model" or name == "product":
        mention = values.model
        return mention is not None and compact(str(expected)) in {
            compact(mention.text),
            compact(mention.model or ""),
        }
    if name in ("serial", "code"):
        found = getattr(values, name) or values.identifier
        return found == normalize_identifier(str(expected))
    if name in ("purchase_date", "service_purchase_date"):
        return values.date is not None and values.date.isoformat() == expected
    if name == "incident_number":
        return values.incident is not None and values.incident.number == int(expected)
    if name == "subscription":
        return (values.subscription or "").casefold() == str(expected).casefold()
    if name == "summary_contains":
        return str(expected).casefold() in (values.summary or "").casefold()
    if name == "postal_code":
        return values.postal_code == str(expected).upper()
    raise ValueError(f"unknown slot in the evaluation file: {name}")


def baseline(text: str) -> Reading:
    """A reading made of what bot.nlu.understand says (the rules before this package)."""
    understood = understand(text)
    values = Values(
        incident=IncidentRef(understood.incident_number, "", "nlu")
        if understood.incident_number is not None
        else None
    )
    kind = "question" if understood.intent is Intent.QUESTION else "request"
    return Reading(text, None, (understood.intent,), kind, values, understood.lang)


def evaluate(path: Path, reader: Reader) -> tuple[list[dict[str, Any]], list[float]]:
    rows, times = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        started = time.perf_counter()
        reading = reader(item["text"])
        times.append(time.perf_counter() - started)
        verdict = judge(item["expect"], action_of(reading))
        rows.append({"item": item, "reading": reading, "verdict": verdict})
    return rows, times


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    right = sum(r["verdict"].action for r in rows)
    with_slots = [r for r in rows if r["verdict"].slots is not None]
    slots_right = sum(bool(r["verdict"].slots) for r in with_slots)
    both = sum(r["verdict"].action and r["verdict"].slots is not False for r in rows)
    return {
        "messages": n,
        "action_right": right,
        "action_right_pct": round(100 * right / n, 1) if n else 0.0,
        "slots_checked": len(with_slots),
        "slots_right": slots_right,
        "action_and_slots_right_pct": round(100 * both / n, 1) if n else 0.0,
    }


def load_encoder(spec: str) -> Encoder:
    """ "package.module:name" → the encoder it names (called when it is a factory)."""
    module, _, name = spec.partition(":")
    found = getattr(importlib.import_module(module), name)
    return found() if isinstance(found, type) or not hasattr(found, "embed_queries") else found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.understanding.evaluate")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--baseline", action="store_true", help="read with bot.nlu.understand")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--encoder", help="module:attribute of an encoder (or its factory)")
    parser.add_argument("--failures", action="store_true", help="list wrong readings")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    from services.demo import MODELS, SUBSCRIPTIONS

    models = [m.model for m in MODELS]
    names = [s[0] for s in SUBSCRIPTIONS]
    encoder = load_encoder(args.encoder) if args.encoder else None

    def ours(text: str) -> Reading:
        return read(
            text,
            today=args.today,
            catalogue_models=models,
            subscriptions=names,
            encoder=encoder,
        )

    reader: Reader = baseline if args.baseline else ours
    figures = {}
    for path in args.files:
        if args.failures and is_held_out(path):
            print(f"{path}: held out, its failures are not shown", file=sys.stderr)
            return 2
        rows, _ = evaluate(path, reader)
        figures[str(path)] = summary(rows)
        if not args.json:
            f = figures[str(path)]
            print(
                f"{path}: {f['messages']} messages, action right {f['action_right']}"
                f" ({f['action_right_pct']} %), slots right {f['slots_right']}/"
                f"{f['slots_checked']}, action and slots right {f['action_and_slots_right_pct']} %"
            )
        if args.failures:
            for row in rows:
                verdict, reading = row["verdict"], row["reading"]
                if not verdict.action or verdict.slots is False:
                    print(
                        f"  ✗ {row['item']['text']!r}: want {row['item']['expect']}, "
                        f"read {[str(a) for a in reading.asks]} {reading.kind} "
                        f"{reading.values.slots()} ({verdict.why}) {reading.scores}"
                    )
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
