"""Slack's assistant pane: when a user opens a thread with the bot there, suggested
prompts in their language; the thread's messages are DM messages in a thread and are
answered by bot.handlers.messages (with a status while the bot works)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.handlers.common import Deps, Place, chat_user, texts_of
from services.errors import N_

# (title, message sent when picked)
PROMPTS = (
    (N_("Activate a DAS code"), N_("activate a service")),
    (N_("Check my incidents"), N_("my incidents")),
    (N_("Register a product"), N_("register a product")),
    (N_("Report an incident"), N_("report an incident")),
)


def suggested_prompts(texts: Any) -> list[dict[str, str]]:
    return [{"title": texts.gettext(t), "message": texts.gettext(m)} for t, m in PROMPTS]


def register(app: App, deps: Deps) -> None:
    @app.event("assistant_thread_started")
    def handle_assistant_thread_started(
        body: dict[str, Any], event: dict[str, Any], client: WebClient
    ) -> None:
        thread = event.get("assistant_thread") or {}
        place = Place(str(thread.get("channel_id", "")), str(thread.get("thread_ts", "")))
        user_id = str(thread.get("user_id", ""))
        workspace = str((thread.get("context") or {}).get("team_id") or body.get("team_id") or "")
        user = chat_user(deps, workspace, user_id, place, client)
        texts = texts_of(deps, user)
        client.assistant_threads_setSuggestedPrompts(
            channel_id=place.channel,
            thread_ts=place.thread_ts,
            title=texts.gettext(N_("What can I do for you?")),
            prompts=suggested_prompts(texts),
        )

    @app.event("assistant_thread_context_changed")
    def handle_assistant_thread_context_changed() -> None:
        """Nothing to do: the conversation does not depend on the channel being viewed."""
