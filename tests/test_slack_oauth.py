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
