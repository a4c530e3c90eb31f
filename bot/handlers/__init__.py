"""One module per capability; each exposes `register(app, deps)`. Wired here, once."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.handlers import (
    actions,
    assistant_pane,
    commands,
    editors,
    forms,
    home,
    incident_answers,
    messages,
    satisfaction,
    triage,
)
from bot.handlers.common import Deps


def register_all(app: App, deps: Deps) -> None:
    for module in (
        messages,
        actions,
        commands,
        forms,
        home,
        assistant_pane,
        triage,
        incident_answers,
        editors,
        satisfaction,
    ):
        module.register(app, deps)


def answers_at_once(payload: dict[str, Any]) -> bool:
    """Requests whose listener must run before the HTTP answer: the answer carries its
    result (form errors, a select's options, a command's usage) or it opens a modal, whose
    trigger id expires three seconds after the click. Every other request is stored in the
    inbox, acknowledged, and handled by a worker (bot.slack.inbox)."""
    kind = payload.get("type")
    if kind == "event_callback":
        return False
    if kind == "block_actions":
        return forms.opens_a_form(payload)
    if "command" in payload:
        return commands.answers_at_once(payload)
    return True  # view_submission, block_suggestion, url_verification, shortcuts
