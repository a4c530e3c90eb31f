"""Staff triage in the suite: the app with a triage channel and a staff member, and the
scheduler's job run as a serve process would run it."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.app import make_client
from bot.handlers.common import Deps
from bot.settings import Settings
from bot.slack.profiles import Profiles
from bot.slack.roles import Roles
from bot.slack.scheduler import Job, Scheduler
from bot.slack.triage_sync import SYNC_EVERY_SECONDS, sync_cards
from services.clock import utcnow
from storage.db import SessionFactory
from storage.models import Incident
from tests.conversation_helpers import seed_demo, shared_kb
from tests.slack.fixtures import add_people
from tests.slack.harness import SIGNING_SECRET, RunningApp, running_app

TRIAGE = "CTRIAGE"
AGENT = "UAGENT"  # a member of the triage channel: staff
LEAD = "ULEAD"  # listed in HELPDESK_STAFF_USERS: staff


@pytest.fixture
def triage_app(
    settings: Settings, session_factory: SessionFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    seed_demo(session_factory, today=utcnow().date())
    settings = dataclasses.replace(settings, triage_channel=TRIAGE, staff_users=frozenset({LEAD}))
    with running_app(settings, session_factory, shared_kb(tmp_path_factory)) as running:
        add_people(running.fake)
        running.fake.add_user(AGENT, locale="en-US", tz="America/New_York", name="Alice Agent")
        running.fake.add_user(LEAD, locale="fr-FR", tz="Europe/Paris", name="Léa Lead")
        running.fake.members[TRIAGE] = [AGENT, "UBOT"]
        yield running


def process(running: RunningApp) -> Scheduler:
    """A second serve process's scheduler on the same database and Slack: its own
    clients and caches, only the triage job."""
    settings = dataclasses.replace(
        Settings.from_env(),
        triage_channel=TRIAGE,
        staff_users=frozenset({LEAD}),
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=running.fake.url,
    )
    client: WebClient = make_client(settings)
    deps = Deps(
        settings=settings,
        session_factory=running.session_factory,
        bridge=None,  # type: ignore[arg-type] (the job does not converse)
        profiles=Profiles(client),
        roles=Roles(client, settings),
    )
    return Scheduler(deps, client, [Job("triage_cards", SYNC_EVERY_SECONDS, _sync)])


def _sync(deps: Deps, client: WebClient) -> object:
    return sync_cards(deps, client)


def run_jobs(running: RunningApp) -> None:
    process(running).run_due()


def in_channel(running: RunningApp, channel: str) -> list[dict[str, Any]]:
    return [a for a in running.fake.posted() if a.get("channel") == channel]


def card(running: RunningApp, number: str = "INC-000001") -> dict[str, Any]:
    """The card as it reads now: the last post or update of it."""
    with running.session_factory() as session:
        incident = session.scalars(select(Incident).where(Incident.number == number)).one()
        ts = incident.card_ts
    assert ts is not None, "no card yet"
    updates = [c.args for c in running.fake.calls_to("chat.update") if c.args.get("ts") == ts]
    if updates:
        return updates[-1]
    return next(a for a in in_channel(running, TRIAGE) if a.get("thread_ts") is None)


def thread(running: RunningApp, number: str = "INC-000001") -> list[str]:
    with running.session_factory() as session:
        ts = session.scalars(select(Incident.card_ts).where(Incident.number == number)).one()
    return [a["text"] for a in in_channel(running, TRIAGE) if a.get("thread_ts") == ts]


def button(message: dict[str, Any], label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    blocks = message["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks:
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["text"]["text"] == label:
                    return block, element
    raise AssertionError(f"no button {label}")


def incident(running: RunningApp, number: str = "INC-000001") -> Incident:
    with running.session_factory() as session:
        return session.scalars(
            select(Incident).where(Incident.number == number).options(selectinload(Incident.events))
        ).one()


def wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    assert check()
