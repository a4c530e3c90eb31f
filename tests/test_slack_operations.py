"""What an operator sees: /healthz, /readyz, /metrics, JSON logs without secrets, and the
scheduled purge of old processed events."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.logs import REQUEST_ID, JsonFormatter, Redactor, configure
from bot.settings import REPO_ROOT, Settings
from bot.slack import inbox
from bot.slack.scheduler import Scheduler, serve_jobs
from services.clock import utcnow
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from storage.models import InboxDelivery
from tests.conversation_helpers import shared_kb
from tests.slack.fake_api import Failure, FakeSlack
from tests.slack.fixtures import CUSTOMER, slack  # noqa: F401 (a fixture)
from tests.slack.harness import SIGNING_SECRET, RunningApp, running_app
from tests.slack.sender import SlackSender
from tests.slack.triage import wait_until


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read().decode()


def samples(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics as {(sample name, labels): value}, read the way Prometheus reads it."""
    status, _, text = fetch(base_url + "/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_and_readyz_answer_when_all_is_well(slack: RunningApp) -> None:  # noqa: F811
    assert fetch(slack.base_url + "/healthz")[0] == 200
    status, _, body = fetch(slack.base_url + "/readyz")
    assert (status, body) == (200, "ready\n")


def test_readyz_says_why_a_replica_is_not_ready(
    settings: Settings, session_factory: SessionFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    kb = shared_kb(tmp_path_factory)
    unreachable = make_session_factory(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    with running_app(settings, unreachable, kb) as no_db:
        status, _, body = fetch(no_db.base_url + "/readyz")
    assert status == 503 and body.startswith("not ready: database unreachable")

    class Closed:
        @property
        def version(self) -> str:
            raise RuntimeError("the knowledge base is closed")

    with running_app(settings, session_factory, Closed()) as no_kb:
        status, _, body = fetch(no_kb.base_url + "/readyz")
        assert fetch(no_kb.base_url + "/healthz")[0] == 200  # alive all the same
    assert status == 503
    assert body == "not ready: knowledge base not loaded: the knowledge base is closed\n"


def test_metrics_count_requests_acks_replies_and_answers(slack: RunningApp) -> None:  # noqa: F811
    before = samples(slack.base_url)
    slack.sender.dm(CUSTOMER, "How long is my activation code valid?")
    slack.fake.wait_for("chat.postMessage")
    time.sleep(0.2)
    after = samples(slack.base_url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("helpdesk_slack_requests_total", kind="event:message") == 1
    assert delta("helpdesk_slack_acks_total", kind="event:message", status="200") == 1
    assert delta("helpdesk_slack_ack_seconds_count", kind="event:message") == 1
    assert delta("helpdesk_slack_ack_seconds_bucket", kind="event:message", le="5.0") == 1
    assert delta("helpdesk_slack_replies_total") == 1
    assert delta("helpdesk_kb_questions_total", outcome="answered") == 1


def test_metrics_count_flows_and_slack_api_errors_and_retries(slack: RunningApp) -> None:  # noqa: F811
    before = samples(slack.base_url)
    slack.fake.fail(
        "chat.postMessage",
        Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
    )
    slack.sender.dm(CUSTOMER, "report an incident")
    slack.fake.wait_for("chat.postMessage", 2)  # the 429, then the retry
    time.sleep(0.2)
    after = samples(slack.base_url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("helpdesk_flows_started_total", flow="file_incident") == 1
    assert (
        delta("helpdesk_slack_api_errors_total", method="chat.postMessage", error="http_429") == 1
    )
    assert delta("helpdesk_slack_api_retries_total", reason="rate_limited") == 1
    assert delta("helpdesk_slack_replies_total") == 1
    for name in ("helpdesk_incidents_filed_total", "helpdesk_sla_warnings_total"):
        assert (name, ()) in after  # exposed from the start, at 0 until it happens


def test_a_log_line_is_json_with_the_request_id_and_no_secret() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor(["the-signing-secret-value"])))
    log = logging.getLogger("tests.operations")
    log.addHandler(handler)
    log.propagate = False
    token = REQUEST_ID.set("req-42")
    try:
        log.warning(
            "calling with %s, code %s, secret %s",
            "xoxb-1234-5678-abcdefABCDEF",
            "NBD3-7KQ2-A9XM",
            "the-signing-secret-value",
        )
        try:
            raise ValueError("refused code nbd3 7kq2 a9xm with xapp-1-A0-123-abc")
        except ValueError:
            log.exception("it failed")
    finally:
        REQUEST_ID.reset(token)
        log.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2 and all(line["request_id"] == "req-42" for line in lines)
    assert lines[0]["level"] == "warning" and lines[0]["logger"] == "tests.operations"
    assert lines[0]["message"] == (
        "calling with xoxb-[redacted], code ****-****-A9XM, secret [redacted]"
    )
    text = stream.getvalue()
    for secret in ("1234-5678", "NBD3", "7KQ2", "nbd3", "the-signing-secret-value", "A0-123"):
        assert secret not in text
    assert "ValueError" in lines[1]["error"] and "****-****-A9XM" in lines[1]["error"]


def test_logs_of_a_slack_request_carry_its_request_id(slack: RunningApp) -> None:  # noqa: F811
    stream = io.StringIO()
    handler = configure(["test-signing-secret"])
    handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        slack.fake.fail("users.info", Failure(200, {"ok": False, "error": "user_not_found"}))
        slack.sender.dm("UNOBODY", "hello")
        slack.fake.wait_for("chat.postMessage")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = [line for line in lines if "users.info UNOBODY failed" in line["message"]]
    assert failed and failed[0]["request_id"]


def test_old_processed_events_are_purged_by_a_scheduled_job(
    session_factory: SessionFactory,
) -> None:
    now = utcnow()
    engine = session_factory.kw["bind"]
    inbox.once(engine, "event:T1:old", now=now - dt.timedelta(days=2))
    inbox.once(engine, "event:T1:new", now=now)
    job = next(j for j in serve_jobs() if j.name == "forget old Slack deliveries")

    class Deps:
        pass

    deps = Deps()
    deps.session_factory = session_factory  # type: ignore[attr-defined]
    assert Scheduler(deps, None, [job]).run_due() == [job.name]  # type: ignore[arg-type]
    with session_factory() as session:
        keys = session.scalars(select(InboxDelivery.key)).all()
        assert keys == ["event:T1:new"]
        assert session.scalar(select(func.count()).select_from(InboxDelivery)) == 1


@pytest.fixture(autouse=True)
def _quiet_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_serve_with_two_workers_sums_their_metrics_and_logs_json(tmp_path: Path) -> None:
    fake = FakeSlack().start()
    db = tmp_path / "serve.db"
    upgrade(f"sqlite:///{db}")
    fake.add_user("U1", locale="en-US")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HELPDESK_", "SLACK_", "PROMETHEUS_"))
        },
        "HELPDESK_DATA_DIR": str(tmp_path / "data"),
        "HELPDESK_DATABASE_URL": f"sqlite:///{db}",
        "SLACK_BOT_TOKEN": "xoxb-test-secret-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HELPDESK_SLACK_API_URL": fake.url,
    }
    command = [str(Path(sys.executable).parent / "helpdesk"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "2", "--threads", "4"]
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while fetch_or_none(base + "/readyz") != 200:
            assert process.poll() is None, "helpdesk serve exited"
            assert time.monotonic() < deadline, "helpdesk serve did not get ready"
            time.sleep(0.2)
        sender = SlackSender(base + "/slack/events", SIGNING_SECRET)
        for _ in range(6):  # new connections: both workers take some
            assert sender.dm("U1", "hello").status == 200
        fake.wait_for("chat.postMessage", 6, timeout=60)
        # A reply is counted once Slack has answered the post: the fake sees it first.
        wait_until(lambda: value(samples(base), "helpdesk_slack_replies_total") == 6, 30)
        found = samples(base)
        assert value(found, "helpdesk_slack_requests_total", kind="event:message") == 6
        assert value(found, "helpdesk_slack_replies_total") == 6
    finally:
        process.terminate()
        process.wait(timeout=30)
        fake.stop()
    log.seek(0)
    ours = [json.loads(line) for line in log if line.startswith("{")]
    assert ours, "no JSON log line"
    assert "xoxb-test-secret-token" not in (tmp_path / "serve.log").read_text()


def fetch_or_none(url: str) -> int | None:
    try:
        return fetch(url)[0]
    except OSError:
        return None
