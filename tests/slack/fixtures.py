"""Fixtures for the Slack tests (imported by each tests/test_slack_*.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.settings import Settings
from services.clock import utcnow
from storage.db import SessionFactory
from tests.conversation_helpers import seed_demo, shared_kb
from tests.slack.fake_api import FakeSlack
from tests.slack.harness import RunningApp, running_app

CUSTOMER = "UCUST"  # the demo customer, English profile
CLIENT_FR = "UFR"  # the demo customer's colleague... a French profile, no account
DEMO_EMAIL = "demo@example.com"


def add_people(fake: FakeSlack) -> None:
    fake.add_user(
        CUSTOMER, locale="en-US", tz="Europe/Paris", email=DEMO_EMAIL, name="Demo Customer"
    )
    fake.add_user(
        CLIENT_FR,
        locale="fr-FR",
        tz="Europe/Paris",
        email="claire@example.fr",
        name="Claire Martin",
    )


@pytest.fixture
def slack(
    settings: Settings, session_factory: SessionFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    seed_demo(session_factory, today=utcnow().date())
    with running_app(settings, session_factory, shared_kb(tmp_path_factory)) as running:
        add_people(running.fake)
        yield running
