"""Three `helpdesk serve` replicas behind HAProxy on one PostgreSQL (deploy/replicas.py),
driven through the balancer with signed Slack traffic against the fake Web API.

Needs PostgreSQL (HELPDESK_TEST_DATABASE_URL) and haproxy (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT
from deploy.replicas import Cluster
from services.clock import utcnow
from storage.db import make_engine, make_session_factory
from tests.conversation_helpers import seed_demo
from tests.database_reset import Emptier
from tests.slack.fake_api import FakeSlack
from tests.slack.harness import SIGNING_SECRET
from tests.slack.sender import SlackSender
from tests.slack.ui import shown_text

POSTGRES_URL = os.environ.get("HELPDESK_TEST_DATABASE_URL", "")
HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="replicas share PostgreSQL"),
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed (.ci/run installs it)"),
]
CUSTOMER = "UCUST"
EDITOR = "UEDITOR"
NEW_ARTICLE = """---
slug: rma-status
lang: {lang}
title: {title}
questions:
  - {question}
tags: [rma]
related: []
---
{body}
"""
LEASE_SECONDS = 3  # a killed replica's leased work is taken over this soon
WAIT = 90.0


class Traffic:
    def __init__(self, cluster: Cluster, fake: FakeSlack, articles: Path) -> None:
        self.cluster = cluster
        self.fake = fake
        self.articles = articles
        self.balancer = SlackSender(cluster.url + "/slack/events", SIGNING_SECRET)
        self.direct = [
            SlackSender(cluster.replica_url(n) + "/slack/events", SIGNING_SECRET)
            for n in range(cluster.count)
        ]

    def replies_to(self, channel: str) -> list[str]:
        return [
            shown_text(call.args.get("blocks") or []) or str(call.args.get("text"))
            for call in self.fake.calls_to("chat.postMessage")
            if call.args.get("channel") == channel
        ]

    def wait_replies(self, channel: str, count: int) -> list[str]:
        deadline = time.monotonic() + WAIT
        while len(self.replies_to(channel)) < count:
            assert time.monotonic() < deadline, f"{channel}: {count} replies expected"
            time.sleep(0.05)
        return self.replies_to(channel)

    def say(self, sender: SlackSender, user: str, text: str) -> str:
        """A message as Slack sends it: delivered again (a retry) until acknowledged."""
        channel = f"D{user}"
        before = len(self.replies_to(channel))
        self.deliver(sender, user, text, f"Ev{user}{time.monotonic_ns()}")
        return self.wait_replies(channel, before + 1)[before]

    def deliver(self, sender: SlackSender, user: str, text: str, event_id: str) -> None:
        for attempt in range(6):
            retry = {"retry_num": attempt} if attempt else {}
            try:
                if sender.dm(user, text, event_id=event_id, **retry).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{event_id} was never acknowledged")


@pytest.fixture(scope="module")
def traffic(
    postgres_migrated: str, postgres_emptier: Emptier, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Traffic]:
    emptier = postgres_emptier
    emptier()
    engine = make_engine(POSTGRES_URL)
    seed_demo(make_session_factory(engine), today=utcnow().date())
    engine.dispose()
    fake = FakeSlack().start()
    fake.add_user(CUSTOMER, locale="en-US", tz="Europe/Paris", email="demo@example.com")
    tmp = tmp_path_factory.mktemp("replicas")
    # The articles on disk every replica reads (an editor adds one, then publishes).
    shutil.copytree(REPO_ROOT / "kb" / "articles", tmp / "articles")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))},
        "HELPDESK_DATA_DIR": str(tmp / "data"),
        "HELPDESK_DATABASE_URL": POSTGRES_URL,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HELPDESK_SLACK_API_URL": fake.url,
        "HELPDESK_KB_DIR": str(tmp / "articles"),
        "HELPDESK_EDITOR_USERS": EDITOR,
    }
    serve = ["--workers", "1", "--threads", "4", "--inbox-threads", "2"]
    serve += ["--inbox-lease", str(LEASE_SECONDS)]
    cluster = Cluster(3, env=env, serve_args=serve, logs=tmp)
    try:
        cluster.start()
        yield Traffic(cluster, fake, tmp / "articles")
    finally:
        cluster.stop()
        fake.stop()
        emptier()


def test_each_delivery_is_answered_once_when_the_retry_lands_on_another_replica(
    traffic: Traffic,
) -> None:
    users = [f"URETRY{number}" for number in range(6)]
    for user in users:
        event_id = f"Ev{user}"
        assert traffic.balancer.dm(user, "hello", event_id=event_id).status == 200
        assert traffic.balancer.dm(user, "hello", event_id=event_id, retry_num=1).status == 200
        for sender in traffic.direct:  # the retry on every replica, whichever took the first
            assert sender.dm(user, "hello", event_id=event_id, retry_num=2).status == 200
    for user in users:
        traffic.wait_replies(f"D{user}", 1)
    time.sleep(2.0)  # room for a wrong second reply
    assert {user: len(traffic.replies_to(f"D{user}")) for user in users} == dict.fromkeys(users, 1)


def test_a_conversation_continues_whichever_replica_gets_the_next_message(
    traffic: Traffic,
) -> None:
    first, second, third = traffic.direct
    assert "product" in traffic.say(first, CUSTOMER, "register a product").lower()
    assert "serial" in traffic.say(second, CUSTOMER, "DGS-3630-28TC").lower()
    assert "buy" in traffic.say(third, CUSTOMER, "S3TC270004512").lower()


def test_a_kb_reindex_on_one_replica_is_served_by_all_within_seconds(traffic: Traffic) -> None:
    question = "how can I follow the status of my RMA return?"
    before = traffic.say(traffic.direct[0], "UASK0", question)
    assert "Where is my RMA" not in before
    for lang, title, asked, body in (
        (
            "en",
            "Where is my RMA return?",
            "How do I follow the status of my RMA return?",
            "Your RMA return's status is shown on the portal's RMA page, updated every day.",
        ),
        (
            "fr",
            "Où en est mon retour RMA ?",
            "Comment suivre l'état de mon retour RMA ?",
            "L'état de votre retour RMA est affiché sur la page RMA du portail, chaque jour.",
        ),
    ):
        text = NEW_ARTICLE.format(lang=lang, title=title, question=asked, body=body)
        (traffic.articles / f"rma-status.{lang}.md").write_text(text, encoding="utf-8")
    assert traffic.direct[1].command(EDITOR, "kb reindex").status == 200
    published = time.monotonic()
    for number, sender in enumerate(traffic.direct):  # every replica, asked directly
        deadline = published + 30.0
        while "Where is my RMA" not in traffic.say(sender, f"UASK{number + 1}", question):
            assert time.monotonic() < deadline, f"replica {number + 1} never served it"
            time.sleep(1.0)


def test_a_replica_killed_mid_traffic_loses_no_conversation_and_no_acknowledged_reply(
    traffic: Traffic,
) -> None:
    talkers = [f"UTALK{number}" for number in range(3)]
    for user in talkers:  # conversations under way before the kill
        assert "e-mail" in traffic.say(traffic.balancer, user, "register a product")
    users = [f"UKILL{number:02d}" for number in range(40)]
    errors: list[BaseException] = []

    def send_all() -> None:
        try:
            for user in users:
                traffic.deliver(traffic.balancer, user, "hello", f"Ev{user}")
                time.sleep(0.05)  # ~20 events/s
        except BaseException as err:
            errors.append(err)

    sending = threading.Thread(target=send_all)
    sending.start()
    time.sleep(0.8)  # mid-traffic
    traffic.cluster.kill(1)
    sending.join(timeout=WAIT)
    assert not sending.is_alive() and errors == []
    for user in talkers:  # each conversation goes on, wherever it lands
        said = traffic.say(traffic.balancer, user, f"{user.lower()}@example.com")
        assert "full name" in said, said  # the next question of the same flow
    for user in users:
        traffic.wait_replies(f"D{user}", 1)
    time.sleep(LEASE_SECONDS + 1.0)  # room for a second reply after a takeover
    replies = Counter(
        call.args.get("channel") for call in traffic.fake.calls_to("chat.postMessage")
    )
    assert all(replies[f"D{user}"] >= 1 for user in users)
    # Only what the killed replica's worker threads held in hand — replied to, not yet
    # marked done — can be answered a second time when another replica takes it over.
    twice = [user for user in users if replies[f"D{user}"] > 1]
    assert len(twice) <= 2, twice
