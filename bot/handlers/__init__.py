"""One module per capability; each exposes `register(app, deps)`. Wired here, once."""

from __future__ import annotations

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
