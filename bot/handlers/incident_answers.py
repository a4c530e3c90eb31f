"""The customer's side of the incident conversation in Slack: the Answer button under a
staff reply (a modal), and text typed in that reply's DM thread — both recorded as the
customer's answer on the incident and relayed to its card's thread, never answered with
knowledge-base articles. Only the incident's own account may answer it: the Slack user is
the one Slack signed the request for, and another account's incident is not found.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import build_message_view
from bot.flows.answer_incident import ANSWER_SENT
from bot.handlers.common import Deps, Place, chat_user, dm_place, post_notice, texts_of
from bot.i18n import Texts
from bot.media import to_mrkdwn
from bot.slack import inbox
from bot.slack.triage_cards import (
    ANSWER_ACTION,
    ANSWER_CALLBACK,
    FIELD,
    TEXT_BLOCK,
    build_answer_modal,
)
from bot.slack.triage_sync import sync_incident
from services import accounts, incidents, triage
from services.errors import N_, IncidentNotFound, Refusal

ERROR_CHARS = 2000


def _who(body: dict[str, Any]) -> tuple[str, str]:
    user = body.get("user") or {}
    workspace = str(user.get("team_id") or (body.get("team") or {}).get("id") or "")
    return workspace, str(user.get("id") or "")


def _texts(deps: Deps, workspace: str, user_id: str, place: Place) -> Texts:
    return texts_of(deps, chat_user(deps, workspace, user_id, place))


def answer(
    deps: Deps,
    workspace: str,
    user_id: str,
    number: str,
    text: str,
    *,
    slack_channel: str | None = None,
    slack_ts: str | None = None,
) -> None:
    """Record the Slack user's answer on their account's incident (raises a Refusal)."""
    with deps.session_factory.begin() as session:
        account = accounts.account_for_slack_user(session, workspace, user_id)
        if account is None:
            raise IncidentNotFound(number=number)
        triage.customer_answer(
            session,
            number,
            account=account,
            text=text,
            slack_channel=slack_channel,
            slack_ts=slack_ts,
        )


def sent_text(texts: Texts, number: str) -> str:
    return texts.gettext(ANSWER_SENT).format(number=number)


def relay_from_dm(
    deps: Deps, client: WebClient, body: dict[str, Any], event: dict[str, Any], workspace: str
) -> bool:
    """A customer's message in the DM thread of a staff reply: their answer on the
    incident. True when the message was one (handled here)."""
    if event.get("channel_type") != "im" or not event.get("thread_ts"):
        return False
    channel = str(event.get("channel") or "")
    thread_ts = str(event["thread_ts"])
    with deps.session_factory() as session:
        reply = triage.reply_for_message(session, channel, thread_ts)
        number = reply.incident.number if reply is not None else None
    if number is None:
        return False
    user_id = str(event.get("user") or "")
    place = Place(channel, thread_ts)
    texts = _texts(deps, workspace, user_id, place)
    try:
        answer(
            deps,
            workspace,
            user_id,
            number,
            str(event.get("text") or ""),
            slack_channel=channel,
            slack_ts=str(event.get("ts") or ""),
        )
    except Refusal as err:
        post_notice(client, place, texts.refusal(err))
        return True
    post_notice(client, place, sent_text(texts, number))
    sync_incident(deps, client, number)
    return True


def register(app: App, deps: Deps) -> None:
    @app.action(ANSWER_ACTION)
    def handle_answer_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        workspace, user_id = _who(body)
        number = incidents.parse_number(str(action.get("value") or ""))
        if number is None:
            return
        texts = _texts(deps, workspace, user_id, Place("answer"))
        with deps.session_factory() as session:
            account = accounts.account_for_slack_user(session, workspace, user_id)
            try:
                if account is None:
                    raise IncidentNotFound(number=number)
                incidents.get_incident(session, number, account=account)
            except Refusal as err:
                post_notice(client, dm_place(client, user_id), texts.refusal(err))
                return
        client.views_open(
            trigger_id=str(body["trigger_id"]), view=build_answer_modal(number, texts)
        )

    @app.view(ANSWER_CALLBACK)
    def handle_answer_submission(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        workspace, user_id = _who(body)
        try:
            data = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            data = {}
        number = (
            incidents.parse_number(str(data.get("number") or ""))
            if isinstance(data, dict)
            else None
        )
        if number is None:
            ack()
            return
        if not inbox.once(
            deps.session_factory.kw["bind"], f"answer-view:{view.get('id')}:{view.get('hash')}"
        ):
            ack()
            return
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get(TEXT_BLOCK) or {}).get(FIELD) or {}).get("value") or "")
        texts = _texts(deps, workspace, user_id, Place("answer"))
        try:
            answer(deps, workspace, user_id, number, text)
        except Refusal as err:
            if isinstance(err, IncidentNotFound):
                title = texts.gettext(N_("Helpdesk"))
                refused = build_message_view(
                    title, [texts.refusal(err)], close=texts.gettext(N_("Close"))
                )
                ack(response_action="update", view=refused)
                return
            ack(
                response_action="errors",
                errors={TEXT_BLOCK: to_mrkdwn(texts.refusal(err))[:ERROR_CHARS]},
            )
            return
        ack()
        post_notice(client, dm_place(client, user_id), sent_text(texts, number))
        sync_incident(deps, client, number)
