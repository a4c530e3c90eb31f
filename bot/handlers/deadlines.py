"""The deadline job: warnings and alerts about unanswered incidents, in the triage channel.

Staff-facing, so written in the default (support) language with times in the support
calendar's zone. Each notice names the incident number: the triage card is found by it.
What is claimed, posted and recorded, and what happens when a post fails, is
services.deadlines' rule.
"""

from __future__ import annotations

import datetime as dt
import logging

from slack_sdk import WebClient

from bot.blocks import build_text_blocks, fallback_text
from bot.handlers.common import Deps
from bot.i18n import Texts, texts_for
from bot.media import mark
from bot.slack.claims import post_claimed
from bot.slack.clients import NotInstalled
from services.clock import utcnow
from services.deadlines import (
    ALERT,
    DeadlineNotice,
    claim_deadline_notices,
    release_deadline_notice,
    settle_deadline_notice,
)
from services.errors import N_

log = logging.getLogger(__name__)

JOB_SECONDS = 30.0

WARNING_TEXT = N_(
    "⏳ **%(number)s** is still unanswered: its first response is due in %(left)s, "
    "%(due)s.\n%(who)s · %(service)s · %(summary)s"
)
ALERT_TEXT = N_(
    "🚨 **%(number)s** has passed its first-response deadline (%(due)s) and is still "
    "unanswered.\n%(who)s · %(service)s · %(summary)s"
)


def notice_text(texts: Texts, notice: DeadlineNotice, now: dt.datetime) -> str:
    who = f"{notice.customer} ({notice.company})" if notice.company else notice.customer
    # A deadline under a minute away still reads "1 minute", never "0 seconds".
    left = max(notice.due - now, dt.timedelta(minutes=1))
    return texts.gettext(
        ALERT_TEXT if notice.kind == ALERT else WARNING_TEXT,
        number=mark(notice.number),
        left=mark(texts.duration(left)),
        due=mark(texts.datetime(notice.due)),
        who=mark(who),
        service=mark(notice.service),
        summary=mark(notice.summary),
    )


def post_deadline_notices(deps: Deps, client: WebClient) -> int:
    """Claim the notices due, post each to the triage channel, record it; how many posted."""
    channel = deps.settings.triage_channel
    if not channel:
        return 0  # nobody to warn: claim nothing, so nothing is marked as told
    try:
        client = deps.staff_client(client)  # the triage channel's workspace
    except NotInstalled as err:
        log.warning("deadline notices wait: the app is not installed in %r", err.workspace)
        return 0
    now = utcnow()
    within = dt.timedelta(minutes=deps.settings.sla_warning_minutes)
    with deps.session_factory.begin() as session:
        pending = claim_deadline_notices(session, within=within, now=now)
    texts = texts_for(deps.settings.default_lang, deps.settings.support_tz)

    def post(notice: DeadlineNotice) -> None:
        text = notice_text(texts, notice, now)
        client.chat_postMessage(
            channel=channel,
            text=fallback_text([text]),
            blocks=build_text_blocks(text),
            unfurl_links=False,
            unfurl_media=False,
        )

    return post_claimed(
        deps.session_factory,
        pending,
        post,
        lambda session, notice: settle_deadline_notice(session, notice, now=now),
        release_deadline_notice,
    )
