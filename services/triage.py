"""Staff triage and the two-way incident conversation, on top of services.incidents.

Two kinds of text live on an incident and the difference is structural, not a flag:

- the conversation with the customer: staff replies (`incidents.REPLY`, written only by
  `incidents.reply`: the Reply action or an explicit reply command) and the customer's
  answers (`ANSWER`, written only by `customer_answer`);
- internal notes (`incidents.COMMENT` by staff), typed in the card's thread or with the
  Internal note action.

Whatever reaches a customer (their DM, what they see when they check an incident) is read
through `conversation()` or `undelivered_replies()`, which select by those kinds and
nothing else: an internal note cannot slip through, whatever its text or origin.

The card in the triage channel is kept by an outbox: each incident stores its card's
channel/ts and the last event the card reflects (`card_synced_event`); `claim_card_work`
hands out, exactly once across processes, the incidents whose card lags.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from services import incidents
from services.accounts import required
from services.clock import utcnow
from services.codes import redact_codes
from services.errors import IncidentClosed
from storage.models import Account, Incident, IncidentEvent, SlackLink

# The customer's answer to the support team: part of the conversation, like REPLY.
ANSWER = "answer"
# The only kinds a customer is ever shown (one rule, one place).
CUSTOMER_VISIBLE: tuple[str, ...] = (incidents.REPLY, ANSWER)

TEXT_MAX = 3000  # a reply, an answer or a note: a Slack section holds 3000 characters
# How often a card's "time left" is redrawn while its first-response clock runs.
CARD_REFRESH = dt.timedelta(minutes=5)


def _text(session: Session, value: str, field: str) -> str:
    # An activation code pasted in a message is a secret: never stored in full.
    return redact_codes(session, required(value, field, TEXT_MAX))


def _latest_event(session: Session, incident: Incident) -> IncidentEvent:
    session.flush()
    return incident.events[-1]


def staff_reply(
    session: Session, number: str, *, actor: str, text: str, now: dt.datetime | None = None
) -> IncidentEvent:
    """A reply that reaches the customer (the only way staff text ever does)."""
    incident = incidents.reply(
        session, number, actor=actor, note=_text(session, text, "reply"), now=now
    )
    return _latest_event(session, incident)


def take(session: Session, number: str, *, staff: str, now: dt.datetime | None = None) -> Incident:
    """Staff take an incident (assign it to themselves); taking one's own again — a
    double click — changes nothing and records nothing."""
    incident = incidents._lock(session, number, None)
    if incident.assignee == staff:
        return incident
    return incidents.assign(session, number, assignee=staff, actor=staff, now=now)


def internal_note(
    session: Session,
    number: str,
    *,
    actor: str,
    text: str,
    slack_channel: str | None = None,
    slack_ts: str | None = None,
    now: dt.datetime | None = None,
) -> IncidentEvent:
    """A note for staff only; `slack_ts`: the thread message it was typed as (the card's
    thread already shows it, so it is not posted there again)."""
    incident = incidents.add_comment(
        session, number, actor=actor, note=_text(session, text, "note"), now=now
    )
    event = _latest_event(session, incident)
    event.slack_channel = slack_channel
    event.slack_ts = slack_ts
    return event


def customer_answer(
    session: Session,
    number: str,
    *,
    account: Account,
    text: str,
    slack_channel: str | None = None,
    slack_ts: str | None = None,
    now: dt.datetime | None = None,
) -> IncidentEvent:
    """The customer answers the support team about their own incident (`account`'s only:
    another account's number is refused as not found). An incident waiting on the
    customer goes back to "in progress"; the same event records both."""
    now = now or utcnow()
    note = _text(session, text, "answer")
    incident = incidents._lock(session, number, account)
    if incident.status == incidents.CLOSED:
        raise IncidentClosed(number=incident.number)
    moved = incident.status == incidents.WAITING_ON_CUSTOMER
    event = incidents._event(
        incident,
        at=now,
        actor=account.email,
        role=incidents.CUSTOMER,
        kind=ANSWER,
        from_status=incident.status if moved else None,
        to_status=incidents.IN_PROGRESS if moved else None,
        note=note,
    )
    if moved:
        incident.status = incidents.IN_PROGRESS
    event.slack_channel = slack_channel
    event.slack_ts = slack_ts
    session.flush()
    return event


def conversation(incident: Incident) -> list[IncidentEvent]:
    """What the customer and the support team said to each other, oldest first."""
    return [e for e in incident.events if e.kind in CUSTOMER_VISIBLE]


def undelivered_replies(incident: Incident, after: int) -> list[IncidentEvent]:
    """Staff replies after event `after` not yet delivered to the customer."""
    return [
        e
        for e in conversation(incident)
        if e.kind == incidents.REPLY and e.id > after and e.slack_ts is None
    ]


def reply_for_message(session: Session, channel: str, ts: str) -> IncidentEvent | None:
    """The staff reply delivered as message `ts` of `channel` (a customer's DM), if any."""
    return session.scalars(
        select(IncidentEvent)
        .where(
            IncidentEvent.slack_ts == ts,
            IncidentEvent.slack_channel == channel,
            IncidentEvent.kind == incidents.REPLY,
        )
        .options(selectinload(IncidentEvent.incident))
    ).first()


def incident_for_card(session: Session, channel: str, ts: str) -> Incident | None:
    """The incident whose card is message `ts` of `channel`."""
    return session.scalars(
        select(Incident).where(Incident.card_ts == ts, Incident.card_channel == channel)
    ).first()


def customer_slack_user(session: Session, account: Account) -> SlackLink | None:
    """The Slack user who speaks for the account (the first linked), if any."""
    return session.scalars(
        select(SlackLink).where(SlackLink.account_id == account.id).order_by(SlackLink.id)
    ).first()


def _latest_event_id() -> object:
    return (
        select(func.max(IncidentEvent.id))
        .where(IncidentEvent.incident_id == Incident.id)
        .scalar_subquery()
    )


def claim_card_work(
    session: Session,
    *,
    limit: int = 10,
    refresh: dt.timedelta = CARD_REFRESH,
    now: dt.datetime | None = None,
) -> list[Incident]:
    """Incidents whose card is missing, behind their events, or showing a first-response
    countdown older than `refresh`, locked for this transaction; rows another process
    holds are skipped, so each change is posted once (SQLite serialises the whole
    transaction instead). A closed incident never posted gets no card."""
    now = now or utcnow()
    latest = _latest_event_id()
    posted = Incident.card_ts.is_not(None)
    query = (
        select(Incident)
        .where(
            or_(
                (Incident.card_ts.is_(None)) & (Incident.status != incidents.CLOSED),
                posted & (Incident.card_synced_event < latest),
                posted
                & Incident.first_response_at.is_(None)
                & Incident.status.in_(incidents.OPEN_STATUSES)
                & (Incident.card_updated_at < now - refresh),
            )
        )
        .order_by(Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Incident)
        .options(selectinload(Incident.events), selectinload(Incident.account))
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def claim_card(session: Session, number: str) -> Incident | None:
    """One incident's card work, if it has some and no other process holds it."""
    latest = _latest_event_id()
    query = (
        select(Incident)
        .where(
            Incident.number == number,
            or_(Incident.card_ts.is_(None), Incident.card_synced_event < latest),
        )
        .with_for_update(skip_locked=True, of=Incident)
        .options(selectinload(Incident.events), selectinload(Incident.account))
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def queue(session: Session, *, first: str | None = None) -> list[Incident]:
    """Open incidents, the most urgent first-response deadline first; with `first`, that
    staff member's own incidents come before the others (each part by deadline)."""
    query = (
        select(Incident)
        .where(Incident.status.in_(incidents.OPEN_STATUSES))
        .options(selectinload(Incident.account), selectinload(Incident.subscription))
        .order_by(Incident.first_response_due, Incident.id)
    )
    found = list(session.scalars(query))
    if first is not None:
        found.sort(key=lambda i: i.assignee != first)  # stable: deadlines stay in order
    return found
