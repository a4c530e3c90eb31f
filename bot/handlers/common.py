"""What every listener shares: the app's objects, who is talking, and posting a turn."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.blocks import (
    Binding,
    Block,
    Labels,
    build_feedback_blocks,
    build_notice_blocks,
    build_reply_blocks,
    fallback_text,
    messages_of,
)
from bot.conversation import Outcome
from bot.flows.engine import ChatUser
from bot.i18n import Texts, texts_for
from bot.settings import Settings
from bot.slack.bridge import FEEDBACK_KIND, Bridge, State, Turn
from bot.slack.profiles import Profiles
from services.clock import utcnow
from services.errors import N_
from storage.db import SessionFactory

log = logging.getLogger(__name__)


@dataclass
class Deps:
    """The objects `create_app` builds once and every listener uses."""

    settings: Settings
    session_factory: SessionFactory
    bridge: Bridge
    profiles: Profiles
    kb: Any = None


@dataclass(frozen=True)
class Place:
    """Where a conversation lives: a DM, a DM thread (assistant pane), a channel thread."""

    channel: str
    thread_ts: str | None = None

    @property
    def thread_key(self) -> str:
        return f"{self.channel}:{self.thread_ts}" if self.thread_ts else self.channel

    @classmethod
    def from_thread_key(cls, key: str) -> Place:
        channel, _, thread_ts = key.partition(":")
        return cls(channel, thread_ts or None)


def chat_user(deps: Deps, workspace_id: str, user_id: str, place: Place) -> ChatUser:
    """The Slack user as the engine sees them; their account is keyed by their own
    workspace (a Slack Connect guest keeps theirs) and their profile gives language,
    time zone, name and e-mail when Slack has them."""
    profile = deps.profiles.get(user_id)
    return ChatUser(
        workspace_id=workspace_id,
        user_id=user_id,
        thread_key=place.thread_key,
        email=profile.email,
        name=profile.name,
        tz=profile.tz,
        locale=profile.locale,
    )


def texts_of(deps: Deps, user: ChatUser, lang: str | None = None) -> Texts:
    return texts_for(lang or user.locale or deps.settings.default_lang, user.tz)


def labels_for(texts: Texts) -> Labels:
    return Labels(
        pick=texts.gettext(N_("Choose…")),
        pick_date=texts.gettext(N_("Pick a date")),
        search=texts.gettext(N_("Type to search…")),
    )


def turn_blocks(turn: Turn, place: Place, user: ChatUser, now: dt.datetime) -> list[Block]:
    """The whole turn's replies as blocks; the controls of the last reply answer the
    question the conversation now waits for, the others are free commands."""
    outcome, state = turn.outcome, turn.state
    texts = texts_for(outcome.lang, user.tz)
    labels = labels_for(texts)
    blocks: list[Block] = []
    last = len(outcome.replies) - 1
    for index, reply in enumerate(outcome.replies):
        asks = index == last and state.waiting
        binding = Binding(place.thread_key, state.version if asks else None)
        if asks and state.kind == FEEDBACK_KIND:
            blocks += build_feedback_blocks(
                reply.text, reply.choices, binding=binding, index=index, labels=labels
            )
            continue
        blocks += build_reply_blocks(
            reply.text,
            reply.choices,
            binding=binding,
            index=index,
            kind=state.kind if asks else None,
            slot=state.slot if asks else None,
            labels=labels,
            today=now.astimezone(texts.zone).date(),
        )
    return blocks


def post_outcome(
    client: WebClient, place: Place, outcome: Outcome, blocks: list[Block]
) -> list[str]:
    """Post the blocks (several messages when Block Kit's limits demand); the ts posted."""
    text = "\n\n".join(reply.text for reply in outcome.replies)
    posted = []
    for chunk in messages_of(blocks):
        response = client.chat_postMessage(
            channel=place.channel,
            thread_ts=place.thread_ts,
            text=fallback_text(text),
            blocks=chunk,
            unfurl_links=False,
            unfurl_media=False,
        )
        posted.append(str(response.get("ts", "")))
    return posted


def post_turn(client: WebClient, place: Place, user: ChatUser, turn: Turn) -> None:
    post_outcome(client, place, turn.outcome, turn_blocks(turn, place, user, utcnow()))


def post_notice(client: WebClient, place: Place, text: str) -> None:
    client.chat_postMessage(
        channel=place.channel,
        thread_ts=place.thread_ts,
        text=fallback_text(text),
        blocks=build_notice_blocks(text),
    )


def converse(deps: Deps, client: WebClient, user: ChatUser, place: Place, text: str) -> State:
    """One message of the user, answered where it was written."""
    turn = deps.bridge.say(user, text)
    post_turn(client, place, user, turn)
    if turn.ended:
        from bot.handlers.home import publish_home  # the Home tab shows what changed

        publish_home(deps, client, user.workspace_id, user.user_id)
    return turn.state


def dm_place(client: WebClient, user_id: str) -> Place:
    """The user's direct-message conversation with the bot."""
    response = client.conversations_open(users=user_id)
    return Place(str(response["channel"]["id"]))
