"""Staff triage: the card's buttons (Take, Reply to customer, Change status, Internal
note), their modals, text typed in the card's thread (an internal note), and the staff
commands (`/helpdesk queue`, `/helpdesk reply NUMBER TEXT`).

Every request is checked on the server, from the Slack user id Slack signed the request
with — never from anything in the payload: a customer who sends a forged click or
submission is refused politely, in their language, and nothing changes.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import build_message_view, build_sections
from bot.handlers.common import Deps, Place, chat_user, dm_place, post_notice, texts_of
from bot.i18n import Texts
from bot.media import escape_mrkdwn, to_mrkdwn
from bot.slack import inbox
from bot.slack.triage_cards import (
    FIELD,
    NOTE_ACTION,
    NOTE_CALLBACK,
    REPLY_ACTION,
    REPLY_CALLBACK,
    STATUS_ACTION,
    STATUS_BLOCK,
    STATUS_CALLBACK,
    TAKE_ACTION,
    TEXT_BLOCK,
    build_note_modal,
    build_queue_lines,
    build_reply_modal,
    build_status_modal,
    staff_refusal,
)
from bot.slack.triage_sync import people_of, staff_texts, sync_incident
from services import incidents, triage
from services.clock import utcnow
from services.errors import N_, Refusal

ERROR_CHARS = 2000


def _who(body: dict[str, Any]) -> tuple[str, str]:
    """The workspace and the user Slack says sent the request (signed, not forgeable)."""
    user = body.get("user") or {}
    user_id = str(user.get("id") or body.get("user_id") or "")
    workspace = str(
        user.get("team_id") or (body.get("team") or {}).get("id") or body.get("team_id") or ""
    )
    return workspace, user_id


def is_staff(deps: Deps, workspace: str, user_id: str) -> bool:
    return deps.roles is not None and deps.roles.is_staff(user_id, workspace=workspace)


def refusal_text(deps: Deps, workspace: str, user_id: str) -> str:
    texts = texts_of(deps, chat_user(deps, workspace, user_id, Place("triage")))
    return texts.gettext(
        N_("Sorry, only the support team can do that. If you need help, just ask me here.")
    )


def refuse_in_dm(deps: Deps, client: WebClient, workspace: str, user_id: str) -> None:
    """A polite refusal where the user reads the bot: their DM."""
    post_notice(client, dm_place(client, user_id), refusal_text(deps, workspace, user_id))


def _staff_user_texts(deps: Deps, workspace: str, user_id: str) -> Texts:
    return texts_of(deps, chat_user(deps, workspace, user_id, Place("triage")))


def _tell_staff(client: WebClient, channel: str | None, user_id: str, text: str) -> None:
    """A word for the staff member only (an ephemeral message where they clicked)."""
    if channel:
        client.chat_postEphemeral(channel=channel, user=user_id, text=to_mrkdwn(text))
    else:
        post_notice(client, dm_place(client, user_id), text)


def _number_of(value: str | None) -> str | None:
    return incidents.parse_number(value or "")


def _metadata_number(view: dict[str, Any]) -> str | None:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    return _number_of(str(data.get("number") or "")) if isinstance(data, dict) else None


def _input(view: dict[str, Any], block: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    return dict((values.get(block) or {}).get(FIELD) or {})


def _refused_view(deps: Deps, view: dict[str, Any], text: str, workspace: str, user: str) -> Any:
    texts = _staff_user_texts(deps, workspace, user)
    title = (view.get("title") or {}).get("text") or "Helpdesk"
    return build_message_view(title, [text], close=texts.gettext(N_("Close")))


def register(app: App, deps: Deps) -> None:
    @app.action(TAKE_ACTION)
    def handle_take(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        workspace, user_id = _who(body)
        if not is_staff(deps, workspace, user_id):
            refuse_in_dm(deps, client, workspace, user_id)
            return
        number = _number_of(action.get("value"))
        channel = (body.get("channel") or {}).get("id")
        if number is None:
            return
        try:
            with deps.session_factory.begin() as session:
                triage.take(session, number, staff=user_id)
        except Refusal as err:
            texts = _staff_user_texts(deps, workspace, user_id)
            _tell_staff(client, channel, user_id, staff_refusal(texts, err))
            return
        sync_incident(deps, client, number)

    @app.action(REPLY_ACTION)
    @app.action(STATUS_ACTION)
    @app.action(NOTE_ACTION)
    def handle_open_modal(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        workspace, user_id = _who(body)
        if not is_staff(deps, workspace, user_id):
            refuse_in_dm(deps, client, workspace, user_id)
            return
        number = _number_of(action.get("value"))
        if number is None:
            return
        texts = _staff_user_texts(deps, workspace, user_id)
        builders = {
            REPLY_ACTION: build_reply_modal,
            STATUS_ACTION: build_status_modal,
            NOTE_ACTION: build_note_modal,
        }
        try:
            with deps.session_factory() as session:
                incident = incidents.get_incident(session, number)
                view = builders[str(action["action_id"])](incident, texts)
        except Refusal as err:
            channel = (body.get("channel") or {}).get("id")
            _tell_staff(client, channel, user_id, staff_refusal(texts, err))
            return
        client.views_open(trigger_id=str(body["trigger_id"]), view=view)

    @app.view(REPLY_CALLBACK)
    @app.view(NOTE_CALLBACK)
    @app.view(STATUS_CALLBACK)
    def handle_staff_submission(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        workspace, user_id = _who(body)
        if not is_staff(deps, workspace, user_id):
            refused = refusal_text(deps, workspace, user_id)
            ack(
                response_action="update",
                view=_refused_view(deps, view, refused, workspace, user_id),
            )
            return
        number = _metadata_number(view)
        if number is None:
            ack()
            return
        # A double click on Send, or a retried submission, acts once.
        if not inbox.once(
            deps.session_factory.kw["bind"], f"staff-view:{view.get('id')}:{view.get('hash')}"
        ):
            ack()
            return
        text = str(_input(view, TEXT_BLOCK).get("value") or "")
        callback = view.get("callback_id")
        try:
            with deps.session_factory.begin() as session:
                if callback == REPLY_CALLBACK:
                    triage.staff_reply(session, number, actor=user_id, text=text)
                elif callback == NOTE_CALLBACK:
                    triage.internal_note(session, number, actor=user_id, text=text)
                else:
                    status = str(
                        (_input(view, STATUS_BLOCK).get("selected_option") or {}).get("value") or ""
                    )
                    incidents.change_status(
                        session, number, status, actor=user_id, note=text or None
                    )
        except Refusal as err:
            texts = _staff_user_texts(deps, workspace, user_id)
            block = STATUS_BLOCK if callback == STATUS_CALLBACK else TEXT_BLOCK
            message = to_mrkdwn(staff_refusal(texts, err))
            ack(response_action="errors", errors={block: message[:ERROR_CHARS]})
            return
        ack()
        sync_incident(deps, client, number)


def note_from_thread(
    deps: Deps, client: WebClient, event: dict[str, Any], body: dict[str, Any]
) -> bool:
    """Text typed in an incident card's thread: an internal note, never delivered. True
    when the message was one (handled here, whoever wrote it)."""
    channel = str(event.get("channel") or "")
    thread_ts = event.get("thread_ts")
    if not thread_ts or channel != deps.settings.triage_channel:
        return False
    with deps.session_factory() as session:
        incident = triage.incident_for_card(session, channel, str(thread_ts))
        number = incident.number if incident is not None else None
    if number is None:
        return False
    user_id = str(event.get("user") or "")
    # The writer's own workspace (a shared channel's guest is of another one).
    workspace = str(event.get("user_team") or event.get("team") or body.get("team_id") or "")
    if not is_staff(deps, workspace, user_id):
        return True  # only staff write notes; anyone else's words are not recorded
    text = str(event.get("text") or "").strip()
    if not text:
        return True
    try:
        with deps.session_factory.begin() as session:
            triage.internal_note(
                session,
                number,
                actor=user_id,
                text=text,
                slack_channel=channel,
                slack_ts=str(event.get("ts") or ""),
            )
    except Refusal as err:
        texts = staff_texts(deps)
        _tell_staff(client, channel, user_id, staff_refusal(texts, err))
        return True
    sync_incident(deps, client, number)
    return True


# --- commands ------------------------------------------------------------------------


def command_queue(
    deps: Deps, client: WebClient, ack: Ack, body: dict[str, Any], args: list[str]
) -> None:
    workspace, user_id = _who(body)
    if not is_staff(deps, workspace, user_id):
        ack(to_mrkdwn(refusal_text(deps, workspace, user_id)))
        return
    texts = _staff_user_texts(deps, workspace, user_id)
    ack(blocks=queue_blocks(deps, texts, user_id), text=texts.gettext(N_("Open incidents")))


def queue_lines(deps: Deps, texts: Texts, user_id: str) -> list[str]:
    with deps.session_factory() as session:
        found = triage.queue(session, first=user_id)
        people = people_of(deps, {i.assignee for i in found})
        return build_queue_lines(found, texts, people, utcnow())


def queue_blocks(deps: Deps, texts: Texts, user_id: str) -> list[dict[str, Any]]:
    _ = texts.gettext
    lines = queue_lines(deps, texts, user_id)
    heading = _(N_("Open incidents, most urgent first"))
    title = f"*{escape_mrkdwn(heading)}*"
    if not lines:
        empty = _(N_("No open incident."))
        return build_sections(f"{title}\n{escape_mrkdwn(empty)}")
    body = "\n".join(f"• {escape_mrkdwn(line)}" for line in lines)
    return build_sections(f"{title}\n{body}")[:50]


def command_reply(
    deps: Deps, client: WebClient, ack: Ack, body: dict[str, Any], args: list[str]
) -> None:
    """`/helpdesk reply NUMBER TEXT`: the explicit reply command (reaches the customer)."""
    workspace, user_id = _who(body)
    if not is_staff(deps, workspace, user_id):
        ack(to_mrkdwn(refusal_text(deps, workspace, user_id)))
        return
    texts = _staff_user_texts(deps, workspace, user_id)
    # The reply as typed, line breaks and spacing kept (`args` are split on whitespace).
    parts = str(body.get("text") or "").strip().split(maxsplit=2)
    number = _number_of(parts[1]) if len(parts) > 1 else None
    text = parts[2].strip() if len(parts) > 2 else ""
    if number is None or not text:
        ack(
            to_mrkdwn(texts.gettext(N_("Usage: /helpdesk reply NUMBER your reply to the customer")))
        )
        return
    try:
        with deps.session_factory.begin() as session:
            triage.staff_reply(session, number, actor=user_id, text=text)
    except Refusal as err:
        ack(to_mrkdwn(staff_refusal(texts, err)))
        return
    ack(
        to_mrkdwn(
            texts.gettext(N_("Your reply on {number} is on its way to the customer.")).format(
                number=number
            )
        )
    )
    sync_incident(deps, client, number)


STAFF_COMMANDS = {"queue": command_queue, "reply": command_reply}
