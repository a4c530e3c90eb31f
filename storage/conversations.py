"""Conversation state: one row per (workspace, user, thread), typed by what it is doing.

A conversation is in one mode at a time, each with its own state:
  - `FlowState`   a flow run: the flow, its answers so far, the order they were given in
                  (for "back") and the run id its buttons and its side effect are bound to;
                  and, when a question asked mid-flow got "which of these two articles?",
                  that `Clarification` (the flow's step is asked again once it is settled);
  - `AnswerState` after a knowledge-base answer: the article, the logged question and the
                  follow-ups offered (read more, related articles, "was it helpful?"); or,
                  `awaiting` the pick, the two articles the bot asked the user to choose from;
  - `OfferState`  the choices last shown outside a flow (the menu, a list's follow-ups);
  - None          nothing pending.
Besides the mode, the row keeps the idempotency keys of the last actions applied, so an
action delivered twice is applied once.

The row's `version` column makes a save conditional (optimistic locking): the caller
retries its whole transaction when another process saved the row first. Rows written by
older versions of the bot (three untyped JSON shapes) are read as the matching mode.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Conversation, UserPreference

# The flow name the row's `flow` column holds while an answer's follow-ups are pending.
ANSWER_MODE = "kb"
# How many applied action keys a conversation remembers (a retry comes within seconds).
KEPT_ACTION_KEYS = 50


@dataclass
class Clarification:
    """ "Do you mean … or …?" asked during a flow: the logged question and the choices."""

    question_id: int | None
    choices: list[dict[str, str]] = field(default_factory=list)


@dataclass
class FlowState:
    flow: str
    run_id: str
    values: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    waiting: str | None = None  # the flow's slot asked, as `waiting_for` names it
    clarify: Clarification | None = None  # a question's articles to pick from first
    then: str | None = None  # the command offered once the flow is done (`FlowContext.then`)


# What an answer's follow-ups wait for (`AnswerState.awaiting`, the row's step).
FEEDBACK = "feedback"  # "was it helpful?"
WHICH_ARTICLE = "which_article"  # which of two close articles the user meant


@dataclass
class AnswerState:
    run_id: str
    slug: str | None = None
    lang: str | None = None
    question_id: int | None = None
    choices: list[dict[str, str]] = field(default_factory=list)
    awaiting: str | None = None  # FEEDBACK, WHICH_ARTICLE or None (a choice may be typed)

    @property
    def awaiting_feedback(self) -> bool:
        return self.awaiting == FEEDBACK


@dataclass
class OfferState:
    run_id: str
    choices: list[dict[str, str]] = field(default_factory=list)


Mode = FlowState | AnswerState | OfferState | None


@dataclass
class ConversationRecord:
    """A loaded row, its mode and what it remembers."""

    row: Conversation
    mode: Mode
    done: list[str]

    @property
    def updated_at(self) -> dt.datetime:
        return self.row.updated_at

    @property
    def run_id(self) -> str | None:
        return self.mode.run_id if self.mode is not None else None

    def applied(self, key: str) -> bool:
        return key in self.done

    def remember(self, key: str) -> None:
        self.done = [*[k for k in self.done if k != key], key][-KEPT_ACTION_KEYS:]

    def save(self, mode: Mode, now: dt.datetime) -> None:
        """Write `mode` to the row (it is always dirty: every turn bumps the version)."""
        row = self.row
        self.mode = mode
        common: dict[str, Any] = {"done": self.done} if self.done else {}
        if isinstance(mode, FlowState):
            row.flow, row.step, row.history = mode.flow, mode.waiting, list(mode.history)
            row.slots = {"run_id": mode.run_id, "values": mode.values, **common}
            if mode.clarify is not None:
                row.slots["clarify"] = {
                    "question_id": mode.clarify.question_id,
                    "choices": mode.clarify.choices,
                }
            if mode.then:
                row.slots["then"] = mode.then
        elif isinstance(mode, AnswerState):
            row.flow, row.history = ANSWER_MODE, []
            row.step = mode.awaiting
            row.slots = {
                "run_id": mode.run_id,
                "answer": {
                    "slug": mode.slug,
                    "lang": mode.lang,
                    "question_id": mode.question_id,
                    "choices": mode.choices,
                },
                **common,
            }
        elif isinstance(mode, OfferState):
            row.flow, row.step, row.history = None, None, []
            row.slots = {"run_id": mode.run_id, "offered": mode.choices, **common}
        else:
            row.flow, row.step, row.history = None, None, []
            row.slots = common
        row.updated_at = now


def _mode(row: Conversation) -> Mode:
    slots = row.slots or {}
    run_id = str(slots.get("run_id") or "")
    if row.flow == ANSWER_MODE:
        # Older rows kept the answer's state under "kb", with the step in "awaiting".
        answer = slots.get("answer") or slots.get("kb") or {}
        return AnswerState(
            run_id=run_id or str(row.id),
            slug=answer.get("slug"),
            lang=answer.get("lang"),
            question_id=answer.get("question_id"),
            choices=list(answer.get("choices", [])),
            awaiting=row.step or answer.get("awaiting"),
        )
    if row.flow:
        clarify = slots.get("clarify")
        return FlowState(
            flow=row.flow,
            run_id=run_id,
            values=dict(slots.get("values", {})),
            history=list(row.history or []),
            waiting=row.step,
            clarify=Clarification(clarify.get("question_id"), list(clarify.get("choices", [])))
            if isinstance(clarify, dict)
            else None,
            then=str(slots["then"]) if slots.get("then") else None,
        )
    if slots.get("offered"):
        return OfferState(run_id=run_id or str(row.id), choices=list(slots["offered"]))
    return None


def load_conversation(
    session: Session, workspace_id: str, user_id: str, thread_key: str, *, now: dt.datetime
) -> ConversationRecord:
    """The user's conversation in this thread, created (empty) on first use."""
    row = _find_row(session, workspace_id, user_id, thread_key)
    if row is None:
        row = Conversation(
            workspace_id=workspace_id,
            user_id=user_id,
            thread_key=thread_key,
            slots={},
            history=[],
            updated_at=now,
        )
        session.add(row)
        session.flush()
    done = [str(key) for key in (row.slots or {}).get("done", [])]
    return ConversationRecord(row, _mode(row), done)


def find_conversation(
    session: Session, workspace_id: str, user_id: str, thread_key: str
) -> ConversationRecord | None:
    """The user's conversation in this thread, without creating one (read-only callers)."""
    row = _find_row(session, workspace_id, user_id, thread_key)
    if row is None:
        return None
    done = [str(key) for key in (row.slots or {}).get("done", [])]
    return ConversationRecord(row, _mode(row), done)


def _find_row(
    session: Session, workspace_id: str, user_id: str, thread_key: str
) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id,
            Conversation.user_id == user_id,
            Conversation.thread_key == thread_key,
        )
    ).first()


def load_preference(
    session: Session, workspace_id: str, user_id: str, *, now: dt.datetime
) -> UserPreference:
    """What the bot remembers of the user (language, time zone), created on first use."""
    row = session.scalars(
        select(UserPreference).where(
            UserPreference.workspace_id == workspace_id,
            UserPreference.user_id == user_id,
        )
    ).first()
    if row is None:
        row = UserPreference(workspace_id=workspace_id, user_id=user_id, updated_at=now)
        session.add(row)
    return row


def find_preference(session: Session, workspace_id: str, user_id: str) -> UserPreference | None:
    """The remembered preference, without creating one (read-only callers)."""
    return session.scalars(
        select(UserPreference).where(
            UserPreference.workspace_id == workspace_id,
            UserPreference.user_id == user_id,
        )
    ).first()
