"""Block Kit for staff triage and the customer's side of the conversation: pure
functions from incidents, events and translated texts to blocks. Every customer or staff
text is escaped for mrkdwn here (`&`, `<`, `>`): no broadcast, mention or disguised link
can come out of what someone typed."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from bot.blocks import INPUT_LABEL_CHARS, MODAL_TITLE_CHARS, SECTION_CHARS, clip, mrkdwn, plain
from bot.i18n import Texts
from bot.media import escape_mrkdwn
from services import incidents, triage
from services.errors import N_, Refusal
from storage.models import Incident, IncidentEvent

Block = dict[str, Any]

TAKE_ACTION = "triage_take"
REPLY_ACTION = "triage_reply"
STATUS_ACTION = "triage_status"
NOTE_ACTION = "triage_note"
STAFF_ACTIONS = (TAKE_ACTION, REPLY_ACTION, STATUS_ACTION, NOTE_ACTION)
ANSWER_ACTION = "incident_answer"  # the customer's "Answer" button under a staff reply

REPLY_CALLBACK = "triage_reply"
STATUS_CALLBACK = "triage_status"
NOTE_CALLBACK = "triage_note"
ANSWER_CALLBACK = "incident_answer"
TEXT_BLOCK = "text"
STATUS_BLOCK = "status"
FIELD = "value"

# Statuses as staff call them (customers read bot.flows.check_incident.STATUS_LABELS).
STAFF_STATUS_LABELS = {
    incidents.NEW: N_("New"),
    incidents.ACKNOWLEDGED: N_("Acknowledged"),
    incidents.IN_PROGRESS: N_("In progress"),
    incidents.WAITING_ON_CUSTOMER: N_("Waiting on customer"),
    incidents.RESOLVED: N_("Resolved"),
    incidents.CLOSED: N_("Closed"),
}


@dataclass(frozen=True)
class People:
    """Display names of the staff named on a card (Slack user id → name)."""

    names: dict[str, str]

    def name(self, user_id: str | None) -> str:
        if not user_id:
            return ""
        return self.names.get(user_id) or user_id


def status_label(texts: Texts, status: str) -> str:
    return texts.gettext(STAFF_STATUS_LABELS.get(status, status))


def staff_refusal(texts: Texts, err: Refusal) -> str:
    """A refusal about an incident for staff, its statuses named as staff call them."""
    params = {
        key: status_label(texts, value)
        if key in ("status", "target") and value in STAFF_STATUS_LABELS
        else value
        for key, value in err.params.items()
    }
    return texts.refusal(type(err)(**params))


def deadline_text(texts: Texts, incident: Incident, now: dt.datetime) -> str:
    """The first-response deadline with the time left, overdue, or met."""
    _ = texts.gettext
    if incident.first_response_due is None:
        # An incident on a product whose DAS service promises no response time.
        return _(N_("no first-response time promised"))
    due = texts.datetime(incident.first_response_due)
    if incident.first_response_at is not None:
        return _(N_("{due} (answered {at})")).format(
            due=due, at=texts.datetime(incident.first_response_at)
        )
    left = incident.first_response_due - now
    if left.total_seconds() < 0:
        return _(N_("{due} (overdue by {late})")).format(due=due, late=texts.duration(-left))
    return _(N_("{due} ({left} left)")).format(due=due, left=texts.duration(left))


def _field(label: str, value: str) -> dict[str, Any]:
    return mrkdwn(clip(f"*{escape_mrkdwn(label)}*\n{escape_mrkdwn(value)}", 2000))


def _on_what(texts: Texts, incident: Incident) -> dict[str, Any]:
    """What the incident is on: a subscription and its type, or a product and its service."""
    _ = texts.gettext
    product = incident.product
    if incident.subscription is None and product is not None:
        on = f"{product.model} · {product.serial} · {incident.service_name}"
        return _field(_(N_("Product")), on)
    kind = _(N_("type {type}")).format(type=incident.subscription_type)
    return _field(_(N_("Subscription")), f"{incident.service_name} ({kind})")


def build_card(
    incident: Incident,
    texts: Texts,
    people: People,
    now: dt.datetime,
    *,
    workspace: str | None = None,
) -> list[Block]:
    """The incident's card in the triage channel; `workspace` names the customer's Slack
    workspace when the app serves several."""
    _ = texts.gettext
    account = incident.account
    customer = account.name + (f" ({account.company})" if account.company else "")
    title = f"*{escape_mrkdwn(incident.number or '')}* — {escape_mrkdwn(incident.summary)}"
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(clip(title, SECTION_CHARS))},
        {
            "type": "section",
            "fields": [
                _field(_(N_("Customer")), f"{customer} · {account.email}"),
                _on_what(texts, incident),
                _field(_(N_("First response due")), deadline_text(texts, incident, now)),
                _field(_(N_("Status")), status_label(texts, incident.status)),
                _field(_(N_("Assignee")), people.name(incident.assignee) or _(N_("nobody yet"))),
            ]
            + ([_field(_(N_("Workspace")), workspace)] if workspace else []),
        },
        {"type": "section", "text": mrkdwn(clip(escape_mrkdwn(incident.description), 2000))},
    ]
    if incident.status != incidents.CLOSED:
        value = incident.number or ""
        labels = (
            (TAKE_ACTION, N_("Take")),
            (REPLY_ACTION, N_("Reply to customer")),
            (STATUS_ACTION, N_("Change status")),
            (NOTE_ACTION, N_("Internal note")),
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": "triage",
                "elements": [
                    {"type": "button", "action_id": action, "text": plain(_(label)), "value": value}
                    for action, label in labels
                ],
            }
        )
    return blocks


def card_fallback(incident: Incident, texts: Texts) -> str:
    return escape_mrkdwn(
        texts.gettext(N_("{number}: {summary} ({status})")).format(
            number=incident.number,
            summary=incident.summary,
            status=status_label(texts, incident.status),
        )
    )


def thread_line(event: IncidentEvent, texts: Texts, people: People) -> str | None:
    """An event as the card's thread shows it (None: the card itself says it)."""
    _ = texts.gettext
    who = people.name(event.actor) if event.actor_role == incidents.STAFF else event.actor
    note = event.note or ""
    if event.kind == incidents.REPLY:
        head = _(N_("{who} replied to the customer:")).format(who=who)
    elif event.kind == triage.ANSWER:
        head = _(N_("The customer ({who}) answered:")).format(who=who)
    elif event.kind == incidents.COMMENT and event.actor_role == incidents.STAFF:
        head = _(N_("Internal note by {who} (not shown to the customer):")).format(who=who)
    elif event.kind == incidents.COMMENT:
        head = _(N_("The customer ({who}) added:")).format(who=who)
    elif event.kind == incidents.STATUS_CHANGED and event.to_status:
        head = _(N_("{who} changed the status to {status}.")).format(
            who=who, status=status_label(texts, event.to_status)
        )
    elif event.kind == incidents.ASSIGNED:
        head = _(N_("{who} assigned it to {assignee}.")).format(
            who=who, assignee=people.name(event.to_assignee)
        )
    else:
        return None
    if event.kind == incidents.ASSIGNED or not note:
        return escape_mrkdwn(head)
    return clip(f"*{escape_mrkdwn(head)}*\n{escape_mrkdwn(note)}", SECTION_CHARS)


def build_customer_reply(number: str, text: str, texts: Texts) -> list[Block]:
    """A staff reply as the customer receives it: framed in their language, the text as
    written (escaped), and how to answer."""
    _ = texts.gettext
    intro = _(N_("The support team replied about your incident {number}:")).format(number=number)
    how = _(N_("To answer, reply in this message's thread or use the button below."))
    return [
        {"type": "section", "text": mrkdwn(escape_mrkdwn(intro))},
        {"type": "section", "text": mrkdwn(clip(escape_mrkdwn(text), SECTION_CHARS))},
        {"type": "context", "elements": [mrkdwn(escape_mrkdwn(how))]},
        {
            "type": "actions",
            "block_id": "incident_answer",
            "elements": [
                {
                    "type": "button",
                    "action_id": ANSWER_ACTION,
                    "text": plain(_(N_("Answer"))),
                    "value": number,
                    "style": "primary",
                }
            ],
        },
    ]


def _text_modal(
    callback: str, title: str, label: str, submit: str, close: str, number: str, intro: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback,
        "private_metadata": json.dumps({"number": number}),
        "title": plain(title, MODAL_TITLE_CHARS),
        "submit": plain(submit, MODAL_TITLE_CHARS),
        "close": plain(close, MODAL_TITLE_CHARS),
        "blocks": [
            {"type": "section", "text": mrkdwn(escape_mrkdwn(intro))},
            {
                "type": "input",
                "block_id": TEXT_BLOCK,
                "label": plain(label, INPUT_LABEL_CHARS),
                "element": {
                    "type": "plain_text_input",
                    "action_id": FIELD,
                    "multiline": True,
                    "max_length": triage.TEXT_MAX,
                },
            },
        ],
    }


def build_reply_modal(incident: Incident, texts: Texts) -> dict[str, Any]:
    _ = texts.gettext
    return _text_modal(
        REPLY_CALLBACK,
        _(N_("Reply to customer")),
        _(N_("Your reply (the customer receives it as written)")),
        _(N_("Send")),
        _(N_("Cancel")),
        incident.number or "",
        f"{incident.number} — {incident.summary}",
    )


def build_note_modal(incident: Incident, texts: Texts) -> dict[str, Any]:
    _ = texts.gettext
    return _text_modal(
        NOTE_CALLBACK,
        _(N_("Internal note")),
        _(N_("Note for the support team (never shown to the customer)")),
        _(N_("Save")),
        _(N_("Cancel")),
        incident.number or "",
        f"{incident.number} — {incident.summary}",
    )


def build_answer_modal(number: str, texts: Texts) -> dict[str, Any]:
    _ = texts.gettext
    return _text_modal(
        ANSWER_CALLBACK,
        _(N_("Answer the support team")),
        _(N_("Your answer")),
        _(N_("Send")),
        _(N_("Cancel")),
        number,
        _(N_("Your answer about incident {number} goes to the support team.")).format(
            number=number
        ),
    )


def build_status_modal(incident: Incident, texts: Texts) -> dict[str, Any]:
    _ = texts.gettext
    options = [
        {"text": plain(status_label(texts, status)), "value": status}
        for status in incidents.STATUSES
        if status in incidents.TRANSITIONS[incident.status]
    ]
    return {
        "type": "modal",
        "callback_id": STATUS_CALLBACK,
        "private_metadata": json.dumps({"number": incident.number}),
        "title": plain(_(N_("Change status")), MODAL_TITLE_CHARS),
        "submit": plain(_(N_("Save")), MODAL_TITLE_CHARS),
        "close": plain(_(N_("Cancel")), MODAL_TITLE_CHARS),
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    escape_mrkdwn(
                        _(N_("{number} is {status}.")).format(
                            number=incident.number, status=status_label(texts, incident.status)
                        )
                    )
                ),
            },
            {
                "type": "input",
                "block_id": STATUS_BLOCK,
                "label": plain(_(N_("New status"))),
                "element": {
                    "type": "static_select",
                    "action_id": FIELD,
                    "options": options
                    or [{"text": plain(status_label(texts, incident.status)), "value": "-"}],
                },
            },
            {
                "type": "input",
                "block_id": TEXT_BLOCK,
                "optional": True,
                "label": plain(_(N_("Note for the audit trail (internal)"))),
                "element": {
                    "type": "plain_text_input",
                    "action_id": FIELD,
                    "multiline": True,
                    "max_length": triage.TEXT_MAX,
                },
            },
        ],
    }


def build_queue_lines(
    found: list[Incident], texts: Texts, people: People, now: dt.datetime
) -> list[str]:
    """The queue, one plain line per incident (escaped where it is laid out)."""
    _ = texts.gettext
    return [
        _(N_("{number} {summary} — {customer}: {status}, {assignee}, due {due}")).format(
            number=i.number,
            summary=i.summary,
            customer=i.account.name,
            status=status_label(texts, i.status),
            assignee=people.name(i.assignee) or _(N_("nobody yet")),
            due=deadline_text(texts, i, now),
        )
        for i in found
    ]
