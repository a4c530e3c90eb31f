"""Every flow end to end through signed HTTP requests: typed, and with buttons, selects
and date pickers, in English and in French."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.settings import Settings
from services.clock import utcnow
from storage.db import SessionFactory
from storage.models import ActivatedService, Incident, QuestionLog, RegisteredProduct
from tests.conversation_helpers import ClarifyingKB, seed_demo, shared_kb
from tests.slack.fixtures import CLIENT_FR, CUSTOMER, add_people, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp, running_app
from tests.slack.ui import Screen, controls, feedback_labels


def _days_ago(days: int) -> str:
    return (utcnow().date() - dt.timedelta(days=days)).isoformat()


def _count(running: RunningApp, model: type) -> int:
    with running.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_registration_with_a_select_a_date_picker_and_buttons(slack: RunningApp) -> None:  # noqa: F811
    me = Screen(slack, CUSTOMER)
    me.say("register a product")
    me.select("DGS-3630-28TC — 28-port Layer 3 Stackable Managed Switch")
    assert "serial" in me.text.lower()
    me.say("S3TC270004512")
    assert "installed" in me.pick_date(_days_ago(10))
    me.click("12 rue de la République, 69002 Lyon, France")
    assert [b["type"] for b in me.last if "fields" in b], "the summary is laid out as fields"
    assert "S3TC270004512" in me.text
    me.click("Yes")
    assert "S3TC270004512" in me.text
    assert _count(slack, RegisteredProduct) == 6
    # The Home tab is refreshed after the change.
    home = slack.fake.wait_for("views.publish")[-1].args
    assert "S3TC270004512" in str(home["view"])


def test_activation_typed_in_french(slack: RunningApp) -> None:  # noqa: F811
    moi = Screen(slack, CUSTOMER)
    moi.say("activer un service")
    assert "conditions" in moi.text
    moi.say("oui")
    moi.say("DXS-1210-12SC")
    moi.say("4HRS-B8M3-Q1ZT")
    moi.say(_days_ago(5))
    moi.say("1")
    assert "****-****-Q1ZT" in moi.text
    text = moi.say("oui")
    assert "DAS-4H" in text and "activé" in text
    assert _count(slack, ActivatedService) == 2


def test_incident_by_buttons_in_french_files_once_even_when_double_clicked(
    slack: RunningApp,  # noqa: F811
) -> None:
    moi = Screen(slack, CLIENT_FR)
    moi.say("bonjour")
    assert "Enregistrer un produit" in str(moi.last)
    # Claire has no account: the incident flow tells her there is nothing to file on.
    assert "abonnement" in moi.say("signaler un incident")

    demo = Screen(slack, CUSTOMER)
    demo.say("en français")
    demo.say("signaler un incident")
    demo.select("Nuclias Cloud Pro (type 1, payant)")
    demo.say("Switch en panne")
    demo.say("Le switch ne démarre plus <!channel>")
    block, yes = demo.element(label="Oui")
    first = slack.sender.block_action(CUSTOMER, block, yes, channel=demo.channel)
    second = slack.sender.block_action(CUSTOMER, block, yes, channel=demo.channel)
    assert first.status == second.status == 200
    before = demo.seen
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(demo._mine()) < before + 2:
        time.sleep(0.01)
    shown = "\n".join(m["text"] for m in demo._mine()[before:])
    assert "INC-000001" in shown
    assert "plus en cours" in shown  # the second click: politely refused
    assert _count(slack, Incident) == 1


def test_an_old_button_changes_nothing(slack: RunningApp) -> None:  # noqa: F811
    me = Screen(slack, CUSTOMER)
    me.say("register a product")
    block, element = me.element(kind="external_select")  # the catalogue is searchable
    option = me.options("DGS-3630")[0]
    me.say("cancel")
    response = slack.sender.block_action(CUSTOMER, block, element, channel=me.channel, value=option)
    assert response.status == 200
    me.wait()
    assert "no longer open" in me.text
    assert _count(slack, RegisteredProduct) == 5


def test_check_an_incident_and_lists_typed_in_english(slack: RunningApp) -> None:  # noqa: F811
    me = Screen(slack, CUSTOMER)
    assert "DGS-1210-28" in me.say("my products")
    assert "DAS-8x5" in me.say("my services")
    assert "not reported any incident" in me.say("my incidents")
    text = me.say("where is INC-000099?")
    assert "INC-000099" in text


def test_a_mention_is_answered_in_a_thread_where_the_flow_continues(slack: RunningApp) -> None:  # noqa: F811
    response = slack.sender.mention(CUSTOMER, "register a product", channel="C42")
    assert response.status == 200
    first = slack.fake.wait_for("chat.postMessage")[0].args
    assert first["channel"] == "C42" and first["thread_ts"]
    thread = first["thread_ts"]
    # A plain reply in that thread (no mention) continues the flow there.
    event = {
        "type": "message",
        "channel_type": "channel",
        "channel": "C42",
        "user": CUSTOMER,
        "text": "DGS-1210-28",
        "ts": slack.sender.next_ts(),
        "thread_ts": thread,
    }
    assert slack.sender.event(event).status == 200
    second = slack.fake.wait_for("chat.postMessage", 2)[1].args
    assert second["thread_ts"] == thread and "serial" in second["text"].lower()
    # Channel chatter that is not in a flow's thread is left alone.
    chatter = {
        "type": "message",
        "channel_type": "channel",
        "channel": "C42",
        "user": CUSTOMER,
        "text": "lunch?",
        "ts": slack.sender.next_ts(),
    }
    slack.sender.event(chatter)
    time.sleep(0.4)
    assert len(slack.fake.posted()) == 2


def test_a_slack_connect_guest_is_served_as_themselves(slack: RunningApp) -> None:  # noqa: F811
    # A user of another organisation, whose profile has no locale and no time zone.
    slack.fake.add_user("UGUEST", locale=None, tz=None, email=None, team="T2")
    assert (
        slack.sender.mention("UGUEST", "my products", channel="CSHARED", user_team="T2").status
        == 200
    )
    reply = slack.fake.wait_for("chat.postMessage")[0].args
    assert "no registered product" in reply["text"]
    from storage.models import UserPreference

    with slack.session_factory() as session:
        keys = session.execute(select(UserPreference.workspace_id, UserPreference.user_id)).all()
    assert ("T2", "UGUEST") in [tuple(k) for k in keys]


# --- "Do you mean … or …?" ----------------------------------------------------------------

CLOSE = {
    "how long does it take to get an answer?": ("first-response-time", "resolution-time"),
    "combien de temps faut-il pour avoir une réponse ?": ("first-response-time", "resolution-time"),
}


@pytest.fixture
def slack_asking_which(
    settings: Settings, session_factory: SessionFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    """The Slack app over a KB that asks which of two articles for the questions of CLOSE."""
    seed_demo(session_factory, today=utcnow().date())
    kb = ClarifyingKB(shared_kb(tmp_path_factory), CLOSE)
    with running_app(settings, session_factory, kb) as running:
        add_people(running.fake)
        yield running


@pytest.mark.parametrize(
    ("who", "question", "first", "second", "neither"),
    [
        (
            CUSTOMER,
            "how long does it take to get an answer?",
            "How quickly will support first respond to my incident?",
            "How long will it take to resolve my problem?",
            "Neither of them",
        ),
        (
            CLIENT_FR,
            "combien de temps faut-il pour avoir une réponse ?",
            "Dans quel délai le support répond-il pour la première fois à mon incident ?",
            "Combien de temps faut-il pour résoudre mon problème ?",
            "Ni l’un ni l’autre",
        ),
    ],
)
def test_two_close_articles_are_buttons_and_a_click_shows_the_article(
    slack_asking_which: RunningApp,
    who: str,
    question: str,
    first: str,
    second: str,
    neither: str,
) -> None:
    me = Screen(slack_asking_which, who)
    asked = me.say(question)
    assert asked.startswith("Do you mean" if who == CUSTOMER else "Vous voulez dire")
    buttons = [e["text"]["text"] for _, e in controls(me.last) if e["type"] == "button"]
    assert buttons == [first, second, neither]
    me.click(second)
    assert me.text.startswith(f"*{second}*")
    feedback = {"Yes, it helped", "No, it did not help", "Oui, cela m’a aidé"}
    shown = set(feedback_labels(me.last))
    assert shown & feedback, "the answer asks whether it helped, as any answer does"
    with slack_asking_which.session_factory() as session:
        [logged] = session.scalars(select(QuestionLog)).all()
        assert (logged.answered, logged.slug) == (True, "resolution-time")
