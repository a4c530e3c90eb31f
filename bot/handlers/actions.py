"""Buttons, selects and date pickers in the conversation's messages.

A control carries its binding (bot.blocks.Binding): the conversation, the run and the
slot it answers. The engine refuses, politely and changing nothing, a click on a question
no longer open — an old message, or the second click of a double click. A searchable
select loads its options from the question its binding names (none once it is closed),
filtered like a form's (`bot.blocks.build_options`).
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
    Vote,
    build_options,
)
from bot.boundary import Action, ChatUser
from bot.flows.answers import vote_replies
from bot.handlers.common import Deps, Place, chat_user, deliver, post_replies, texts_of
from bot.outcome import Outcome
from services import questions
from storage.models import QuestionLog

ACTIONS = re.compile(rf"^(?:{CHOICE_ACTION}:\d+|{SELECT_ACTION}|{DATE_ACTION})$")
FEEDBACK = re.compile(rf"^{FEEDBACK_ACTION}:\d+$")


def picked_value(action: dict[str, Any]) -> str | None:
    kind = action.get("type")
    if kind == "button":
        return action.get("value")
    if kind in ("static_select", "external_select"):
        return (action.get("selected_option") or {}).get("value")
    if kind == "datepicker":
        return action.get("selected_date")
    return None


def idempotency_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    """Unique to one click: Slack's action_ts, with the message it was on."""
    message = (body.get("container") or {}).get("message_ts") or ""
    return f"{action.get('action_ts', '')}:{message}:{action.get('action_id', '')}"


def register(app: App, deps: Deps) -> None:
    @app.action(ACTIONS)
    def handle_choice(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        binding = Binding.from_block_id(str(action.get("block_id", "")))
        value = picked_value(action)
        if binding is None or value is None:
            return  # a select cleared, or not one of ours: nothing was asked
        place = Place.from_thread_key(binding.thread_key)
        user = _clicker(deps, body, place, client)
        click = Action(binding.run_id, binding.slot, value, idempotency_key(body, action))
        deliver(deps, client, user, place, deps.bridge.act(user, click))

    @app.action(FEEDBACK)
    def handle_feedback(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        """Helpful / not helpful on an answer, Slack's feedback buttons or ours: recorded
        whenever it is clicked (a person's latest vote on an article is the one that
        counts), thanked in the conversation the answer is in."""
        ack()
        vote = Vote.parse(str(action.get("value") or ""))
        binding = Binding.from_block_id(str(action.get("block_id", "")))
        if vote is None or binding is None or deps.kb is None:
            return
        if deps.kb.article(vote.slug, vote.lang) is None:
            return  # not an article of ours (any more): nothing to vote on
        place = Place.from_thread_key(binding.thread_key)
        user = _clicker(deps, body, place, client)
        with deps.session_factory.begin() as session:
            question_id = vote.question_id
            if question_id is not None and session.get(QuestionLog, question_id) is None:
                question_id = None
            questions.record_feedback(
                session,
                slug=vote.slug,
                lang=vote.lang,
                helpful=vote.helpful,
                question_id=question_id,
                workspace_id=user.workspace_id,
                user_id=user.user_id,
            )
        texts = texts_of(deps, user)
        replies = vote_replies(texts.gettext, vote.helpful)
        post_replies(client, place, user, Outcome(replies, None, texts.lang))

    @app.options(SELECT_ACTION)
    def handle_select_options(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The options of a searchable select in a message, for what the user typed."""
        binding = Binding.from_block_id(str(body.get("block_id", "")))
        if binding is None:
            ack(options=[])
            return
        user = _clicker(deps, body, Place.from_thread_key(binding.thread_key), client)
        choices = deps.bridge.choices(user, binding.run_id, binding.slot)
        ack(options=build_options(choices, str(body.get("value") or "")))


def _clicker(deps: Deps, body: dict[str, Any], place: Place, client: WebClient) -> ChatUser:
    """The user behind an interaction, in the conversation its control belongs to."""
    who = body.get("user") or {}
    workspace = str(who.get("team_id") or (body.get("team") or {}).get("id") or "")
    return chat_user(deps, workspace, str(who.get("id", "")), place, client)
