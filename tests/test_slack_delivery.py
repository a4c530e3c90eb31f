"""Slack's delivery rules, through signed HTTP requests to the running app."""

from __future__ import annotations

import time

import pytest

from bot.conversation import Assistant
from tests.slack.fake_api import BOT_USER_ID
from tests.slack.fixtures import CUSTOMER, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp


def _settle(running: RunningApp, seconds: float = 0.5) -> None:
    time.sleep(seconds)  # leave time for a second (wrong) reply to arrive


def test_a_direct_message_is_acknowledged_then_answered(slack: RunningApp) -> None:  # noqa: F811
    response = slack.sender.dm(CUSTOMER, "hello")
    assert response.status == 200
    posted = slack.fake.wait_for("chat.postMessage")[0].args
    assert posted["channel"] == f"D{CUSTOMER}"
    assert "Register a product" in str(posted["blocks"])


def test_a_duplicate_event_id_gets_one_reply(slack: RunningApp) -> None:  # noqa: F811
    first = slack.sender.dm(CUSTOMER, "my products", event_id="EvSAME")
    again = slack.sender.dm(CUSTOMER, "my products", event_id="EvSAME", retry_num=1)
    assert first.status == again.status == 200
    slack.fake.wait_for("chat.postMessage")
    _settle(slack)
    assert len(slack.fake.posted()) == 1


def test_a_retry_whose_first_delivery_never_arrived_is_answered(slack: RunningApp) -> None:  # noqa: F811
    response = slack.sender.dm(CUSTOMER, "my products", event_id="EvLOST", retry_num=1)
    assert response.status == 200
    assert len(slack.fake.wait_for("chat.postMessage")) == 1


def test_the_bots_own_messages_and_other_bots_are_ignored(slack: RunningApp) -> None:  # noqa: F811
    own = {
        "type": "message",
        "channel_type": "im",
        "channel": "DX",
        "user": BOT_USER_ID,
        "text": "hello",
        "ts": slack.sender.next_ts(),
    }
    other = {
        "type": "message",
        "channel_type": "im",
        "channel": "DX",
        "user": "UOTHERBOT",
        "bot_id": "B2",
        "subtype": "bot_message",
        "text": "hello",
        "ts": slack.sender.next_ts(),
    }
    assert slack.sender.event(own).status == 200
    assert slack.sender.event(other).status == 200
    _settle(slack)
    assert slack.fake.posted() == []


def test_a_bad_signature_is_refused_with_401(slack: RunningApp) -> None:  # noqa: F811
    response = slack.sender.post(
        '{"type":"event_callback"}', "application/json", signature="v0=bad"
    )
    assert response.status == 401
    _settle(slack, 0.1)
    assert slack.fake.posted() == []


def test_a_stale_timestamp_is_refused_with_401(slack: RunningApp) -> None:  # noqa: F811
    stale = int(time.time()) - 10 * 60
    response = slack.sender.dm(CUSTOMER, "hello", timestamp=stale)
    assert response.status == 401
    _settle(slack, 0.2)
    assert slack.fake.posted() == []


def test_health_check_answers(slack: RunningApp) -> None:  # noqa: F811
    import urllib.request

    with urllib.request.urlopen(slack.base_url + "/healthz") as answer:
        assert answer.status == 200


def test_a_bug_is_logged_and_the_user_gets_an_apology(
    slack: RunningApp,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Assistant, "handle", broken)
    slack.sender.dm(CUSTOMER, "hello")
    reply = slack.fake.wait_for("chat.postMessage")[0].args
    assert "Sorry, something went wrong" in reply["text"]
    assert "a bug" not in reply["text"]


def test_a_delivery_the_database_cannot_store_gets_500_so_slack_sends_it_again(
    slack: RunningApp,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlalchemy.exc import OperationalError

    from bot.slack import inbox

    def down(*args: object, **kwargs: object) -> bool:
        raise OperationalError("INSERT", {}, Exception("the database is down"))

    with monkeypatch.context() as patch:
        patch.setattr(inbox, "store", down)
        refused = slack.sender.dm(CUSTOMER, "my products", event_id="EvDOWN")
    assert refused.status == 500 and "database" not in refused.body
    _settle(slack, 0.3)
    assert slack.fake.posted() == []
    # Slack's retry, once the database is back, is stored and answered.
    again = slack.sender.dm(CUSTOMER, "my products", event_id="EvDOWN", retry_num=1)
    assert again.status == 200
    assert len(slack.fake.wait_for("chat.postMessage")) == 1


def test_a_signed_body_that_is_not_json_gets_400(slack: RunningApp) -> None:  # noqa: F811
    response = slack.sender.post("{not json", "application/json")
    assert response.status == 400
    _settle(slack, 0.1)
    assert slack.fake.posted() == []
