"""`/helpdesk` and its sub-commands.

help, services, products, status NUMBER and lang fr|en are said to the conversation in
the user's DM with the bot (where the answer lands and where typing continues it);
register, activate and incident open their form (a modal) at once — the trigger id
expires three seconds after the command.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.handlers.common import Deps, Place, chat_user, converse, dm_place, texts_of
from bot.handlers.editors import handle_kb_command
from bot.handlers.forms import FORM_COMMANDS, open_form
from bot.handlers.triage import STAFF_COMMANDS
from bot.i18n import Texts
from services import incidents
from services.errors import N_

# Sub-command → what the user would have typed to ask for it.
SAYINGS = {
    "help": N_("help"),
    "aide": N_("help"),
    "services": N_("my services"),
    "products": N_("my products"),
    "produits": N_("my products"),
}
LANGS = {"fr": "en français", "en": "in English"}


def saying_for(command: str, args: list[str]) -> str | None:
    """What the sub-command asks, as a message the conversation understands; None when
    the command is not one we know (the usage is shown)."""
    if not command:
        return SAYINGS["help"]
    if command in SAYINGS:
        return SAYINGS[command]
    if command in ("status", "statut") and len(args) == 1:
        return incidents.parse_number(args[0])
    if command in ("lang", "langue") and len(args) == 1 and args[0].lower() in LANGS:
        return LANGS[args[0].lower()]
    return None


def answers_at_once(body: dict[str, Any]) -> bool:
    """A form opens at once (trigger id) and an unknown command's usage is the answer
    itself; the rest is said to the conversation after the ack."""
    words = str(body.get("text") or "").split()
    command = words[0].lower() if words else ""
    return command in FORM_COMMANDS or saying_for(command, words[1:]) is None


def register(app: App, deps: Deps) -> None:
    @app.command("/helpdesk")
    def handle_helpdesk(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        words = str(body.get("text") or "").split()
        command = words[0].lower() if words else ""
        user_id = str(body["user_id"])
        workspace = str(body.get("team_id") or "")
        if command in STAFF_COMMANDS:  # checked for the staff role inside
            STAFF_COMMANDS[command](deps, client, ack, body, words[1:])
            return
        if command in FORM_COMMANDS:
            ack()
            open_form(
                deps, client, workspace, user_id, FORM_COMMANDS[command], str(body["trigger_id"])
            )
            return
        if command == "kb":  # editors only: checked in there, on every request
            handle_kb_command(deps, client, ack, body, words[1:])
            return
        saying = saying_for(command, words[1:])
        if saying is None:
            texts = texts_of(deps, chat_user(deps, workspace, user_id, Place("command"), client))
            ack(usage(deps, texts, user_id, workspace))
            return
        ack()
        place = dm_place(client, user_id)
        user = chat_user(deps, workspace, user_id, place, client)
        texts = texts_of(deps, user)
        text = texts.gettext(saying) if saying in SAYINGS.values() else saying
        converse(deps, client, user, place, text)


def usage(deps: Deps, texts: Texts, user_id: str, workspace: str) -> str:
    """The sub-commands this user may use: staff and editors are told about theirs."""
    lines = [
        texts.gettext(
            N_(
                "I do not know that command. Try: /helpdesk help, register, activate, "
                "incident, services, products, status NUMBER, lang fr|en."
            )
        )
    ]
    roles = deps.roles
    if roles is not None and roles.is_staff(user_id, workspace=workspace):
        lines.append(texts.gettext(N_("Staff: /helpdesk queue, reply NUMBER TEXT.")))
    if roles is not None and roles.is_editor(user_id, workspace=workspace):
        lines.append(texts.gettext(N_("Editors: /helpdesk kb reindex.")))
    return "\n".join(lines)
