"""The channel-agnostic entry point: a message, an action or a form → the bot's replies.

One call is one transaction: load the conversation (`storage.conversations`), decide the
language (`bot.language`), route the input (`bot.routing`), save. The row's version makes
the save conditional (optimistic locking): when two calls for one user race, the loser's
whole transaction — including anything a confirm step wrote — is rolled back and the call
is handled again on the new state. So a confirm delivered twice files one incident (and
the incident's idempotency key covers processes that raced differently).

Every reply that offers choices is bound to a run: a flow run, or the answer or the menu
shown outside a flow. An `Action` names its run; one for a run that is no longer the
conversation's current one is refused and changes nothing, and an action whose
idempotency key was already applied changes nothing either. `bot.boundary` documents the
whole boundary for channels.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot import forms, routing
from bot.flows import FLOWS, answers
from bot.flows.engine import (
    FlowContext,
    KnowledgeBaseLike,
    Prompt,
    Refused,
    Reply,
    choices_for,
    reask,
)
from bot.forms import FormResult, FormSpec
from bot.i18n import normalize_lang, texts_for, valid_timezone
from bot.language import choose_language
from bot.media import RESERVED
from bot.outcome import Action, Outcome
from bot.replies import COMMAND, ChatUser, Choice
from bot.settings import Settings
from bot.understanding import Reading
from services import accounts
from services.clock import utcnow
from services.errors import N_
from storage.conversations import (
    AnswerState,
    ConversationRecord,
    FlowState,
    Mode,
    OfferState,
    find_conversation,
    find_preference,
    load_conversation,
    load_preference,
)
from storage.db import SessionFactory
from storage.models import Account

__all__ = ["Action", "Assistant", "ChatUser", "Choice", "Outcome", "apology", "clean_text"]

MAX_ATTEMPTS = 5
T = TypeVar("T")


class _Discard(Exception):
    """Raised with a call's answer when nothing the call did may be kept: the transaction
    rolls back and the answer is returned."""

    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer


class Assistant:
    """The bot, for any channel. Every entry point is safe to call from several processes."""

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

    def _transaction(self, work: Callable[[Session], T]) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.session_factory.begin() as session:
                    return work(session)
            except _Discard as discarded:
                return discarded.answer  # type: ignore[return-value]
            except (StaleDataError, IntegrityError):
                # Another call for this user changed the conversation first (or created
                # its row): everything this attempt wrote is rolled back; start again.
                if attempt == MAX_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def handle(self, user: ChatUser, text: str, *, now: dt.datetime | None = None) -> Outcome:
        """A message the user typed."""
        text = clean_text(text)
        moment = now or self.clock()
        return self._transaction(lambda s: _Turn(self, s, user, moment).message(text))

    def act(self, user: ChatUser, action: Action, *, now: dt.datetime | None = None) -> Outcome:
        """A choice clicked (a button, a select, a date picker), bound to its run."""
        action = Action(
            action.run_id, action.slot, clean_text(action.value), action.idempotency_key
        )
        moment = now or self.clock()
        return self._transaction(lambda s: _Turn(self, s, user, moment).action(action))

    def language_of(self, user: ChatUser) -> str:
        """The language the bot speaks to `user` now (read-only): for a channel's own texts."""
        with self.session_factory() as session:
            pref = find_preference(session, user.workspace_id, user.user_id)
            lang = (pref.lang if pref else None) or normalize_lang(user.locale)
        return lang or normalize_lang(self.settings.default_lang) or "en"

    def choices(
        self, user: ChatUser, run_id: str, slot: str, *, now: dt.datetime | None = None
    ) -> list[Choice]:
        """What the question `slot` of run `run_id` offers, read-only: the options a
        channel loads on demand (a searchable select); nothing once that question is no
        longer open, as `act` would refuse any of them."""
        moment = now or self.clock()
        idle = dt.timedelta(minutes=self.settings.flow_idle_minutes)
        with self.session_factory() as session:
            record = find_conversation(session, user.workspace_id, user.user_id, user.thread_key)
            if record is None or record.mode is None or record.mode.run_id != run_id:
                return []
            if record.updated_at < moment - idle:
                return []
            mode = record.mode
            if isinstance(mode, FlowState):
                flow = FLOWS.get(mode.flow)
                if flow is None:
                    return []
                ctx = dataclasses.replace(
                    _context(self, session, user, moment, write=False),
                    values=dict(mode.values),
                    run_id=mode.run_id,
                )
                pending = flow.pending(ctx)
                if pending is None or pending.store != slot:
                    return []
                return choices_for(ctx, pending)
            if slot != COMMAND:
                return []
            return [Choice(str(c["value"]), str(c["label"])) for c in mode.choices]

    def forms(self, user: ChatUser, *, now: dt.datetime | None = None) -> list[FormSpec]:
        """The flows a channel may offer as one form, with their fields, for this user."""
        names = [name for name, flow in FLOWS.items() if flow.form]
        return [self.form(user, name, now=now) for name in names]

    def form(self, user: ChatUser, flow_name: str, *, now: dt.datetime | None = None) -> FormSpec:
        """One flow's form: its fields in slot order, their options and bounds."""
        moment = now or self.clock()
        with self.session_factory() as session:
            ctx = _context(self, session, user, moment, write=False)
            return forms.spec(FLOWS[flow_name], ctx)

    def submit_form(
        self,
        user: ChatUser,
        flow_name: str,
        fields: dict[str, str],
        *,
        idempotency_key: str | None = None,
        now: dt.datetime | None = None,
    ) -> FormResult:
        """All of a flow's fields at once: the errors by slot, or the flow's action run
        once. The same `idempotency_key` again runs nothing."""
        cleaned = {key: clean_text(str(value)) for key, value in fields.items()}
        moment = now or self.clock()

        def work(session: Session) -> FormResult:
            ctx = _context(self, session, user, moment, write=True)
            record = load_conversation(
                session, user.workspace_id, user.user_id, user.thread_key, now=moment
            )
            if idempotency_key and record.applied(idempotency_key):
                return FormResult({}, [_already_done(ctx)], ctx.texts.lang, done=True)
            result = forms.submit(FLOWS[flow_name], ctx, cleaned, run_id=idempotency_key)
            if not result.done:
                raise _Discard(result)  # nothing of a refused form is kept
            if idempotency_key:
                record.remember(idempotency_key)
            mode, touched = record.mode, record.updated_at
            shown = [c.to_json() for reply in result.replies for c in reply.choices]
            if shown and not isinstance(mode, FlowState):
                # What the action's reply offers next ("My services") becomes pickable;
                # a flow going on in the conversation is left as it is.
                mode, touched = OfferState(routing.new_run_id(), shown), moment
                result.run_id = mode.run_id
                _bind(result.replies, mode.run_id)
            record.save(mode, touched)
            return result

        return self._transaction(work)


def _already_done(ctx: FlowContext) -> Reply:
    return Reply(ctx._(N_("I have already taken that into account; nothing more to do.")))


def _account(session: Session, user: ChatUser, now: dt.datetime, *, link: bool) -> Account | None:
    account = accounts.account_for_slack_user(
        session, user.workspace_id, user.user_id, tenant=user.tenant
    )
    if account is None and user.email:
        # The profile e-mail is the chat platform's, verified: link the account it names.
        account = accounts.find_account(session, user.email, workspace=user.tenant)
        if account is not None and link:
            accounts.link_slack_user(session, user.workspace_id, user.user_id, account, now=now)
    return account


def _context(
    assistant: Assistant, session: Session, user: ChatUser, now: dt.datetime, *, write: bool
) -> FlowContext:
    """A context in the user's remembered language (forms never switch it)."""
    pref = find_preference(session, user.workspace_id, user.user_id)
    lang = (pref.lang if pref else None) or normalize_lang(user.locale)
    tz = user.tz if valid_timezone(user.tz) else (pref.tz if pref else None)
    return FlowContext(
        session=session,
        texts=texts_for(
            lang or assistant.settings.default_lang, tz or assistant.settings.default_tz
        ),
        user=user,
        settings=assistant.settings,
        now=now,
        account=_account(session, user, now, link=write),
        values={},
        kb=assistant.kb,
    )


@dataclass
class _Loaded:
    record: ConversationRecord
    mode: Mode
    expired: bool


class _Turn:
    def __init__(
        self, assistant: Assistant, session: Session, user: ChatUser, now: dt.datetime
    ) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.session = session
        self.user = user
        self.now = now
        self.idle = dt.timedelta(minutes=self.settings.flow_idle_minutes)

    def _load(self) -> _Loaded:
        user = self.user
        record = load_conversation(
            self.session, user.workspace_id, user.user_id, user.thread_key, now=self.now
        )
        mode = record.mode
        stale = record.updated_at < self.now - self.idle
        expired = isinstance(mode, (FlowState, AnswerState)) and stale
        if isinstance(mode, FlowState) and mode.flow not in FLOWS:
            mode = None  # a flow this version of the bot no longer has
        if stale:
            mode = None  # choices shown long ago are no longer pickable by number
        return _Loaded(record, mode, expired and isinstance(record.mode, FlowState))

    def _context(
        self, lang: str, tz: str | None, values: dict[str, Any], run_id: str
    ) -> FlowContext:
        return FlowContext(
            session=self.session,
            texts=texts_for(lang, tz or self.settings.default_tz),
            user=self.user,
            settings=self.settings,
            now=self.now,
            account=_account(self.session, self.user, self.now, link=True),
            values=values,
            run_id=run_id,
            kb=self.assistant.kb,
        )

    def _prepare(
        self, text: str | None
    ) -> tuple[_Loaded, FlowContext, list[Reply], Reading | None]:
        """The conversation, the turn's context and, for a message, its one reading: the
        language of the answer is chosen from that reading."""
        loaded = self._load()
        pref = load_preference(
            self.session, self.user.workspace_id, self.user.user_id, now=self.now
        )
        mode = loaded.mode
        flow = FLOWS[mode.flow] if isinstance(mode, FlowState) else None
        values = dict(mode.values) if isinstance(mode, FlowState) else {}
        run_id = mode.run_id if isinstance(mode, FlowState) else ""
        if valid_timezone(self.user.tz) and self.user.tz != pref.tz:
            pref.tz = self.user.tz
        # An action keeps the language as it was; a message may change it (below).
        lang = pref.lang or normalize_lang(self.user.locale) or self.settings.default_lang
        ctx = self._context(lang, pref.tz, values, run_id)
        reading = None
        if text is not None:
            reading = routing.read_message(ctx, text)  # the one reading every decision uses
            waiting = mode.waiting if isinstance(mode, FlowState) else None
            pending = flow.slot(waiting) if flow is not None and waiting else None
            chosen_lang = choose_language(
                remembered=pref.lang,
                profile_locale=self.user.locale,
                default=self.settings.default_lang,
                reading=reading,
                slot=pending,
                in_flow=flow is not None,
                chosen=bool(pref.lang_chosen),
            )
            if chosen_lang != ctx.texts.lang:
                ctx.texts = texts_for(chosen_lang, pref.tz or self.settings.default_tz)
        if isinstance(mode, FlowState):
            ctx.then = mode.then
        before: list[Reply] = []
        if loaded.expired and isinstance(loaded.record.mode, FlowState):
            expired_flow = FLOWS.get(loaded.record.mode.flow)
            if expired_flow is not None:
                before.append(
                    Reply(
                        ctx.texts.render(
                            "expired.j2",
                            title=ctx.texts.gettext(expired_flow.title),
                            idle=ctx.texts.duration(self.idle),
                        )
                    )
                )
        self.pref = pref
        return loaded, ctx, before, reading

    # --- a message ----------------------------------------------------------------------

    def message(self, text: str) -> Outcome:
        loaded, ctx, before, reading = self._prepare(text)
        assert reading is not None  # a message is always read
        mode = loaded.mode
        if isinstance(mode, FlowState):
            flow = FLOWS[mode.flow]
            reading = routing.taken_as_answer(flow, ctx, reading)
            result = routing.in_flow(flow, ctx, list(mode.history), text, reading, mode.clarify)
        elif isinstance(mode, AnswerState):
            result = routing.after_answer(ctx, mode, text, reading)
        else:
            offered = mode.choices if isinstance(mode, OfferState) else []
            command = routing.picked(offered, text) or routing.menu_command(ctx, text)
            result = (routing.run_command(ctx, command) if command else None) or routing.fresh(
                ctx, reading, closed=bool(before)
            )
        if reading.lang_switch is not None:
            self.pref.lang_chosen = True  # "en français please": until they say otherwise
        return self._finish(loaded.record, ctx, before, result)

    # --- an action ----------------------------------------------------------------------

    def action(self, action: Action) -> Outcome:
        loaded, ctx, _, _ = self._prepare(None)
        record, mode = loaded.record, loaded.mode
        if record.applied(action.idempotency_key):
            self._unchanged(ctx, mode, [_already_done(ctx)])
        current = mode.run_id if mode is not None else None
        if current is None or action.run_id != current:
            self._unchanged(ctx, mode, [self._stale(ctx)])
        result: routing.Result | None
        if isinstance(mode, FlowState):
            flow = FLOWS[mode.flow]
            pending = flow.pending(ctx)
            history = list(mode.history)
            if action.slot == COMMAND:
                result = routing.command_in_flow(flow, ctx, history, action.value)
            elif mode.clarify is not None and action.slot == answers.WHICH_ARTICLE:
                result = routing.picked_in_flow(flow, ctx, history, mode.clarify, action.value)
            elif pending is not None and action.slot == pending.store:
                result = routing.from_step(
                    flow, ctx, routing.answer_slot(flow, ctx, history, action.value)
                )
            else:
                result = None  # a question already answered (an older button of this run)
        elif isinstance(mode, AnswerState):
            offered = {c["value"] for c in mode.choices}
            # The choices of "Do you mean … or …?" answer it; the others are commands.
            which = mode.awaiting == answers.WHICH_ARTICLE
            slot = answers.WHICH_ARTICLE if which else COMMAND
            chosen = action.slot == slot and action.value in offered
            result = routing.after_answer(ctx, mode, action.value) if chosen else None
        else:
            offered = {c["value"] for c in mode.choices} if mode is not None else set()
            chosen = action.slot == COMMAND and action.value in offered
            result = routing.run_command(ctx, action.value) if chosen else None
        if result is None:
            self._unchanged(ctx, mode, [self._stale(ctx)])
        record.remember(action.idempotency_key)
        return self._finish(record, ctx, [], result)

    def _stale(self, ctx: FlowContext) -> Refused:
        return Refused(
            ctx._(
                N_(
                    "That button belongs to a question that is no longer open, so I did "
                    "nothing with it."
                )
            ),
            reason="stale_action",
        )

    def _unchanged(self, ctx: FlowContext, mode: Mode, replies: list[Reply]) -> NoReturn:
        """The refusal of an action, and where the conversation stands — nothing written."""
        waiting: str | None = None
        run_id = mode.run_id if mode is not None else None
        if isinstance(mode, FlowState) and mode.clarify is not None:
            waiting = answers.WHICH_ARTICLE  # its question is still the one open
        elif isinstance(mode, FlowState):
            flow = FLOWS[mode.flow]
            step = reask(flow, ctx, list(mode.history), replies)
            replies = step.replies
            waiting = step.waiting_for.name if step.waiting_for else None
        elif isinstance(mode, AnswerState):
            waiting = mode.awaiting
        # Whatever was loaded or created on the way (a conversation row) is not kept.
        raise _Discard(Outcome(_bind(replies, run_id), waiting, ctx.texts.lang, run_id))

    # --- saving -------------------------------------------------------------------------

    def _finish(
        self,
        record: ConversationRecord,
        ctx: FlowContext,
        before: list[Reply],
        result: routing.Result,
    ) -> Outcome:
        replies = [*before, *result.replies]
        mode = result.mode
        if mode is None:
            # The choices of a menu or a list stay pickable by their number next time.
            shown = [c.to_json() for reply in replies for c in reply.choices]
            mode = OfferState(routing.new_run_id(), shown) if shown else None
        self.pref.lang = ctx.texts.lang
        self.pref.updated_at = self.now
        record.save(mode, self.now)
        run_id = mode.run_id if mode is not None else None
        return Outcome(_bind(replies, run_id), result.waiting_for, ctx.texts.lang, run_id)


def _bind(replies: list[Reply], run_id: str | None) -> list[Reply]:
    """Name the slot an action for each reply's choices must give."""
    for reply in replies:
        if isinstance(reply, Prompt):
            reply.run_id = run_id or ""
        elif reply.choices and reply.action_slot is None:
            reply.action_slot = COMMAND
    return replies


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Invisible characters a copy from an e-mail or a PDF brings along ("NBD3-7KQ2-A9XM\u200b"):
# nothing, so the code or serial reads as it looks.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")


def clean_text(text: str) -> str:
    """What a user typed, as text a database stores: bytes that were not UTF-8 (a terminal
    in Latin-1 gives "caf\\udce9") decoded as Windows-1252, control characters (NUL, which
    PostgreSQL refuses) and the markers of `bot.media` as spaces, invisible characters
    (zero-width spaces, soft hyphens) removed."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no byte stands for
        raw = text.encode("utf-8", "replace")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("cp1252", "replace")
    return RESERVED.sub(" ", _CONTROL.sub(" ", _INVISIBLE.sub("", decoded)))


def apology(user: ChatUser, lang: str | None = None) -> Outcome:
    """What a channel's one error handler answers when handling a call failed (a bug)."""
    texts = texts_for(lang or user.locale)
    sorry = texts.gettext(
        N_("Sorry, something went wrong on my side. Please try again in a moment.")
    )
    return Outcome([Reply(sorry)], None, texts.lang)
