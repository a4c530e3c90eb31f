"""Forms (modals): product registration, DAS activation and incident filing."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.handlers.common import Deps

FORM_COMMANDS = {
    "register": "register_product",
    "activate": "activate_service",
    "incident": "file_incident",
}


def open_form(
    deps: Deps, client: WebClient, workspace: str, user_id: str, flow: str, trigger_id: str
) -> None:
    raise NotImplementedError


def register(app: App, deps: Deps) -> None:
    pass
