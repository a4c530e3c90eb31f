"""What every listener shares: the app's objects, who is talking, and posting replies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import (
    Block,
    Labels,
    build_notice_blocks,
    build_reply_blocks,
    fallback_text,
    messages_of,
)
from bot.boundary import ChatUser, Outcome, Reply
from bot.i18n import Texts, texts_for
from bot.metrics import REPLIES
from bot.settings import Settings
from bot.slack.bridge import Bridge, Turn
from bot.slack.clients import Clients
from bot.slack.profiles import Profiles
from bot.slack.roles import Roles
from services.clock import utcnow
from services.errors import N_
from storage.db import SessionFactory
from storage.models import DEFAULT_WORKSPACE


@dataclass
class Deps:
    """The objects `create_app` builds once and every listener uses."""

    settings: Settings
    session_factory: SessionFactory
    bridge: Bridge
    profiles: Profiles
    kb: Any = None
    roles: Roles | None = None
    # Each workspace's client, for jobs and for work that crosses workspaces.
    clients: Clients | None = None

    def client_for(self, workspace: str, fallback: WebClient) -> WebClient:
        """The workspace's client (`fallback`, the caller's, when none are kept)."""
        return self.clients.for_workspace(workspace) if self.clients else fallback

    def staff_client(self, fallback: WebClient) -> WebClient:
        """The client of the triage channel's workspace."""
        return self.clients.staff() if self.clients else fallback


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


def chat_user(
    deps: Deps,
    workspace_id: str,
    user_id: str,
    place: Place,
    client: WebClient | None = None,
) -> ChatUser:
    """The Slack user as the engine sees them; their account is keyed by their own
    workspace (a Slack Connect guest keeps theirs) and their profile gives language,
    time zone, name and e-mail when Slack has them. In OAuth mode their accounts are their
    workspace's; with one token, the default workspace's (the console's and the CLI's).
    `client` is the request's (it holds the workspace's token in OAuth mode)."""
    profile = deps.profiles.get(user_id, workspace=workspace_id, client=client)
    return ChatUser(
        tenant=workspace_id if deps.settings.oauth_mode else DEFAULT_WORKSPACE,
        workspace_id=workspace_id,
        user_id=user_id,
        thread_key=place.thread_key,
        email=profile.email,
        name=profile.name,
        tz=profile.tz,
        locale=profile.locale,
    )


def texts_of(deps: Deps, user: ChatUser, lang: str | None = None) -> Texts:
    """The user's language: the one they last spoke with the bot, else their profile's."""
    lang = lang or deps.bridge.language(user) or user.locale or deps.settings.default_lang
    return texts_for(lang, user.tz or deps.settings.default_tz)


def labels_for(texts: Texts) -> Labels:
    _ = texts.gettext
    return Labels(
        pick=_(N_("Choose…")),
        pick_date=_(N_("Pick a date")),
        submit=_(N_("Submit")),
        cancel=_(N_("Cancel")),
        accept=_(N_("Yes")),
    )


def reply_blocks(
    replies: list[Reply],
    run_id: str | None,
    place: Place,
    texts: Texts,
    now: dt.datetime,
    *,
    native_feedback: bool = True,
) -> list[Block]:
    labels = labels_for(texts)
    today = now.astimezone(texts.zone).date()
    blocks: list[Block] = []
    for index, reply in enumerate(replies):
        blocks += build_reply_blocks(
            reply,
            thread_key=place.thread_key,
            run_id=run_id,
            index=index,
            labels=labels,
            today=today,
            native_feedback=native_feedback,
        )
    return blocks


def post_replies(client: WebClient, place: Place, user: ChatUser, outcome: Outcome) -> None:
    """Post a turn's replies (several messages when Block Kit's limits demand)."""
    texts = texts_for(outcome.lang, user.tz)
    blocks = reply_blocks(outcome.replies, outcome.run_id, place, texts, utcnow())
    text = fallback_text([reply.text for reply in outcome.replies])
    start = 0
    for chunk in messages_of(blocks):
        try:
            _post(client, place, text, chunk)
        except SlackApiError as err:
            # Slack's feedback buttons are not offered everywhere (a workspace, a client,
            # a surface): refused, the same message goes again with plain buttons. One
            # block stands for one block, so the message holds the same blocks otherwise.
            if err.response.get("error") != "invalid_blocks" or not any(
                block["type"] == "context_actions" for block in chunk
            ):
                raise
            plain = reply_blocks(
                outcome.replies, outcome.run_id, place, texts, utcnow(), native_feedback=False
            )
            _post(client, place, text, plain[start : start + len(chunk)])
        start += len(chunk)


def _post(client: WebClient, place: Place, text: str, blocks: list[Block]) -> None:
    client.chat_postMessage(
        channel=place.channel,
        thread_ts=place.thread_ts,
        text=text,
        blocks=blocks,
        unfurl_links=False,
        unfurl_media=False,
    )
    REPLIES.inc()


def post_notice(client: WebClient, place: Place, text: str) -> None:
    client.chat_postMessage(
        channel=place.channel,
        thread_ts=place.thread_ts,
        text=fallback_text([text]),
        blocks=build_notice_blocks(text),
    )


def deliver(deps: Deps, client: WebClient, user: ChatUser, place: Place, turn: Turn) -> None:
    post_replies(client, place, user, turn.outcome)
    if turn.changed:
        from bot.handlers.home import publish_home  # the Home tab shows what changed

        publish_home(deps, client, user.workspace_id, user.user_id)


def converse(deps: Deps, client: WebClient, user: ChatUser, place: Place, text: str) -> None:
    """One message of the user, answered where it was written."""
    deliver(deps, client, user, place, deps.bridge.say(user, text))


def dm_place(client: WebClient, user_id: str) -> Place:
    """The user's direct-message conversation with the bot."""
    response = client.conversations_open(users=user_id)
    return Place(str(response["channel"]["id"]))


Blocks = Block  # re-exported for the handlers' annotations
