"""Forms (modals): product registration, DAS activation and incident filing.

`/helpdesk register|activate|incident` and the buttons on the Home tab and in messages
open them. The modal opens at once with a short "one moment" (the trigger id expires three
seconds after the click), then the form replaces it. A submission goes through the
engine's form API: errors come back by field, in the user's language, and are shown in
the form (`response_action: errors`); otherwise the result is posted to the user's DM and
the Home tab is refreshed. The view id is the submission's idempotency key: a double
click on "Submit" files one incident.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import (
    FIELD_ACTION,
    FORM_CALLBACK,
    FORM_FLOWS,
    OPEN_FORM_ACTION,
    build_form_view,
    build_message_view,
    build_options,
)
from bot.boundary import ChatUser, Outcome, Reply
from bot.handlers.common import Deps, Place, chat_user, dm_place, labels_for, post_replies, texts_of
from bot.handlers.home import publish_home
from services.clock import utcnow
from services.errors import N_

FORM_COMMANDS = {
    "register": "register_product",
    "activate": "activate_service",
    "incident": "file_incident",
}
# The conversation a user's form submissions are recorded on (their idempotency keys).
FORMS_THREAD = "slack-forms"
ERROR_CHARS = 2000


def form_user(deps: Deps, workspace: str, user_id: str, client: WebClient) -> ChatUser:
    return chat_user(deps, workspace, user_id, Place(FORMS_THREAD), client)


def open_form(
    deps: Deps, client: WebClient, workspace: str, user_id: str, flow: str, trigger_id: str
) -> None:
    user = form_user(deps, workspace, user_id, client)
    texts = texts_of(deps, user)
    _ = texts.gettext
    waiting = build_message_view(_(N_("Helpdesk")), [_(N_("One moment…"))], close=_(N_("Cancel")))
    opened = client.views_open(trigger_id=trigger_id, view=waiting)["view"]
    form = deps.bridge.form(user, flow)
    if form.unavailable:
        view = build_message_view(
            form.title, [reply.text for reply in form.unavailable], close=_(N_("Close"))
        )
    else:
        today = utcnow().astimezone(texts.zone).date()
        metadata = json.dumps({"flow": flow})
        view = build_form_view(form, labels=labels_for(texts), today=today, metadata=metadata)
    client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=view)


def opens_a_form(payload: dict[str, Any]) -> bool:
    """A click on a button that opens a form (it must, within the trigger id's 3 s)."""
    return any(
        str(action.get("action_id", "")).startswith(f"{OPEN_FORM_ACTION}:")
        for action in payload.get("actions") or []
    )


def submitted_fields(state: dict[str, Any]) -> dict[str, str]:
    """The form's values by slot, as text the engine reads (a date in ISO, a ticked box
    as "yes")."""
    fields: dict[str, str] = {}
    for slot, elements in (state.get("values") or {}).items():
        element = elements.get(FIELD_ACTION) or {}
        kind = element.get("type")
        if kind == "plain_text_input":
            value = element.get("value")
        elif kind in ("static_select", "external_select"):
            value = (element.get("selected_option") or {}).get("value")
        elif kind == "datepicker":
            value = element.get("selected_date")
        elif kind == "checkboxes":
            value = "yes" if element.get("selected_options") else "no"
        else:
            value = None
        if value is not None:
            fields[slot] = str(value)
    return fields


def register(app: App, deps: Deps) -> None:
    @app.action(re.compile(rf"^{OPEN_FORM_ACTION}:\w+$"))
    def handle_open_form(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        flow = str(action.get("action_id", "")).split(":", 1)[1]
        if flow not in FORM_FLOWS:
            return
        who = body.get("user") or {}
        workspace = str(who.get("team_id") or (body.get("team") or {}).get("id") or "")
        open_form(deps, client, workspace, str(who.get("id", "")), flow, str(body["trigger_id"]))

    @app.options(FIELD_ACTION)
    def handle_form_options(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """A searchable select of a form: the options whose label holds what was typed."""
        view = body.get("view") or {}
        flow = json.loads(view.get("private_metadata") or "{}").get("flow")
        who = body.get("user") or {}
        if flow not in FORM_FLOWS:
            ack(options=[])
            return
        user = form_user(deps, str(who.get("team_id") or ""), str(who.get("id", "")), client)
        form = deps.bridge.form(user, flow)
        field = next((f for f in form.fields if f.slot == body.get("block_id")), None)
        ack(options=build_options(field.options if field else [], str(body.get("value") or "")))

    @app.view(FORM_CALLBACK)
    def handle_form_submission(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        flow = json.loads(view.get("private_metadata") or "{}").get("flow")
        if flow not in FORM_FLOWS:
            ack()
            return
        who = body.get("user") or {}
        workspace = str(who.get("team_id") or (body.get("team") or {}).get("id") or "")
        user_id = str(who.get("id", ""))
        user = form_user(deps, workspace, user_id, client)
        fields = submitted_fields(view.get("state") or {})
        result = deps.bridge.submit_form(user, flow, fields, f"view:{view.get('id')}")
        if result.errors:
            shown = {block["block_id"] for block in view.get("blocks", []) if "block_id" in block}
            errors = {
                (slot if slot in shown else next(iter(shown), slot)): message[:ERROR_CHARS]
                for slot, message in result.errors.items()
            }
            ack(response_action="errors", errors=errors)
            return
        if not result.done:
            # Refused as a whole (a code used meanwhile, nothing to file on): say why here.
            texts = texts_of(deps, user, result.lang)
            refused = build_message_view(
                view.get("title", {}).get("text", "Helpdesk"),
                [reply.text for reply in result.replies],
                close=texts.gettext(N_("Close")),
            )
            ack(response_action="update", view=refused)
            return
        ack()
        place = dm_place(client, user_id)
        # The result's follow-up buttons belong to no conversation run: shown as text.
        replies = [Reply(reply.text) for reply in result.replies]
        dm_user = chat_user(deps, workspace, user_id, place, client)
        post_replies(client, place, dm_user, Outcome(replies, None, result.lang))
        publish_home(deps, client, workspace, user_id)
