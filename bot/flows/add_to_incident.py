"""Adding a message to one of the customer's open incidents: which one, then the message.

The message is a customer comment on the incident (services.incidents.add_comment): it
changes no status and the support team sees it in the incident's audit trail.
"""

from __future__ import annotations

from bot.flows.check_incident import refusal_text, validate_incident_number
from bot.flows.engine import (
    CHOICE,
    MULTILINE,
    OPEN,
    Choice,
    Flow,
    FlowContext,
    Refused,
    Reply,
    Slot,
)
from services import incidents
from services.errors import N_, IncidentClosed, Refusal


def _open(ctx: FlowContext) -> list[Choice]:
    if ctx.account is None:
        return []
    found = incidents.list_incidents(ctx.session, account=ctx.account)
    return [
        Choice(i.number or "", f"{i.number} — {i.summary}")
        for i in reversed(found)
        if i.status in incidents.OPEN_STATUSES
    ]


def on_start(ctx: FlowContext) -> list[Reply] | None:
    if not _open(ctx):
        return [Reply(ctx._(N_("You have no open incident to add a message to.")))]
    if "incident_number" in ctx.values:
        try:
            ctx.values = {
                **ctx.values,
                "incident_number": validate_open(ctx, ctx.values["incident_number"]),
            }
        except Refusal as err:
            return [Refused(refusal_text(ctx, err), reason=type(err).__name__)]
    return None


def validate_open(ctx: FlowContext, value: str) -> str:
    number = validate_incident_number(ctx, value)
    assert ctx.account is not None
    incident = incidents.get_incident(ctx.session, number, account=ctx.account)
    if incident.status == incidents.CLOSED:
        raise IncidentClosed(number=number)  # final: file a new one
    return number


def on_complete(ctx: FlowContext) -> list[Reply]:
    assert ctx.account is not None
    try:
        with ctx.session.begin_nested():
            incident = incidents.add_comment(
                ctx.session,
                ctx.values["incident_number"],
                actor=ctx.account.email,
                note=ctx.values["message"],
                account=ctx.account,
                now=ctx.now,
            )
    except Refusal as err:
        return [Refused(refusal_text(ctx, err), reason=type(err).__name__)]
    said = ctx._(N_("I have added your message to {number}; the support team will see it."))
    return [Reply(said.format(number=incident.number))]


FLOW = Flow(
    name="add_to_incident",
    title=N_("adding a message to an incident"),
    label=N_("Add a message to an incident"),
    slots=(
        Slot(
            "incident_number",
            CHOICE,
            label=N_("Incident"),
            choices=_open,
            validate=validate_open,
            numbered=False,
        ),
        Slot("message", label=N_("Message"), answer=OPEN, widget=MULTILINE),
    ),
    on_start=on_start,
    on_complete=on_complete,
    form=False,
)
