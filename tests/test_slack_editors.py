"""Editors in Slack: the Home tab's KB report (unanswered questions grouped, votes) and a
draft article from a question — through signed requests to the running app. A customer
sees none of it and cannot use it."""

from __future__ import annotations

import pytest

from tests.slack.fixtures import CLIENT_FR, CUSTOMER, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp
from tests.slack.ui import Screen

EDITOR = "UEDIT"
EDITOR_FR = "UEDFR"


@pytest.fixture(autouse=True)
def editors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_EDITOR_USERS", f"{EDITOR},{EDITOR_FR}")


def _home(running: RunningApp, user: str) -> dict:  # type: ignore[type-arg]
    before = len(running.fake.calls_to("views.publish"))
    running.sender.event({"type": "app_home_opened", "user": user, "tab": "home"})
    calls = running.fake.wait_for("views.publish", before + 1, timeout=30)
    view: dict = calls[before].args["view"]  # type: ignore[type-arg]
    assert calls[before].args["user_id"] == user
    return view


def _draft_button(view: dict, n: int = 0) -> dict:  # type: ignore[type-arg]
    buttons = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    return buttons[n]


def test_the_editors_home_tab_shows_unanswered_questions_grouped_and_votes(
    slack: RunningApp,  # noqa: F811
) -> None:
    for user in (EDITOR, EDITOR_FR):
        slack.fake.add_user(user, locale="fr-FR" if user == EDITOR_FR else "en-US")
    me = Screen(slack, CUSTOMER)
    claire = Screen(slack, CLIENT_FR)
    assert "no answer" in me.say("How do I reset my password?")
    assert "no answer" in me.say("I forgot my password")
    assert "pas de réponse" in claire.say("mot de passe oublié")
    me.say("How long is my activation code valid?")
    me.vote("No, it did not help")
    me.say("How long is my activation code valid?")
    me.vote("Yes, it helped")  # the same person changes their mind: one vote, the latest

    view = _home(slack, EDITOR)
    text = str(view)
    assert "Knowledge base (editors)" in text
    assert "No version published yet" in text
    assert "3× “" in text and "(en 2, fr 1)" in text
    assert "1 helpful, 0 not helpful" in text
    button = _draft_button(view)
    assert button["text"]["text"] == "Draft an article"

    response = slack.sender.home_action(EDITOR, button)
    assert response.status == 200
    modal = slack.fake.wait_for("views.open")[0].args["view"]
    shown = str(modal)
    assert f"--from-question {button['value']}" in shown
    assert "helpdesk kb new " in shown and "/helpdesk kb reindex" in shown
    assert "questions:" in shown  # the file it creates, the question as a phrasing

    french = str(_home(slack, EDITOR_FR))
    assert "Base de connaissances (rédacteurs)" in french
    assert "Rédiger un article" in french and "1 utile(s), 0 pas utile(s)" in french


def test_a_customer_sees_no_report_and_cannot_draft(slack: RunningApp) -> None:  # noqa: F811
    me = Screen(slack, CUSTOMER)
    me.say("How do I reset my password?")
    view = _home(slack, CUSTOMER)
    assert "Knowledge base (editors)" not in str(view)
    forged = {"action_id": "hd_kb_draft", "value": "1"}
    assert slack.sender.home_action(CUSTOMER, forged).status == 200
    modal = str(slack.fake.wait_for("views.open")[0].args["view"])
    assert "only the knowledge base editors" in modal
    assert "helpdesk kb new" not in modal and "reset my password" not in modal
