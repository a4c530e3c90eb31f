"""Routing: what a message, a picked choice or a command does, given the conversation's mode.

- Inside a flow: "cancel", "back", "help" and a language switch act on the flow; a
  look-up ("my incidents", "where is INC-000042?") is answered and the flow goes on;
  another request sets the flow aside (the user is told nothing was saved); a question is
  answered from the knowledge base and the flow's question asked again; anything else is
  the answer to the pending slot. How much of that applies depends on the slot's `answer`
  trait: the user's own words (a description) are only checked for commands. A question
  the KB answers with "Do you mean … or …?" gets that choice first; once the user picks
  (or says neither, or writes something else) the flow's question is asked again.
- After a knowledge-base answer: a vote, "read more", a related article, or a new message;
  after "Do you mean … or …?": one of the two articles, "neither", or a new message.
- Otherwise: a command, a menu choice, a list, a flow to start, or a question for the KB.

Choices carry commands as values ("flow:register_product", "list:incidents",
"incident:INC-000042", "reopen:INC-000042"), never phrases: a picked choice does the same
thing in every language and never goes through understanding again.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.flows import FLOWS, answers, listings
from bot.flows.answer_incident import COMMAND as ANSWER_COMMAND
from bot.flows.answer_incident import waiting_incident
from bot.flows.check_incident import incident_reply, refusal_text, report_choice
from bot.flows.engine import (
    CHOICE,
    CONFIRM,
    FREE,
    IDENTIFIER,
    OPEN,
    YESNO,
    Choice,
    Flow,
    FlowContext,
    Invalid,
    Refused,
    Reply,
    Step,
    back,
    begin,
    choices_for,
    correct,
    help_for,
    match_choice,
    parse,
    reask,
)
from bot.flows.engine import answer as answer_slot
from bot.flows.engine import prefill as prefill_slots
from bot.flows.person import person
from bot.i18n import texts_for
from bot.metrics import FLOWS_STARTED
from bot.nlu import (
    Intent,
    identifier_in,
    is_sentence,
    is_vague_trouble,
    looks_like_question,
    normalize,
    parse_yes_no,
    says_goodbye,
    tokens,
)
from bot.understanding import Reading, read
from kb.analysis import fold
from services import catalog, incidents, subscriptions
from services.errors import N_, IncidentNotFound, Refusal
from storage.conversations import AnswerState, Clarification, FlowState, Mode

FLOW_INTENTS = {
    Intent.REGISTER_PRODUCT: "register_product",
    Intent.ACTIVATE_SERVICE: "activate_service",
    Intent.FILE_INCIDENT: "file_incident",
    Intent.CHECK_INCIDENT: "check_incident",
    Intent.ANSWER_INCIDENT: "answer_incident",
}
# What a message names, by slot, where a flow calls it otherwise than the reading does.
SLOT_NAMES = {
    # The product step takes a model or a serial of the user's products (a serial, named
    # after the model in the slots, wins).
    "activate_service": {
        "model": "product",
        "serial": "product",
        "purchase_date": "service_purchase_date",
    },
    # A model named in an incident request is the product the incident is on.
    "file_incident": {"model": "subscription"},
    "answer_incident": {"description": "message"},
}
LISTS: dict[str, Callable[[FlowContext], list[Reply]]] = {
    "products": listings.my_products,
    "services": listings.my_services,
    "incidents": listings.my_incidents,
    "subscriptions": listings.my_subscriptions,
}
LIST_INTENTS = {
    Intent.LIST_PRODUCTS: "products",
    Intent.LIST_SERVICES: "services",
    Intent.LIST_INCIDENTS: "incidents",
    Intent.LIST_SUBSCRIPTIONS: "subscriptions",
}

# Commands: the values of the choices shown outside a flow.
FLOW_COMMAND = "flow:"
LIST_COMMAND = "list:"
INCIDENT_COMMAND = "incident:"
REOPEN_COMMAND = "reopen:"


def new_run_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Result:
    """What one turn leaves: the replies, the conversation's next mode, what is asked."""

    replies: list[Reply]
    mode: Mode = None
    waiting_for: str | None = None


def from_step(
    flow: Flow, ctx: FlowContext, step: Step, before: list[Reply] | None = None
) -> Result:
    replies = [*(before or []), *step.replies]
    if step.done:
        offered = {choice.value for reply in replies for choice in reply.choices}
        if ctx.then in offered:  # the flow's own last words already offer it
            return Result(replies)
        return Result([*replies, *offer_next(ctx, ctx.then, besides=FLOW_COMMAND + flow.name)])
    slot = step.waiting_for
    assert slot is not None
    state = FlowState(flow.name, ctx.run_id, step.values, step.history, slot.store, then=ctx.then)
    return Result(replies, state, slot.name)


def start(
    name: str,
    ctx: FlowContext,
    given: dict[str, str] | None = None,
    before: list[Reply] | None = None,
    then: str | None = None,
) -> Result:
    """Start a flow; what the message already gave (`given`, by slot) fills its slots
    through their own validators, and the flow asks only for the rest. `then`: a second
    request of the same message, offered when this flow is done."""
    flow = FLOWS[name]
    ctx.values = {}
    ctx.run_id = new_run_id()
    ctx.then = then
    FLOWS_STARTED.labels(name).inc()
    if not given:
        return from_step(flow, ctx, begin(flow, ctx), before)
    if flow.on_start is not None:
        stop = flow.on_start(ctx)
        if stop:
            return from_step(flow, ctx, Step(list(stop), None, ctx.values, []), before)
    said, filled = prefill_slots(flow, ctx, given)
    return from_step(flow, ctx, reask(flow, ctx, filled, said), before)


def given_slots(name: str, reading: Reading) -> dict[str, str]:
    """What the reading names, by the slot names of flow `name`."""
    renamed = SLOT_NAMES.get(name, {})
    return {renamed.get(key, key): value for key, value in reading.values.slots().items()}


def read_message(ctx: FlowContext, text: str) -> Reading:
    """The one reading of a message: the catalogue's models and the user's subscriptions
    let it recognise the values it names."""
    models = [model.model for model in catalog.list_models(ctx.session)]
    names = (
        [sub.service for sub in subscriptions.list_subscriptions(ctx.session, ctx.account)]
        if ctx.account is not None
        else []
    )
    return read(text, today=ctx.today, catalogue_models=models, subscriptions=names)


def switch_language(ctx: FlowContext, lang: str) -> Reply:
    """The conversation's language from now on, until the user asks for another."""
    ctx.texts = texts_for(lang, ctx.texts.tz)
    return Reply(ctx.texts.render("language_switched.j2"))


def cancelled(ctx: FlowContext) -> Result:
    return Result([Reply(ctx._(N_("All right, I cancelled it. Nothing was saved.")))])


# --- inside a flow ----------------------------------------------------------------------


def in_flow(
    flow: Flow,
    ctx: FlowContext,
    history: list[str],
    text: str,
    reading: Reading,
    clarify: Clarification | None = None,
) -> Result:
    """`clarify`: the "Do you mean … or …?" asked last, if it is still open."""
    slot = flow.pending(ctx)
    if slot is None:  # a flow saved by an older version of the bot: start it afresh
        return start(flow.name, ctx)
    if clarify is not None:
        settled = answers.pick(ctx, _clarify_state(clarify), text, in_flow=True)
        if settled is not None:
            return from_step(flow, ctx, reask(flow, ctx, history, settled[0]))
    if not text.strip():  # an empty message: say so and ask again
        return from_step(flow, ctx, answer_slot(flow, ctx, history, text))
    if reading.lang_switch is not None:
        said = switch_language(ctx, reading.lang_switch)
        then = reading.then
        if then is None:
            return from_step(flow, ctx, reask(flow, ctx, history, [said]))
        result = in_flow(flow, ctx, history, then.text, then)
        return Result([said, *result.replies], result.mode, result.waiting_for)
    intent = reading.intent if reading.kind == "command" else None
    if intent is Intent.CANCEL:
        return cancelled(ctx)
    if intent is Intent.BACK:
        return from_step(flow, ctx, back(flow, ctx, history))
    if intent in (Intent.HELP, Intent.GREETING):
        replies = help_for(flow, ctx, slot)
        return from_step(flow, ctx, Step(replies, slot, ctx.values, history))
    if intent is Intent.THANKS and slot.answer != OPEN:
        # "merci", "au revoir" is no answer: the request waits, its step asked again.
        welcome = Reply(ctx._(N_("You are welcome.")))
        return from_step(flow, ctx, reask(flow, ctx, history, [welcome]))

    if slot.answer == OPEN and _SET_ASIDE.match(normalize(text)):
        # The user's own words are taken as they come, except what they set apart from
        # them: "non attends, c'est sur OneTouch AT.com" corrects an earlier answer, "au
        # fait, le support parle français ?" is a question, answered before asking again.
        named = {**given_slots(flow.name, reading), **named_by_label(flow, ctx, text)}
        given = {k: v for k, v in named.items() if k != slot.store and k in ctx.values}
        corrected = correct(flow, ctx, history, given) if given else None
        if corrected is not None:
            return from_step(flow, ctx, corrected)
        if reading.asking or looks_like_question(text):
            replies, state = answers.answer(ctx, text, in_flow=True)
            if state is not None:
                return _asking_which(flow, ctx, history, replies, state)
            return from_step(flow, ctx, reask(flow, ctx, history, replies))
    if slot.answer != OPEN and (reading.correcting or slot.kind == CONFIRM):
        given = given_slots(flow.name, reading)
        if reading.yes_no is not True and parse_yes_no(text) is not True:
            # "yes, the purchase date is right" confirms; "no, the summary is …" corrects.
            given = {**given, **named_by_label(flow, ctx, text)}
        corrected = correct(flow, ctx, history, given)
        if corrected is not None:
            return from_step(flow, ctx, corrected)
    if slot.answer != OPEN and (ahead := _said_ahead(flow, ctx, reading)) is not None:
        noted, filled = ahead
        return from_step(flow, ctx, reask(flow, ctx, [*history, *filled], noted))
    if slot.answer != OPEN:
        chosen = slot.kind == CHOICE and match_choice(
            text, choices_for(ctx, slot), positional=slot.numbered
        )
        # Where a serial or a code is expected, or one of many products searched for.
        identifying = slot.answer == IDENTIFIER or slot.search
        sentence = identifying and is_sentence(text)
        incident = reading.values.incident
        if sentence and reading.intent is Intent.CHECK_INCIDENT and incident is not None:
            # "où en est INC-000001 ?" is about an incident, whatever a serial looks like.
            replies = show_incident(ctx, incident.number)
            return from_step(flow, ctx, reask(flow, ctx, history, replies))
        found = identifier_in(text) if identifying and not chosen else None
        if found is not None and found != text.strip():  # "my code is NBD3-…", "it's S3…"
            return from_step(flow, ctx, answer_slot(flow, ctx, history, found))
        # A request first, even phrased as a question ("where is INC-000042?"); then a
        # question, answered without starting anything. Any other sentence where a serial
        # or a code is expected is never tried as one (a wrong code counts towards the
        # rate limit): it is a question.
        if not chosen and slot.answer != FREE and reading.kind == "request":
            aside = _aside(flow, ctx, history, reading)
            if aside is not None:
                return aside
        # A short free answer (a name, a company, a street) is a sentence more often than
        # a question: there, only a question mark or a how-to makes one.
        asked = looks_like_question(text) or (reading.asking and slot.answer != FREE)
        if not chosen and (asked or sentence):
            replies, state = answers.answer(ctx, text, in_flow=True)
            if state is not None:  # "Do you mean … or …?": the step is asked after the pick
                return _asking_which(flow, ctx, history, replies, state)
            return from_step(flow, ctx, reask(flow, ctx, history, replies))
    return from_step(flow, ctx, answer_slot(flow, ctx, history, text))


# How a message sets itself apart from the answer being typed: a correction or an aside.
_SET_ASIDE = re.compile(
    r"^(?:(?:non|no|nope|oh|ah)\s+)?(?:attends|attendez|wait|hold on|actually|en fait"
    r"|pardon|oops|oups|correction|au fait|btw|by the way|quick question|petite question"
    r"|d ailleurs|une question|one question)\b"
)
_LABEL_VERB = (
    r"\s*(?:should be|must be|is|was|est|c['’ ]?est|devrait être|devrait etre|doit être"
    r"|doit etre|serait)?\s*[:=\-–]?\s*"
)


_ADDING = re.compile(r"\b(?:add|append|ajout\w*|rajout\w*|compl[eè]t\w*)\b", re.IGNORECASE)
# "change the subscription to OneTouch AT.com", "remplace le résumé par : …": the word
# before the new value belongs to the change, not to the value.
_CHANGING = re.compile(
    r"\b(?:change|set|update|replace|make|chang\w*|modifi\w*|remplac\w*|met|mets|mettez"
    r"|corrig\w*)\b",
    re.IGNORECASE,
)
_CHANGED_TO = re.compile(r"^(?:to|into|with|by|en|par|avec)\b\s*[:=\-–]?\s*", re.IGNORECASE)
_THAT = re.compile(r"^(?:that|que|qu['’])\s*", re.IGNORECASE)


def named_by_label(flow: Flow, ctx: FlowContext, text: str) -> dict[str, str]:
    """Answers already given, named by their field's label: "no, the summary should be:
    portal login error 500", "non, le résumé c'est : la sonde perd le cloud"."""
    named: dict[str, str] = {}
    for slot in flow.slots:
        if slot.secret or slot.kind == CONFIRM or not slot.label or slot.store not in ctx.values:
            continue
        labels = {ctx._(slot.label), slot.label}
        labels |= {fold(label) for label in labels}
        for label in sorted(labels, key=len, reverse=True):
            found = re.search(
                rf"(?<!\w){re.escape(label)}(?!\w){_LABEL_VERB}(?P<value>\S.*)$",
                text,
                re.IGNORECASE,
            )
            if found:
                value = found.group("value").strip(" \"'«»“”.")
                if _CHANGING.search(text[: found.start()]):
                    value = _CHANGED_TO.sub("", value)
                if _ADDING.search(text[: found.start()]):
                    # "ajoute à la description que ça arrive aussi sur Firefox": added to.
                    value = f"{ctx.values[slot.store]}\n{_THAT.sub('', value)}"
                named[slot.store] = value
                break
    return named


def taken_as_answer(flow: Flow, ctx: FlowContext, reading: Reading) -> Reading:
    """A language's name alone that answers the question asked ("FR" for a country) is
    that answer, not a request to switch."""
    slot = flow.pending(ctx)
    if (
        slot is None
        or reading.lang_switch is None
        or reading.then is not None
        or len(reading.text.split()) > 2
        or slot.secret
        or slot.answer == IDENTIFIER
        or slot.kind in (YESNO, CONFIRM)
    ):
        return reading
    try:
        parse(ctx, slot, reading.text)
    except (Invalid, Refusal):
        return reading
    return replace(reading, asks=(), kind="answer", lang_switch=None)


def _said_ahead(
    flow: Flow, ctx: FlowContext, reading: Reading
) -> tuple[list[Reply], list[str]] | None:
    """Values for steps still to come, named at this one ("8X5N-C9P4-W7LD" where the
    product is asked, "DGS-1210-28 serial QBQE…" where the model is): taken as in a first
    message, the pending step's own value too."""
    given = given_slots(flow.name, reading)
    pending = flow.pending(ctx)
    ahead = [
        key
        for key in given
        if key not in ctx.values
        and (pending is None or key != pending.store)
        and (slot := flow.slot(key)) is not None
        and slot.kind != CONFIRM
    ]
    if not ahead:
        return None
    return prefill_slots(flow, ctx, given)


def _clarify_state(clarify: Clarification) -> dict[str, Any]:
    return {"choices": clarify.choices, "question_id": clarify.question_id}


def _asking_which(
    flow: Flow, ctx: FlowContext, history: list[str], replies: list[Reply], state: dict[str, Any]
) -> Result:
    """The flow waits, its step unchanged, for the pick between the two articles."""
    slot = flow.pending(ctx)
    assert slot is not None  # only asked while a step is pending
    clarify = Clarification(state.get("question_id"), list(state.get("choices", [])))
    mode = FlowState(flow.name, ctx.run_id, ctx.values, history, slot.store, clarify)
    return Result(replies, mode, answers.WHICH_ARTICLE)


def picked_in_flow(
    flow: Flow, ctx: FlowContext, history: list[str], clarify: Clarification, value: str
) -> Result | None:
    """One of the choices of "Do you mean … or …?" clicked mid-flow; None if it is none."""
    if value not in {c["value"] for c in clarify.choices}:
        return None
    settled = answers.pick(ctx, _clarify_state(clarify), value, in_flow=True)
    if settled is None:
        return None
    return from_step(flow, ctx, reask(flow, ctx, history, settled[0]))


def _aside(flow: Flow, ctx: FlowContext, history: list[str], reading: Reading) -> Result | None:
    """Another request in the middle of a flow: look-ups are answered and the flow goes
    on; the same flow takes the values it names; a different flow replaces this one (the
    user is told nothing was saved)."""
    intent = reading.intent
    if intent in LIST_INTENTS:
        replies = LISTS[LIST_INTENTS[intent]](ctx)
        return from_step(flow, ctx, reask(flow, ctx, history, replies))
    if intent is Intent.PERSON:
        return from_step(flow, ctx, reask(flow, ctx, history, person(ctx)))
    pending = flow.pending(ctx)
    if intent is Intent.CHECK_INCIDENT and pending and pending.answer == IDENTIFIER:
        return None  # "INC12345678" typed for a serial is a serial
    incident = reading.values.incident
    if intent is Intent.CHECK_INCIDENT and incident is not None and flow.name != "check_incident":
        replies = show_incident(ctx, incident.number)
        return from_step(flow, ctx, reask(flow, ctx, history, replies))
    target = FLOW_INTENTS.get(intent) if intent is not None else None
    if target is not None and target == flow.name:
        # The request under way, asked again ("I want to register a product" where the
        # model is expected): the values it names are taken, and the step is asked again;
        # the sentence itself is never tried as the pending value.
        said, filled = prefill_slots(flow, ctx, given_slots(flow.name, reading))
        return from_step(flow, ctx, reask(flow, ctx, [*history, *filled], said))
    if target is not None:
        return start(
            target, ctx, given_slots(target, reading), [set_aside(flow, ctx)], then=resume(flow)
        )
    return None


def resume(flow: Flow) -> str:
    """The request set aside, offered again once the one that replaced it is done (an
    activation set aside to register the product first)."""
    return FLOW_COMMAND + flow.name


def set_aside(flow: Flow, ctx: FlowContext) -> Reply:
    return Reply(
        ctx._(
            N_("I have set aside your current request ({request}); nothing was saved for it.")
        ).format(request=ctx._(flow.title))
    )


def command_in_flow(flow: Flow, ctx: FlowContext, history: list[str], value: str) -> Result | None:
    """A command picked from a reply shown during a flow (an incident of a list shown as
    an aside, a menu button): a look-up goes on with the flow, a new flow replaces it."""
    if value.startswith(FLOW_COMMAND) and value[len(FLOW_COMMAND) :] != flow.name:
        name = value[len(FLOW_COMMAND) :]
        if name in FLOWS:
            return start(name, ctx, before=[set_aside(flow, ctx)], then=resume(flow))
        return None
    if value.startswith(ANSWER_COMMAND) and flow.name != "answer_incident":
        number = incidents.parse_number(value[len(ANSWER_COMMAND) :])
        if number is None:
            return None
        given = {"incident_number": number}
        return start("answer_incident", ctx, given, [set_aside(flow, ctx)], then=resume(flow))
    replies = _lookup(ctx, value)
    if replies is None:
        return None
    return from_step(flow, ctx, reask(flow, ctx, history, replies))


# --- after a KB answer ------------------------------------------------------------------


def after_answer(
    ctx: FlowContext, state: AnswerState, text: str, reading: Reading | None = None
) -> Result:
    """`reading`: the message's, when the input is a message (not a picked choice)."""
    kept = {
        "slug": state.slug,
        "lang": state.lang,
        "question_id": state.question_id,
        "choices": state.choices,
        "awaiting": state.awaiting,
    }
    outcome = answers.follow_up(ctx, kept, text)
    if isinstance(outcome, str):
        return run_command(ctx, outcome) or fresh(ctx, reading or read_message(ctx, text))
    if outcome is None:
        return fresh(ctx, reading or read_message(ctx, text))
    replies, new_state = outcome
    return kb_result(replies, new_state)


def kb_result(replies: list[Reply], state: dict[str, Any] | None) -> Result:
    """The answers module's state (its own small dict) as the conversation's typed mode."""
    if state is None:
        return Result(replies)
    awaiting = state.get("awaiting")
    answer = AnswerState(
        run_id=new_run_id(),
        slug=state.get("slug"),
        lang=state.get("lang"),
        question_id=state.get("question_id"),
        choices=list(state.get("choices", [])),
        awaiting=awaiting,
    )
    return Result(replies, answer, awaiting)


# --- a new request ----------------------------------------------------------------------


def picked(offered: list[dict[str, str]], text: str) -> str | None:
    """A choice shown outside a flow, picked by its number or its label → its command."""
    choices = [Choice(c["value"], c["label"]) for c in offered]
    raw = text.strip()
    if raw.isdigit():
        found = match_choice(raw, choices, loose=False)
        return found.value if found else None
    wanted = normalize(raw)
    for choice in choices:
        if wanted and wanted == normalize(choice.label):
            return choice.value
    return None


def menu_command(ctx: FlowContext, text: str) -> str | None:
    """A menu entry typed as it reads ("Suivre un incident"), menu shown or not: it does
    what its button does."""
    wanted = normalize(text.strip())
    found = (c.value for c in menu_choices(ctx) if wanted and wanted == normalize(c.label))
    return next(found, None)


def run_command(ctx: FlowContext, value: str) -> Result | None:
    """A choice's command ("flow:…", "list:…", "incident:…", "reopen:…"); None if unknown."""
    if value.startswith(FLOW_COMMAND):
        name = value[len(FLOW_COMMAND) :]
        return start(name, ctx) if name in FLOWS else None
    if value.startswith(ANSWER_COMMAND):
        number = incidents.parse_number(value[len(ANSWER_COMMAND) :])
        return start("answer_incident", ctx, {"incident_number": number}) if number else None
    replies = _lookup(ctx, value)
    return Result(replies) if replies is not None else None


def _lookup(ctx: FlowContext, value: str) -> list[Reply] | None:
    if value.startswith(LIST_COMMAND) and value[len(LIST_COMMAND) :] in LISTS:
        return LISTS[value[len(LIST_COMMAND) :]](ctx)
    for prefix, action in ((INCIDENT_COMMAND, show_incident), (REOPEN_COMMAND, reopen)):
        if value.startswith(prefix):
            number = incidents.parse_number(value[len(prefix) :])
            if number is not None:
                return action(ctx, int(number.split("-")[-1]))
    return None


def fresh(ctx: FlowContext, reading: Reading, *, closed: bool = False) -> Result:
    """A new request. `closed`: the user's flow just expired, so a bare answer to its
    last question ("DGS-1210-28", "oui") gets the menu, not a knowledge-base search."""
    if reading.lang_switch is not None:
        said = switch_language(ctx, reading.lang_switch)
        then = reading.then
        if then is None:
            return Result([said, *menu(ctx, intro=False)])
        result = fresh(ctx, then, closed=closed)
        return Result([said, *result.replies], result.mode, result.waiting_for)
    intent = reading.intent
    text = reading.text
    if intent is Intent.CANCEL:
        return Result([Reply(ctx._(N_("There is nothing to cancel."))), *menu(ctx, intro=False)])
    if intent is Intent.BACK:
        nothing = ctx._(N_("There is no previous question to go back to."))
        return Result([Reply(nothing), *menu(ctx, intro=False)])
    if intent in (Intent.HELP, Intent.GREETING):
        return Result(menu(ctx, intro=True))
    if intent is Intent.THANKS:
        if says_goodbye(text):
            return Result([Reply(ctx._(N_("Goodbye, and come back whenever you need.")))])
        return Result([Reply(ctx._(N_("You are welcome! Anything else I can do for you?")))])
    second = command_for(reading.also)
    if intent in LIST_INTENTS:
        return Result([*LISTS[LIST_INTENTS[intent]](ctx), *offer_next(ctx, second)])
    if intent is Intent.PERSON:
        return Result(person(ctx))
    incident = reading.values.incident
    if intent is Intent.REOPEN_INCIDENT:
        # Why it is reopened ("the dashboard is blank again") is for the support team: the
        # user's words go with the reopening, unless they only ask for it.
        note = text.strip() if len(text.split()) > REOPEN_REQUEST_WORDS else None
        return Result(reopen(ctx, incident.number, note) if incident else reopen_which(ctx, note))
    if intent is Intent.CHECK_INCIDENT and incident is not None:
        return Result(show_incident(ctx, incident.number))
    if intent in FLOW_INTENTS:
        name = FLOW_INTENTS[intent]
        given = given_slots(name, reading)
        if intent is Intent.ANSWER_INCIDENT and "incident_number" not in given:
            given |= waiting_incident(ctx)
        return start(name, ctx, given, then=second)
    if closed and not reading.asking and not looks_like_question(text):
        return Result(menu(ctx, intro=False))
    if is_vague_trouble(text):
        # Nothing to search the KB with, and nothing for the editors: ask what it is.
        what = Reply(
            ctx._(
                N_(
                    "Sorry to hear that. What is not working? Tell me in a sentence (the "
                    "product or the subscription, and what happens), or report an incident."
                )
            ),
            report_choice(ctx),
        )
        return Result([what])
    if not text.strip().endswith("?") and len(tokens(text)) < 2:
        # One word that is no command is too little to search the KB with.
        sorry = Reply(ctx._(N_("Sorry, I did not understand.")))
        return Result([sorry, *menu(ctx, intro=False)])
    replies, state = answers.answer(ctx, text, in_flow=False)
    return kb_result(replies, state)


def show_incident(ctx: FlowContext, number: int) -> list[Reply]:
    formatted = incidents.format_number(number)
    try:
        if ctx.account is None:
            raise IncidentNotFound(number=formatted)
        incident = incidents.get_incident(ctx.session, formatted, account=ctx.account)
    except Refusal as err:
        return [Refused(ctx.texts.refusal(err), reason=type(err).__name__)]
    return [incident_reply(ctx, incident)]


REOPEN_REQUEST_WORDS = 5  # "please reopen incident INC-000003"


def reopen(ctx: FlowContext, number: int, note: str | None = None) -> list[Reply]:
    formatted = incidents.format_number(number)
    try:
        if ctx.account is None:
            raise IncidentNotFound(number=formatted)
        with ctx.session.begin_nested():
            incident = incidents.reopen(
                ctx.session,
                formatted,
                actor=ctx.account.email,
                account=ctx.account,
                note=note,
                now=ctx.now,
            )
    except Refusal as err:
        return [Refused(refusal_text(ctx, err), reason=type(err).__name__)]
    said = Reply(
        ctx._(N_("I have reopened {number}; the support team will look at it again.")).format(
            number=incident.number
        )
    )
    return [said, incident_reply(ctx, incident)]


def reopen_which(ctx: FlowContext, note: str | None = None) -> list[Reply]:
    """ "Reopen my incident", no number: the one resolved incident is reopened; among
    several, the user picks; with none, their incidents are shown."""
    resolved = (
        incidents.list_incidents(ctx.session, account=ctx.account, status=incidents.RESOLVED)
        if ctx.account
        else []
    )
    if len(resolved) == 1:
        return reopen(ctx, resolved[0].id, note)  # its number is its id, formatted
    if not resolved:
        # "my problem is back" with nothing to reopen: their incidents, or a new report.
        none = Reply(ctx._(N_("You have no resolved incident to reopen.")), report_choice(ctx))
        return [none, *listings.my_incidents(ctx)]
    choices = [
        Choice(f"{REOPEN_COMMAND}{i.number}", f"{i.number} — {i.summary}")
        for i in reversed(resolved)
    ]
    return [Reply(ctx._(N_("Which incident do you want to reopen?")), choices)]


def menu(ctx: FlowContext, *, intro: bool) -> list[Reply]:
    full_name = ctx.user.name or (ctx.account.name if ctx.account is not None else "")
    text = ctx.texts.render("menu.j2", intro=intro, name=(full_name or "").split(" ")[0])
    return [Reply(text, menu_choices(ctx))]


def command_for(intent: Intent | None) -> str | None:
    """The menu command that does what `intent` asks, if the menu has one."""
    if intent in FLOW_INTENTS:
        return FLOW_COMMAND + FLOW_INTENTS[intent]
    if intent in LIST_INTENTS:
        return LIST_COMMAND + LIST_INTENTS[intent]
    return None


def offer_next(ctx: FlowContext, command: str | None, *, besides: str = "") -> list[Reply]:
    """The second thing a message asked for, offered once the first is done."""
    labels = {choice.value: choice.label for choice in menu_choices(ctx)}
    if command is None or command == besides or command not in labels:
        return []
    label = labels[command]
    text = ctx._(N_("You also asked for this: {what}. Shall we do it now?")).format(what=label)
    return [Reply(text, [Choice(command, label)])]


def menu_choices(ctx: FlowContext) -> list[Choice]:
    """What the bot can do: each value is a command."""
    entries = [
        ("flow:register_product", N_("Register a product")),
        ("flow:activate_service", N_("Activate a DAS service")),
        ("flow:file_incident", N_("Report an incident")),
        ("flow:check_incident", N_("Check an incident")),
        ("list:products", N_("My products")),
        ("list:services", N_("My services")),
        ("list:incidents", N_("My incidents")),
    ]
    return [Choice(value, ctx._(label)) for value, label in entries]
