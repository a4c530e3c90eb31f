"""The Slack app's one door into the conversation engine (`bot.boundary`).

Messages go in as text, clicks as `Action`s bound to their run, modals as whole forms;
typed replies come out. Besides, two small reads of the conversation row that only a
channel needs: whether the user's conversation in a thread is waiting for an answer (a
channel thread is followed only then), and whether it is at a flow's confirmation (the
turn that answers it may change what the Home tab shows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from bot.boundary import Action, ChatUser, Choice, FormResult, FormSpec, Outcome
from bot.conversation import Assistant
from storage.conversations import find_preference
from storage.db import SessionFactory
from storage.models import Conversation

CONFIRM_STEP = "confirm"


@dataclass(frozen=True)
class Turn:
    outcome: Outcome
    changed: bool  # the turn answered a confirmation: the user's data may have changed


class Bridge:
    def __init__(self, assistant: Assistant, session_factory: SessionFactory) -> None:
        self.assistant = assistant
        self.session_factory = session_factory

    def say(self, user: ChatUser, text: str, *, now: dt.datetime | None = None) -> Turn:
        confirming = self.step(user) == CONFIRM_STEP
        return Turn(self.assistant.handle(user, text, now=now), confirming)

    def act(self, user: ChatUser, action: Action, *, now: dt.datetime | None = None) -> Turn:
        outcome = self.assistant.act(user, action, now=now)
        return Turn(outcome, action.slot == CONFIRM_STEP)

    def choices(self, user: ChatUser, run_id: str, slot: str) -> list[Choice]:
        return self.assistant.choices(user, run_id, slot)

    def form(self, user: ChatUser, flow: str) -> FormSpec:
        return self.assistant.form(user, flow)

    def submit_form(
        self, user: ChatUser, flow: str, fields: dict[str, str], idempotency_key: str
    ) -> FormResult:
        return self.assistant.submit_form(user, flow, fields, idempotency_key=idempotency_key)

    def step(self, user: ChatUser) -> str | None:
        """The slot the user's conversation in this thread waits for, if any."""
        with self.session_factory() as session:
            return session.scalar(
                select(Conversation.step).where(
                    Conversation.workspace_id == user.workspace_id,
                    Conversation.user_id == user.user_id,
                    Conversation.thread_key == user.thread_key,
                )
            )

    def language(self, user: ChatUser) -> str | None:
        """The language the user last spoke with the bot, if they have."""
        with self.session_factory() as session:
            pref = find_preference(session, user.workspace_id, user.user_id)
            return pref.lang if pref is not None else None
