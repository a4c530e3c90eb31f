"""The Slack side of incident events: the card in the triage channel, its thread, and the
staff replies delivered to the customer's DM.

An outbox: each incident stores its card (channel, ts) and the last event the card
reflects. The periodic job (every process runs it) and the Slack actions (at once, for
snappiness) both call the same sync; each claims the incidents it works on with a row lock
that other processes skip, so every card, thread line and reply is posted once, and
incidents filed anywhere (Slack, a modal, the console, the CLI) get their card. The card is
posted before anything reaches its thread: a thread line needs the card's ts.

The customer only ever receives `triage.undelivered_replies`: staff replies, selected by
their kind. Internal notes are posted in the card's thread and nowhere else.

Whoever calls (a job, a staff member's click, a customer's answer), the card and its
thread are written with the triage workspace's client and a reply reaches the customer
with their own workspace's client (bot.slack.clients): `client` is only the fallback of
an app built without them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.i18n import Texts, texts_for
from bot.media import escape_mrkdwn
from bot.slack.clients import NotInstalled
from bot.slack.triage_cards import (
    People,
    build_card,
    build_customer_reply,
    card_fallback,
    thread_line,
)
from services import incidents, triage
from services.clock import utcnow
from services.errors import N_
from storage.conversations import find_preference
from storage.models import Incident, IncidentEvent, SlackLink

if TYPE_CHECKING:
    from bot.handlers.common import Deps

log = logging.getLogger(__name__)

SYNC_EVERY_SECONDS = 2.0
BATCH = 10


def staff_texts(deps: Deps) -> Texts:
    """The triage channel's language and time zone (support works in the support
    calendar's zone)."""
    return texts_for(deps.settings.default_lang, deps.settings.support_tz)


def people_of(deps: Deps, user_ids: set[str | None]) -> People:
    """Staff names, read in the staff's workspace."""
    workspace = deps.clients.staff_workspace if deps.clients else ""
    names = {}
    for user_id in user_ids:
        if user_id:
            names[user_id] = deps.profiles.get(user_id, workspace=workspace).name or user_id
    return People(names)


def _staff_client(deps: Deps, client: WebClient) -> WebClient | None:
    try:
        return deps.staff_client(client)
    except NotInstalled as err:
        log.warning(
            "triage cards wait: the app is not installed in the triage workspace %r",
            err.workspace,
        )
        return None


def sync_cards(deps: Deps, client: WebClient) -> int:
    """Bring every lagging card up to date (the periodic job); how many were synced."""
    if not deps.settings.triage_channel:
        return 0
    staff = _staff_client(deps, client)
    if staff is None:
        return 0
    client = staff
    with deps.session_factory.begin() as session:
        claimed = triage.claim_card_work(session, limit=BATCH)
        return sum(_sync_quietly(deps, client, session, incident) for incident in claimed)


def sync_incident(deps: Deps, client: WebClient, number: str) -> bool:
    """Bring one incident's card up to date now (after a Slack action). False when there
    was nothing to do or another process is doing it."""
    if not deps.settings.triage_channel:
        return False
    staff = _staff_client(deps, client)
    if staff is None:
        return False  # the job posts it once the triage workspace is installed
    client = staff
    with deps.session_factory.begin() as session:
        incident = triage.claim_card(session, number)
        return incident is not None and _sync_quietly(deps, client, session, incident)


def _sync_quietly(deps: Deps, client: WebClient, session: Session, incident: Incident) -> bool:
    # One incident Slack refuses (a deleted card, an archived channel) must not hold up
    # the others: what was posted stays recorded, the rest is tried at the next turn.
    try:
        sync(deps, client, session, incident)
        return True
    except SlackApiError as err:
        log.warning("syncing %s failed: %s", incident.number, err.response.get("error"))
        return False
    finally:
        session.flush()


def sync(deps: Deps, client: WebClient, session: Session, incident: Incident) -> None:
    """Post or update the card, then each new event in order: in its thread, and a staff
    reply to the customer. Progress is recorded event by event, so a Slack failure midway
    posts nothing twice when it is tried again. `client` is the triage workspace's."""
    texts = staff_texts(deps)
    new = [e for e in incident.events if e.id > incident.card_synced_event]
    people = people_of(
        deps,
        {incident.assignee}
        | {e.actor for e in new if e.actor_role == incidents.STAFF}
        | {e.to_assignee for e in new},
    )
    now = utcnow()
    workspace = (
        deps.clients.workspace_label(incident.account.workspace_id) if deps.clients else None
    )
    blocks = build_card(incident, texts, people, now, workspace=workspace)
    if incident.card_ts is None:
        posted = client.chat_postMessage(
            channel=deps.settings.triage_channel,
            text=card_fallback(incident, texts),
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        incident.card_channel = str(posted["channel"])
        incident.card_ts = str(posted["ts"])
    else:
        client.chat_update(
            channel=incident.card_channel or deps.settings.triage_channel,
            ts=incident.card_ts,
            text=card_fallback(incident, texts),
            blocks=blocks,
        )
    incident.card_updated_at = now
    undelivered = {e.id for e in triage.undelivered_replies(incident, incident.card_synced_event)}
    for event in new:
        if event.id in undelivered:
            _deliver_reply(deps, client, session, incident, event)
        typed_in_thread = event.slack_channel == incident.card_channel and event.slack_ts
        line = None if typed_in_thread else thread_line(event, texts, people)
        if line and event.id in undelivered and event.slack_ts is None:
            missing = texts.gettext(
                N_(
                    "The customer has no Slack account linked: they will read this reply "
                    "when they check the incident."
                )
            )
            line = f"{line}\n_{escape_mrkdwn(missing)}_"
        if line:
            _post_in_thread(client, incident, line)
        incident.card_synced_event = event.id


def _post_in_thread(client: WebClient, incident: Incident, line: str) -> None:
    assert incident.card_channel is not None  # the card is posted before its thread
    client.chat_postMessage(
        channel=incident.card_channel,
        thread_ts=incident.card_ts,
        text=line,
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": line, "verbatim": True}}],
        unfurl_links=False,
        unfurl_media=False,
    )


def customer_texts(
    deps: Deps, session: Session, incident: Incident, client: WebClient
) -> tuple[Texts, SlackLink, WebClient] | None:
    """The customer's Slack user, their language (the one they last spoke with the bot,
    else the incident's) and zone, and their workspace's client; None when no Slack user
    speaks for the account or their workspace no longer has the app."""
    link = triage.customer_slack_user(session, incident.account)
    if link is None:
        return None
    try:
        customer = deps.client_for(link.workspace_id, client)
    except NotInstalled:
        return None
    pref = find_preference(session, link.workspace_id, link.slack_user_id)
    profile = deps.profiles.get(link.slack_user_id, workspace=link.workspace_id, client=customer)
    lang = (pref.lang if pref else None) or incident.lang
    tz = (pref.tz if pref else None) or profile.tz or deps.settings.default_tz
    return texts_for(lang, tz), link, customer


def _deliver_reply(
    deps: Deps, client: WebClient, session: Session, incident: Incident, event: IncidentEvent
) -> None:
    found = customer_texts(deps, session, incident, client)
    if found is None:
        return
    texts, link, customer = found
    channel = str(customer.conversations_open(users=link.slack_user_id)["channel"]["id"])
    intro = texts.gettext(N_("The support team replied about your incident {number}:"))
    posted = customer.chat_postMessage(
        channel=channel,
        text=escape_mrkdwn(intro.format(number=incident.number)),
        blocks=build_customer_reply(incident.number or "", event.note or "", texts),
        unfurl_links=False,
        unfurl_media=False,
    )
    event.slack_channel = channel
    event.slack_ts = str(posted["ts"])


def job(deps: Deps, client: WebClient) -> object:
    """The periodic job: every card brought up to date."""
    return sync_cards(deps, client)
