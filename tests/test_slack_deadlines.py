"""Deadline warnings and alerts in the triage channel: each posted once, whatever the
number of processes, across restarts, and not lost when Slack refuses a post."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from bot.handlers.deadlines import JOB_SECONDS, post_deadline_notices
from bot.settings import Settings
from bot.slack.scheduler import Job
from services.accounts import get_account
from services.clock import utcnow
from services.incidents import create_incident, get_incident, reply
from storage.db import SessionFactory, make_engine, make_session_factory
from tests.slack.fake_api import Failure
from tests.slack.fixtures import DEMO_EMAIL, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp
from tests.slack.jobs import run_as_two_processes, scheduler
from tests.slack.ui import shown_text

TRIAGE = "CTRIAGE"
JOBS = [Job("deadline notices", JOB_SECONDS, post_deadline_notices)]
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def triage_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_TRIAGE_CHANNEL", TRIAGE)


def _settings(running: RunningApp, settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, slack_bot_token="xoxb-test", slack_api_url=running.fake.url
    )


def _file(session_factory: SessionFactory, due_in: dt.timedelta, summary: str) -> str:
    """A new incident of the demo customer due `due_in` from now (the SLA rules that set
    the deadline are tested elsewhere; here it is set where the test needs it)."""
    with session_factory.begin() as session:
        incident = create_incident(
            session,
            get_account(session, DEMO_EMAIL),
            service="OneTouch AT.com",
            summary=summary,
            description="The switch reboots every hour.",
            actor=DEMO_EMAIL,
        )
        incident.first_response_due = utcnow() + due_in
        return incident.number or ""


def _set_due(session_factory: SessionFactory, number: str, due_in: dt.timedelta) -> None:
    with session_factory.begin() as session:
        get_incident(session, number).first_response_due = utcnow() + due_in


def _triage_texts(running: RunningApp) -> list[str]:
    return [shown_text(m["blocks"]) for m in running.fake.posted() if m["channel"] == TRIAGE]


def test_a_warning_then_an_alert_each_posted_once(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    settings = _settings(slack, settings)
    number = _file(session_factory, 20 * MINUTE, "Switch <b>reboots</b> & drops")
    _file(session_factory, 3 * 60 * MINUTE, "Not yet close")
    jobs = scheduler(settings, session_factory, None, JOBS)

    jobs.run_due()
    texts = _triage_texts(slack)
    assert len(texts) == 1
    assert number in texts[0] and "first response is due in" in texts[0]
    assert "Switch &lt;b&gt;reboots&lt;/b&gt; &amp; drops" in texts[0]  # user text escaped
    assert "Demo Customer" in texts[0] and "OneTouch AT.com" in texts[0]

    jobs.run_due(now=10**9)
    assert len(_triage_texts(slack)) == 1  # warned once

    _set_due(session_factory, number, -MINUTE)
    jobs.run_due(now=2 * 10**9)
    texts = _triage_texts(slack)
    assert len(texts) == 2
    assert number in texts[1] and "has passed its first-response deadline" in texts[1]
    jobs.run_due(now=3 * 10**9)
    assert len(_triage_texts(slack)) == 2  # alerted once


def test_an_answered_incident_is_never_warned_about(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    number = _file(session_factory, 10 * MINUTE, "Answered in time")
    with session_factory.begin() as session:
        reply(session, number, actor="Sam", note="Looking into it.")
    scheduler(_settings(slack, settings), session_factory, None, JOBS).run_due()
    assert _triage_texts(slack) == []


def test_the_warning_delay_is_configurable(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HELPDESK_SLA_WARNING_MINUTES", "90")
    configured = _settings(slack, Settings.from_env())
    assert configured.sla_warning_minutes == 90
    number = _file(session_factory, 60 * MINUTE, "An hour left")
    scheduler(_settings(slack, settings), session_factory, None, JOBS).run_due()
    assert _triage_texts(slack) == []  # 30 minutes by default: not yet
    scheduler(configured, session_factory, None, JOBS).run_due()
    assert [number in t for t in _triage_texts(slack)] == [True]


def test_a_refused_post_is_retried_at_the_next_turn_not_lost(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    first = _file(session_factory, 5 * MINUTE, "First")
    second = _file(session_factory, 6 * MINUTE, "Second")
    slack.fake.fail("chat.postMessage", Failure(200, {"ok": False, "error": "fatal_error"}))
    jobs = scheduler(_settings(slack, settings), session_factory, None, JOBS)
    jobs.run_due(now=0)  # the first is refused (released, not recorded), the second goes
    texts = _triage_texts(slack)
    assert len(texts) == 2 and first in texts[0] and second in texts[1]
    jobs.run_due(now=JOB_SECONDS)
    texts = _triage_texts(slack)
    assert len(texts) == 3 and first in texts[2]  # posted at the next turn
    jobs.run_due(now=2 * JOB_SECONDS)
    assert len(_triage_texts(slack)) == 3


def test_after_a_restart_nothing_is_missed_and_nothing_repeated(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
    database_url: str,
) -> None:
    settings = _settings(slack, settings)
    warned = _file(session_factory, 10 * MINUTE, "Warned before the restart")
    scheduler(settings, session_factory, None, JOBS).run_due()
    assert len(_triage_texts(slack)) == 1
    # The process stops; meanwhile the warned incident passes its deadline and another
    # one, never warned about, passes its own.
    _set_due(session_factory, warned, -5 * MINUTE)
    missed = _file(session_factory, -2 * MINUTE, "Overdue while the bot was down")
    engine = make_engine(database_url)
    try:
        restarted = scheduler(settings, make_session_factory(engine), None, JOBS)
        restarted.run_due()
        restarted.run_due(now=10**9)
    finally:
        engine.dispose()
    texts = _triage_texts(slack)
    assert len(texts) == 3
    alerts = [t for t in texts[1:] if "has passed its first-response deadline" in t]
    assert sorted(a for a in (warned, missed) if any(a in t for t in alerts)) == sorted(
        [warned, missed]
    )


def test_two_processes_at_once_post_each_notice_exactly_once(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
    database_url: str,
) -> None:
    settings = _settings(slack, settings)
    numbers = [_file(session_factory, (5 + i) * MINUTE, f"Case {i}") for i in range(6)]
    run_as_two_processes(settings, database_url, JOBS, JOB_SECONDS)
    texts = _triage_texts(slack)
    assert sorted(n for t in texts for n in numbers if n in t) == sorted(numbers)
    assert len(texts) == len(numbers)


@pytest.fixture
def no_triage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("HELPDESK_TRIAGE_CHANNEL")
    yield


def test_without_a_triage_channel_nothing_is_claimed(
    no_triage: None,
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = _file(session_factory, 5 * MINUTE, "Nobody to warn yet")
    scheduler(_settings(slack, settings), session_factory, None, JOBS).run_due()
    assert slack.fake.posted() == []
    with session_factory() as session:
        assert get_incident(session, number).sla_warned_at is None


def test_notices_speak_the_support_language(
    slack: RunningApp,  # noqa: F811
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HELPDESK_DEFAULT_LANG", "fr")
    number = _file(session_factory, 5 * MINUTE, "Le commutateur redémarre")
    scheduler(_settings(slack, Settings.from_env()), session_factory, None, JOBS).run_due()
    (text,) = _triage_texts(slack)
    assert number in text and "la première réponse est due dans" in text
