"""Customer satisfaction: once an incident is resolved its customer is asked, once, to
rate the help (1 to 5, an optional comment); the ratings make a report for the team.

The survey is sent by a periodic job, the same way deadline notices are
(services.deadlines): claim under a lease, post, then settle (asked: never again, whether
or not the customer answers) or release (the post failed: the next turn retries). An
incident is surveyed when it is resolved or closed, whoever resolved it and wherever; a
reopened and resolved again incident is not asked twice.

Only the incident's customer rates it, and only once they were asked. Clicking another
rating changes it: the latest counts (each click is an event of the audit trail).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from services.accounts import required
from services.clock import utcnow
from services.codes import redact_codes
from services.errors import FieldTooLong, InvalidRating, NoSurvey, RateFirst
from services.incidents import CLOSED, CUSTOMER, RESOLVED, get_incident
from storage.models import Account, Incident, IncidentEvent, SlackLink

RATINGS = range(1, 6)
COMMENT_MAX = 1000
LEASE = dt.timedelta(minutes=5)
SURVEYED_STATUSES = (RESOLVED, CLOSED)

# Event kinds of the audit trail.
RATED = "rated"
RATING_COMMENT = "rating_comment"


@dataclass(frozen=True)
class Survey:
    """One survey to send, read while it was claimed."""

    incident_id: int
    number: str
    summary: str
    lang: str
    workspace_id: str
    slack_user_id: str


def claim_surveys(session: Session, *, now: dt.datetime | None = None) -> list[Survey]:
    """Resolved incidents whose customer was not asked yet, each leased to the caller.

    Only customers the bot can reach (a Slack user linked to the account) are asked; the
    Slack user who speaks for the account first is the one asked.
    """
    now = now or utcnow()
    reachable = exists().where(SlackLink.account_id == Incident.account_id)
    query = (
        select(Incident)
        .options(selectinload(Incident.account).selectinload(Account.slack_links))
        .where(
            Incident.status.in_(SURVEYED_STATUSES),
            Incident.csat_asked_at.is_(None),
            or_(Incident.csat_survey_until.is_(None), Incident.csat_survey_until < now),
            reachable,
        )
        .order_by(Incident.id)
        .with_for_update(skip_locked=True, of=Incident)
    )
    surveys = []
    for incident in session.scalars(query):
        link = min(incident.account.slack_links, key=lambda link: link.id)
        incident.csat_survey_until = now + LEASE
        surveys.append(
            Survey(
                incident_id=incident.id,
                number=incident.number or "",
                summary=incident.summary,
                lang=incident.lang,
                workspace_id=link.workspace_id,
                slack_user_id=link.slack_user_id,
            )
        )
    session.flush()
    return surveys


def _leased(session: Session, survey: Survey) -> Incident | None:
    query = select(Incident).where(Incident.id == survey.incident_id).with_for_update()
    return session.scalars(query).first()


def settle_survey(session: Session, survey: Survey, *, now: dt.datetime | None = None) -> None:
    """The survey was sent: the customer is never asked about this incident again."""
    incident = _leased(session, survey)
    if incident is not None:
        incident.csat_asked_at = now or utcnow()
        incident.csat_survey_until = None
        session.flush()


def release_survey(session: Session, survey: Survey) -> None:
    """The survey could not be sent: the next turn sends it."""
    incident = _leased(session, survey)
    if incident is not None:
        incident.csat_survey_until = None
        session.flush()


def _surveyed(session: Session, number: str, account: Account) -> Incident:
    """The customer's own incident, locked, once they were asked about it."""
    # IncidentNotFound for someone else's incident: whose it is is not revealed.
    incident = get_incident(session, number, account=account)
    session.refresh(incident, with_for_update=True)
    if incident.csat_asked_at is None:
        raise NoSurvey(number=incident.number)
    return incident


def rate(
    session: Session,
    number: str,
    rating: int | str,
    *,
    account: Account,
    now: dt.datetime | None = None,
) -> Incident:
    """The customer rates the help on their incident; a new rating replaces the last."""
    now = now or utcnow()
    try:
        value = int(str(rating).strip())
    except ValueError:
        raise InvalidRating() from None
    if value not in RATINGS:
        raise InvalidRating()
    incident = _surveyed(session, number, account)
    previous = incident.csat_rating
    if previous == value:
        return incident  # the same click again (a retried delivery): nothing changes
    incident.csat_rating = value
    incident.csat_rated_at = now
    note = f"{value}/5" if previous is None else f"{previous}/5 → {value}/5"
    incident.events.append(
        IncidentEvent(at=now, actor=account.email, actor_role=CUSTOMER, kind=RATED, note=note)
    )
    session.flush()
    return incident


def comment(
    session: Session,
    number: str,
    text: str,
    *,
    account: Account,
    now: dt.datetime | None = None,
) -> Incident:
    """The customer's comment on their rating (a new one replaces the last)."""
    now = now or utcnow()
    cleaned = redact_codes(session, required(text, "comment"))
    if len(cleaned) > COMMENT_MAX:
        raise FieldTooLong(field="comment", limit=COMMENT_MAX)
    incident = _surveyed(session, number, account)
    if incident.csat_rating is None:
        raise RateFirst(number=incident.number)
    if incident.csat_comment == cleaned:
        return incident  # submitted twice: recorded once
    incident.csat_comment = cleaned
    incident.events.append(
        IncidentEvent(
            at=now, actor=account.email, actor_role=CUSTOMER, kind=RATING_COMMENT, note=cleaned
        )
    )
    session.flush()
    return incident


@dataclass(frozen=True)
class RatedIncident:
    number: str
    email: str
    rating: int
    comment: str | None
    rated_at: dt.datetime


@dataclass(frozen=True)
class SatisfactionReport:
    since: dt.date | None
    incidents: list[RatedIncident] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.incidents)

    @property
    def average(self) -> float | None:
        if not self.incidents:
            return None
        return round(sum(i.rating for i in self.incidents) / len(self.incidents), 2)

    @property
    def distribution(self) -> dict[int, int]:
        counts = Counter(i.rating for i in self.incidents)
        return {rating: counts.get(rating, 0) for rating in RATINGS}


def report(session: Session, *, since: dt.date | None = None) -> SatisfactionReport:
    """Every rated incident (rated on or after `since`, a UTC date), oldest rating first."""
    query = (
        select(Incident)
        .options(selectinload(Incident.account))
        .where(Incident.csat_rating.is_not(None))
        .order_by(Incident.csat_rated_at, Incident.id)
    )
    if since is not None:
        start = dt.datetime.combine(since, dt.time(0), tzinfo=dt.UTC)
        query = query.where(Incident.csat_rated_at >= start)
    rated = [
        RatedIncident(
            number=i.number or "",
            email=i.account.email,
            rating=i.csat_rating or 0,
            comment=i.csat_comment,
            rated_at=i.csat_rated_at or i.created_at,
        )
        for i in session.scalars(query)
    ]
    return SatisfactionReport(since=since, incidents=rated)
