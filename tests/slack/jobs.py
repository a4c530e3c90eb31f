"""Running the periodic jobs the way `helpdesk serve` does, against the fake Web API."""

from __future__ import annotations

from typing import Any

from bot.app import make_client
from bot.conversation import Assistant
from bot.handlers.common import Deps
from bot.settings import Settings
from bot.slack.bridge import Bridge
from bot.slack.clients import Clients
from bot.slack.oauth import oauth_settings
from bot.slack.profiles import Profiles
from bot.slack.roles import Roles
from bot.slack.scheduler import Job, Scheduler
from storage.db import SessionFactory


def scheduler(
    settings: Settings, session_factory: SessionFactory, kb: Any, jobs: list[Job]
) -> Scheduler:
    """A scheduler with the objects `create_app` gives one process (its own client; in
    OAuth mode each workspace's, from the installations kept in the database)."""
    client = make_client(settings)
    oauth = (
        oauth_settings(settings, session_factory.kw["bind"], client)
        if settings.oauth_mode
        else None
    )
    clients = Clients(settings, client, oauth)
    profiles = Profiles(client, clients=clients)
    deps = Deps(
        settings=settings,
        session_factory=session_factory,
        bridge=Bridge(Assistant(session_factory, settings, kb), session_factory),
        profiles=profiles,
        kb=kb,
        roles=Roles(clients, settings),
        clients=clients,
    )
    return Scheduler(deps, client, jobs)
