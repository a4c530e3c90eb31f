"""OAuth mode with a staff workspace: two customer workspaces and the vendor's own one
installed. Whatever reaches the triage channel (cards, their threads, deadline warnings)
is sent with the staff workspace's token, whatever reaches a customer (staff replies,
surveys) with that customer's workspace's token; staff are the triage channel's members
in the staff workspace only."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.handlers.deadlines import JOB_SECONDS as DEADLINE_SECONDS
from bot.handlers.deadlines import post_deadline_notices
from bot.handlers.satisfaction import JOB_SECONDS as SURVEY_SECONDS
from bot.handlers.satisfaction import send_surveys
from bot.settings import Settings
from bot.slack.clients import triage_workspace_problem
from bot.slack.scheduler import Job, Scheduler
from bot.slack.triage_sync import SYNC_EVERY_SECONDS, sync_cards
from services import accounts, incidents
from services.clock import utcnow
from storage.db import SessionFactory
from storage.models import Account, Incident, Subscription, slack_bots
from tests.conversation_helpers import shared_kb
from tests.slack.fake_api import Call, FakeSlack
from tests.slack.fixtures import CUSTOMER, DEMO_EMAIL
from tests.slack.harness import CLIENT_ID, CLIENT_SECRET, RunningApp, running_app
from tests.slack.jobs import scheduler
from tests.slack.triage import AGENT as ONE_TOKEN_AGENT
from tests.slack.triage import (
    triage_app,  # noqa: F401 (a fixture)
    wait_until,
)
from tests.slack.ui import shown_text
from tests.test_slack_oauth import install, token_of

STAFF_TEAM = "TSTAFF"
TEAM_A = "TACME"
TEAM_B = "TBETA"
TRIAGE = "CTRIAGE"
AGENT = "UAGENT"  # in the triage channel of the staff workspace
ANN = "UANN"  # a customer in workspace A
BEN = "UBEN"  # a customer in workspace B
SERVICE = "OneTouch AT.com"

JOBS = [
    Job("triage_cards", SYNC_EVERY_SECONDS, lambda deps, client: sync_cards(deps, client)),
    Job("deadline notices", DEADLINE_SECONDS, post_deadline_notices),
    Job("satisfaction surveys", SURVEY_SECONDS, send_surveys),
]


@dataclasses.dataclass
class Tenants:
    running: RunningApp
    settings: Settings  # the app's, as a second serve process reads them

    @property
    def fake(self) -> FakeSlack:
        return self.running.fake

    def process(self, *names: str) -> Scheduler:
        """Another serve process's jobs (those named), on the same database and Slack."""
        jobs = [job for job in JOBS if job.name in names]
        return scheduler(self.settings, self.running.session_factory, None, jobs)


def _customer(session_factory: SessionFactory, team: str, user: str, email: str) -> None:
    """A customer of `team` with a subscription, their Slack user linked to the account."""
    with session_factory.begin() as session:
        account = accounts.create_account(session, email=email, name=email, workspace=team)
        session.add(Subscription(account_id=account.id, service=SERVICE, type=2, tier="paid"))
        accounts.link_slack_user(session, team, user, account)


@pytest.fixture
def tenants(
    settings: Settings, session_factory: SessionFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tenants]:
    settings = dataclasses.replace(
        settings,
        triage_channel=TRIAGE,
        triage_workspace=STAFF_TEAM,
        staff_users=frozenset(),
        editor_users=frozenset({AGENT}),
    )
    with running_app(settings, session_factory, shared_kb(tmp_path_factory), oauth=True) as app:
        fake = app.fake
        for team, code in ((STAFF_TEAM, "code-staff"), (TEAM_A, "code-a"), (TEAM_B, "code-b")):
            assert install(app, team, code).status == 200
        fake.add_user(AGENT, team=STAFF_TEAM, name="Alice Agent", locale="en-US")
        fake.add_user(ANN, team=TEAM_A, name="Ann Acme", email="ann@acme.test", locale="en-US")
        fake.add_user(BEN, team=TEAM_B, name="Ben Beta", email="ben@beta.test", locale="fr-FR")
        # The same id string as the staff member, but a customer of workspace A.
        fake.add_user(AGENT, team=TEAM_A, name="Another Person", locale="en-US")
        fake.members[TRIAGE] = [AGENT, "UBOT"]
        _customer(session_factory, TEAM_A, ANN, "ann@acme.test")
        _customer(session_factory, TEAM_B, BEN, "ben@beta.test")
        _customer(session_factory, TEAM_A, AGENT, "other@acme.test")
        process = dataclasses.replace(
            settings,
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
            slack_api_url=fake.url,
        )
        fake.reset()
        yield Tenants(app, process)


def _file(tenants: Tenants, team: str, user: str, summary: str) -> str:
    """The customer files from the incident form, in their workspace."""
    fake, sender = tenants.fake, tenants.running.sender
    before = len(fake.calls_to("views.update"))
    assert sender.command(user, "incident", team=team).status == 200
    update = fake.wait_for("views.update", before + 1)[-1].args
    view = {**update["view"], "id": update["view_id"]}
    values = {
        "subscription": {"type": "static_select", "selected_option": {"value": SERVICE}},
        "summary": {"type": "plain_text_input", "value": summary},
        "description": {"type": "plain_text_input", "value": "It stopped."},
    }
    told = len(_dm_calls(tenants, user))
    assert sender.view_submission(user, view, values, team=team).status == 200
    wait_until(lambda: len(_dm_calls(tenants, user)) > told)  # the filing's result
    with tenants.running.session_factory() as session:
        number = session.scalars(select(Incident.number).where(Incident.summary == summary)).one()
    assert number is not None
    return number


def _cards(tenants: Tenants) -> list[tuple[str | None, str]]:
    return [
        (call.token, shown_text(call.args["blocks"]))
        for call in tenants.fake.calls_to("chat.postMessage")
        if call.args.get("channel") == TRIAGE and not call.args.get("thread_ts")
    ]


def _dm_calls(tenants: Tenants, user: str) -> list[tuple[str | None, str]]:
    return [
        (call.token, shown_text(call.args["blocks"]))
        for call in tenants.fake.calls_to("chat.postMessage")
        if call.args.get("channel") == f"D{user}"
    ]


def test_cards_use_the_staff_token_and_replies_each_customers_token(tenants: Tenants) -> None:
    fake = tenants.fake
    staff, token_a, token_b = (token_of(fake, t) for t in (STAFF_TEAM, TEAM_A, TEAM_B))
    first = _file(tenants, TEAM_A, ANN, "Acme switch down")
    second = _file(tenants, TEAM_B, BEN, "Beta router down")
    # The filing's answers reached each customer with their own workspace's token.
    assert {token for token, _ in _dm_calls(tenants, ANN)} == {token_a}
    assert {token for token, _ in _dm_calls(tenants, BEN)} == {token_b}

    tenants.process("triage_cards").run_due()
    cards = _cards(tenants)
    assert len(cards) == 2
    assert {token for token, _ in cards} == {staff}
    by_number = {number: text for number in (first, second) for _, text in cards if number in text}
    assert "Workspace TACME" in by_number[first] and "Acme switch down" in by_number[first]
    assert "Workspace TBETA" in by_number[second] and "Beta router down" in by_number[second]

    # The staff member replies from the staff workspace, to each customer.
    for number, text in ((first, "Reboot the Acme switch"), (second, "Reboot the Beta router")):
        answer = tenants.running.sender.command(AGENT, f"reply {number} {text}", team=STAFF_TEAM)
        assert answer.status == 200 and "on its way" in answer.body
    members = fake.calls_to("conversations.members")
    assert members and {call.token for call in members} == {staff}

    def reply_to(user: str, number: str) -> tuple[str | None, str]:
        replies = [c for c in _dm_calls(tenants, user) if "Reboot" in c[1]]
        assert len(replies) == 1, replies
        assert number in replies[0][1]
        return replies[0]

    wait_until(lambda: any("Reboot the Acme" in t for _, t in _dm_calls(tenants, ANN)))
    wait_until(lambda: any("Reboot the Beta" in t for _, t in _dm_calls(tenants, BEN)))
    token, text = reply_to(ANN, first)
    assert token == token_a and "The support team replied" in text
    token, text = reply_to(BEN, second)
    assert token == token_b and "L’équipe du support a répondu" in text  # Ben reads French
    opened = {call.args["users"]: call.token for call in fake.calls_to("conversations.open")}
    assert opened[ANN] == token_a and opened[BEN] == token_b

    # The card threads say so (posted after the DM), with the staff workspace's token.
    def lines() -> list[Call]:
        return [
            call
            for call in fake.calls_to("chat.postMessage")
            if call.args.get("channel") == TRIAGE and call.args.get("thread_ts")
        ]

    wait_until(lambda: len(lines()) == 2)
    assert {call.token for call in lines()} == {staff}


def test_surveys_reach_each_customer_with_their_workspaces_token(tenants: Tenants) -> None:
    first = _file(tenants, TEAM_A, ANN, "Acme switch down")
    second = _file(tenants, TEAM_B, BEN, "Beta router down")
    with tenants.running.session_factory.begin() as session:
        for number in (first, second):
            incidents.change_status(session, number, incidents.RESOLVED, actor=AGENT)
    tenants.fake.reset()
    tenants.process("satisfaction surveys").run_due()
    surveys = {
        call.args["channel"]: call.token
        for call in tenants.fake.calls_to("chat.postMessage")
        if call.args.get("channel", "").startswith("D")
    }
    assert surveys == {
        f"D{ANN}": token_of(tenants.fake, TEAM_A),
        f"D{BEN}": token_of(tenants.fake, TEAM_B),
    }


def test_deadline_warnings_use_the_staff_token(tenants: Tenants) -> None:
    number = _file(tenants, TEAM_A, ANN, "Acme switch down")
    with tenants.running.session_factory.begin() as session:
        filed = session.scalars(select(Incident).where(Incident.number == number)).one()
        filed.first_response_due = utcnow() + dt.timedelta(minutes=10)
    tenants.fake.reset()
    tenants.process("deadline notices").run_due()
    warnings = [
        call
        for call in tenants.fake.calls_to("chat.postMessage")
        if call.args.get("channel") == TRIAGE and "still unanswered" in str(call.args.get("text"))
    ]
    assert len(warnings) == 1
    assert warnings[0].token == token_of(tenants.fake, STAFF_TEAM)


def test_the_same_user_id_in_a_customer_workspace_is_neither_staff_nor_editor(
    tenants: Tenants,
) -> None:
    number = _file(tenants, TEAM_A, ANN, "Acme switch down")
    sender = tenants.running.sender
    # AGENT of workspace A is a customer who happens to have the staff member's id.
    refused = sender.command(AGENT, f"reply {number} I close it myself", team=TEAM_A)
    assert refused.status == 200 and "only the support team" in refused.body
    assert "Incident queue" not in sender.command(AGENT, "queue", team=TEAM_A).body
    usage = sender.command(AGENT, "dance", team=TEAM_A).body
    assert "Staff:" not in usage and "Editors:" not in usage
    kb = sender.command(AGENT, "kb reindex", team=TEAM_A).body
    assert "only the knowledge base editors" in kb
    with tenants.running.session_factory() as session:
        kinds = session.scalars(select(Incident).where(Incident.number == number)).one().events
        assert [e.kind for e in kinds if e.kind == incidents.REPLY] == []
    # The same id in the staff workspace is staff.
    usage = sender.command(AGENT, "dance", team=STAFF_TEAM).body
    assert "Staff:" in usage and "Editors:" in usage
    queue = sender.command(AGENT, "queue", team=STAFF_TEAM)
    assert number in queue.body


def test_serve_needs_the_triage_workspace_in_oauth_mode(settings: Settings) -> None:
    oauth = dataclasses.replace(
        settings, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET
    )
    problem = triage_workspace_problem(dataclasses.replace(oauth, triage_channel=TRIAGE))
    assert problem is not None and "HELPDESK_TRIAGE_WORKSPACE" in problem
    assert "\n" not in problem
    named = dataclasses.replace(oauth, triage_channel=TRIAGE, triage_workspace=STAFF_TEAM)
    assert triage_workspace_problem(named) is None
    assert triage_workspace_problem(oauth) is None  # no triage channel: nothing to name
    one_token = dataclasses.replace(settings, slack_bot_token="xoxb-1", triage_channel=TRIAGE)
    assert triage_workspace_problem(one_token) is None


def test_no_app_starts_without_the_triage_workspace_in_oauth_mode(settings: Settings) -> None:
    oauth = dataclasses.replace(
        settings,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        triage_channel=TRIAGE,
    )
    with pytest.raises(ValueError, match="HELPDESK_TRIAGE_WORKSPACE is not set"):
        create_app(oauth, kb=object())


def test_a_rotating_staff_token_is_refreshed_before_the_card_is_posted(tenants: Tenants) -> None:
    fake = tenants.fake
    assert install(tenants.running, STAFF_TEAM, "code-again", expires_in=600).status == 200
    expiring = token_of(fake, STAFF_TEAM)
    number = _file(tenants, TEAM_A, ANN, "Acme switch down")
    tenants.process("triage_cards").run_due()
    refreshes = [
        c for c in fake.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1
    fresh = token_of(fake, STAFF_TEAM)
    assert fresh != expiring
    ((token, card),) = _cards(tenants)
    assert token == fresh and number in card


def test_with_one_token_everything_goes_with_it_as_before(
    triage_app: RunningApp,  # noqa: F811
) -> None:
    running = triage_app
    with running.session_factory.begin() as session:
        account = session.scalars(select(Account).where(Account.email == DEMO_EMAIL)).one()
        accounts.link_slack_user(session, "T1", CUSTOMER, account)
        number = incidents.create_incident(
            session,
            account,
            service="Nuclias Cloud Pro",
            summary="Switch down",
            description="It stopped",
            actor=DEMO_EMAIL,
        ).number
    one_token = dataclasses.replace(
        Settings.from_env(),
        triage_channel=TRIAGE,
        slack_bot_token="xoxb-test",
        slack_api_url=running.fake.url,
    )
    scheduler(one_token, running.session_factory, None, JOBS[:1]).run_due()
    ((token, card),) = [
        (call.token, shown_text(call.args["blocks"]))
        for call in running.fake.calls_to("chat.postMessage")
        if call.args.get("channel") == TRIAGE
    ]
    assert token == "xoxb-test" and number in card and "Workspace" not in card
    # Any team id the request is signed for is the one workspace: the agent is staff.
    answer = running.sender.command(ONE_TOKEN_AGENT, f"reply {number} Reboot it", team="TOTHER")
    assert "on its way" in answer.body
    wait_until(
        lambda: any(
            "Reboot it" in str(c.args)
            for c in running.fake.calls_to("chat.postMessage")
            if c.args.get("channel") == f"D{CUSTOMER}"
        )
    )
    assert {c.token for c in running.fake.calls_to("chat.postMessage")} == {"xoxb-test"}


def test_cards_wait_for_the_staff_workspace_to_be_installed(tenants: Tenants) -> None:
    sender, fake = tenants.running.sender, tenants.fake
    assert sender.event({"type": "app_uninstalled"}, team=STAFF_TEAM).status == 200
    wait_until(lambda: STAFF_TEAM not in _installed_teams(tenants))
    number = _file(tenants, TEAM_A, ANN, "Acme switch down")
    tenants.process("triage_cards").run_due()
    assert _cards(tenants) == []  # nothing posted with another workspace's token
    assert install(tenants.running, STAFF_TEAM, "code-back").status == 200
    tenants.process("triage_cards").run_due()
    ((token, card),) = _cards(tenants)
    assert token == token_of(fake, STAFF_TEAM) and number in card


def _installed_teams(tenants: Tenants) -> list[str]:
    with tenants.running.session_factory() as session:
        return sorted(session.scalars(select(slack_bots.c.team_id)))
