"""OAuth mode: the app installed in two workspaces through /slack/install and
/slack/oauth_redirect, each answered with its own token, each seeing only its own data;
uninstalling and token rotation."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

import pytest
from sqlalchemy import select

from bot.settings import Settings
from services import accounts, incidents
from storage.db import SessionFactory
from storage.models import Account, Subscription, slack_bots, slack_installations
from tests.conversation_helpers import shared_kb
from tests.slack.fake_api import FakeSlack
from tests.slack.harness import CLIENT_ID, RunningApp, running_app

SAME_USER = "UJOE"  # the same user id in both workspaces (ids are only unique per team)
EMAIL = "joe@example.com"


@dataclass
class Page:
    status: int
    headers: Message  # case-insensitive
    body: str


def get(url: str, cookie: str | None = None) -> Page:
    """A browser's GET that does not follow redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return Page(answer.status, answer.headers, answer.read().decode())
    except urllib.error.HTTPError as err:
        return Page(err.code, err.headers, err.read().decode())


def install(running: RunningApp, team: str, code: str, *, expires_in: int | None = None) -> Page:
    """An administrator of `team` installs the app: install page → Slack → redirect."""
    running.fake.grant(code, team, f"Workspace {team}", expires_in=expires_in)
    start = get(running.base_url + "/slack/install")
    assert start.status == 302
    authorize = urllib.parse.urlsplit(str(start.headers["Location"]))
    query = dict(urllib.parse.parse_qsl(authorize.query))
    assert authorize.netloc == "slack.com" and query["client_id"] == CLIENT_ID
    assert "chat:write" in query["scope"].split(",")
    cookie = str(start.headers["Set-Cookie"]).split(";")[0]
    return get(
        running.base_url
        + "/slack/oauth_redirect?"
        + urllib.parse.urlencode({"code": code, "state": query["state"]}),
        cookie,
    )


def add_joe(fake: FakeSlack) -> None:
    fake.add_user(SAME_USER, team="T1", email=EMAIL, name="Joe One", locale="en-US")
    fake.add_user(SAME_USER, team="T2", email=EMAIL, name="Joe Two", locale="fr-FR")


@pytest.fixture
def oauth_slack(
    settings: Settings, session_factory: SessionFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    with running_app(settings, session_factory, shared_kb(tmp_path_factory), oauth=True) as app:
        add_joe(app.fake)
        yield app


def token_of(fake: FakeSlack, team: str) -> str:
    """The last bot token Slack issued to `team`."""
    return [token for token, owner in fake.token_teams.items() if owner == team][-1]


def replies_to(fake: FakeSlack, channel: str) -> list[tuple[str | None, str]]:
    return [
        (call.token, str(call.args.get("text")))
        for call in fake.calls_to("chat.postMessage")
        if call.args.get("channel") == channel
    ]


def test_two_workspaces_install_and_each_is_answered_with_its_own_token(
    oauth_slack: RunningApp,
) -> None:
    first = install(oauth_slack, "T1", "code-one")
    second = install(oauth_slack, "T2", "code-two")
    assert first.status == second.status == 200
    assert "Workspace T1" in first.body and "installed" in first.body
    with oauth_slack.session_factory() as session:
        teams = sorted(session.scalars(select(slack_bots.c.team_id)))
    assert teams == ["T1", "T2"]

    oauth_slack.sender.dm(SAME_USER, "hello", channel="D-ONE", team="T1")
    oauth_slack.sender.dm(SAME_USER, "hello", channel="D-TWO", team="T2")
    oauth_slack.fake.wait_for("chat.postMessage", 2)
    one, two = replies_to(oauth_slack.fake, "D-ONE"), replies_to(oauth_slack.fake, "D-TWO")
    assert [token for token, _ in one] == [token_of(oauth_slack.fake, "T1")]
    assert [token for token, _ in two] == [token_of(oauth_slack.fake, "T2")]
    # The same user id is read in each workspace with its token: English in T1, French
    # in T2 (the profiles are cached per workspace).
    assert "Register a product" in one[0][1] or "Hello" in one[0][1]
    assert "Bonjour" in two[0][1] or "Enregistrer" in two[0][1]


def test_a_redirect_without_the_installers_state_installs_nothing(oauth_slack: RunningApp) -> None:
    oauth_slack.fake.grant("code-forged", "T9")
    page = get(oauth_slack.base_url + "/slack/oauth_redirect?code=code-forged&state=forged")
    assert page.status >= 400
    assert "was not installed" in page.body
    assert oauth_slack.fake.calls_to("oauth.v2.access") == []
    with oauth_slack.session_factory() as session:
        assert session.scalars(select(slack_bots.c.team_id)).all() == []


def test_the_install_pages_speak_the_browsers_language(oauth_slack: RunningApp) -> None:
    oauth_slack.fake.grant("code-fr", "T9")
    request = urllib.request.Request(
        oauth_slack.base_url + "/slack/oauth_redirect?code=code-fr&state=forged",
        headers={"Accept-Language": "fr-FR,fr;q=0.9"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert "n’a pas été installé" in refused.value.read().decode()


def test_uninstalling_deletes_the_workspaces_tokens(oauth_slack: RunningApp) -> None:
    install(oauth_slack, "T1", "code-one")
    install(oauth_slack, "T2", "code-two")
    response = oauth_slack.sender.event({"type": "app_uninstalled"}, team="T1")
    assert response.status == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "T1" in _installed_teams(oauth_slack):
        time.sleep(0.05)
    assert _installed_teams(oauth_slack) == ["T2"]
    # The uninstalled workspace is not answered any more; the other one still is.
    oauth_slack.sender.dm(SAME_USER, "hello", channel="D-ONE", team="T1")
    oauth_slack.sender.dm(SAME_USER, "hello", channel="D-TWO", team="T2")
    oauth_slack.fake.wait_for("chat.postMessage")
    time.sleep(0.5)
    assert [c.args["channel"] for c in oauth_slack.fake.calls_to("chat.postMessage")] == ["D-TWO"]


def test_revoked_bot_tokens_are_deleted(oauth_slack: RunningApp) -> None:
    install(oauth_slack, "T1", "code-one")
    event = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}
    assert oauth_slack.sender.event(event, team="T1").status == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _installed_teams(oauth_slack):
        time.sleep(0.05)
    assert _installed_teams(oauth_slack) == []


def test_a_rotating_token_is_refreshed_before_it_expires(oauth_slack: RunningApp) -> None:
    install(oauth_slack, "T1", "code-one", expires_in=600)  # within bolt's 2-hour margin
    first = token_of(oauth_slack.fake, "T1")
    oauth_slack.sender.dm(SAME_USER, "hello", channel="D-ONE", team="T1")
    posted = oauth_slack.fake.wait_for("chat.postMessage")[0]
    refreshes = [
        c
        for c in oauth_slack.fake.calls_to("oauth.v2.access")
        if c.args.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1
    fresh = token_of(oauth_slack.fake, "T1")
    assert fresh != first and posted.token == fresh
    with oauth_slack.session_factory() as session:
        kept = session.scalars(
            select(slack_installations.c.bot_token)
            .where(slack_installations.c.team_id == "T1")
            .order_by(slack_installations.c.id.desc())
        ).first()
    assert kept == fresh


def test_each_workspace_sees_only_its_own_accounts_and_incidents(
    oauth_slack: RunningApp,
) -> None:
    install(oauth_slack, "T1", "code-one")
    install(oauth_slack, "T2", "code-two")
    with oauth_slack.session_factory.begin() as session:
        joe = accounts.create_account(session, email=EMAIL, name="Joe One", workspace="T1")
        session.add(Subscription(account_id=joe.id, service="OneTouch AT.com", type=2, tier="paid"))
        session.flush()
        filed = incidents.create_incident(
            session,
            joe,
            service="OneTouch AT.com",
            summary="Switch reboots at night",
            description="Every night at 3.",
            actor=EMAIL,
        )
        number = filed.number
    oauth_slack.sender.dm(SAME_USER, f"where is {number}?", channel="D-TWO", team="T2")
    oauth_slack.sender.dm(SAME_USER, f"where is {number}?", channel="D-ONE", team="T1")
    oauth_slack.fake.wait_for("chat.postMessage", 2)
    ((_, seen_from_two),) = replies_to(oauth_slack.fake, "D-TWO")
    ((_, seen_from_one),) = replies_to(oauth_slack.fake, "D-ONE")
    assert "Switch reboots at night" in seen_from_one
    assert "Switch reboots at night" not in seen_from_two
    assert f"{number}" in seen_from_two  # "no incident INC-… on your account", in French
    with oauth_slack.session_factory() as session:
        rows = session.execute(
            select(Account.workspace_id, Account.email).order_by(Account.workspace_id)
        ).all()
    # The same e-mail in two workspaces: two accounts, the one of T2 not created by a look-up.
    assert [tuple(row) for row in rows] == [("T1", EMAIL)]


def _installed_teams(running: RunningApp) -> list[str]:
    with running.session_factory() as session:
        return sorted(session.scalars(select(slack_bots.c.team_id)))
