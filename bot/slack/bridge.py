"""The Slack app's one door into the conversation engine.

Today the engine speaks text + choices (`Assistant.handle`); Slack needs a little more
about the state a reply leaves — which slot is awaited, of what kind, and a version that
binds a button to the question it answers. This adapter reads that state from the
conversation row after the turn, so the rest of the Slack app never looks inside the
engine and switches to the engine's typed boundary by changing this module alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from bot.conversation import Assistant, Outcome
from bot.flows import FLOWS
from bot.flows.answers import FEEDBACK, KB_FLOW
from bot.flows.engine import ChatUser
from storage.db import SessionFactory
from storage.models import Conversation, UserPreference

FEEDBACK_KIND = "feedback"


@dataclass(frozen=True)
class State:
    """What the conversation waits for after a turn; `version` changes with every turn."""

    flow: str | None
    slot: str | None  # the stored slot name ("site_country", not "country")
    kind: str | None  # text, choice, yesno, date, feedback
    version: int

    @property
    def waiting(self) -> bool:
        return self.slot is not None


@dataclass(frozen=True)
class Turn:
    outcome: Outcome
    state: State
    ended: str | None = None  # the flow this turn ended (its action may have changed data)


class Bridge:
    def __init__(self, assistant: Assistant, session_factory: SessionFactory) -> None:
        self.assistant = assistant
        self.session_factory = session_factory

    def say(self, user: ChatUser, text: str, *, now: dt.datetime | None = None) -> Turn:
        before = self.state(user)
        outcome = self.assistant.handle(user, text, now=now)
        after = self.state(user)
        ended = before.flow if before.flow in FLOWS and after.flow != before.flow else None
        return Turn(outcome, after, ended)

    def language(self, user: ChatUser) -> str | None:
        """The language the user last spoke with the bot, if they have."""
        with self.session_factory() as session:
            return session.scalar(
                select(UserPreference.lang).where(
                    UserPreference.workspace_id == user.workspace_id,
                    UserPreference.user_id == user.user_id,
                )
            )

    def state(self, user: ChatUser) -> State:
        with self.session_factory() as session:
            row = session.execute(
                select(Conversation.flow, Conversation.step, Conversation.version).where(
                    Conversation.workspace_id == user.workspace_id,
                    Conversation.user_id == user.user_id,
                    Conversation.thread_key == user.thread_key,
                )
            ).first()
        if row is None:
            return State(None, None, None, 0)
        flow, step, version = row
        return State(flow, step, _kind(flow, step), version)


def _kind(flow: str | None, step: str | None) -> str | None:
    if step is None:
        return None
    if flow == KB_FLOW and step == FEEDBACK:
        return FEEDBACK_KIND
    definition = FLOWS.get(flow or "")
    if definition is None:
        return None
    return next((slot.kind for slot in definition.slots if slot.store == step), None)
