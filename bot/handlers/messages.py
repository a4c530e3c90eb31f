"""Messages: direct messages, mentions in channels (answered in a thread, where the flow
then continues), and the assistant pane's threads.

Events reach these listeners from the inbox (bot.slack.inbox): acknowledged and stored
under their `event_id`, so a retry or another replica never answers twice.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.handlers.common import Deps, Place, chat_user, converse, texts_of
from bot.handlers.incident_answers import relay_from_dm
from bot.handlers.triage import note_from_thread
from services.errors import N_

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def workspace_of(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The user's own workspace: a Slack Connect guest is served as themselves."""
    return str(event.get("user_team") or event.get("team") or body.get("team_id") or "")


def is_from_a_bot(event: dict[str, Any], bot_user_id: str | None) -> bool:
    return bool(
        event.get("bot_id")
        or event.get("subtype") == "bot_message"
        or event.get("bot_profile")
        or (bot_user_id and event.get("user") == bot_user_id)
    )


def without_mentions(text: str) -> str:
    return _MENTION.sub(" ", text).strip()


def register(app: App, deps: Deps) -> None:
    @app.event("message")
    def handle_message(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        if event.get("subtype") not in (None, "file_share", "thread_broadcast"):
            return  # edits, deletions, joins: nothing was said to the bot
        if is_from_a_bot(event, context.bot_user_id) or not event.get("user"):
            return
        # An incident's conversation: a note in its card's thread, an answer in the
        # thread of a staff reply in the customer's DM.
        if note_from_thread(deps, client, event, body) or relay_from_dm(
            deps, client, body, event, workspace_of(body, event)
        ):
            return
        channel = str(event.get("channel", ""))
        thread_ts = event.get("thread_ts")
        text = str(event.get("text") or "")
        if event.get("channel_type") == "im":
            place = Place(channel, thread_ts)
        else:
            # In a channel the bot only speaks when mentioned (app_mention answers those)
            # or inside a thread where the user's flow is going on.
            mentioned = context.bot_user_id and f"<@{context.bot_user_id}" in text
            if mentioned or not thread_ts:
                return
            place = Place(channel, thread_ts)
            user = chat_user(deps, workspace_of(body, event), str(event["user"]), place, client)
            if deps.bridge.step(user) is None:
                return
        user = chat_user(deps, workspace_of(body, event), str(event["user"]), place, client)
        if thread_ts and event.get("channel_type") == "im":
            set_status(client, deps, place, user)
        converse(deps, client, user, place, text)

    @app.event("app_mention")
    def handle_app_mention(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        if is_from_a_bot(event, context.bot_user_id) or not event.get("user"):
            return
        place = Place(str(event["channel"]), str(event.get("thread_ts") or event["ts"]))
        user = chat_user(deps, workspace_of(body, event), str(event["user"]), place, client)
        text = without_mentions(str(event.get("text") or ""))
        converse(deps, client, user, place, text or "help")


def set_status(client: WebClient, deps: Deps, place: Place, user: Any) -> None:
    """In the assistant pane, a status while the bot works (cleared by its reply)."""
    texts = texts_of(deps, user)
    # A DM thread that is not an assistant thread has no status to show: Slack says so.
    with contextlib.suppress(SlackApiError):
        client.assistant_threads_setStatus(
            channel_id=place.channel,
            thread_ts=place.thread_ts or "",
            status=texts.gettext(N_("is looking into it…")),
        )
