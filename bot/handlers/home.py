"""The Home tab: published when the user opens it and after every change that affects it
(a product registered, a service activated, an incident filed)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.blocks import HomeSection, build_home_view, with_blocks
from bot.handlers.common import Deps, Place, chat_user, texts_of
from bot.handlers.triage import queue_lines
from bot.slack.home import home_data
from services.clock import utcnow
from services.errors import N_

FORM_BUTTONS = (
    ("register_product", N_("Register a product")),
    ("activate_service", N_("Activate a DAS service")),
    ("file_incident", N_("Report an incident")),
)


def publish_home(deps: Deps, client: WebClient, workspace: str, user_id: str) -> None:
    user = chat_user(deps, workspace, user_id, Place("home"), client)
    texts = texts_of(deps, user)
    _ = texts.gettext
    data = home_data(deps.session_factory, user, texts, utcnow())
    first = (data.name or "").split(" ")[0]
    greeting = (
        _(N_("Hello {name}! Here is everything you have with us.")).format(name=first)
        if first
        else _(N_("Hello! Here is everything you have with us."))
    )
    sections = [
        HomeSection(
            _(N_("My products")), data.products, _(N_("You have no registered product yet."))
        ),
        HomeSection(
            _(N_("My services")), data.services, _(N_("You have no activated DAS service yet."))
        ),
        HomeSection(
            _(N_("My subscriptions")),
            data.subscriptions,
            _(N_("You have no subscription service.")),
        ),
        HomeSection(
            _(N_("My incidents")), data.incidents, _(N_("You have not reported any incident yet."))
        ),
    ]
    if deps.roles is not None and deps.roles.is_staff(user_id, workspace=workspace):
        # Staff see the incident queue first, their own incidents at its top.
        queue = queue_lines(deps, texts, user_id)
        sections.insert(0, HomeSection(_(N_("Incident queue")), queue, _(N_("No open incident."))))
    forms = [(flow, _(label)) for flow, label in FORM_BUTTONS]
    view = build_home_view(greeting, sections, forms)
    if (
        deps.roles is not None
        and deps.roles.is_editor(user_id, workspace=workspace)
        and deps.kb is not None
    ):
        from bot.handlers.editors import editor_home_blocks

        view = with_blocks(view, editor_home_blocks(deps, texts, utcnow()))
    client.views_publish(user_id=user_id, view=view)


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def handle_app_home_opened(
        body: dict[str, Any], event: dict[str, Any], client: WebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        workspace = str(event.get("user_team") or body.get("team_id") or "")
        publish_home(deps, client, workspace, str(event["user"]))
