"""Knowledge-base answers, /helpdesk, the assistant pane, the Home tab, profiles and the
Web API client's retries — through signed HTTP requests to the running app."""

from __future__ import annotations

import time

from sqlalchemy import select

from storage.models import ArticleFeedback
from tests.slack.fake_api import Failure
from tests.slack.fixtures import CLIENT_FR, CUSTOMER, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp
from tests.slack.ui import Screen, controls, feedback_labels


def test_a_kb_answer_offers_the_whole_article_and_feedback(slack: RunningApp) -> None:  # noqa: F811
    me = Screen(slack, CUSTOMER)
    me.say("How long is my activation code valid?")
    labels = [e["text"]["text"] for _, e in controls(me.last)]
    assert "Read the whole article" in labels
    assert feedback_labels(me.last) == ["Yes, it helped", "No, it did not help"]
    me.click("Read the whole article")
    assert len(me.text) > 200, me.last
    whole = me.last
    me.vote("Yes, it helped")
    assert "Thank you for your feedback" in me.text
    with slack.session_factory() as session:
        votes = session.scalars(select(ArticleFeedback.helpful)).all()
    assert votes == [True]
    me.vote("No, it did not help", on=whole)  # clicked again: the latest vote counts
    assert "report an incident" in me.text
    with slack.session_factory() as session:
        votes = session.scalars(select(ArticleFeedback.helpful)).all()
    assert votes == [False]


def test_without_slacks_feedback_buttons_the_answer_has_plain_ones(slack: RunningApp) -> None:  # noqa: F811
    slack.fake.fail("chat.postMessage", Failure(200, {"ok": False, "error": "invalid_blocks"}))
    me = Screen(slack, CLIENT_FR)
    me.say("Combien de temps mon code d'activation est-il valable ?")
    refused, delivered = (message["blocks"] for message in slack.fake.posted()[-2:])
    assert feedback_labels(refused) == ["Oui, cela m’a aidé", "Non, cela ne m’a pas aidé"]
    assert feedback_labels(delivered) == []
    assert len(delivered) == len(refused)  # the same answer, plain buttons instead
    labels = [e["text"]["text"] for _, e in controls(delivered)]
    assert "Oui, cela m’a aidé" in labels
    me.click("Oui, cela m’a aidé")
    assert "Merci" in me.text
    with slack.session_factory() as session:
        assert session.scalars(select(ArticleFeedback.helpful)).all() == [True]


def test_helpdesk_subcommands_answer_in_the_dm(slack: RunningApp) -> None:  # noqa: F811
    assert slack.sender.command(CUSTOMER, "products").status == 200
    reply = slack.fake.wait_for("chat.postMessage")[0].args
    assert reply["channel"] == f"D{CUSTOMER}" and "DGS-1210-28" in reply["text"]
    slack.sender.command(CUSTOMER, "lang fr")
    assert "français" in slack.fake.wait_for("chat.postMessage", 2)[1].args["text"]
    slack.sender.command(CUSTOMER, "services")
    assert "DAS-8x5" in slack.fake.wait_for("chat.postMessage", 3)[2].args["text"]
    slack.sender.command(CUSTOMER, "status 7")
    assert "INC-000007" in slack.fake.wait_for("chat.postMessage", 4)[3].args["text"]
    slack.sender.command(CUSTOMER, "help")
    assert "Enregistrer un produit" in str(slack.fake.wait_for("chat.postMessage", 5)[4].args)


def test_an_unknown_subcommand_gets_the_usage(slack: RunningApp) -> None:  # noqa: F811
    response = slack.sender.command(CLIENT_FR, "dance")
    assert response.status == 200
    assert "/helpdesk" in response.body and "status" in response.body


def test_the_assistant_pane_suggests_prompts_in_the_users_language(slack: RunningApp) -> None:  # noqa: F811
    event = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": CLIENT_FR,
            "channel_id": "DUFR",
            "thread_ts": "1.000001",
            "context": {},
        },
    }
    assert slack.sender.event(event).status == 200
    prompts = slack.fake.wait_for("assistant.threads.setSuggestedPrompts")[0].args
    titles = [p["title"] for p in prompts["prompts"]]
    assert "Activer un code DAS" in titles
    # The same conversations run there, with a status while the bot works.
    moi = Screen(slack, CLIENT_FR)
    slack.sender.dm(CLIENT_FR, "mes produits", thread_ts="1.000001")
    moi.wait()
    assert slack.fake.calls_to("assistant.threads.setStatus")
    assert slack.fake.posted()[-1]["thread_ts"] == "1.000001"


def test_the_home_tab_lists_products_services_subscriptions_incidents(slack: RunningApp) -> None:  # noqa: F811
    event = {"type": "app_home_opened", "user": CUSTOMER, "channel": "DHOME", "tab": "home"}
    slack.sender.event(event)
    view = slack.fake.wait_for("views.publish")[0].args["view"]
    text = str(view)
    for expected in ("QBQE160012345", "DAS-8x5", "OneTouch AT.com", "Report an incident"):
        assert expected in text


def test_profiles_are_read_once_with_their_locale(slack: RunningApp) -> None:  # noqa: F811
    me = Screen(slack, CLIENT_FR)
    assert "Bonjour" in me.say("bonjour")
    me.say("mes produits")
    calls = slack.fake.calls_to("users.info")
    assert len([c for c in calls if c.args.get("user") == CLIENT_FR]) == 1
    assert str(calls[0].args.get("include_locale")).lower() in ("1", "true")


def test_a_rate_limited_reply_is_retried_after_retry_after(slack: RunningApp) -> None:  # noqa: F811
    slack.fake.fail(
        "chat.postMessage",
        Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}),
    )
    started = time.monotonic()
    slack.sender.dm(CUSTOMER, "my products")
    calls = slack.fake.wait_for("chat.postMessage", 2)
    assert calls[1].at - calls[0].at >= 0.9
    assert time.monotonic() - started < 10
