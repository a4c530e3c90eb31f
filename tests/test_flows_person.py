"""A person when asked: a paid customer is offered an incident (or to add to an open one);
a free or unsubscribed customer is told, in their language, what help they have."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.conversation import Assistant
from services import accounts, incidents
from services.clock import utcnow
from storage.db import SessionFactory
from storage.models import Subscription
from tests.conversation_helpers import Chat, choices_of, seed_demo, shared_kb, text_of, user


def _free_customer(session_factory: SessionFactory, email: str) -> None:
    with session_factory.begin() as session:
        account = accounts.create_account(session, email=email, name="Free Customer", country="FR")
        session.flush()
        session.add(
            Subscription(account_id=account.id, service="Nuclias Cloud Basic", type=1, tier="free")
        )


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to someone",
        "can I speak to an agent?",
        "talk to a human pls",
        "speek to a humen",
        "real person please",
    ],
)
def test_a_paid_customer_is_offered_an_incident(assistant: Assistant, text: str) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    out = chat.say(text)
    said = text_of(out)
    assert "Our support engineers can help you: I can file an incident for them now." in said
    assert "OneTouch AT.com: first response within 2 hours" in said
    assert "phone, e-mail, and web, 24/7" in said or "phone, e-mail and web, 24/7" in said
    assert "Nuclias Cloud Basic" not in said  # a free subscription gives no engineer
    assert choices_of(out) == [("flow:file_incident", "Report an incident")]
    out = chat.say("Report an incident")
    assert out.waiting_for == "subscription"


@pytest.mark.parametrize(
    "text", ["parler à un humain", "un conseiller svp", "Je voudrais parler à quelqu'un"]
)
def test_in_french_with_an_open_incident_adding_to_it_is_offered(
    assistant: Assistant, session_factory: SessionFactory, text: str
) -> None:
    with session_factory.begin() as session:
        account = accounts.get_account(session, "demo@example.com")
        number = incidents.create_incident(
            session,
            account,
            service="OneTouch AT.com",
            summary="La sonde ne joint pas le cloud",
            description="Depuis ce matin.",
            actor=account.email,
            lang="fr",
        ).number
    chat = Chat(assistant, user("U-demo", lang="fr"))
    out = chat.say(text)
    said = text_of(out)
    assert "Nos ingénieurs du support peuvent vous aider" in said
    assert "ajouter votre message à l’un de vos incidents ouverts" in said
    assert "l’équipe du support vous répondra en anglais" in said
    assert (f"answer:{number}", f"Ajouter à {number} — La sonde ne joint pas le cloud") in (
        choices_of(out)
    )
    out = chat.say(f"Ajouter à {number} — La sonde ne joint pas le cloud")
    assert out.waiting_for == "message"
    out = chat.say("Le voyant clignote en orange, pouvez-vous m'appeler ?")
    assert out.waiting_for == "confirm"
    out = chat.say("oui")
    assert f"votre réponse sur {number} a été transmise" in text_of(out)
    with session_factory() as session:
        events = incidents.get_incident(session, number or "").events
        assert (events[-1].kind, events[-1].actor_role, events[-1].note) == (
            "answer",
            "customer",
            "Le voyant clignote en orange, pouvez-vous m'appeler ?",
        )


def test_a_free_customer_is_told_what_help_they_have(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    _free_customer(session_factory, "free@example.com")
    chat = Chat(assistant, user("U-free", email="free@example.com", lang="en"))
    said = text_of(chat.say("I want to talk to someone"))
    assert "Your subscriptions (Nuclias Cloud Basic) are free" in said
    assert "ask me your question here and I will look in the knowledge base" in said
    assert "file an incident for them" not in said
    said = text_of(
        Chat(assistant, user("U-free", email="free@example.com", lang="fr")).say("un humain svp")
    )
    assert "Vos abonnements (Nuclias Cloud Basic) sont gratuits" in said


def test_someone_with_no_subscription_is_told_too(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-new", email="nobody@example.com", lang="en"))
    said = text_of(chat.say("can I speak to an agent"))
    assert "Your account has no paid subscription" in said


def test_asked_in_the_middle_of_a_flow_the_flow_goes_on(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    assert chat.say("register a product").waiting_for == "model"
    out = chat.say("I want to talk to a human")
    assert "Our support engineers can help you" in text_of(out)
    assert out.waiting_for == "model"


def test_in_the_console_a_message_added_reaches_the_incident(
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    seed_demo(session_factory, today=utcnow().date())
    monkeypatch.setenv("HELPDESK_INDEX_DIR", str(shared_kb(tmp_path_factory).index_dir))
    args = ["chat", "--jsonl", "--email", "demo@example.com", "--lang", "en"]
    lines = ["report an incident", "OneTouch AT.com", "Cannot log in", "Password refused.", "y"]
    lines += ["can I speak to a human?"]
    result = CliRunner().invoke(cli, args, input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    offer = json.loads(result.stdout.splitlines()[-1])
    assert "Our support engineers can help you" in offer["replies"][0]["text"]
    labels = [c["label"] for c in offer["replies"][0]["choices"]]
    assert labels == ["Report an incident", "Add to INC-000001 — Cannot log in"]
    lines = ["2", "Still refused after the reset.", "yes"]
    result = CliRunner().invoke(cli, args, input="\n".join(lines) + "\n")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0]["waiting_for"] == "message"
    assert out[1]["waiting_for"] == "confirm"
    assert "has been passed on to the support team" in out[2]["replies"][0]["text"]
    shown = CliRunner().invoke(cli, ["incidents", "show", "INC-000001", "--json"])
    events = json.loads(shown.stdout)["events"]
    assert (events[-1]["kind"], events[-1]["note"]) == ("answer", "Still refused after the reset.")
