"""The flow engine: a flow is data — ordered slots with their hooks — plus small functions.

A `Slot` carries what the engine needs to ask for it and read the answer, as attributes
(a misspelt hook is a NameError at import, not a silent no-op):
  - `validate(ctx, value)` → the value to keep, or raises `Invalid` / a Refusal;
  - `choices(ctx)` → the choices offered (choice slots);
  - `prefer(ctx, text)` → the value the text names in its own right, before the slot's
    kind reads it (an incident number "2" is not the second choice; "yes" confirms the
    date already recorded for a code), or None;
  - `prompt(ctx)` → extra template context for the question;
  - `summary(ctx)` → the confirmation's fields (the confirm slot);
  - `initial(ctx)` → the value a form shows first;
  - `hold(ctx, text)` → how a value named before its step (a code given with no product
    yet) is kept until its step comes: a secret one sealed, never in full;
and its traits: how a typed answer is read (`answer`: WORDS, FREE — short free text,
OPEN — the user's own words, IDENTIFIER — a serial or a code copied from a label),
`secret` (never echoed nor kept in a history), `search` (a long list), `numbered` (a
number picks an option by position), `widget` (multiline text, a checkbox),
`not_after_today` (a date bound), `ends` (refusals there that end the flow),
`requires` (the slots its value is checked against) and `shown_when` (a (slot, value)
pair: asked only when that slot has that value).

A `Flow` has its slots and its actions: `on_start(ctx)` → replies that end the flow before
it starts (nothing to do), or None; `on_confirm(ctx)` → run when the user says yes to the
`confirm` slot, in the caller's transaction (nothing is written before that);
`on_complete(ctx)` → for a look-up with no confirm slot, the answer once all is known.

The question is the template `flows/<flow>/ask_<key>.j2`, else `flows/ask_<key>.j2`; the
help for a slot is `flows/help_<key>.j2` when there is one.

The engine never touches the database row itself: `bot.conversation` loads the state,
runs one step and saves it, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.dates import parse_date
from bot.i18n import Texts, shorten
from bot.media import mark, unmark
from bot.metrics import FLOWS_COMPLETED
from bot.nlu import normalize, parse_yes_no
from bot.replies import (
    CHECKBOX,
    CHOICE,
    CONFIRM,
    DATE,
    KINDS,
    LABEL_MAX,
    MULTILINE,
    TEXT,
    WIDGETS,
    YESNO,
    ArticleAnswer,
    ChatUser,
    Choice,
    Confirmation,
    Field,
    IncidentItem,
    ItemList,
    ProductItem,
    Prompt,
    Refused,
    Reply,
    ServiceItem,
)
from bot.settings import Settings
from services.das import mask_code
from services.errors import N_, Refusal
from storage.models import Account

__all__ = [
    "CHECKBOX",
    "CHOICE",
    "CONFIRM",
    "DATE",
    "KINDS",
    "LABEL_MAX",
    "MULTILINE",
    "TEXT",
    "YESNO",
    "ArticleAnswer",
    "ChatUser",
    "Choice",
    "Confirmation",
    "Field",
    "IncidentItem",
    "ItemList",
    "ProductItem",
    "Prompt",
    "Refused",
    "Reply",
    "ServiceItem",
]

# How a typed answer is read (Slot.answer).
WORDS = "words"  # anything: a request or a question is understood as such
FREE = "free"  # short free text (a name, a street): a question is answered, nothing else
OPEN = "open"  # the user's own words (a summary, a description): only commands count
IDENTIFIER = "identifier"  # a serial or a code: never mistaken for an incident number


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
    # What the message also asked for (a command, "flow:…" or "list:…"), offered once
    # this flow is done: "register my switch and activate a code".
    then: str | None = None

    @property
    def today(self) -> dt.date:
        """The user's local date: a purchase made today over there is not in the future."""
        return self.now.astimezone(self.texts.zone).date()

    def date(self, key: str) -> dt.date | None:
        value = self.values.get(key)
        return dt.date.fromisoformat(value) if isinstance(value, str) else None

    def _(self, message: str, **params: Any) -> str:
        return self.texts.gettext(message, **params)


Hook = Callable[..., Any]


@dataclass(frozen=True)
class Slot:
    name: str  # what the user is asked for: `waiting_for`
    kind: str = TEXT
    key: str = ""  # where the value is kept, when two slots share a name (account/site country)
    label: str = ""  # N_(): the field's name in a form
    needed: Callable[[FlowContext], bool] | None = None  # asked only when this says so
    shown_when: tuple[str, str] | None = None  # asked only when that slot has that value
    requires: tuple[str, ...] = ()  # the slots this one's value is checked against
    validate: Hook | None = None
    choices: Callable[[FlowContext], list[Choice]] | None = None
    prefer: Hook | None = None
    prompt: Callable[[FlowContext], dict[str, Any]] | None = None
    summary: Callable[[FlowContext], list[Field]] | None = None
    initial: Callable[[FlowContext], str | None] | None = None
    hold: Hook | None = None
    # How a value is read back in "I noted: …" when it is not what the user knows it by
    # (a product's serial: its model and serial).
    noted: Callable[[FlowContext, str], str] | None = None
    answer: str = WORDS
    secret: bool = False
    search: bool = False
    numbered: bool = True
    widget: str | None = None
    optional: bool = False  # a form may leave it empty (a default is taken)
    not_after_today: bool = False
    # Refusals at this step that end the flow (terms declined, too many wrong codes): asking
    # again would loop, or ask for what cannot be accepted.
    ends: tuple[type[Refusal], ...] = ()
    # Refusals that blame what this value was checked against, not the value (a code for
    # another model): the value is held and that step asked again.
    blames: tuple[type[Refusal], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"slot {self.name}: unknown kind {self.kind!r}")
        if self.widget is not None and self.widget not in WIDGETS:
            raise ValueError(f"slot {self.name}: unknown widget {self.widget!r}")
        if self.answer not in (WORDS, FREE, OPEN, IDENTIFIER):
            raise ValueError(f"slot {self.name}: unknown answer trait {self.answer!r}")

    @property
    def store(self) -> str:
        return self.key or self.name

    def is_needed(self, ctx: FlowContext) -> bool:
        if self.shown_when is not None:
            other, value = self.shown_when
            if ctx.values.get(other) != value:
                return False
        return self.needed is None or self.needed(ctx)


@dataclass(frozen=True)
class Flow:
    name: str
    title: str  # N_() English, e.g. "registering a product": used in "your request (…)"
    label: str  # N_() English, e.g. "Register a product": a button, a form's title
    slots: tuple[Slot, ...]
    on_start: Callable[[FlowContext], list[Reply] | None] | None = None
    on_confirm: Callable[[FlowContext], list[Reply]] | None = None
    on_complete: Callable[[FlowContext], list[Reply]] | None = None
    form: bool = True  # whether a channel may offer it as one form

    def __post_init__(self) -> None:
        keys = [slot.store for slot in self.slots]
        if len(set(keys)) != len(keys):
            raise ValueError(f"flow {self.name}: two slots share a key")
        confirms = [slot for slot in self.slots if slot.kind == CONFIRM]
        if confirms and (self.on_confirm is None or confirms[-1] is not self.slots[-1]):
            raise ValueError(f"flow {self.name}: a confirm slot comes last, with on_confirm")
        if not confirms and self.on_complete is None:
            raise ValueError(f"flow {self.name}: a flow without confirm needs on_complete")
        for slot in self.slots:
            if slot.kind == CHOICE and slot.choices is None:
                raise ValueError(f"flow {self.name}: choice slot {slot.name} has no choices")
            for other in (*slot.requires, *(slot.shown_when or ())[:1]):
                if other not in keys[: keys.index(slot.store)]:
                    raise ValueError(f"flow {self.name}: {slot.name} depends on a later slot")

    def slot(self, key: str) -> Slot | None:
        return next((slot for slot in self.slots if slot.store == key), None)

    def pending(self, ctx: FlowContext) -> Slot | None:
        for slot in self.slots:
            if slot.store in ctx.values:
                continue
            if slot.is_needed(ctx):
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


# Between the values of "I noted: …": French typography spaces the semicolon.
VALUE_SEPARATOR = N_("; ")


def yes_no_choices(ctx: FlowContext) -> list[Choice]:
    return [Choice("yes", ctx._(N_("Yes"))), Choice("no", ctx._(N_("No")))]


def choices_for(ctx: FlowContext, slot: Slot) -> list[Choice]:
    if slot.kind in (YESNO, CONFIRM):
        return yes_no_choices(ctx)
    return list(slot.choices(ctx)) if slot.choices else []


def prompt(flow: Flow, ctx: FlowContext, slot: Slot) -> Prompt:
    context: dict[str, Any] = {"values": ctx.values}
    if slot.prompt is not None:
        context.update(slot.prompt(ctx))
    fields = slot.summary(ctx) if slot.summary is not None else []
    context["fields"] = fields
    specific = f"flows/{flow.name}/ask_{slot.store}.j2"
    template = specific if ctx.texts.has_template(specific) else f"flows/ask_{slot.store}.j2"
    common: dict[str, Any] = {
        "text": ctx.texts.render(template, **context),
        "choices": choices_for(ctx, slot),
        "action_slot": slot.store,
        "slot": slot.store,
        "kind": slot.kind,
        "run_id": ctx.run_id,
        "max_date": ctx.today if slot.not_after_today else None,
        "initial": slot.initial(ctx) if slot.initial is not None else None,
        "secret": slot.secret,
        "search": slot.search,
        "numbered": slot.numbered,
        "widget": slot.widget,
    }
    if slot.kind == CONFIRM:
        return Confirmation(fields=fields, **common)
    return Prompt(**common)


def help_for(flow: Flow, ctx: FlowContext, slot: Slot) -> list[Reply]:
    replies: list[Reply] = []
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


def match_choice(
    text: str, choices: Sequence[Choice], *, loose: bool = True, positional: bool = True
) -> Choice | None:
    """The number (`positional`), the value or the label of a choice (typos tolerated,
    "the"/"le" ignored; `loose`: some of a label's words in any order); None if unclear.
    This is the one place where a number typed picks a choice."""
    raw = text.strip()
    numbered = _NUMBERED.match(raw)
    if positional and numbered and 1 <= int(numbered.group(1)) <= len(choices):
        # The number the user sees beside it: "2", "site 2", "le 3", "n°2", "2)".
        return choices[int(numbered.group(1)) - 1]
    for choice in choices:
        if raw == choice.value:  # a driver sending the value it was shown
            return choice
    wanted = normalize(raw).replace("?", "").strip()
    if not wanted:
        return None
    for choice in choices:
        if wanted in (normalize(choice.value), normalize(choice.label)):
            return choice
    position = _ordinal(wanted) if positional else None
    if position is not None and -len(choices) <= position < len(choices):
        return choices[position]  # "le premier", "the second one", "le dernier"
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


_NUMBERED = re.compile(
    r"^(?:(?:site|le|la|l['’]|number|numero|numéro|num|n°|no\.?|nr|option|choice|choix)\s*)?"
    r"(\d{1,3})\s*[).]?$",
    re.IGNORECASE,
)
_ORDINALS = {
    **dict.fromkeys(("first", "1st", "premier", "premiere", "1er", "1ere"), 0),
    **dict.fromkeys(("second", "2nd", "deuxieme", "seconde", "2e", "2eme"), 1),
    **dict.fromkeys(("third", "3rd", "troisieme", "3e", "3eme"), 2),
    **dict.fromkeys(("fourth", "4th", "quatrieme", "4e", "4eme"), 3),
    **dict.fromkeys(("fifth", "5th", "cinquieme", "5e", "5eme"), 4),
    **dict.fromkeys(("last", "dernier", "derniere"), -1),
}
_ORDINAL_AROUND = frozenset(("the", "one", "le", "la", "l", "choix", "option", "choice", "svp"))


def _ordinal(wanted: str) -> int | None:
    """The position an ordinal word names, alone or with its article ("le premier")."""
    words = [word for word in wanted.split() if word not in _ORDINAL_AROUND]
    return _ORDINALS.get(words[0]) if len(words) == 1 else None


def _has_words(words: list[str], label: list[str]) -> bool:
    return all(
        word in label or (len(word) >= 3 and any(tok.startswith(word) for tok in label))
        for word in words
    )


def parse(ctx: FlowContext, slot: Slot, text: str) -> Any:
    """An answer for `slot`, read by its kind and checked by its validator (the same for a
    message, a button and a form field); raises Invalid or a Refusal."""
    raw = text.strip()
    if not raw:
        raise Invalid(N_("I did not get an answer."))
    validate = slot.validate
    preferred = slot.prefer(ctx, raw) if slot.prefer is not None else None
    if preferred is not None:
        value: Any = preferred
    elif slot.kind in (YESNO, CONFIRM):
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
        chosen = match_choice(raw, choices_for(ctx, slot), positional=slot.numbered)
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


def refused(ctx: FlowContext, err: Invalid | Refusal, suffix: str = "") -> Refused:
    reason = type(err).__name__ if isinstance(err, Refusal) else "invalid"
    text = error_text(ctx, err)
    return Refused(f"{text} {suffix}" if suffix else text, reason=reason)


def _shown(ctx: FlowContext, value: Any) -> Any:
    """A parameter of an answer's refusal, as the user reads it (marked: it is data)."""
    if isinstance(value, dt.date):
        return ctx.texts.date(value)
    return mark(shorten(value)) if isinstance(value, str) else value


def begin(flow: Flow, ctx: FlowContext) -> Step:
    if flow.on_start is not None:
        stop = flow.on_start(ctx)
        if stop:
            return Step(list(stop), None, ctx.values, [])
    return _ask_next(flow, ctx, [], [])


def _ask_next(flow: Flow, ctx: FlowContext, replies: list[Reply], history: list[str]) -> Step:
    refusals, filled = _release(flow, ctx)
    # A step asked again (its value blamed by a later one) leaves the history.
    replies = [*replies, *refusals]
    history = [key for key in [*history, *filled] if key in ctx.values]
    slot = flow.pending(ctx)
    if slot is None:  # a flow without a confirm step (a look-up) ends when it has its answers
        assert flow.on_complete is not None  # Flow checks it
        completed = flow.on_complete(ctx)
        FLOWS_COMPLETED.labels(flow.name).inc()
        return Step([*replies, *completed], None, {}, [])
    return Step([*replies, prompt(flow, ctx, slot)], slot, ctx.values, history)


def confirm(flow: Flow, ctx: FlowContext) -> list[Reply]:
    """The flow's action, in a savepoint: a refusal at the last moment (a code used
    meanwhile) undoes the account or site created on the way, and nothing else is lost."""
    assert flow.on_confirm is not None
    try:
        with ctx.session.begin_nested():
            done = list(flow.on_confirm(ctx))
        FLOWS_COMPLETED.labels(flow.name).inc()
        return done
    except Refusal as err:
        return [refused(ctx, err, ctx._(N_("Nothing was saved.")))]


def answer(flow: Flow, ctx: FlowContext, history: list[str], text: str) -> Step:
    """The user's answer to the pending slot: kept, refused with the reason, or confirmed."""
    slot = flow.pending(ctx)
    if slot is None:
        raise RuntimeError(f"flow {flow.name} has nothing pending")
    try:
        value = parse(ctx, slot, text)
    except (Invalid, Refusal) as err:
        if isinstance(err, slot.ends):
            return Step([refused(ctx, err, ctx._(N_("Nothing was saved.")))], None, {}, [])
        if isinstance(err, slot.blames) and slot.store not in (ctx.values.get(BLAMED) or []):
            held = dict(ctx.values.get(HELD) or {})
            _blame_requirements(ctx, slot, text, held)
            ctx.values = {**ctx.values, HELD: held}
            return _ask_next(flow, ctx, [refused(ctx, err)], history)
        return Step([refused(ctx, err), prompt(flow, ctx, slot)], slot, ctx.values, history)
    if slot.kind == CONFIRM:
        if not value:
            return Step(
                [Reply(ctx._(N_("All right, I cancelled it. Nothing was saved.")))], None, {}, []
            )
        return Step(confirm(flow, ctx), None, {}, [])
    ctx.values = {**ctx.values, slot.store: value}
    return _ask_next(flow, ctx, [], [*history, slot.store])


# Where a flow keeps the values named before their step, by slot (see `prefill`), and
# the slots whose value blamed a step it was checked against (see `Slot.blames`).
HELD = "_held"
BLAMED = "_blamed"


def prefill(flow: Flow, ctx: FlowContext, given: dict[str, str]) -> tuple[list[Reply], list[str]]:
    """Values the user named before being asked ("register my DGS-3630-28TC serial …"),
    each read by its slot's own parser and validator, in the flow's order, as if typed at
    its step. A refused value is dropped with its reason (its step will ask for it); a
    slot whose requirements are not there yet (a code, before its product) keeps its value
    under HELD, read at its step without asking. Returns what was said ("I noted: …", the
    reasons) and the slots filled, in order."""
    noted: list[str] = []
    held = dict(ctx.values.get(HELD) or {})
    refusals, filled = _take(flow, ctx, given, noted, held)
    if held:
        ctx.values = {**ctx.values, HELD: held}
    replies: list[Reply] = []
    if noted:
        said = ctx._(N_("I noted: {values}.")).format(values=ctx._(VALUE_SEPARATOR).join(noted))
        if unmark(said)[-2:-1] in (".", "…", "!", "?"):
            said = said[:-1]  # a value that ends a sentence ends this one too
        replies.append(Reply(said))
    return [*replies, *refusals], filled


def _take(
    flow: Flow,
    ctx: FlowContext,
    given: dict[str, str],
    noted: list[str],
    held: dict[str, str],
) -> tuple[list[Reply], list[str]]:
    refusals: list[Reply] = []
    filled: list[str] = []
    for slot in flow.slots:
        raw = given.get(slot.store)
        if raw is None or slot.kind == CONFIRM or slot.store in ctx.values:
            continue
        if not slot.is_needed(ctx):
            continue
        if any(need not in ctx.values for need in slot.requires):
            held[slot.store] = slot.hold(ctx, raw) if slot.hold is not None else raw
            noted.append(_noted(ctx, slot, held[slot.store]))
            continue
        try:
            value = parse(ctx, slot, raw)
        except (Invalid, Refusal) as err:
            refusals.append(refused(ctx, err))
            if isinstance(err, slot.blames):
                _blame_requirements(ctx, slot, raw, held)
            continue
        ctx.values = {**ctx.values, slot.store: value}
        filled.append(slot.store)
        noted.append(_noted(ctx, slot, value))
    return refusals, filled


def _blame_requirements(ctx: FlowContext, slot: Slot, raw: str, held: dict[str, str]) -> None:
    """`slot`'s value held for later, the steps it was checked against to be asked again
    (a code for another model: the product is asked again, the code kept). Once only: blamed
    a second time, the value is dropped and its own step asked, so that a customer with no
    product of the right model is not asked for one forever."""
    blamed = list(ctx.values.get(BLAMED) or [])
    if slot.store in blamed:
        ctx.values = {key: value for key, value in ctx.values.items() if key != BLAMED}
        return
    held[slot.store] = slot.hold(ctx, raw) if slot.hold is not None else raw
    ctx.values = {key: value for key, value in ctx.values.items() if key not in slot.requires}
    ctx.values[BLAMED] = [*blamed, slot.store]


def _release(flow: Flow, ctx: FlowContext) -> tuple[list[Reply], list[str]]:
    """The held values whose requirements are now there, read as at their step (they
    were noted when given: only a refusal is said)."""
    held = dict(ctx.values.get(HELD) or {})
    ready = {
        key: raw
        for key, raw in held.items()
        if (slot := flow.slot(key)) is not None
        and all(need in ctx.values for need in slot.requires)
    }
    if not ready:
        return [], []
    rest = {key: raw for key, raw in held.items() if key not in ready}
    ctx.values = {key: value for key, value in ctx.values.items() if key != HELD}
    said = _take(flow, ctx, ready, [], rest)
    if rest:
        ctx.values[HELD] = rest
    return said


def correct(flow: Flow, ctx: FlowContext, history: list[str], given: dict[str, str]) -> Step | None:
    """Values named again for steps already answered, with a word of correction ("non
    attends, le numéro de série c'est …", "yes but change the date to 2 December"): each
    is read by its slot as at its step and replaces the old one; what was checked against
    the old value is read again (a serial against a new model); then the pending step is
    asked again. None when nothing named differs from what the flow holds."""
    pending = flow.pending(ctx)
    changed: list[str] = []
    refusals: list[Reply] = []
    for slot in flow.slots:
        raw = given.get(slot.store)
        if raw is None or slot is pending or slot.secret or slot.kind == CONFIRM:
            continue
        if slot.store not in ctx.values:
            continue
        before = ctx.values
        ctx.values = {key: value for key, value in before.items() if key != slot.store}
        try:
            value = parse(ctx, slot, raw)
        except (Invalid, Refusal) as err:
            ctx.values = before
            refusals.append(refused(ctx, err))
            continue
        if value == before[slot.store]:
            ctx.values = before
            continue
        checked = {other.store for other in flow.slots if slot.store in other.requires}
        held = {
            **(before.get(HELD) or {}),
            **{key: before[key] for key in checked if key in before},
        }
        ctx.values = {key: val for key, val in before.items() if key not in checked and key != HELD}
        ctx.values[slot.store] = value
        if held:
            ctx.values[HELD] = held
        history = [key for key in history if key not in checked]
        changed.append(_noted(ctx, slot, value))
    if not changed and not refusals:
        return None
    values = ctx._(VALUE_SEPARATOR).join(changed)
    said = [Reply(ctx._(N_("I changed it: {values}.")).format(values=values))]
    return _ask_next(flow, ctx, [*(said if changed else []), *refusals], history)


def _noted(ctx: FlowContext, slot: Slot, value: Any) -> str:
    return ctx._(N_("{label}: {value}")).format(
        label=ctx._(slot.label or slot.name), value=_noted_value(ctx, slot, value)
    )


def _noted_value(ctx: FlowContext, slot: Slot, value: Any) -> Any:
    """A value as the user reads it back: a date in their words, a secret masked, the
    slot's own reading back (`Slot.noted`)."""
    if slot.secret:
        return mark(mask_code(str(value)))
    if slot.kind == DATE and isinstance(value, str):
        return ctx.texts.date(dt.date.fromisoformat(value))
    if slot.noted is not None:
        return _shown(ctx, slot.noted(ctx, value))
    return _shown(ctx, value)


def back(flow: Flow, ctx: FlowContext, history: list[str]) -> Step:
    """The answered step just before the pending one, in the flow's order: values given in
    the first message were answered before the steps asked since, not after them."""
    order = [slot.store for slot in flow.slots]
    pending = flow.pending(ctx)
    before = order.index(pending.store) if pending is not None else len(order)
    earlier = [key for key in history if key in order[:before]]
    if not earlier:
        first = ctx._(N_("This is the first question; there is nothing to go back to."))
        return _ask_next(flow, ctx, [Reply(first)], history)
    last = max(earlier, key=order.index)
    ctx.values = {k: v for k, v in ctx.values.items() if k != last}
    return _ask_next(flow, ctx, [], [key for key in history if key != last])


def reask(
    flow: Flow, ctx: FlowContext, history: list[str], before: list[Reply] | None = None
) -> Step:
    return _ask_next(flow, ctx, list(before or []), history)
