"""Support incidents: filing, numbering, the status life cycle and its audit trail.

Life cycle: new → acknowledged (first staff reply) → in progress → waiting on customer →
resolved → closed; a customer may reopen a resolved incident. Every change is an
IncidentEvent (who, when, what). Customers (an `account` is given) see and touch only
their own account's incidents; staff (no account) see all of them.

Incident numbers are derived from the row id (INC-000123): the database hands out ids, so
two processes filing at the same moment can never get the same number.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from services.accounts import required
from services.clock import utcnow
from services.codes import redact_codes
from services.errors import (
    FieldTooLong,
    FreeTierNoIncidents,
    IncidentClosed,
    IncidentNotFound,
    InvalidActor,
    InvalidTransition,
    OnlyReopenAllowed,
    UnknownStatus,
)
from services.product_support import product_support
from services.sla import SupportCalendar, first_response_due
from services.subscriptions import get_subscription
from storage.db import serialize
from storage.models import Account, Incident, IncidentEvent

NEW = "new"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
WAITING_ON_CUSTOMER = "waiting_on_customer"
RESOLVED = "resolved"
CLOSED = "closed"

STATUSES: tuple[str, ...] = (NEW, ACKNOWLEDGED, IN_PROGRESS, WAITING_ON_CUSTOMER, RESOLVED, CLOSED)

# Which status may follow which. Staff may skip ahead (a quick fix goes straight from new
# to resolved) but never back to "new"; a closed incident is final: file a new one.
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({ACKNOWLEDGED, IN_PROGRESS, WAITING_ON_CUSTOMER, RESOLVED}),
    ACKNOWLEDGED: frozenset({IN_PROGRESS, WAITING_ON_CUSTOMER, RESOLVED}),
    IN_PROGRESS: frozenset({WAITING_ON_CUSTOMER, RESOLVED}),
    WAITING_ON_CUSTOMER: frozenset({IN_PROGRESS, RESOLVED}),
    RESOLVED: frozenset({IN_PROGRESS, CLOSED}),
    CLOSED: frozenset(),
}

# A reopened incident goes back to the engineers' desk.
REOPENED_STATUS = IN_PROGRESS
OPEN_STATUSES: tuple[str, ...] = (NEW, ACKNOWLEDGED, IN_PROGRESS, WAITING_ON_CUSTOMER)

# Event kinds of the audit trail.
CREATED = "created"
STATUS_CHANGED = "status_changed"
REPLY = "reply"
COMMENT = "comment"
ASSIGNED = "assigned"

# Who acted, for the audit trail: the customer (through the bot or on their behalf), a
# staff member, or the system itself (scheduled work, imports, the demo seed).
CUSTOMER = "customer"
STAFF = "staff"
SYSTEM = "system"
ROLES: tuple[str, ...] = (CUSTOMER, STAFF, SYSTEM)

ACTOR_MAX = 100
# A staff name or handle: letters, digits, spaces and . _ @ ' - ; one line, no markup.
_ACTOR = re.compile(r"^[^\W\d_][\w .@'’-]*$")

SUMMARY_MAX = 200
IDEMPOTENCY_KEY_MAX = 180  # the column holds 200; the account id prefix takes the rest

_NUMBER = re.compile(r"^(?:INC[-\s]?)?0*(\d{1,12})$", re.IGNORECASE)


def format_number(incident_id: int) -> str:
    return f"INC-{incident_id:06d}"


def parse_number(text: str) -> str | None:
    """ "INC-000123", "inc-123", "123" → "INC-000123"; None when it is not a number at all."""
    match = _NUMBER.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        return None
    return format_number(int(match.group(1)))


def _normalize_lang(lang: str) -> str:
    # Keep the base language ("fr-CA" → "fr"): support is in English either way, the
    # conversation layer only needs to know whom to tell so.
    base = (lang or "en").strip().lower().replace("_", "-").split("-")[0]
    return base[:5] or "en"


def validate_actor(actor: str | None) -> str:
    """A staff member's name as the audit trail records it (the customer acts under their
    account's e-mail): one line of at most ACTOR_MAX letters, digits, spaces, . _ @ ' -"""
    cleaned = (actor or "").strip()
    if not cleaned or len(cleaned) > ACTOR_MAX or not _ACTOR.match(cleaned):
        raise InvalidActor(actor=(actor or "").strip()[:ACTOR_MAX], limit=ACTOR_MAX)
    return cleaned


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def _actor(actor: str | None, role: str) -> str:
    """Customers act under their account's e-mail; staff and the system by a name."""
    if _check_role(role) == CUSTOMER:
        return required(actor, "actor", 254)
    return validate_actor(actor)


def _event(
    incident: Incident,
    *,
    at: dt.datetime,
    actor: str,
    role: str,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    from_assignee: str | None = None,
    to_assignee: str | None = None,
) -> IncidentEvent:
    event = IncidentEvent(
        at=at,
        actor=actor,
        actor_role=_check_role(role),
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        from_assignee=from_assignee,
        to_assignee=to_assignee,
    )
    incident.events.append(event)
    return event


def _find_by_key(session: Session, stored_key: str) -> Incident | None:
    return session.scalars(select(Incident).where(Incident.idempotency_key == stored_key)).first()


def create_incident(
    session: Session,
    account: Account,
    *,
    service: str | None = None,
    product: str | None = None,
    summary: str,
    description: str,
    actor: str,
    role: str = CUSTOMER,
    lang: str = "en",
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
    calendar: SupportCalendar | None = None,
) -> Incident:
    """File an incident on one of `account`'s paid subscriptions, as the customer (or as
    staff or the system on their behalf: `role`).

    The same `idempotency_key` (per account) returns the incident already filed, even when
    two processes file at the same moment; the loser never takes a number, so numbers
    have no gaps. Free subscriptions are refused.

    With `product` (a serial) instead of `service`, the incident is on that registered
    product under its active DAS service (services.product_support): its deadline is the
    catalogue's for that service, or none.
    """
    if (service is None) == (product is None):
        raise ValueError("an incident is on a subscription or on a product: give one")
    now = now or utcnow()
    stored_key = None
    if idempotency_key is not None:
        key = required(idempotency_key, "idempotency key")[:IDEMPOTENCY_KEY_MAX]
        # Scoped by account: a key reused by someone else never reveals another's incident.
        stored_key = f"{account.id}:{key}"
        # PostgreSQL: filings with one key wait for each other here, before the insert
        # that would draw (and, losing, waste) an id, hence a number.
        serialize(session, f"incident:{stored_key}")
        existing = _find_by_key(session, stored_key)
        if existing is not None:
            return existing

    calendar = calendar or SupportCalendar()
    on: dict[str, object]
    if product is not None:
        support = product_support(session, account, product, today=calendar.local_date(now))
        due = calendar.add_support_hours(now, support.hours) if support.hours else None
        on = {
            "product": support.product,
            "activated_service": support.service,
            "first_response_due": due,
        }
    else:
        subscription = get_subscription(session, account, service or "")
        if subscription.tier != "paid":
            raise FreeTierNoIncidents(service=subscription.service)
        on = {
            "subscription": subscription,
            "subscription_type": subscription.type,
            "first_response_due": first_response_due(
                subscription.type, subscription.tier, now, calendar
            ),
        }
    # An activation code pasted by the customer is a secret: it is never stored in full.
    summary = redact_codes(session, required(summary, "summary"))
    if len(summary) > SUMMARY_MAX:
        raise FieldTooLong(field="summary", limit=SUMMARY_MAX)
    description = redact_codes(session, required(description, "description"))
    actor = _actor(actor, role)

    incident = Incident(
        account=account,
        summary=summary,
        description=description,
        status=NEW,
        lang=_normalize_lang(lang),
        created_at=now,
        idempotency_key=stored_key,
        **on,
    )
    _event(incident, at=now, actor=actor, role=role, kind=CREATED, to_status=NEW)
    try:
        # A savepoint, so that losing the race below leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(incident)
            session.flush()
            incident.number = format_number(incident.id)
            session.flush()
    except IntegrityError:
        # Another process filed with the same key between our look-up and our insert
        # (PostgreSQL lets both look; the unique key lets one win). Return its incident.
        if stored_key is None:
            raise
        existing = _find_by_key(session, stored_key)
        if existing is None:
            raise
        return existing
    return incident


def _query() -> Select[Incident]:
    return select(Incident).options(selectinload(Incident.events), selectinload(Incident.account))


def get_incident(session: Session, number: str, *, account: Account | None = None) -> Incident:
    """The incident with `number`; with `account`, only if it is that account's."""
    return _get(session, number, account, lock=False)


def _get(session: Session, number: str, account: Account | None, *, lock: bool) -> Incident:
    normalized = parse_number(number)
    if normalized is None:
        raise IncidentNotFound(number=number.strip())
    query = _query().where(Incident.number == normalized)
    if account is not None:
        query = query.where(Incident.account_id == account.id)
    if lock:
        # Two staff acting at once serialise here instead of both moving the incident
        # from the same status (SQLite serialises whole transactions anyway).
        # populate_existing: an incident this session loaded earlier is re-read under the lock.
        query = query.with_for_update(of=Incident).execution_options(populate_existing=True)
    incident = session.scalars(query).first()
    if incident is None:
        # The same refusal whether the number does not exist or belongs to someone else.
        raise IncidentNotFound(number=normalized)
    return incident


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise UnknownStatus(status=status, statuses=list(STATUSES))
    return status


def list_incidents(
    session: Session, *, account: Account | None = None, status: str | None = None
) -> list[Incident]:
    """Incidents, oldest first; a customer's own only when `account` is given."""
    query = _query().order_by(Incident.id)
    if account is not None:
        query = query.where(Incident.account_id == account.id)
    if status is not None:
        query = query.where(Incident.status == _check_status(status))
    return list(session.scalars(query))


def _lock(session: Session, number: str, account: Account | None) -> Incident:
    """The incident, row-locked for the rest of the transaction."""
    return _get(session, number, account, lock=True)


def _mark_first_response(incident: Incident, now: dt.datetime) -> None:
    if incident.first_response_at is None:
        incident.first_response_at = now


def change_status(
    session: Session,
    number: str,
    to_status: str,
    *,
    actor: str,
    note: str | None = None,
    account: Account | None = None,
    now: dt.datetime | None = None,
    role: str | None = None,
) -> Incident:
    """Move an incident to `to_status`, recording who (in which role), when and why.

    Staff (no `account`) follow TRANSITIONS; their first move out of "new" is the first
    response. A customer (`account` given) may only reopen their resolved incident.
    `role` says who acts when it is neither of these (SYSTEM).
    """
    now = now or utcnow()
    _check_status(to_status)
    role = role or (CUSTOMER if account is not None else STAFF)
    actor = _actor(actor, role)
    incident = _lock(session, number, account)
    current = incident.status
    if account is not None and not (current == RESOLVED and to_status == REOPENED_STATUS):
        if current == CLOSED:
            raise IncidentClosed(number=incident.number)
        raise OnlyReopenAllowed(number=incident.number, status=current)
    if to_status not in TRANSITIONS[current]:
        raise InvalidTransition(number=incident.number, status=current, target=to_status)
    if account is None and current == NEW:
        _mark_first_response(incident, now)
    incident.status = to_status
    _event(
        incident,
        at=now,
        actor=actor,
        role=role,
        kind=STATUS_CHANGED,
        from_status=current,
        to_status=to_status,
        note=redact_codes(session, (note or "").strip()) or None,
    )
    session.flush()
    return incident


def acknowledge(
    session: Session,
    number: str,
    *,
    actor: str,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Incident:
    """Staff take notice of a new incident (this is its first response)."""
    return change_status(session, number, ACKNOWLEDGED, actor=actor, note=note, now=now)


def reopen(
    session: Session,
    number: str,
    *,
    actor: str,
    account: Account | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Incident:
    """Reopen a resolved incident (a customer with `account`, or staff)."""
    return change_status(
        session, number, REOPENED_STATUS, actor=actor, note=note, account=account, now=now
    )


def reply(
    session: Session, number: str, *, actor: str, note: str, now: dt.datetime | None = None
) -> Incident:
    """A staff reply to the customer. The first one is the first response and moves a new
    incident to "acknowledged" (one event records both)."""
    now = now or utcnow()
    note = redact_codes(session, required(note, "reply"))
    actor = _actor(actor, STAFF)
    incident = _lock(session, number, None)
    if incident.status == CLOSED:
        raise IncidentClosed(number=incident.number)
    current = incident.status
    _mark_first_response(incident, now)
    if current == NEW:
        incident.status = ACKNOWLEDGED
        _event(
            incident,
            at=now,
            actor=actor,
            role=STAFF,
            kind=REPLY,
            from_status=NEW,
            to_status=ACKNOWLEDGED,
            note=note,
        )
    else:
        _event(incident, at=now, actor=actor, role=STAFF, kind=REPLY, note=note)
    session.flush()
    return incident


def add_comment(
    session: Session,
    number: str,
    *,
    actor: str,
    note: str,
    account: Account | None = None,
    now: dt.datetime | None = None,
) -> Incident:
    """A note on an open or resolved incident: from the customer (`account`) or an internal
    staff note. It changes no status and does not count as a first response."""
    now = now or utcnow()
    note = redact_codes(session, required(note, "comment"))
    role = CUSTOMER if account is not None else STAFF
    actor = _actor(actor, role)
    incident = _lock(session, number, account)
    if incident.status == CLOSED:
        raise IncidentClosed(number=incident.number)
    _event(incident, at=now, actor=actor, role=role, kind=COMMENT, note=note)
    session.flush()
    return incident


def assign(
    session: Session, number: str, *, assignee: str, actor: str, now: dt.datetime | None = None
) -> Incident:
    """Give an incident to a staff member (staff "take" one by assigning it to themselves);
    the audit trail records who had it before."""
    now = now or utcnow()
    assignee = validate_actor(assignee)
    actor = _actor(actor, STAFF)
    incident = _lock(session, number, None)
    if incident.status == CLOSED:
        raise IncidentClosed(number=incident.number)
    previous = incident.assignee
    incident.assignee = assignee
    _event(
        incident,
        at=now,
        actor=actor,
        role=STAFF,
        kind=ASSIGNED,
        note=assignee,
        from_assignee=previous,
        to_assignee=assignee,
    )
    session.flush()
    return incident


def due_soon_query(within: dt.timedelta, now: dt.datetime) -> Select[Incident]:
    """Unanswered open incidents due within `within` of `now` (or overdue), most urgent
    first; services.deadlines claims its notices among them."""
    return (
        _query()
        .where(
            Incident.first_response_at.is_(None),
            Incident.status.in_(OPEN_STATUSES),
            Incident.first_response_due <= now + within,
        )
        .order_by(Incident.first_response_due, Incident.id)
    )


def due_soon(
    session: Session, *, within: dt.timedelta, now: dt.datetime | None = None
) -> list[Incident]:
    """Unanswered open incidents whose first-response deadline is within `within` of now,
    or already past, most urgent first."""
    return list(session.scalars(due_soon_query(within, now or utcnow())))
