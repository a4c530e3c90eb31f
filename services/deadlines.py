"""First-response deadlines watched for the staff: a warning when an unanswered incident
comes close to its deadline, an alert (a second, distinct notice) once it has passed.

Several processes run the same periodic job, and the notice is posted to Slack outside
any transaction, so a notice goes through three steps:

1. claim: the incidents that need a notice are locked (rows another process holds are
   skipped) and leased for LEASE; the transaction commits at once, so no lock is held
   while Slack is called. Another process skips a leased incident.
2. post (the caller, bot side).
3. settle (posted: the notice is recorded and never posted again) or release (the post
   failed: the lease is dropped and the next turn tries again).

A process that dies between 1 and 3 leaves a lease that expires: the notice is late,
never lost. One that dies between a successful post and 3 leaves the same lease, so that
notice is posted a second time when it expires — the only duplicate possible, and the
price of never losing one (a notice recorded before its post would be lost with it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from services.clock import utcnow
from services.incidents import due_soon_query
from storage.models import Incident

WARNING = "warning"  # the deadline is close
ALERT = "alert"  # the deadline has passed

LEASE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class DeadlineNotice:
    """What the triage channel is told about one incident, read while it was claimed."""

    incident_id: int
    number: str
    kind: str  # WARNING or ALERT
    due: dt.datetime
    summary: str
    customer: str
    company: str | None
    service: str


def claim_deadline_notices(
    session: Session, *, within: dt.timedelta, now: dt.datetime | None = None
) -> list[DeadlineNotice]:
    """The notices due now, each leased to the caller (see the module's docstring).

    An incident whose deadline passed before it was ever warned about (the bot was down)
    gets the alert only: a "due soon" notice for an overdue incident would be wrong.
    """
    now = now or utcnow()
    overdue = Incident.first_response_due <= now
    query = (
        due_soon_query(within, now)
        .where(
            or_(
                Incident.sla_warned_at.is_(None),
                and_(overdue, Incident.sla_alerted_at.is_(None)),
            ),
            or_(Incident.sla_notice_until.is_(None), Incident.sla_notice_until < now),
        )
        .with_for_update(skip_locked=True, of=Incident)
    )
    notices = []
    for incident in session.scalars(query):
        due = incident.first_response_due
        if due is None:  # the query's `due <= …` never selects one without a deadline
            continue
        incident.sla_notice_until = now + LEASE
        notices.append(
            DeadlineNotice(
                incident_id=incident.id,
                number=incident.number or "",
                kind=ALERT if due <= now else WARNING,
                due=due,
                summary=incident.summary,
                customer=incident.account.name,
                company=incident.account.company,
                service=incident.service_name,
            )
        )
    session.flush()
    return notices


def _leased(session: Session, notice: DeadlineNotice) -> Incident | None:
    query = select(Incident).where(Incident.id == notice.incident_id).with_for_update()
    return session.scalars(query).first()


def settle_deadline_notice(
    session: Session, notice: DeadlineNotice, *, now: dt.datetime | None = None
) -> None:
    """The notice was posted: record it so that it is never posted again."""
    now = now or utcnow()
    incident = _leased(session, notice)
    if incident is None:
        return  # deleted meanwhile: nothing left to record
    if incident.sla_warned_at is None:
        incident.sla_warned_at = now  # an alert stands for the warning it replaced
    if notice.kind == ALERT:
        incident.sla_alerted_at = now
    incident.sla_notice_until = None
    session.flush()


def release_deadline_notice(session: Session, notice: DeadlineNotice) -> None:
    """The post failed: free the incident so that the next turn posts the notice."""
    incident = _leased(session, notice)
    if incident is not None:
        incident.sla_notice_until = None
        session.flush()
