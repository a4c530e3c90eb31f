"""Answering the support team about an incident, in any channel (the console included):
which incident, the answer, confirm. The answer is recorded like one given in Slack
(services.triage.customer_answer): it reaches the incident's card thread, and an incident
waiting on the customer goes back to "in progress".
"""

from __future__ import annotations

from bot.flows.check_incident import (
    incident_choices,
    named_incident,
    on_start,
    prefer_incident_number,
    refusal_text,
)
from bot.flows.engine import (
    CHOICE,
    CONFIRM,
    MULTILINE,
    OPEN,
    Choice,
    Field,
    Flow,
    FlowContext,
    Refused,
    Reply,
    Slot,
)
from bot.understanding.reading import asks_to_close
from services import incidents, triage
from services.errors import N_, IncidentClosed, Refusal

ANSWER_SHOWN = 600
# The command of a choice that starts this flow on an incident ("answer:INC-000042").
COMMAND = "answer:"
# Said wherever an answer is recorded (this flow, Slack's DM thread and Answer button).
ANSWER_SENT = N_("Thank you: your answer on {number} has been passed on to the support team.")


def summary_confirm(ctx: FlowContext) -> list[Field]:
    return [
        Field(ctx._(N_("Incident:")), ctx.values["incident_number"]),
        Field(ctx._(N_("Your answer:")), ctx.values["message"][:ANSWER_SHOWN]),
    ]


def on_confirm(ctx: FlowContext) -> list[Reply]:
    assert ctx.account is not None
    number = ctx.values["incident_number"]
    try:
        with ctx.session.begin_nested():
            triage.customer_answer(
                ctx.session, number, account=ctx.account, text=ctx.values["message"], now=ctx.now
            )
    except Refusal as err:
        return [Refused(refusal_text(ctx, err), reason=type(err).__name__)]
    sent = ctx._(ANSWER_SENT).format(number=number)
    if asks_to_close(ctx.values["message"]):
        sent += " " + ctx._(
            N_("Only the support team closes an incident: they close it once they have checked.")
        )
    return [Reply(sent)]


def choices_answerable(ctx: FlowContext) -> list[Choice]:
    """The user's incidents but the closed ones, which take no answer."""
    assert ctx.account is not None
    found = incidents.list_incidents(ctx.session, account=ctx.account)
    return incident_choices(ctx, [i for i in found if i.status != incidents.CLOSED])


def validate_answerable(ctx: FlowContext, value: str) -> str:
    """An incident of the user's that is not closed: refused when named, not after the
    answer is written."""
    incident = named_incident(ctx, value)
    if incident.status == incidents.CLOSED:
        raise IncidentClosed(number=incident.number)
    return incident.number or value


def waiting_incident(ctx: FlowContext) -> dict[str, str]:
    """ "Reply to support" with no number: the one incident waiting on the customer is the
    one they answer (as a value given with the request); with none or several, nothing."""
    if ctx.account is None:
        return {}
    waiting = incidents.list_incidents(
        ctx.session, account=ctx.account, status=incidents.WAITING_ON_CUSTOMER
    )
    number = waiting[0].number if len(waiting) == 1 else None
    return {"incident_number": number} if number else {}


FLOW = Flow(
    name="answer_incident",
    title=N_("answering the support team"),
    label=N_("Answer the support team"),
    slots=(
        Slot(
            "incident_number",
            CHOICE,
            label=N_("Incident"),
            choices=choices_answerable,
            prefer=prefer_incident_number,
            validate=validate_answerable,
            numbered=False,
            search=True,
        ),
        Slot("message", label=N_("Your answer"), answer=OPEN, widget=MULTILINE),
        Slot("confirm", CONFIRM, summary=summary_confirm),
    ),
    on_start=on_start,
    on_confirm=on_confirm,
    form=False,
)
