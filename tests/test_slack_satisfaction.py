"""Satisfaction: a resolved incident's customer is asked once, in their language, in a DM;
they rate with a button (a second click changes the rating), may add a comment in a form;
nobody else can rate; the ratings make `helpdesk incidents csat`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.handlers.satisfaction import JOB_SECONDS, send_surveys
from bot.settings import Settings
from bot.slack.scheduler import Job
from services.accounts import create_account, get_account, link_slack_user
from services.incidents import change_status, create_incident, get_incident, reopen
from services.satisfaction import RATED, RATING_COMMENT
from storage.db import SessionFactory
from tests.slack.fake_api import TEAM_ID, Failure
from tests.slack.fixtures import CLIENT_FR, CUSTOMER, DEMO_EMAIL, slack  # noqa: F401
from tests.slack.harness import RunningApp
from tests.slack.jobs import run_as_two_processes, scheduler
from tests.slack.ui import Screen, controls

JOBS = [Job("satisfaction surveys", JOB_SECONDS, send_surveys)]


def _settings(running: RunningApp, settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, slack_bot_token="xoxb-test", slack_api_url=running.fake.url
    )


def _resolved(session_factory: SessionFactory, *, lang: str = "en") -> str:
    """An incident of the demo customer (linked to UCUST), resolved by staff."""
    with session_factory.begin() as session:
        account = get_account(session, DEMO_EMAIL)
        link_slack_user(session, TEAM_ID, CUSTOMER, account)
        incident = create_incident(
            session,
            account,
            service="OneTouch AT.com",
            summary="Switch <reboots> & drops",
            description="Every hour.",
            actor=DEMO_EMAIL,
            lang=lang,
        )
        number = incident.number or ""
        change_status(session, number, "resolved", actor="Sam")
    return number


def _rating_button(screen: Screen, rating: int) -> tuple[dict[str, Any], dict[str, Any]]:
    return next(
        (b, e) for b, e in controls(screen.last) if e["text"]["text"].startswith(f"{rating} ")
    )


def _csat(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["incidents", "csat", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_customer_rates_changes_their_mind_and_comments(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    number = _resolved(session_factory)
    jobs = scheduler(_settings(slack, settings), session_factory, None, JOBS)
    customer = Screen(slack, CUSTOMER)
    jobs.run_due()
    customer.wait()
    assert f"Your incident *{number}* (Switch &lt;reboots&gt; &amp; drops) has been resolved" in (
        customer.text
    )
    assert len([e for _, e in controls(customer.last)]) == 5
    survey = customer.last

    block, element = _rating_button(customer, 2)
    slack.sender.block_action(CUSTOMER, block, element)
    customer.wait()
    assert f"You rated the help on *{number}* 2 out of 5" in customer.text

    customer.last = survey  # a second click, on the same survey: the latest counts
    block, element = _rating_button(customer, 5)
    for _ in range(2):  # and the same one twice changes nothing more
        slack.sender.block_action(CUSTOMER, block, element)
        customer.wait()
        assert "5 out of 5" in customer.text

    customer.click("Add a comment", wait=False)
    view = slack.fake.wait_for("views.open")[-1].args["view"]
    response = slack.sender.view_submission(
        CUSTOMER, view, {"comment": {"type": "plain_text_input", "value": "Fast & <kind>"}}
    )
    assert response.status == 200
    customer.wait()
    assert f"Thank you for your comment on *{number}*" in customer.text

    with session_factory() as session:
        incident = get_incident(session, number)
        assert (incident.csat_rating, incident.csat_comment) == (5, "Fast & <kind>")
        assert [(e.kind, e.note) for e in incident.events if e.kind in (RATED, RATING_COMMENT)] == [
            (RATED, "2/5"),
            (RATED, "2/5 → 5/5"),
            (RATING_COMMENT, "Fast & <kind>"),
        ]
    report = _csat()
    assert (report["count"], report["average"]) == (1, 5.0)
    assert report["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    assert report["incidents"][0]["number"] == number
    assert report["incidents"][0]["comment"] == "Fast & <kind>"
    assert _csat("--since", "2999-01-01")["count"] == 0
    table = CliRunner().invoke(cli, ["incidents", "csat"], catch_exceptions=False).stdout
    assert table.splitlines()[:2] == [
        "1 rating(s), average 5.00 out of 5",
        "1: 0  2: 0  3: 0  4: 0  5: 1",
    ]
    assert number in table and "Fast & <kind>" in table


def test_asked_once_even_without_an_answer_nor_after_a_reopening(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    number = _resolved(session_factory)
    jobs = scheduler(_settings(slack, settings), session_factory, None, JOBS)
    jobs.run_due(now=0)
    jobs.run_due(now=JOB_SECONDS)
    with session_factory.begin() as session:
        reopen(session, number, actor="Sam")
        change_status(session, number, "resolved", actor="Sam")
    jobs.run_due(now=2 * JOB_SECONDS)
    assert len([m for m in slack.fake.posted() if m["channel"] == f"D{CUSTOMER}"]) == 1


def test_the_survey_speaks_the_customers_language(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    number = _resolved(session_factory, lang="fr")
    scheduler(_settings(slack, settings), session_factory, None, JOBS).run_due()
    customer = Screen(slack, CUSTOMER)
    customer.wait()
    assert f"Votre incident *{number}*" in customer.text
    assert "Comment évalueriez-vous" in customer.text


def test_only_the_incidents_customer_can_rate_it(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    number = _resolved(session_factory)
    with session_factory.begin() as session:
        other = create_account(session, email="claire@example.fr", name="Claire", country="FR")
        link_slack_user(session, TEAM_ID, CLIENT_FR, other)
    scheduler(_settings(slack, settings), session_factory, None, JOBS).run_due()
    customer = Screen(slack, CUSTOMER)
    customer.wait()
    block, element = _rating_button(customer, 1)
    stranger = Screen(slack, CLIENT_FR)
    slack.sender.block_action(CLIENT_FR, block, element)  # a forged or forwarded click
    stranger.wait()
    assert f"Il n’y a pas d’incident {number} sur votre compte" in stranger.text
    with session_factory() as session:
        assert get_incident(session, number).csat_rating is None


def test_a_survey_slack_refused_is_sent_at_the_next_turn(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    _resolved(session_factory)
    slack.fake.fail("chat.postMessage", Failure(200, {"ok": False, "error": "fatal_error"}))
    jobs = scheduler(_settings(slack, settings), session_factory, None, JOBS)
    jobs.run_due(now=0)
    jobs.run_due(now=JOB_SECONDS)
    jobs.run_due(now=2 * JOB_SECONDS)
    assert len([m for m in slack.fake.posted() if m["channel"] == f"D{CUSTOMER}"]) == 2


@pytest.mark.parametrize("args", [("--since", "yesterday"), ("--since",)])
def test_the_report_refuses_a_bad_date(args: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, ["incidents", "csat", *args])
    assert result.exit_code == 2


def test_two_processes_at_once_send_each_survey_once(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
    database_url: str,
) -> None:
    numbers = [_resolved(session_factory) for _ in range(4)]
    settings = _settings(slack, settings)
    run_as_two_processes(settings, database_url, JOBS, JOB_SECONDS)
    surveys = [m["text"] for m in slack.fake.posted() if m["channel"] == f"D{CUSTOMER}"]
    assert sorted(n for text in surveys for n in numbers if n in text) == sorted(numbers)
    assert len(surveys) == len(numbers)


def test_a_customer_who_left_the_workspace_is_not_asked_and_holds_nobody_back(
    slack: RunningApp,  # noqa: F811
    settings: Settings,
    session_factory: SessionFactory,
) -> None:
    first = _resolved(session_factory)
    second = _resolved(session_factory)
    slack.fake.fail("conversations.open", Failure(200, {"ok": False, "error": "user_not_found"}))
    jobs = scheduler(_settings(slack, settings), session_factory, None, JOBS)
    jobs.run_due(now=0)
    jobs.run_due(now=JOB_SECONDS)
    surveys = [m["text"] for m in slack.fake.posted() if m["channel"] == f"D{CUSTOMER}"]
    assert len(surveys) == 1 and second in surveys[0]
    with session_factory() as session:
        assert get_incident(session, first).csat_asked_at is not None  # never asked again
    assert len(slack.fake.calls_to("conversations.open")) == 2
