"""The inbox: what is acknowledged is stored first, worked off by leasing workers, and
survives a worker that dies or is stopped (bot.slack.inbox, bot.slack.worker)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from slack_bolt import BoltRequest
from sqlalchemy import Engine, select

from bot.app import create_app, make_client
from bot.settings import REPO_ROOT, Settings
from bot.slack import inbox
from bot.slack.worker import InboxWorker
from storage.db import SessionFactory, upgrade
from storage.models import InboxDelivery
from tests.conversation_helpers import shared_kb
from tests.slack.fake_api import FakeSlack
from tests.slack.fixtures import CLIENT_FR, CUSTOMER, slack  # noqa: F401 (a fixture)
from tests.slack.harness import SIGNING_SECRET, RunningApp
from tests.slack.sender import SlackSender


def _engine(running: RunningApp) -> Engine:
    engine: Engine = running.session_factory.kw["bind"]
    return engine


def _row(running: RunningApp, key: str) -> InboxDelivery:
    with running.session_factory() as session:
        row = session.scalars(select(InboxDelivery).where(InboxDelivery.key == key)).one()
        session.expunge(row)
        return row


@contextmanager
def _worker(running: RunningApp, **options: object) -> Iterator[InboxWorker]:
    worker = InboxWorker(running.worker.app, _engine(running), **options).start()  # type: ignore[arg-type]
    try:
        yield worker
    finally:
        worker.stop(timeout=10)


def test_a_key_is_stored_once_and_forgotten_a_day_after_it_is_done(
    session_factory: SessionFactory,
) -> None:
    engine = session_factory.kw["bind"]
    then = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    delivery = inbox.Delivery("event:Ev1", "T1:U1", "{}", {"content-type": "application/json"})
    assert inbox.store(engine, delivery, now=then) is True
    assert inbox.store(engine, delivery, now=then) is False
    leased = inbox.claim(engine, "w1", now=then)
    assert leased is not None and leased.key == "event:Ev1" and leased.attempts == 1
    assert inbox.finish(engine, "event:Ev1", "w1", now=then) is True
    assert inbox.store(engine, delivery) is False  # a retry the next minute: a duplicate
    assert inbox.forget_before(engine, then + inbox.KEEP_KEYS) == 1
    assert inbox.store(engine, delivery) is True


def test_a_lane_is_worked_in_order_one_delivery_at_a_time(
    session_factory: SessionFactory,
) -> None:
    engine = session_factory.kw["bind"]
    then = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for number, lane in ((1, "T1:U1"), (2, "T1:U1"), (3, "T1:U2")):
        delivery = inbox.Delivery(f"event:Ev{number}", lane, "{}", {})
        inbox.store(engine, delivery, now=then + dt.timedelta(seconds=number))
    first = inbox.claim(engine, "w1", now=then + dt.timedelta(seconds=5))
    other_lane = inbox.claim(engine, "w2", now=then + dt.timedelta(seconds=5))
    assert (first and first.key, other_lane and other_lane.key) == ("event:Ev1", "event:Ev3")
    # U1's second message waits for its first, even with a worker free.
    assert inbox.claim(engine, "w2", now=then + dt.timedelta(seconds=6)) is None
    inbox.finish(engine, "event:Ev1", "w1")
    second = inbox.claim(engine, "w2", now=then + dt.timedelta(seconds=7))
    assert second is not None and second.key == "event:Ev2"


def test_an_acknowledged_message_survives_its_worker_and_is_answered_once(
    slack: RunningApp,  # noqa: F811
) -> None:
    slack.worker.stop()  # the in-process worker of the harness: this test plays them
    assert slack.sender.dm(CUSTOMER, "my products", event_id="EvKILLED").status == 200
    # A worker leases it, then its process is killed: never finished.
    dead = inbox.claim(_engine(slack), "killed-worker", lease=dt.timedelta(seconds=2))
    assert dead is not None and dead.key == "event:EvKILLED"
    with _worker(slack, lease=dt.timedelta(seconds=2), threads=2):
        time.sleep(1.0)
        assert slack.fake.posted() == []  # the lease still holds: nobody else takes it
        posted = slack.fake.wait_for("chat.postMessage", timeout=15)
        time.sleep(0.5)
    assert len(slack.fake.posted()) == 1
    assert "products" in str(posted[0].args["blocks"]).lower()
    row = _row(slack, "event:EvKILLED")
    assert row.done_at is not None and row.attempts == 2 and row.body == ""


def test_a_retry_after_the_work_is_done_is_only_acknowledged(slack: RunningApp) -> None:  # noqa: F811
    assert slack.sender.dm(CUSTOMER, "my products", event_id="EvDONE").status == 200
    slack.fake.wait_for("chat.postMessage")
    time.sleep(0.3)
    again = slack.sender.dm(CUSTOMER, "my products", event_id="EvDONE", retry_num=2)
    assert again.status == 200
    time.sleep(0.5)
    assert len(slack.fake.posted()) == 1


def test_stopping_a_worker_finishes_what_was_acknowledged(slack: RunningApp) -> None:  # noqa: F811
    slack.worker.stop()
    users = [CUSTOMER, CLIENT_FR]
    for user in users:
        for number in range(3):
            response = slack.sender.dm(user, "hello", event_id=f"EvDRAIN{user}{number}")
            assert response.status == 200
    assert inbox.pending(_engine(slack)) == 6
    worker = InboxWorker(slack.worker.app, _engine(slack), threads=2).start()
    assert worker.stop(timeout=60) is True
    assert inbox.pending(_engine(slack)) == 0
    assert len(slack.fake.posted()) == 6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_stops_taking_requests_and_answers_every_acknowledged_one(
    tmp_path: Path,
) -> None:
    fake = FakeSlack().start()
    db = tmp_path / "serve.db"
    upgrade(f"sqlite:///{db}")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))},
        "HELPDESK_DATA_DIR": str(tmp_path / "data"),
        "HELPDESK_DATABASE_URL": f"sqlite:///{db}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HELPDESK_SLACK_API_URL": fake.url,
    }
    command = [
        str(Path(sys.executable).parent / "helpdesk"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--threads",
        "4",
        "--inbox-threads",
        "1",
    ]
    process = subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert process.poll() is None, "helpdesk serve exited"
                assert time.monotonic() < deadline, "helpdesk serve did not start"
                time.sleep(0.2)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
        # Warm up (the first reply builds the worker's caches), then a burst the single
        # worker thread cannot have finished when SIGTERM comes.
        assert sender.dm("UWARM", "hello").status == 200
        fake.wait_for("chat.postMessage", timeout=60)
        users = [f"UBURST{number}" for number in range(12)]
        for user in users:
            assert sender.dm(user, "hello").status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=90) == 0
        answered = [call.args["channel"] for call in fake.calls_to("chat.postMessage")]
        assert sorted(answered) == sorted(["DUWARM"] + [f"D{user}" for user in users])
        # Stopped: it takes no more requests.
        try:
            refused = sender.dm("ULATE", "hello").status != 200
        except OSError:
            refused = True
        assert refused
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        fake.stop()


def test_socket_mode_applies_the_same_rule_as_deliveries_arrive(
    settings: Settings,
    session_factory: SessionFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Socket Mode has no ack path of ours: the same key, recorded as it arrives, keeps a
    redelivered event from being answered twice."""
    fake = FakeSlack().start()
    try:
        socket_mode = Settings(
            **{
                **settings.__dict__,
                "slack_bot_token": "xoxb-test",
                "slack_app_token": "xapp-test",
                "slack_api_url": fake.url,
            }
        )
        app = create_app(
            socket_mode,
            client=make_client(socket_mode),
            session_factory=session_factory,
            kb=shared_kb(tmp_path_factory),
        )
        envelope = {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "EvSOCKET",
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": "DUSOCK",
                "user": "USOCK",
                "text": "hello",
                "ts": "1.000001",
            },
        }
        for _ in range(2):
            assert app.dispatch(BoltRequest(body=envelope, mode="socket_mode")).status == 200
        fake.wait_for("chat.postMessage")
        time.sleep(0.5)
        assert len(fake.posted()) == 1
    finally:
        fake.stop()
