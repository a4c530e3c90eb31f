"""Buttons, selects and date pickers in the conversation's messages.

A control carries its binding (bot.blocks.Binding): the conversation it answers and, for a
question, the conversation's version when it was asked. A click on an older question —
or the second of a double click, which finds the first one's claim — is answered
politely and changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import (
    CHOICE_ACTION,
    DATE_ACTION,
    FEEDBACK_ACTION,
    SELECT_ACTION,
    Binding,
)
from bot.handlers.common import Deps, Place, chat_user, converse, post_notice, texts_of
from bot.slack import delivery
from services.errors import N_


def picked_value(action: dict[str, Any]) -> str | None:
    kind = action.get("type")
    if kind == "button":
        return action.get("value")
    if kind in ("static_select", "external_select"):
        return (action.get("selected_option") or {}).get("value")
    if kind == "datepicker":
        return action.get("selected_date")
    return None


def answer_action(
    deps: Deps, body: dict[str, Any], action: dict[str, Any], client: WebClient
) -> None:
    binding = Binding.from_block_id(str(action.get("block_id", "")))
    value = picked_value(action)
    if binding is None or value is None:
        return  # not one of ours, or a select cleared: nothing to do
    who = body.get("user") or {}
    workspace = str(who.get("team_id") or (body.get("team") or {}).get("id") or "")
    place = Place.from_thread_key(binding.thread_key)
    user = chat_user(deps, workspace, str(who.get("id", "")), place)
    if binding.version is not None:
        current = deps.bridge.state(user)
        claim = f"action:{workspace}:{user.user_id}:{binding.thread_key}:{binding.version}"
        if current.version != binding.version or not delivery.claim(deps.session_factory, claim):
            texts = texts_of(deps, user, deps.bridge.language(user))
            post_notice(
                client,
                place,
                texts.gettext(
                    N_(
                        "That button belongs to an earlier question, so I changed nothing. "
                        "Please answer the latest question."
                    )
                ),
            )
            return
    converse(deps, client, user, place, value)


def register(app: App, deps: Deps) -> None:
    pattern = re.compile(
        rf"^({re.escape(CHOICE_ACTION)}:\d+|{SELECT_ACTION}|{DATE_ACTION}|{FEEDBACK_ACTION}:\w+)$"
    )

    @app.action(pattern)
    def handle_choice(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        answer_action(deps, body, action, client)
