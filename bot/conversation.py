"""The channel-agnostic entry point: a message from a user → the bot's replies.

One message is one transaction: load the conversation row (flow, step, slots, history),
decide the language, run one step, save the row. The row's `version` column makes the
save conditional (optimistic locking): when two messages of one user race, the loser's
whole transaction — including anything a confirm step wrote — is rolled back and the
message is handled again on the new state. So a confirm delivered twice files one
incident (and the incident's idempotency key covers processes that raced differently).

Nothing here knows Slack: a user is (workspace, user, thread) plus a profile, and a reply
is text + choices (+ items). The Slack adapter and the console render exactly these.

Language rules: the remembered preference; else the profile locale; else the language of
the message; else the default. Writing a message long enough to be sure of its language
(kb.detect_language is None for short texts) in the other language switches; inside a
flow only a question or another request can, never an answer ("ok", a serial, a date, a
name, an incident description). Saying so ("in English please", "en français") switches.
So does a greeting outside a flow ("bonjour"), unless the profile's language contradicts it;
and a command in the profile's own language ("aide" from a French profile) brings it back.

Choices shown outside a flow (the menu, a list's follow-ups) are kept on the row, so the
next message can pick one by its number or its label, as inside a flow.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.flows import FLOWS, answers, listings
from bot.flows.check_incident import incident_reply, refusal_text
from bot.flows.engine import (
    CHOICE,
    ChatUser,
    Choice,
    Flow,
    FlowContext,
    KnowledgeBaseLike,
    Reply,
    Slot,
    Step,
    back,
    begin,
    choices_for,
    help_for,
    match_choice,
    reask,
)
from bot.flows.engine import answer as answer_slot
from bot.i18n import normalize_lang, texts_for, valid_timezone
from bot.nlu import (
    Intent,
    Understanding,
    identifier_in,
    is_sentence,
    language_hint,
    looks_like_question,
    normalize,
    tokens,
    understand,
)
from bot.settings import Settings
from kb.lang import detect_language
from services import accounts, incidents
from services.clock import utcnow
from services.errors import N_, IncidentNotFound, Refusal
from storage.db import SessionFactory
from storage.models import Account, Conversation, UserPreference

# Answers that are the user's own words: taken as they are (only commands are looked for).
OPEN_TEXT_SLOTS = frozenset({"summary", "description"})
# Short free answers: a question is answered, but no other intent is looked for.
FREE_TEXT_SLOTS = OPEN_TEXT_SLOTS | {"name", "company", "street", "postal_code", "city", "email"}
# Identifiers the user copies from a label or an e-mail: never mistaken for an incident number.
IDENTIFIER_SLOTS = frozenset({"serial", "code"})

FLOW_INTENTS = {
    Intent.REGISTER_PRODUCT: "register_product",
    Intent.ACTIVATE_SERVICE: "activate_service",
    Intent.FILE_INCIDENT: "file_incident",
    Intent.CHECK_INCIDENT: "check_incident",
}
LIST_INTENTS: dict[Intent, Callable[[FlowContext], list[Reply]]] = {
    Intent.LIST_PRODUCTS: listings.my_products,
    Intent.LIST_SERVICES: listings.my_services,
    Intent.LIST_INCIDENTS: listings.my_incidents,
}
MAX_ATTEMPTS = 5
# Commands whose words tell their language ("bonjour", "aide", "annuler", "merci").
COMMANDS = frozenset({Intent.GREETING, Intent.HELP, Intent.CANCEL, Intent.BACK, Intent.THANKS})
# Where the conversation row keeps the choices last shown outside a flow.
OFFERED = "offered"


@dataclass
class Outcome:
    replies: list[Reply]
    waiting_for: str | None
    lang: str

    def to_json(self) -> dict[str, Any]:
        return {"replies": [r.to_json() for r in self.replies], "waiting_for": self.waiting_for}


@dataclass
class _Result:
    """What one step leaves: the replies, and the state the conversation row keeps."""

    replies: list[Reply]
    flow: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    waiting: Slot | None = None
    waiting_name: str | None = None


class Assistant:
    """The bot, for any channel. `handle` is safe to call from several processes."""

    def __init__(
        self,
        session_factory: SessionFactory,
        settings: Settings,
        kb: KnowledgeBaseLike | None = None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.kb = kb
        self.clock = clock

    def handle(self, user: ChatUser, text: str, *, now: dt.datetime | None = None) -> Outcome:
        text = clean_text(text)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.session_factory.begin() as session:
                    return _Turn(self, session, user, now or self.clock()).run(text)
            except (StaleDataError, IntegrityError):
                # Another message of this user changed the conversation first (or created
                # its row): everything this attempt wrote is rolled back; start again.
                if attempt == MAX_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")


class _Turn:
    def __init__(
        self, assistant: Assistant, session: Session, user: ChatUser, now: dt.datetime
    ) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.session = session
        self.user = user
        self.now = now

    # --- loading and saving -------------------------------------------------------------

    def _conversation(self) -> Conversation:
        user = self.user
        row = self.session.scalars(
            select(Conversation).where(
                Conversation.workspace_id == user.workspace_id,
                Conversation.user_id == user.user_id,
                Conversation.thread_key == user.thread_key,
            )
        ).first()
        if row is None:
            row = Conversation(
                workspace_id=user.workspace_id,
                user_id=user.user_id,
                thread_key=user.thread_key,
                slots={},
                history=[],
                updated_at=self.now,
            )
            self.session.add(row)
            self.session.flush()
        return row

    def _preference(self) -> UserPreference:
        row = self.session.scalars(
            select(UserPreference).where(
                UserPreference.workspace_id == self.user.workspace_id,
                UserPreference.user_id == self.user.user_id,
            )
        ).first()
        if row is None:
            row = UserPreference(
                workspace_id=self.user.workspace_id, user_id=self.user.user_id, updated_at=self.now
            )
            self.session.add(row)
        return row

    def _account(self) -> Account | None:
        user = self.user
        account = accounts.account_for_slack_user(self.session, user.workspace_id, user.user_id)
        if account is None and user.email:
            # The profile e-mail is the chat platform's, verified: link the account it names.
            account = accounts.find_account(self.session, user.email)
            if account is not None:
                accounts.link_slack_user(
                    self.session, user.workspace_id, user.user_id, account, now=self.now
                )
        return account

    # --- the turn -----------------------------------------------------------------------

    def run(self, text: str) -> Outcome:
        conv = self._conversation()
        pref = self._preference()
        before: list[Reply] = []

        flow = FLOWS.get(conv.flow or "")
        idle = dt.timedelta(minutes=self.settings.flow_idle_minutes)
        expired = conv.flow is not None and conv.updated_at < self.now - idle
        step = conv.step if flow and not expired else None

        lang = self._language(pref, text, step)
        tz = pref.tz
        if valid_timezone(self.user.tz) and self.user.tz != pref.tz:
            tz = pref.tz = self.user.tz
        texts = texts_for(lang, tz or self.settings.default_tz)
        ctx = FlowContext(
            session=self.session,
            texts=texts,
            user=self.user,
            settings=self.settings,
            now=self.now,
            account=self._account(),
            values=dict((conv.slots or {}).get("values", {})),
            run_id=str((conv.slots or {}).get("run_id", "")),
            kb=self.assistant.kb,
        )
        if expired:
            if flow is not None:
                before.append(
                    Reply(
                        texts.render(
                            "expired.j2",
                            title=texts.gettext(flow.title),
                            idle=texts.duration(idle),
                        )
                    )
                )
            flow = None
            ctx.values = {}

        if flow is not None:
            result = self._in_flow(flow, ctx, list(conv.history or []), text)
        elif conv.flow == answers.KB_FLOW and not expired:
            result = self._after_answer(ctx, dict((conv.slots or {}).get("kb", {})), text)
        else:
            fresh = conv.flow is None and conv.updated_at >= self.now - idle
            offered = (conv.slots or {}).get(OFFERED, []) if fresh else []
            result = self._fresh(ctx, picked(offered, text), closed=bool(before))

        pref.lang = ctx.texts.lang
        pref.updated_at = self.now
        conv.flow = result.flow
        conv.step = result.waiting.store if result.waiting else result.waiting_name
        conv.slots = result.slots
        if result.flow is None:
            # The choices of a menu or a list stay pickable by their number next time.
            shown = [choice.to_json() for reply in result.replies for choice in reply.choices]
            conv.slots = {OFFERED: shown} if shown else {}
        conv.history = result.history
        conv.updated_at = self.now  # always dirty: every turn bumps the version
        waiting_for = result.waiting.name if result.waiting else result.waiting_name
        return Outcome(before + result.replies, waiting_for, ctx.texts.lang)

    def _language(self, pref: UserPreference, text: str, step: str | None) -> str:
        profile = normalize_lang(self.user.locale)
        current = pref.lang or profile
        detected = detect_language(text) if self._may_switch(text, step) else None
        intent = understand(text).intent if detected is None and pref.lang else None
        if intent in COMMANDS:
            # "bonjour", "aide" are too short to detect, but said in one language: the
            # profile's language comes back with them anywhere; without a profile, only a
            # greeting outside a flow switches ("help" is everybody's word).
            hint = language_hint(text)
            greeting_anywhere = profile is None and step is None and intent is Intent.GREETING
            if hint is not None and (hint == profile or greeting_anywhere):
                detected = hint
        if current is None:
            hint = language_hint(text) if step is None else None
            return detected or hint or normalize_lang(self.settings.default_lang) or "en"
        return detected or current

    @staticmethod
    def _may_switch(text: str, step: str | None) -> bool:
        """Inside a flow, an answer (a date, "oui", a serial, a description) keeps the
        language; a question or another request in the other language switches it."""
        if step is None:
            return True
        if step in OPEN_TEXT_SLOTS:
            return False
        if step in IDENTIFIER_SLOTS and is_sentence(text) and identifier_in(text) is None:
            return True  # no serial or code is a sentence: a question, answered as such
        return looks_like_question(text) or understand(text).intent is not Intent.QUESTION

    # --- results ------------------------------------------------------------------------

    def _from_step(
        self, flow: Flow, ctx: FlowContext, step: Step, before: list[Reply] | None = None
    ) -> _Result:
        replies = [*(before or []), *step.replies]
        if step.done:
            return _Result(replies)
        slots = {"values": step.values, "run_id": ctx.run_id}
        return _Result(replies, flow.name, slots, step.history, step.waiting_for)

    def _start(
        self,
        name: str,
        ctx: FlowContext,
        values: dict[str, Any] | None = None,
        before: list[Reply] | None = None,
    ) -> _Result:
        flow = FLOWS[name]
        ctx.values = dict(values or {})
        ctx.run_id = uuid.uuid4().hex
        return self._from_step(flow, ctx, begin(flow, ctx), before)

    # --- inside a flow ------------------------------------------------------------------

    def _in_flow(self, flow: Flow, ctx: FlowContext, history: list[str], text: str) -> _Result:
        slot = flow.pending(ctx)
        if slot is None:  # a flow saved by an older version of the bot: start it afresh
            return self._start(flow.name, ctx)
        if not text.strip():  # an empty message: say so and ask again
            return self._from_step(flow, ctx, answer_slot(flow, ctx, history, text))
        command = understand(text)
        if command.intent is Intent.CANCEL:
            return _Result([Reply(ctx._(N_("All right, I cancelled it. Nothing was saved.")))])
        if command.intent is Intent.BACK:
            return self._from_step(flow, ctx, back(flow, ctx, history))
        if command.intent in (Intent.HELP, Intent.GREETING):
            replies = help_for(flow, ctx, slot)
            return self._from_step(flow, ctx, Step(replies, slot, ctx.values, history))
        if command.intent is Intent.SWITCH_LANGUAGE and command.lang:
            ctx.texts = texts_for(command.lang, ctx.texts.tz)
            said = Reply(ctx.texts.render("language_switched.j2"))
            return self._from_step(flow, ctx, reask(flow, ctx, history, [said]))

        if slot.store not in OPEN_TEXT_SLOTS:
            chosen = slot.kind == CHOICE and match_choice(text, choices_for(flow, ctx, slot))
            sentence = slot.store in IDENTIFIER_SLOTS and is_sentence(text)
            if sentence and command.intent is Intent.CHECK_INCIDENT and command.incident_number:
                # "où en est INC-000001 ?" is about an incident, whatever a serial looks like.
                replies = self._incident(ctx, command.incident_number)
                return self._from_step(flow, ctx, reask(flow, ctx, history, replies))
            if sentence and (found := identifier_in(text)) is not None:  # "my code is NBD3-…"
                return self._from_step(flow, ctx, answer_slot(flow, ctx, history, found))
            # A request first, even phrased as a question ("where is INC-000042?"); then a
            # question. Any other sentence where a serial or a code is expected is never
            # tried as one (a wrong code counts towards the rate limit): it is a question.
            if not chosen and slot.store not in FREE_TEXT_SLOTS:
                aside = self._aside(flow, ctx, history, command)
                if aside is not None:
                    return aside
            if not chosen and (looks_like_question(text) or sentence):
                replies, _ = answers.answer(ctx, text, in_flow=True)
                return self._from_step(flow, ctx, reask(flow, ctx, history, replies))
        return self._from_step(flow, ctx, answer_slot(flow, ctx, history, text))

    def _aside(
        self, flow: Flow, ctx: FlowContext, history: list[str], command: Understanding
    ) -> _Result | None:
        """Another request in the middle of a flow: look-ups are answered and the flow goes
        on; a different flow replaces this one (the user is told nothing was saved)."""
        if command.intent in LIST_INTENTS:
            replies = LIST_INTENTS[command.intent](ctx)
            return self._from_step(flow, ctx, reask(flow, ctx, history, replies))
        pending = flow.pending(ctx)
        if (
            command.intent is Intent.CHECK_INCIDENT
            and pending is not None
            and pending.store in IDENTIFIER_SLOTS
        ):
            return None  # "INC12345678" typed for a serial is a serial
        if (
            command.intent is Intent.CHECK_INCIDENT
            and command.incident_number
            and flow.name != "check_incident"
        ):
            replies = self._incident(ctx, command.incident_number)
            return self._from_step(flow, ctx, reask(flow, ctx, history, replies))
        target = FLOW_INTENTS.get(command.intent)
        if target is not None and target != flow.name:
            dropped = Reply(
                ctx._(
                    N_(
                        "I have set aside your current request ({request}); nothing was saved for it."
                    )
                ).format(request=ctx._(flow.title))
            )
            values = (
                {"incident_number": str(command.incident_number)} if command.incident_number else {}
            )
            return self._start(target, ctx, values, [dropped])
        return None

    # --- after a KB answer --------------------------------------------------------------

    def _after_answer(self, ctx: FlowContext, state: dict[str, Any], text: str) -> _Result:
        outcome = answers.follow_up(ctx, state, text)
        if isinstance(outcome, str):
            return self._fresh(ctx, outcome)
        if outcome is None:
            return self._fresh(ctx, text)
        replies, kept = outcome
        return self._kb_result(replies, kept)

    def _kb_result(self, replies: list[Reply], state: dict[str, Any] | None) -> _Result:
        if state is None:
            return _Result(replies)
        waiting = answers.FEEDBACK if state.get("awaiting") == answers.FEEDBACK else None
        return _Result(replies, answers.KB_FLOW, {"kb": state}, waiting_name=waiting)

    # --- a new request ------------------------------------------------------------------

    def _fresh(self, ctx: FlowContext, text: str, *, closed: bool = False) -> _Result:
        """A new request. `closed`: the user's flow just expired, so a bare answer to its
        last question ("DGS-1210-28", "oui") gets the menu, not a knowledge-base search."""
        command = understand(text)
        intent = command.intent
        if intent is Intent.CANCEL:
            return _Result(
                [Reply(ctx._(N_("There is nothing to cancel."))), *self._menu(ctx, intro=False)]
            )
        if intent is Intent.BACK:
            return _Result(
                [
                    Reply(ctx._(N_("There is no previous question to go back to."))),
                    *self._menu(ctx, intro=False),
                ]
            )
        if intent in (Intent.HELP, Intent.GREETING):
            return _Result(self._menu(ctx, intro=True))
        if intent is Intent.THANKS:
            return _Result([Reply(ctx._(N_("You are welcome! Anything else I can do for you?")))])
        if intent is Intent.SWITCH_LANGUAGE and command.lang:
            ctx.texts = texts_for(command.lang, ctx.texts.tz)
            return _Result(
                [Reply(ctx.texts.render("language_switched.j2")), *self._menu(ctx, intro=False)]
            )
        if intent in LIST_INTENTS:
            return _Result(LIST_INTENTS[intent](ctx))
        if intent is Intent.REOPEN_INCIDENT and command.incident_number:
            return _Result(self._reopen(ctx, command.incident_number))
        if intent is Intent.CHECK_INCIDENT and command.incident_number:
            return _Result(self._incident(ctx, command.incident_number))
        if intent in FLOW_INTENTS:
            return self._start(FLOW_INTENTS[intent], ctx)
        if closed and intent is Intent.QUESTION and not looks_like_question(text):
            return _Result(self._menu(ctx, intro=False))
        if not text.strip().endswith("?") and len(tokens(text)) < 2:
            # One word that is no command is too little to search the KB with.
            return _Result(
                [Reply(ctx._(N_("Sorry, I did not understand."))), *self._menu(ctx, intro=False)]
            )
        replies, state = answers.answer(ctx, text, in_flow=False)
        return self._kb_result(replies, state)

    def _incident(self, ctx: FlowContext, number: int) -> list[Reply]:
        formatted = incidents.format_number(number)
        try:
            if ctx.account is None:
                raise IncidentNotFound(number=formatted)
            incident = incidents.get_incident(ctx.session, formatted, account=ctx.account)
        except Refusal as err:
            return [Reply(ctx.texts.refusal(err))]
        return [incident_reply(ctx, incident)]

    def _reopen(self, ctx: FlowContext, number: int) -> list[Reply]:
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
                    now=ctx.now,
                )
        except Refusal as err:
            return [Reply(refusal_text(ctx, err))]
        said = Reply(
            ctx._(N_("I have reopened {number}; the support team will look at it again.")).format(
                number=incident.number
            )
        )
        return [said, incident_reply(ctx, incident)]

    def _menu(self, ctx: FlowContext, *, intro: bool) -> list[Reply]:
        full_name = self.user.name or (ctx.account.name if ctx.account is not None else "")
        text = ctx.texts.render("menu.j2", intro=intro, name=(full_name or "").split(" ")[0])
        return [Reply(text, menu_choices(ctx))]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """What a user typed, as text a database stores: bytes that were not UTF-8 (a terminal
    in Latin-1 gives "caf\udce9") decoded as Windows-1252, control characters (NUL, which
    PostgreSQL refuses) as spaces."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no byte stands for
        raw = text.encode("utf-8", "replace")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("cp1252", "replace")
    return _CONTROL.sub(" ", decoded)


def apology(user: ChatUser, lang: str | None = None) -> Outcome:
    """What a channel's one error handler answers when handling a message failed (a bug)."""
    texts = texts_for(lang or user.locale)
    sorry = texts.gettext(
        N_("Sorry, something went wrong on my side. Please try again in a moment.")
    )
    return Outcome([Reply(sorry)], None, texts.lang)


def picked(offered: list[dict[str, str]], text: str) -> str:
    """A choice shown outside a flow, picked by its number or its label → its value (a
    phrase the bot understands); any other text is returned as it is."""
    raw = text.strip()
    if raw.isdigit() and 1 <= int(raw) <= len(offered):
        return offered[int(raw) - 1]["value"]
    wanted = normalize(raw)
    for choice in offered:
        if wanted and wanted == normalize(choice["label"]):
            return choice["value"]
    return text


def menu_choices(ctx: FlowContext) -> list[Choice]:
    """What the bot can do; each value is a phrase the bot understands when sent back."""
    entries = [
        (N_("register a product"), N_("Register a product")),
        (N_("activate a service"), N_("Activate a DAS service")),
        (N_("report an incident"), N_("Report an incident")),
        (N_("incident status"), N_("Check an incident")),
        (N_("my products"), N_("My products")),
        (N_("my services"), N_("My services")),
        (N_("my incidents"), N_("My incidents")),
    ]
    return [Choice(ctx._(value), ctx._(label)) for value, label in entries]
