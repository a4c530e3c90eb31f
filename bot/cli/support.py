"""Support commands: incidents and their life cycle, SLA deadlines, and the demo seed.

Customers file incidents in the bot; these commands let staff file on a customer's
behalf, look at incidents, move them through their life cycle, and check deadlines.
JSON times are ISO 8601 in UTC; human-readable output uses the support calendar's zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import click

from bot.cli.common import (
    ACTOR,
    ISO_DATE,
    ISO_DATETIME,
    YEAR,
    echo,
    echo_json,
    printable,
    refusals_exit_1,
    runtime,
)
from services import demo, incidents, satisfaction
from services.accounts import get_account
from services.sla import (
    HOLIDAY_NAMES,
    SupportCalendar,
    first_response_due,
    first_response_hours,
    support_channels,
)
from storage.models import Incident, IncidentEvent

json_flag = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


class StatusChoice(click.Choice):
    """An incident status as people write it: "In progress", "in-progress", "IN_PROGRESS"
    all mean in_progress (docs/design.md spells the statuses with spaces)."""

    def __init__(self) -> None:
        super().__init__(incidents.STATUSES)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            value = "_".join(value.replace("-", " ").replace("_", " ").lower().split())
        return super().convert(value, param, ctx)


STATUS_CHOICE = StatusChoice()


def _calendar() -> SupportCalendar:
    return SupportCalendar(runtime().settings.support_tz)


def _local(value: dt.datetime | None, calendar: SupportCalendar) -> str:
    if value is None:
        return "-"
    return value.astimezone(calendar.zone).isoformat(timespec="minutes")


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def event_json(event: IncidentEvent) -> dict[str, Any]:
    return {
        "at": _iso(event.at),
        "actor": event.actor,
        "actor_role": event.actor_role,
        "kind": event.kind,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "from_assignee": event.from_assignee,
        "to_assignee": event.to_assignee,
    }


def incident_json(incident: Incident, *, with_events: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": incident.number,
        "status": incident.status,
        "email": incident.account.email,
        "service": incident.service_name,
        "subscription_type": incident.subscription_type,
        "summary": incident.summary,
        "lang": incident.lang,
        "created_at": _iso(incident.created_at),
        "first_response_due": _iso(incident.first_response_due),
        "first_response_at": _iso(incident.first_response_at),
        "assignee": incident.assignee,
        "product": incident.product.serial if incident.product is not None else None,
    }
    if with_events:
        data["description"] = incident.description
        data["events"] = [event_json(event) for event in incident.events]
    return data


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    # One cell, one line: a newline or an escape code a user typed is shown escaped.
    cells = [[printable(v) if v is not None else "-" for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        echo("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


def _echo_incident(incident: Incident, calendar: SupportCalendar) -> None:
    echo(f"{incident.number}  [{incident.status}]  {printable(incident.summary)}")
    echo(
        f"  customer: {incident.account.email}   service: {incident.service_name} (type {incident.subscription_type or '-'})"
    )
    echo(
        f"  filed: {_local(incident.created_at, calendar)}   first response due: {_local(incident.first_response_due, calendar)}"
        f"   answered: {_local(incident.first_response_at, calendar)}"
    )
    if incident.assignee:
        echo(f"  assignee: {incident.assignee}")
    echo(f"  language: {incident.lang}")
    echo("")
    echo("  " + incident.description.replace("\n", "\n  "))
    echo("")
    for event in incident.events:
        change = (
            f" {event.from_status or ''} -> {event.to_status}".replace("  ", " ")
            if event.to_status
            else ""
        )
        note = f": {printable(event.note)}" if event.note else ""
        role = f" ({event.actor_role})"
        handover = (
            f" {printable(event.from_assignee or '-')} -> {printable(event.to_assignee or '-')}"
            if event.kind == "assigned"
            else ""
        )
        echo(
            f"  {_local(event.at, calendar)}  {printable(event.actor)}{role}  "
            f"{event.kind}{change}{handover}{note}"
        )


# --- incidents -------------------------------------------------------------------------------


@click.group("incidents")
def incidents_group() -> None:
    """Support incidents: file, list, show, and move them through their life cycle."""


@incidents_group.command("create")
@click.option("--email", required=True, help="The customer's account e-mail.")
@click.option("--service", required=True, help="The subscription the incident is about.")
@click.option("--summary", required=True, help="One line describing the problem.")
@click.option("--description", required=True, help="The details.")
@click.option(
    "--lang",
    default="en",
    show_default=True,
    help="The customer's language (support is in English).",
)
@click.option(
    "--idempotency-key",
    default=None,
    help="Filing again with the same key returns the same incident.",
)
@json_flag
@refusals_exit_1
def incidents_create(
    email: str,
    service: str,
    summary: str,
    description: str,
    lang: str,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """File an incident on a customer's paid subscription; prints its number."""
    with runtime().session_factory.begin() as session:
        account = get_account(session, email)
        incident = incidents.create_incident(
            session,
            account,
            service=service,
            summary=summary,
            description=description,
            actor=account.email,
            lang=lang,
            idempotency_key=idempotency_key,
            calendar=_calendar(),
        )
        number = incident.number
    if as_json:
        echo_json({"number": number})
    else:
        echo(number)


@incidents_group.command("list")
@click.option("--email", default=None, help="Only this customer's incidents.")
@click.option("--status", type=STATUS_CHOICE, default=None, help="Only incidents in this status.")
@json_flag
@refusals_exit_1
def incidents_list(email: str | None, status: str | None, as_json: bool) -> None:
    """List incidents, oldest first."""
    with runtime().read_session_factory() as session:
        account = get_account(session, email) if email else None
        found = incidents.list_incidents(session, account=account, status=status)
        if as_json:
            echo_json([incident_json(i) for i in found])
            return
        calendar = _calendar()
        _table(
            ("number", "status", "email", "service", "type", "due", "summary"),
            [
                (
                    i.number,
                    i.status,
                    i.account.email,
                    i.service_name,
                    i.subscription_type,
                    _local(i.first_response_due, calendar),
                    i.summary,
                )
                for i in found
            ],
        )


@incidents_group.command("show")
@click.argument("number")
@click.option("--email", default=None, help="Look as this customer would (their incidents only).")
@json_flag
@refusals_exit_1
def incidents_show(number: str, email: str | None, as_json: bool) -> None:
    """Show one incident (INC-000123, inc-123 or 123) with its audit trail."""
    with runtime().read_session_factory() as session:
        account = get_account(session, email) if email else None
        incident = incidents.get_incident(session, number, account=account)
        if as_json:
            echo_json(incident_json(incident, with_events=True))
        else:
            _echo_incident(incident, _calendar())


def _done(incident: Incident, as_json: bool) -> None:
    if as_json:
        echo_json(incident_json(incident, with_events=True))
    else:
        echo(f"{incident.number}: {incident.status}")


@incidents_group.command("status")
@click.argument("number")
@click.argument("status", type=STATUS_CHOICE)
@click.option("--actor", required=True, type=ACTOR, help="Who makes the change (staff name).")
@click.option("--note", default=None, help="Why, for the audit trail.")
@json_flag
@refusals_exit_1
def incidents_status(number: str, status: str, actor: str, note: str | None, as_json: bool) -> None:
    """Move an incident to STATUS (staff)."""
    with runtime().session_factory.begin() as session:
        incident = incidents.change_status(session, number, status, actor=actor, note=note)
        _done(incident, as_json)


@incidents_group.command("reply")
@click.argument("number")
@click.option("--actor", required=True, type=ACTOR, help="The staff member replying.")
@click.option("--note", required=True, help="The reply to the customer.")
@json_flag
@refusals_exit_1
def incidents_reply(number: str, actor: str, note: str, as_json: bool) -> None:
    """Reply to the customer (staff); the first reply acknowledges a new incident."""
    with runtime().session_factory.begin() as session:
        incident = incidents.reply(session, number, actor=actor, note=note)
        _done(incident, as_json)


@incidents_group.command("comment")
@click.argument("number")
@click.option("--note", required=True, help="The comment.")
@click.option("--actor", default=None, type=ACTOR, help="A staff member writing an internal note.")
@click.option("--email", default=None, help="The customer commenting (their incidents only).")
@json_flag
@refusals_exit_1
def incidents_comment(
    number: str, note: str, actor: str | None, email: str | None, as_json: bool
) -> None:
    """Add a comment, from staff (--actor) or from the customer (--email)."""
    if (actor is None) == (email is None):
        raise click.UsageError("give exactly one of --actor (staff) or --email (customer)")
    with runtime().session_factory.begin() as session:
        account = get_account(session, email) if email else None
        who = account.email if account is not None else actor or ""
        incident = incidents.add_comment(session, number, actor=who, note=note, account=account)
        _done(incident, as_json)


@incidents_group.command("assign")
@click.argument("number")
@click.option(
    "--to", "assignee", required=True, type=ACTOR, help="The staff member taking the incident."
)
@click.option("--actor", required=True, type=ACTOR, help="Who assigns it.")
@json_flag
@refusals_exit_1
def incidents_assign(number: str, assignee: str, actor: str, as_json: bool) -> None:
    """Give an incident to a staff member."""
    with runtime().session_factory.begin() as session:
        incident = incidents.assign(session, number, assignee=assignee, actor=actor)
        _done(incident, as_json)


@incidents_group.command("reopen")
@click.argument("number")
@click.option("--email", required=True, help="The customer reopening their resolved incident.")
@click.option("--note", default=None, help="Why it is not solved.")
@json_flag
@refusals_exit_1
def incidents_reopen(number: str, email: str, note: str | None, as_json: bool) -> None:
    """Reopen a resolved incident on behalf of its customer."""
    with runtime().session_factory.begin() as session:
        account = get_account(session, email)
        incident = incidents.reopen(
            session, number, actor=account.email, account=account, note=note
        )
        _done(incident, as_json)


@incidents_group.command("due-soon")
@click.option(
    "--within",
    "within_minutes",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    help="Minutes ahead to look.",
)
@json_flag
def incidents_due_soon(within_minutes: int, as_json: bool) -> None:
    """Unanswered incidents whose first-response deadline is near or past."""
    with runtime().read_session_factory() as session:
        found = incidents.due_soon(session, within=dt.timedelta(minutes=within_minutes))
        if as_json:
            echo_json([incident_json(i) for i in found])
            return
        calendar = _calendar()
        _table(
            ("number", "status", "email", "type", "due", "summary"),
            [
                (
                    i.number,
                    i.status,
                    i.account.email,
                    i.subscription_type,
                    _local(i.first_response_due, calendar),
                    i.summary,
                )
                for i in found
            ],
        )


@incidents_group.command("csat")
@click.option(
    "--since", type=ISO_DATE, default=None, help="Only ratings given on or after this UTC date."
)
@json_flag
def incidents_csat(since: dt.date | None, as_json: bool) -> None:
    """Customer satisfaction: how many rated, the average, the distribution, each rating."""
    with runtime().read_session_factory() as session:
        found = satisfaction.report(session, since=since)
    if as_json:
        echo_json(
            {
                "since": found.since,
                "count": found.count,
                "average": found.average,
                "distribution": {str(k): v for k, v in found.distribution.items()},
                "incidents": [
                    {
                        "number": i.number,
                        "email": i.email,
                        "rating": i.rating,
                        "comment": i.comment,
                        "rated_at": _iso(i.rated_at),
                    }
                    for i in found.incidents
                ],
            }
        )
        return
    average = "-" if found.average is None else f"{found.average:.2f}"
    echo(f"{found.count} rating(s), average {average} out of 5")
    echo("  ".join(f"{k}: {v}" for k, v in found.distribution.items()))
    calendar = _calendar()
    _table(
        ("number", "rating", "rated", "email", "comment"),
        [
            (i.number, i.rating, _local(i.rated_at, calendar), i.email, i.comment or "")
            for i in found.incidents
        ],
    )


# --- SLA ---------------------------------------------------------------------------------------


@click.group("sla")
def sla_group() -> None:
    """First-response deadlines and the support calendar."""


@sla_group.command("due")
@click.option(
    "--type", "type_", type=click.Choice(["1", "2", "3"]), required=True, help="Subscription type."
)
@click.option(
    "--tier",
    type=click.Choice(["free", "paid"], case_sensitive=False),
    required=True,
    help="Subscription tier.",
)
@click.option(
    "--at", "at", type=ISO_DATETIME, required=True, help="Filing time, ISO 8601 with offset."
)
@json_flag
@refusals_exit_1
def sla_due(type_: str, tier: str, at: dt.datetime, as_json: bool) -> None:
    """When the first response is due, in the same offset as --at."""
    due = first_response_due(int(type_), tier, at, _calendar()).astimezone(at.tzinfo)
    if as_json:
        echo_json(
            {
                "due": due,
                "hours": first_response_hours(int(type_), tier),
                "channels": support_channels(int(type_), tier),
            }
        )
    else:
        echo(due.isoformat())


@sla_group.command("holidays")
@click.option("--year", type=YEAR, default=None, help="Default: this year.")
@json_flag
def sla_holidays(year: int | None, as_json: bool) -> None:
    """The support holidays of a year (no support; the first-response clock pauses)."""
    calendar = _calendar()
    days = calendar.holidays(year or dt.date.today().year)
    if as_json:
        echo_json([{"date": day, "key": key} for day, key in days])
        return
    for day, key in days:
        echo(f"{day.isoformat()}  {day.strftime('%a')}  {HOLIDAY_NAMES[key]}")


# --- demo --------------------------------------------------------------------------------------


@click.group("demo")
def demo_group() -> None:
    """Demo data to try the bot with."""


@demo_group.command("seed")
@json_flag
@click.option("--markdown", is_flag=True, help="Print the listing as Markdown (for the README).")
@refusals_exit_1
def demo_seed(as_json: bool, markdown: bool) -> None:
    """Load the demo catalogue, customer, products, subscriptions and codes (idempotent)."""
    with runtime().session_factory.begin() as session:
        summary = demo.seed(session)
    if as_json:
        echo_json(summary.as_json())
    elif markdown:
        echo(summary.render_markdown())
    else:
        echo(summary.render_text())


def register(cli: click.Group) -> None:
    cli.add_command(incidents_group)
    cli.add_command(sla_group)
    cli.add_command(demo_group)
