"""Running the periodic jobs the way `helpdesk serve` does, against the fake Web API."""

from __future__ import annotations

import threading
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
from storage.db import SessionFactory, make_engine, make_session_factory


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


def run_as_two_processes(
    settings: Settings, database_url: str, jobs: list[Job], every: float, turns: int = 3
) -> None:
    """Two serve processes (their own engines and clients, one database) running the same
    jobs at the same moment, `turns` times each: what each job claims, it does once."""
    engines = [make_engine(database_url) for _ in range(2)]
    processes = [scheduler(settings, make_session_factory(e), None, jobs) for e in engines]
    barrier = threading.Barrier(len(processes))
    errors: list[BaseException] = []

    def run(process: Scheduler) -> None:
        try:
            barrier.wait(timeout=30)
            for turn in range(turns):
                process.run_due(now=turn * every)
        except BaseException as err:  # reported below, not swallowed
            errors.append(err)

    threads = [threading.Thread(target=run, args=(p,)) for p in processes]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for engine in engines:
            engine.dispose()
    assert errors == []
