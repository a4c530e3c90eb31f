"""Satisfaction surveys in the customer's DM: the job that sends them, the five rating
buttons, and the optional comment (a button after rating opens a form).

Every click and submission is checked on the server: the Slack user must speak for the
incident's account (services.satisfaction refuses anyone else, politely, changing
nothing). A second click changes the rating: the latest counts.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.blocks import (
    FIELD_ACTION,
    MODAL_TITLE_CHARS,
    Block,
    build_text_blocks,
    fallback_text,
    plain,
)
from bot.handlers.common import Deps, Place, chat_user, dm_place, post_notice, texts_of
from bot.i18n import Texts, texts_for
from bot.media import mark, to_plain
from bot.slack.claims import post_claimed
from bot.slack.clients import NOT_INSTALLED
from services import satisfaction
from services.accounts import account_for_slack_user
from services.clock import utcnow
from services.errors import N_, IncidentNotFound, Refusal
from services.incidents import parse_number
from storage.conversations import find_preference
from storage.models import Account

log = logging.getLogger(__name__)

JOB_SECONDS = 30.0
# Slack's answers for a user nobody can write to any more (NOT_INSTALLED: their
# workspace removed the app).
UNREACHABLE = frozenset(
    {"user_not_found", "account_inactive", "user_disabled", "cannot_dm_bot", NOT_INSTALLED}
)

RATE_ACTION = "hd_csat_rate"
COMMENT_ACTION = "hd_csat_comment"
COMMENT_CALLBACK = "hd_csat_comment"
COMMENT_BLOCK = "comment"
RATE_ACTIONS = re.compile(rf"^{RATE_ACTION}:[1-5]$")

ASK_TEXT = N_(
    "Your incident **%(number)s** (%(summary)s) has been resolved. "
    "How would you rate the help you received?"
)
SCALE_TEXT = N_("1 = very dissatisfied, 5 = very satisfied")
THANKS_TEXT = N_(
    "Thank you! You rated the help on **%(number)s** %(rating)s out of 5. "
    "Changed your mind? Click another rating above."
)
COMMENT_THANKS_TEXT = N_("Thank you for your comment on **%(number)s**.")


# --- pure builders --------------------------------------------------------------------


def build_survey_blocks(texts: Texts, number: str, summary: str) -> list[Block]:
    _ = texts.gettext
    buttons = [
        {
            "type": "button",
            "action_id": f"{RATE_ACTION}:{rating}",
            "text": plain(f"{rating} " + "★" * rating),
            "value": f"{number}:{rating}",
        }
        for rating in satisfaction.RATINGS
    ]
    return [
        *build_text_blocks(_(ASK_TEXT, number=mark(number), summary=mark(summary))),
        {"type": "actions", "block_id": f"csat:{number}", "elements": buttons},
        {"type": "context", "elements": [plain(_(SCALE_TEXT))]},
    ]


def build_thanks_blocks(texts: Texts, number: str, rating: int) -> list[Block]:
    _ = texts.gettext
    return [
        *build_text_blocks(_(THANKS_TEXT, number=mark(number), rating=mark(rating))),
        {
            "type": "actions",
            "block_id": f"csat_comment:{number}",
            "elements": [
                {
                    "type": "button",
                    "action_id": COMMENT_ACTION,
                    "text": plain(_(N_("Add a comment"))),
                    "value": number,
                }
            ],
        },
    ]


def build_comment_view(texts: Texts, number: str) -> dict[str, Any]:
    _ = texts.gettext
    return {
        "type": "modal",
        "callback_id": COMMENT_CALLBACK,
        "private_metadata": number,
        "title": plain(_(N_("Your comment")), MODAL_TITLE_CHARS),
        "submit": plain(_(N_("Send")), MODAL_TITLE_CHARS),
        "close": plain(_(N_("Cancel")), MODAL_TITLE_CHARS),
        "blocks": [
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "label": plain(
                    _(N_("What went well, what could be better? (%(number)s)"), number=number)
                ),
                "element": {
                    "type": "plain_text_input",
                    "action_id": FIELD_ACTION,
                    "multiline": True,
                    "max_length": satisfaction.COMMENT_MAX,
                },
            }
        ],
    }


# --- the job --------------------------------------------------------------------------


def send_surveys(deps: Deps, client: WebClient) -> int:
    """Ask each customer whose incident was resolved, once, in their language."""
    now = utcnow()
    with deps.session_factory.begin() as session:
        claimed = satisfaction.claim_surveys(session, now=now)

    def post(survey: satisfaction.Survey) -> None:
        try:
            _send(survey)
        except SlackApiError as err:
            if err.response.get("error") not in UNREACHABLE:
                raise
            # Gone from the workspace: no later turn reaches them either. They count as
            # asked, like a customer who does not answer.
            log.info("survey of %s not sent: %s", survey.number, err.response.get("error"))

    def _send(survey: satisfaction.Survey) -> None:
        with deps.session_factory() as session:
            pref = find_preference(session, survey.workspace_id, survey.slack_user_id)
        # The language they last spoke with the bot, else the one they filed in.
        texts = texts_for(pref.lang if pref and pref.lang else survey.lang)
        blocks = build_survey_blocks(texts, survey.number, survey.summary)
        customer = deps.client_for(survey.workspace_id, client)  # their workspace's token
        place = dm_place(customer, survey.slack_user_id)
        customer.chat_postMessage(
            channel=place.channel,
            text=fallback_text(
                [texts.gettext(ASK_TEXT, number=mark(survey.number), summary=mark(survey.summary))]
            ),
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )

    return post_claimed(
        deps.session_factory,
        claimed,
        post,
        lambda session, survey: satisfaction.settle_survey(session, survey, now=now),
        satisfaction.release_survey,
    )


# --- the listeners --------------------------------------------------------------------


def _who(body: dict[str, Any]) -> tuple[str, str]:
    who = body.get("user") or {}
    workspace = str(who.get("team_id") or (body.get("team") or {}).get("id") or "")
    return workspace, str(who.get("id", ""))


def register(app: App, deps: Deps) -> None:
    def account_of(session: Session, workspace: str, user_id: str, number: str) -> Account:
        account = account_for_slack_user(session, workspace, user_id)
        if account is None:
            # Someone with no account: to them this incident does not exist.
            raise IncidentNotFound(number=parse_number(number) or number)
        return account

    @app.action(RATE_ACTIONS)
    def handle_rating(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        workspace, user_id = _who(body)
        channel = (body.get("channel") or {}).get("id")
        place = Place(str(channel)) if channel else dm_place(client, user_id)
        user = chat_user(deps, workspace, user_id, place)
        texts = texts_of(deps, user)
        number, _sep, rating = str(action.get("value") or "").rpartition(":")
        try:
            with deps.session_factory.begin() as session:
                account = account_of(session, workspace, user_id, number)
                incident = satisfaction.rate(session, number, rating, account=account)
                number, value = incident.number or number, incident.csat_rating or 0
        except Refusal as err:
            post_notice(client, place, texts.refusal(err))
            return
        blocks = build_thanks_blocks(texts, number, value)
        client.chat_postMessage(
            channel=place.channel,
            text=fallback_text(
                [texts.gettext(THANKS_TEXT, number=mark(number), rating=mark(value))]
            ),
            blocks=blocks,
        )

    @app.action(COMMENT_ACTION)
    def handle_comment_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        workspace, user_id = _who(body)
        user = chat_user(deps, workspace, user_id, dm_place(client, user_id))
        number = str(action.get("value") or "")
        view = build_comment_view(texts_of(deps, user), number)
        client.views_open(trigger_id=str(body["trigger_id"]), view=view)

    @app.view(COMMENT_CALLBACK)
    def handle_comment(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        workspace, user_id = _who(body)
        place = dm_place(client, user_id)
        user = chat_user(deps, workspace, user_id, place)
        texts = texts_of(deps, user)
        number = str(view.get("private_metadata") or "")
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get(COMMENT_BLOCK) or {}).get(FIELD_ACTION) or {}).get("value") or "")
        try:
            with deps.session_factory.begin() as session:
                account = account_of(session, workspace, user_id, number)
                incident = satisfaction.comment(session, number, text, account=account)
                number = incident.number or number
        except Refusal as err:
            ack(
                response_action="errors",
                errors={COMMENT_BLOCK: to_plain(texts.refusal(err))[:2000]},
            )
            return
        ack()
        post_notice(client, place, texts.gettext(COMMENT_THANKS_TEXT, number=mark(number)))
