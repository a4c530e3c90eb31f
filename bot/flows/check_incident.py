"""Incident status: which incident (unless the number was in the message), then its state.

Only the user's own account's incidents are found; another account's number is answered
exactly like a number that does not exist.
"""

from __future__ import annotations

from bot.flows.engine import CHOICE, Choice, Flow, FlowContext, Refused, Reply, Slot
from bot.nlu import incident_number_in
from services import incidents, triage
from services.errors import N_, IncidentNotFound, Refusal
from storage.models import Incident

STATUS_LABELS = {
    incidents.NEW: N_("new"),
    incidents.ACKNOWLEDGED: N_("acknowledged by the support team"),
    incidents.IN_PROGRESS: N_("in progress"),
    incidents.WAITING_ON_CUSTOMER: N_("waiting for your answer"),
    incidents.RESOLVED: N_("resolved"),
    incidents.CLOSED: N_("closed"),
}


def status_label(ctx: FlowContext, status: str) -> str:
    return ctx._(STATUS_LABELS.get(status, status))


def refusal_text(ctx: FlowContext, err: Refusal) -> str:
    """A refusal about an incident, its statuses named in the user's words."""
    params = {
        key: status_label(ctx, value)
        if key in ("status", "target") and value in STATUS_LABELS
        else value
        for key, value in err.params.items()
    }
    return ctx.texts.refusal(type(err)(**params))


def on_start(ctx: FlowContext) -> list[Reply] | None:
    if ctx.account is None or not incidents.list_incidents(ctx.session, account=ctx.account):
        if "incident_number" in ctx.values:
            missing = IncidentNotFound(number=ctx.values["incident_number"])
            return [Refused(ctx.texts.refusal(missing), reason=type(missing).__name__)]
        return [Reply(ctx._(N_("You have not reported any incident yet.")), report_choice(ctx))]
    if "incident_number" in ctx.values:
        # The number came with the request ("where is INC-000042"): check it like an answer.
        try:
            ctx.values = {
                **ctx.values,
                "incident_number": validate_incident_number(ctx, ctx.values["incident_number"]),
            }
        except IncidentNotFound as err:
            return [Refused(ctx.texts.refusal(err), reason=type(err).__name__)]
    return None


def report_choice(ctx: FlowContext) -> list[Choice]:
    return [Choice("flow:file_incident", ctx._(N_("Report an incident")))]


def choices_incident_number(ctx: FlowContext) -> list[Choice]:
    assert ctx.account is not None
    return incident_choices(ctx, incidents.list_incidents(ctx.session, account=ctx.account))


def incident_choices(ctx: FlowContext, found: list[Incident]) -> list[Choice]:
    """Incidents to pick from, the newest first."""
    return [
        Choice(i.number or "", f"{i.number} — {i.summary} ({status_label(ctx, i.status)})")
        for i in reversed(found)
    ]


def prefer_incident_number(ctx: FlowContext, text: str) -> str | None:
    """ "2" is INC-000002 when the user has it: the question asks for the number, and a
    position in the list would be a guess."""
    number = _number(text)
    if number is None or ctx.account is None:
        return None
    try:
        return incidents.get_incident(ctx.session, number, account=ctx.account).number
    except IncidentNotFound:
        return None


def _number(text: str) -> str | None:
    """ "INC-000042", "42", "#42", "n° 42", "incident 42" → "INC-000042"."""
    number = incidents.parse_number(text.replace("#", "").replace("n°", "").strip())
    if number is None and (found := incident_number_in(text)) is not None:
        number = incidents.format_number(found)
    return number


def validate_incident_number(ctx: FlowContext, value: str) -> str:
    incident = named_incident(ctx, value)
    return incident.number or value


def named_incident(ctx: FlowContext, value: str) -> Incident:
    """The user's incident a value names ("INC-000042", "42", "#42"), or IncidentNotFound."""
    number = _number(value)
    if number is None or ctx.account is None:
        raise IncidentNotFound(number=value)
    return incidents.get_incident(ctx.session, number, account=ctx.account)


def incident_reply(ctx: FlowContext, incident: Incident) -> Reply:
    text = ctx.texts.render(
        "flows/check_incident/detail.j2",
        number=incident.number,
        summary=incident.summary,
        service=incident.service_name,
        product=f"{incident.product.model} {incident.product.serial}" if incident.product else None,
        status=status_label(ctx, incident.status),
        created=ctx.texts.datetime(incident.created_at),
        due=ctx.texts.datetime(incident.first_response_due)
        if incident.first_response_due
        else None,
        answered=ctx.texts.datetime(incident.first_response_at)
        if incident.first_response_at
        else None,
        waiting=incident.status == incidents.WAITING_ON_CUSTOMER,
        resolved=incident.status == incidents.RESOLVED,
        conversation=conversation_lines(ctx, incident),
    )
    choices = []
    if incident.status in incidents.OPEN_STATUSES:
        label = ctx._(N_("Answer the support team"))
        choices.append(Choice(f"answer:{incident.number}", label))
    if incident.status == incidents.RESOLVED:
        label = ctx._(N_("Reopen {number}")).format(number=incident.number)
        choices.append(Choice(f"reopen:{incident.number}", label))
    return Reply(text, choices)


def conversation_lines(ctx: FlowContext, incident: Incident) -> list[dict[str, str]]:
    """What the customer and the support team said to each other (never internal notes:
    `triage.conversation` selects by kind)."""
    return [
        {
            "who": ctx._(N_("You"))
            if event.actor_role == incidents.CUSTOMER
            else ctx._(N_("Support team")),
            "at": ctx.texts.datetime(event.at),
            "text": event.note or "",
        }
        for event in triage.conversation(incident)
    ]


def on_complete(ctx: FlowContext) -> list[Reply]:
    assert ctx.account is not None
    incident = incidents.get_incident(
        ctx.session, ctx.values["incident_number"], account=ctx.account
    )
    return [incident_reply(ctx, incident)]


FLOW = Flow(
    name="check_incident",
    title=N_("checking an incident"),
    label=N_("Check an incident"),
    slots=(
        Slot(
            "incident_number",
            CHOICE,
            label=N_("Incident"),
            choices=choices_incident_number,
            prefer=prefer_incident_number,
            validate=validate_incident_number,
            # "2" is the incident numbered 2, never the second in the list.
            numbered=False,
            search=True,
        ),
    ),
    on_start=on_start,
    on_complete=on_complete,
    form=False,
)
