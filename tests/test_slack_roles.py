"""Roles are read from Slack on the server: the triage channel's members and the listed ids
are staff, the listed editors are editors, and a failed members call grants nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.settings import Settings
from bot.slack.roles import Roles
from tests.slack.fake_api import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    yield server
    server.stop()


def _roles(fake: FakeSlack, **changes: object) -> Roles:
    settings = dataclasses.replace(
        Settings(
            data_dir=Path("."),
            database_url="sqlite://",
            articles_dir=Path("."),
            index_dir=Path("."),
        ),
        **changes,
    )
    return Roles(WebClient(token="xoxb-test", base_url=fake.url), settings)


def test_members_of_the_triage_channel_and_listed_users_are_staff(fake: FakeSlack) -> None:
    fake.members["CTRIAGE"] = ["UAGENT"]
    roles = _roles(fake, triage_channel="CTRIAGE", staff_users=frozenset({"ULEAD"}))
    assert roles.is_staff("UAGENT", workspace="T1")
    assert roles.is_staff("ULEAD", workspace="T1")
    assert not roles.is_staff("UCUSTOMER", workspace="T1")
    assert not roles.is_editor("UAGENT", workspace="T1")


def test_membership_is_cached_briefly(fake: FakeSlack) -> None:
    fake.members["CTRIAGE"] = ["UAGENT"]
    roles = _roles(fake, triage_channel="CTRIAGE")
    assert roles.is_staff("UAGENT", workspace="T1") and roles.is_staff("UAGENT", workspace="T1")
    assert len(fake.calls_to("conversations.members")) == 1
    fake.members["CTRIAGE"] = []
    roles.forget()
    assert not roles.is_staff("UAGENT", workspace="T1")


def test_a_failed_members_call_grants_nothing(fake: FakeSlack) -> None:
    roles = _roles(fake, triage_channel="CUNKNOWN", staff_users=frozenset({"ULEAD"}))
    assert not roles.is_staff("UAGENT", workspace="T1")
    assert roles.is_staff("ULEAD", workspace="T1")


def test_editors_are_the_listed_ids(fake: FakeSlack) -> None:
    roles = _roles(fake, editor_users=frozenset({"UEDIT"}))
    assert roles.is_editor("UEDIT", workspace="T1")
    assert not roles.is_editor("UOTHER", workspace="T1")
    assert not roles.is_editor("", workspace="T1")


def test_ids_are_read_from_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_STAFF_USERS", " U1, U2,,")
    monkeypatch.setenv("HELPDESK_EDITOR_USERS", "U3")
    settings = Settings.from_env()
    assert settings.staff_users == frozenset({"U1", "U2"})
    assert settings.editor_users == frozenset({"U3"})
