"""The flow engine: a flow is ordered slots plus small step functions, found by name.

A flow module defines, for a slot stored under `key`:
  - `validate_<key>(ctx, value)` → the value to keep, or raises `Invalid` / a Refusal;
  - `choices_<key>(ctx)` → the choices offered (choice slots);
  - `prefer_<key>(ctx, text)` → the value the text names in its own right, before the
    slot's kind reads it (an incident number "2" is not the second choice; "yes" confirms
    the date already recorded for a code), or None;
  - `prompt_<key>(ctx)` → extra template context for the question;
  - `on_start(ctx)` → replies that end the flow before it starts (nothing to do), or None;
  - `on_confirm(ctx)` → the action, run when the user says yes to the `confirm` slot. It
    calls the services in the caller's transaction: nothing is written before that;
  - `on_complete(ctx)` → for a look-up with no confirm slot: the answer, once all is known.
The question is the template `flows/<flow>/ask_<key>.j2`, else `flows/ask_<key>.j2`; the
help for a slot is `flows/help_<key>.j2` when there is one.

The engine never touches the database row itself: `bot.conversation` loads the state,
runs one step and saves it, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.dates import parse_date
from bot.i18n import Texts, shorten
from bot.nlu import normalize, parse_yes_no
from bot.settings import Settings
from services.errors import N_, Refusal
from storage.models import Account

TEXT = "text"
CHOICE = "choice"
YESNO = "yesno"
DATE = "date"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "label": self.label}


@dataclass
class Reply:
    """One message of the bot: text, optional choices, optional structure (list items)."""

    text: str
    choices: list[Choice] = field(default_factory=list)
    items: list[dict[str, Any]] | None = None  # for channels that lay lists out as tables

    def to_json(self) -> dict[str, Any]:
        # Exactly the documented shape: automation reads {"text", "choices"} and nothing else.
        return {"text": self.text, "choices": [c.to_json() for c in self.choices]}


@dataclass(frozen=True)
class ChatUser:
    """Who is talking, as a channel sees them (Slack profile, console options)."""

    workspace_id: str
    user_id: str
    thread_key: str
    email: str | None = None
    name: str | None = None
    tz: str | None = None
    locale: str | None = None


class Invalid(Exception):
    """An answer the bot cannot use: an English N_() template and its parameters."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class KnowledgeBaseLike(Protocol):
    def ask(self, question: str, lang: str | None = None) -> Any: ...

    def article(self, slug: str, lang: str) -> Any: ...


@dataclass
class FlowContext:
    session: Session
    texts: Texts
    user: ChatUser
    settings: Settings
    now: dt.datetime
    account: Account | None
    values: dict[str, Any]
    run_id: str = ""  # unique per flow run: the idempotency key of its side effect
    kb: KnowledgeBaseLike | None = None

    @property
    def today(self) -> dt.date:
        """The user's local date: a purchase made today over there is not in the future."""
        return self.now.astimezone(self.texts.zone).date()

    def date(self, key: str) -> dt.date | None:
        value = self.values.get(key)
        return dt.date.fromisoformat(value) if isinstance(value, str) else None

    def _(self, message: str, **params: Any) -> str:
        return self.texts.gettext(message, **params)


@dataclass(frozen=True)
class Slot:
    name: str  # what the user is asked for: `waiting_for`
    kind: str = TEXT
    key: str = ""  # where the value is kept, when two slots share a name (account/site country)
    needed: Callable[[FlowContext], bool] | None = None

    @property
    def store(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class Flow:
    name: str
    title: str  # N_() English, e.g. "registering a product": used in "your request (…)"
    slots: tuple[Slot, ...]
    module: ModuleType

    def hook(self, prefix: str, key: str) -> Callable[..., Any] | None:
        return getattr(self.module, f"{prefix}_{key}", None)

    def pending(self, ctx: FlowContext) -> Slot | None:
        for slot in self.slots:
            if slot.store in ctx.values:
                continue
            if slot.needed is None or slot.needed(ctx):
                return slot
        return None


@dataclass
class Step:
    replies: list[Reply]
    waiting_for: Slot | None  # None: the flow is over
    values: dict[str, Any]
    history: list[str]

    @property
    def done(self) -> bool:
        return self.waiting_for is None


def yes_no_choices(ctx: FlowContext) -> list[Choice]:
    return [Choice("yes", ctx._(N_("Yes"))), Choice("no", ctx._(N_("No")))]


def choices_for(flow: Flow, ctx: FlowContext, slot: Slot) -> list[Choice]:
    if slot.kind == YESNO:
        return yes_no_choices(ctx)
    hook = flow.hook("choices", slot.store)
    return list(hook(ctx)) if hook else []


def prompt(flow: Flow, ctx: FlowContext, slot: Slot) -> Reply:
    context: dict[str, Any] = {"values": ctx.values}
    extra = flow.hook("prompt", slot.store)
    if extra is not None:
        context.update(extra(ctx))
    specific = f"flows/{flow.name}/ask_{slot.store}.j2"
    template = specific if ctx.texts.has_template(specific) else f"flows/ask_{slot.store}.j2"
    return Reply(ctx.texts.render(template, **context), choices_for(flow, ctx, slot))


def help_for(flow: Flow, ctx: FlowContext, slot: Slot) -> list[Reply]:
    replies = []
    for template in dict.fromkeys((f"flows/help_{slot.store}.j2", f"flows/help_{slot.name}.j2")):
        if ctx.texts.has_template(template):
            replies.append(Reply(ctx.texts.render(template)))
            break
    replies.append(
        Reply(
            ctx._(
                N_(
                    "You can answer the question below, say “back” to change your previous "
                    "answer, or “cancel” to stop (nothing is saved until you confirm)."
                )
            )
        )
    )
    replies.append(prompt(flow, ctx, slot))
    return replies


# Words around a choice that do not pick it: "the DXS", "le DNS-340L", "my Nuclias".
_FILLER = frozenset(
    [
        "the",
        "my",
        "a",
        "an",
        "this",
        "that",
        "le",
        "la",
        "les",
        "l",
        "mon",
        "ma",
        "mes",
        "un",
        "une",
        "du",
        "de",
        "des",
        "ce",
        "cet",
        "cette",
    ]
)


def match_choice(text: str, choices: list[Choice], *, loose: bool = True) -> Choice | None:
    """The number, the value or the label of a choice (typos tolerated, "the"/"le" ignored;
    `loose`: some of a label's words in any order); None if unclear."""
    raw = text.strip()
    for choice in choices:
        if raw == choice.value:  # a site's id is a value before it is a position
            return choice
    if raw.isdigit() and 1 <= int(raw) <= len(choices):
        return choices[int(raw) - 1]
    wanted = normalize(raw).replace("?", "").strip()
    if not wanted:
        return None
    for choice in choices:
        if wanted in (normalize(choice.value), normalize(choice.label)):
            return choice
    words = [word for word in wanted.split() if word not in _FILLER] or wanted.split()
    wanted = " ".join(words)
    for choice in choices:
        if wanted in (normalize(choice.value), normalize(choice.label)):
            return choice
    labels = {normalize(choice.label): choice for choice in choices}
    close = difflib.get_close_matches(wanted, list(labels), n=2, cutoff=0.85)
    if len(close) == 1:
        return labels[close[0]]
    containing = [c for c in choices if len(wanted) >= 3 and wanted in normalize(c.label)]
    if len(containing) == 1:
        return containing[0]
    if not loose or sum(len(word) for word in words) < 3:
        return None
    # "nuclias pro" for "Nuclias Cloud Pro": every word the user wrote is in one label only.
    with_words = [
        c for c in choices if _has_words(words, normalize(f"{c.value} {c.label}").split())
    ]
    return with_words[0] if len(with_words) == 1 else None


def _has_words(words: list[str], label: list[str]) -> bool:
    return all(
        word in label or (len(word) >= 3 and any(tok.startswith(word) for tok in label))
        for word in words
    )


def _parse(flow: Flow, ctx: FlowContext, slot: Slot, text: str) -> Any:
    raw = text.strip()
    if not raw:
        raise Invalid(N_("I did not get an answer."))
    validate = flow.hook("validate", slot.store)
    prefer = flow.hook("prefer", slot.store)
    preferred = prefer(ctx, raw) if prefer is not None else None
    if preferred is not None:
        value: Any = preferred
    elif slot.kind == YESNO:
        picked = match_choice(raw, yes_no_choices(ctx)) if raw.isdigit() else None
        value = picked.value == "yes" if picked else parse_yes_no(raw)
        if value is None:
            raise Invalid(N_("Please answer yes or no."))
    elif slot.kind == DATE:
        value = parse_date(raw, ctx.today)
        if value is None:
            raise Invalid(
                N_("I did not recognise that date. Write it like {example1} or {example2}."),
                example1="23/11/2026",
                example2=ctx.texts.date(dt.date(2026, 11, 23)),
            )
    elif slot.kind == CHOICE:
        chosen = match_choice(raw, choices_for(flow, ctx, slot))
        value = chosen.value if chosen else raw
        if chosen is None and validate is None:
            raise Invalid(N_("Please pick one of the choices (its number or its name)."))
    else:
        value = raw
    if validate is not None:
        value = validate(ctx, value)
    if isinstance(value, dt.date):
        value = value.isoformat()
    return value


def error_text(ctx: FlowContext, err: Invalid | Refusal) -> str:
    if isinstance(err, Refusal):
        return ctx.texts.refusal(err)
    params = {key: _shown(ctx, value) for key, value in err.params.items()}
    return ctx.texts.gettext(err.message).format(**params)


def _shown(ctx: FlowContext, value: Any) -> Any:
    """A parameter of an answer's refusal, as the user reads it."""
    if isinstance(value, dt.date):
        return ctx.texts.date(value)
    return shorten(value) if isinstance(value, str) else value


def begin(flow: Flow, ctx: FlowContext) -> Step:
    on_start = getattr(flow.module, "on_start", None)
    if on_start is not None:
        stop = on_start(ctx)
        if stop:
            return Step(list(stop), None, ctx.values, [])
    return _ask_next(flow, ctx, [], [])


def _ask_next(flow: Flow, ctx: FlowContext, replies: list[Reply], history: list[str]) -> Step:
    slot = flow.pending(ctx)
    if slot is None:  # a flow without a confirm step (a look-up) ends when it has its answers
        return Step([*replies, *flow.module.on_complete(ctx)], None, {}, [])
    return Step([*replies, prompt(flow, ctx, slot)], slot, ctx.values, history)


def answer(flow: Flow, ctx: FlowContext, history: list[str], text: str) -> Step:
    """The user's answer to the pending slot: kept, refused with the reason, or confirmed."""
    slot = flow.pending(ctx)
    if slot is None:
        raise RuntimeError(f"flow {flow.name} has nothing pending")
    try:
        value = _parse(flow, ctx, slot, text)
    except (Invalid, Refusal) as err:
        return Step(
            [Reply(error_text(ctx, err)), prompt(flow, ctx, slot)], slot, ctx.values, history
        )
    if slot.store == "confirm":
        if not value:
            return Step(
                [Reply(ctx._(N_("All right, I cancelled it. Nothing was saved.")))], None, {}, []
            )
        try:
            # A savepoint: a refusal at the last moment (a code used meanwhile) undoes the
            # account or site created on the way, and the conversation is still saved.
            with ctx.session.begin_nested():
                done = list(flow.module.on_confirm(ctx))
        except Refusal as err:
            nothing = ctx._(N_("Nothing was saved."))
            return Step([Reply(f"{error_text(ctx, err)} {nothing}")], None, {}, [])
        return Step(done, None, {}, [])
    ctx.values = {**ctx.values, slot.store: value}
    return _ask_next(flow, ctx, [], [*history, slot.store])


def back(flow: Flow, ctx: FlowContext, history: list[str]) -> Step:
    if not history:
        first = ctx._(N_("This is the first question; there is nothing to go back to."))
        return _ask_next(flow, ctx, [Reply(first)], history)
    last = history[-1]
    ctx.values = {k: v for k, v in ctx.values.items() if k != last}
    return _ask_next(flow, ctx, [], history[:-1])


def reask(
    flow: Flow, ctx: FlowContext, history: list[str], before: list[Reply] | None = None
) -> Step:
    return _ask_next(flow, ctx, list(before or []), history)
