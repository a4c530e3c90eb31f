"""What the bot DOES with labelled messages, measured end to end through the Assistant.

    python -m bot.evaluate_messages eval/messages.calibrate.jsonl [--show-failures]

Each message goes to the real `Assistant` as the first message of a new user (the demo
account, its data seeded, the shipped KB indexed), as tests/conversation_helpers.py does.
What the bot did is read from its replies and the conversation it saved: the article it
answered, the flow it started and the values that flow already holds, the list it showed,
the incident it showed, a language switch (and what followed it), the menu, or "no
answer". Each line of a file: {"text", "lang", "expect": {"action": answer|flow|list|
switch_language|ask_which|no_answer|help, ...}} (eval/README.md).

Figures: the action right (for a KB action, that the KB was asked), the slots right where
slots were expected, and separately the KB's own decision (the expected article, no
answer, or a choice of articles). Only aggregates are printed; `--show-failures` lists
the wrong ones and is refused for a held-out file, whose lines are never looked at.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot import routing
from bot.boundary import ChatUser, Outcome, Refused
from bot.conversation import Assistant
from bot.flows.answers import ARTICLE
from bot.flows.engine import HELD
from bot.i18n import texts_for
from bot.settings import REPO_ROOT, Settings
from kb.evaluate import is_held_out
from kb.knowledge import KnowledgeBase
from services import demo, products
from services.catalog import normalize_serial
from services.codes import hash_code
from storage.conversations import WHICH_ARTICLE, AnswerState, FlowState, load_conversation
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import Account

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
KB_ACTIONS = frozenset({"answer", "ask_which", "no_answer"})
_NUMBER = re.compile(r"INC-(\d+)")


@dataclass
class Verdict:
    action: bool  # what the bot did is what was expected (a KB action: the KB was asked)
    slots: bool | None  # the slots the message names were filled; None: none expected
    kb: bool | None  # the KB's decision was the expected one; None: no KB action expected
    why: str = ""
    # Each slot named was filled, or refused by its validator with the reason (a serial
    # that does not fit the catalogue's pattern, a code that does not exist, a free
    # subscription): what the user sees either way is that the value was taken up.
    taken: bool | None = None


def _compact(value: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


@dataclass
class _Turn:
    outcome: Outcome
    mode: Any
    lists: list[str]
    session: Any
    account: Account | None


def observe(turn: _Turn, replies: list[Any]) -> dict[str, Any]:
    """What the bot did, from its replies and the conversation's mode."""
    texts = [getattr(reply, "text", "") or "" for reply in replies]
    choices = [choice.value for reply in replies for choice in reply.choices]
    mode = turn.mode
    if isinstance(mode, FlowState):
        # A value the flow holds for a later step (a code before its product) is taken.
        held = mode.values.get(HELD) or {}
        values = {k: v for k, v in mode.values.items() if k != HELD}
        return {"action": "flow", "flow": mode.flow, "values": {**held, **values}}
    if turn.lists:
        return {"action": "list", "what": turn.lists[0]}
    if isinstance(mode, AnswerState) and mode.slug:
        return {"action": "kb", "slug": mode.slug}
    if isinstance(mode, AnswerState) and mode.awaiting == WHICH_ARTICLE:
        return {"action": "kb", "slug": None, "which": True}
    if isinstance(mode, AnswerState) or any(c.startswith(ARTICLE) for c in choices):
        shown = [c for c in choices if c.startswith(ARTICLE)]
        return {"action": "kb", "slug": None, "offered": len(shown)}
    numbers = {int(n) for text in texts for n in _NUMBER.findall(text)}
    if numbers:
        return {"action": "incident", "numbers": numbers}
    if "flow:register_product" in choices:
        return {"action": "help"}
    return {"action": "other"}


def did(turn: _Turn) -> dict[str, Any]:
    replies = list(turn.outcome.replies)
    lang = turn.outcome.lang
    switched = texts_for(lang).render("language_switched.j2").strip()
    for at, reply in enumerate(replies):
        if (getattr(reply, "text", "") or "").strip() == switched:
            rest = replies[at + 1 :]
            then = observe(turn, rest)
            out: dict[str, Any] = {"action": "switch_language", "lang": lang}
            if then["action"] != "help":  # the menu after a bare switch
                out["then"] = then
            return out
    return observe(turn, replies)


def judge(expect: dict[str, Any], got: dict[str, Any], turn: _Turn) -> Verdict:
    wanted = expect["action"]
    if wanted in KB_ACTIONS:
        if got["action"] != "kb":
            return Verdict(False, None, False, f"did {got['action']}, not the KB")
        slug = got.get("slug")
        if wanted == "answer":
            right = slug == expect.get("slug")
        elif wanted == "no_answer":
            right = slug is None and not got.get("which")
        else:  # "Do you mean … or …?" asked, not merely the closest articles offered
            right = bool(got.get("which"))
        return Verdict(True, None, right, "" if right else f"KB gave {slug}")
    if wanted == "switch_language":
        if got["action"] != "switch_language" or got["lang"] != expect["lang"]:
            return Verdict(False, None, None, f"did {got['action']} {got.get('lang')}")
        if "then" not in expect:
            return Verdict("then" not in got, None, None, "then: " + str(got.get("then")))
        if "then" not in got:
            return Verdict(False, None, None, "then missing")
        inner = judge(expect["then"], got["then"], turn)
        return replace(inner, why="then: " + inner.why)
    if wanted == "flow" and expect["flow"] == "check_incident":
        number = (expect.get("slots") or {}).get("incident_number")
        if number is not None:
            right = got["action"] == "incident" and int(number) in got["numbers"]
            return Verdict(right, None, None, "" if right else f"did {got['action']}")
    if wanted != got["action"]:
        return Verdict(False, None, None, f"did {got['action']}")
    if wanted == "list":
        right = expect["what"] == got["what"]
        return Verdict(right, None, None, "" if right else f"list {got['what']}")
    if wanted == "flow":
        if expect["flow"] != got["flow"]:
            return Verdict(False, None, None, f"flow {got['flow']}")
        slots = expect.get("slots") or {}
        if not slots:
            return Verdict(True, None, None)
        wrong = [n for n, v in slots.items() if not _slot_right(n, v, got["values"], turn)]
        refusals = sum(isinstance(reply, Refused) for reply in turn.outcome.replies)
        why = "slots " + ",".join(wrong) if wrong else ""
        return Verdict(True, not wrong, None, why, taken=refusals >= len(wrong))
    return Verdict(True, None, None)


def _slot_right(name: str, expected: Any, values: dict[str, Any], turn: _Turn) -> bool:
    if name == "summary_contains":
        return str(expected).lower() in str(values.get("summary", "")).lower()
    if name == "product":
        serial = values.get("product")
        if serial is None or turn.account is None:
            return False
        product = products.get_product(turn.session, turn.account, str(serial))
        return _compact(product.model).startswith(_compact(expected))
    got = values.get(name)
    if got is None:
        return False
    if name == "serial":
        return normalize_serial(str(got)) == normalize_serial(str(expected))
    if name == "code":
        # A conversation keeps the code sealed (its keyed hash): compare hashes.
        return hash_code(turn.session, str(got)) == hash_code(turn.session, str(expected))
    return _compact(got) == _compact(expected)


@contextmanager
def _recording_lists() -> Iterator[list[str]]:
    """Which list the routing showed: its list functions, wrapped for the measure."""
    shown: list[str] = []
    original = dict(routing.LISTS)

    def wrap(name: str, show: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(ctx: Any) -> Any:
            shown.append(name)
            return show(ctx)

        return recorded

    for name, show in original.items():
        routing.LISTS[name] = wrap(name, show)
    try:
        yield shown
    finally:
        routing.LISTS.update(original)


def read_cases(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def evaluate(cases: list[dict[str, Any]], *, work: Path) -> list[tuple[dict[str, Any], Verdict]]:
    template = work / "template.db"
    upgrade(f"sqlite:///{template}")
    engine = make_engine(f"sqlite:///{template}")
    with make_session_factory(engine).begin() as session:
        demo.seed(session, today=NOW.date())
    engine.dispose()
    kb = KnowledgeBase.open(REPO_ROOT / "kb" / "articles", work / "index")
    base = Settings.from_env()
    results = []
    try:
        for number, case in enumerate(cases):
            db = work / f"case-{number}.db"
            shutil.copy(template, db)
            url = f"sqlite:///{db}"
            settings = replace(base, database_url=url, data_dir=work)
            engine = make_engine(url)
            factory = make_session_factory(engine)
            assistant = Assistant(factory, settings, kb, clock=lambda: NOW)
            who = ChatUser(
                "T1", "U1", "D1", email=demo.DEMO_EMAIL, name=demo.DEMO_NAME,
                tz="Europe/Paris", locale=case.get("lang"),
            )  # fmt: skip
            with _recording_lists() as lists:
                outcome = assistant.handle(who, case["text"], now=NOW)
            with factory() as session:
                record = load_conversation(session, "T1", "U1", "D1", now=NOW)
                account = session.query(Account).filter_by(email=demo.DEMO_EMAIL).one_or_none()
                turn = _Turn(outcome, record.mode, list(lists), session, account)
                results.append((case, judge(case["expect"], did(turn), turn)))
            engine.dispose()
            db.unlink()
    finally:
        kb.close()
    return results


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% ({part}/{whole})" if whole else "n/a"


def report(results: list[tuple[dict[str, Any], Verdict]]) -> dict[str, str]:
    total = len(results)
    kb_cases = [v for c, v in results if c["expect"]["action"] in KB_ACTIONS]
    slot_cases = [v for _, v in results if v.slots is not None]
    return {
        "messages": str(total),
        "action right": _pct(sum(v.action for _, v in results), total),
        "action right and slots right": _pct(
            sum(v.action and v.slots is not False for _, v in results), total
        ),
        "slots right (where expected)": _pct(
            sum(bool(v.slots) for v in slot_cases), len(slot_cases)
        ),
        "slots filled or refused with the reason": _pct(
            sum(bool(v.taken) for v in slot_cases), len(slot_cases)
        ),
        "KB asked (KB expected)": _pct(sum(v.action for v in kb_cases), len(kb_cases)),
        "KB decision right (slug / no answer / which)": _pct(
            sum(bool(v.kb) for v in kb_cases), len(kb_cases)
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args(argv)
    if args.show_failures and is_held_out(args.file):
        print("failures of a held-out file are never shown", file=sys.stderr)
        return 2
    cases = read_cases(args.file)
    with tempfile.TemporaryDirectory(prefix="helpdesk-eval-") as tmp:
        results = evaluate(cases, work=Path(tmp))
    for name, figure in report(results).items():
        print(f"{name}: {figure}")
    if args.show_failures:
        for case, verdict in results:
            if not verdict.action or verdict.slots is False or verdict.kb is False:
                print(f"- {case['text']!r}: {verdict.why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
