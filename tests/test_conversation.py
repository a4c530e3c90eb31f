"""The conversation as a whole: language rules, KB answers and feedback, state that survives
restarts and expires, account linking, the menu."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from bot.boundary import to_mrkdwn
from bot.conversation import Assistant
from bot.settings import Settings
from services import accounts, questions
from storage.db import SessionFactory
from storage.models import ArticleFeedback, Conversation, QuestionLog, UserPreference
from tests.conversation_helpers import NOW, Chat, choices_of, seed_demo, shared_kb, text_of, user

# --- language -----------------------------------------------------------------------------


def test_first_language_from_the_message_then_remembered(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang=None))
    out = chat.say("bonjour")
    assert out.lang == "fr" and "Bonjour" in text_of(out)
    assert chat.say("ok").lang == "fr"  # short answers never flip the language
    assert chat.say("mes produits").lang == "fr"
    with session_factory() as session:
        pref = session.scalars(select(UserPreference).where(UserPreference.user_id == "U1")).one()
        assert (pref.lang, pref.tz) == ("fr", "Europe/Paris")


def test_profile_locale_decides_first(assistant: Assistant) -> None:
    assert Chat(assistant, user("U1", lang="fr")).say("help").lang == "fr"
    assert Chat(assistant, user("U2", lang="en")).say("aide").lang == "en"


def test_writing_in_the_other_language_switches(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    assert chat.say("mes services").lang == "fr"
    out = chat.say("could you please show me the list of all my registered products")
    assert out.lang == "en" and "You have 5 registered products" in text_of(out)
    assert chat.say("yes").lang == "en"
    assert chat.say("QBQE160012345").lang == "en"


def test_saying_so_switches_mid_flow_and_asks_again(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    out = chat.says("enregistrer un produit", "DGS-1210-28")
    assert out.waiting_for == "serial" and out.lang == "fr"
    out = chat.say("in English please")
    assert out.lang == "en" and out.waiting_for == "serial"
    assert "I will speak English" in text_of(
        out
    ) and "What is the serial number of your DGS-1210-28" in text_of(out)
    out = chat.say("en français")
    assert out.lang == "fr" and "je vous parlerai désormais en français" in text_of(out)


def test_free_text_answers_never_switch(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.says("signaler un incident", "1")
    out = chat.say("The probe keeps rebooting every hour since the last firmware update")
    assert out.lang == "fr" and out.waiting_for == "description"


# --- knowledge base -----------------------------------------------------------------------


def test_a_question_gets_the_article_and_feedback_is_stored(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("What is the Gold support programme?")
    assert out.waiting_for == "feedback"
    assert text_of(out).startswith("What is the Gold support programme?\n")
    assert to_mrkdwn(out.replies[0].text).startswith("*What is the Gold support programme?*")
    values = [value for value, _ in choices_of(out)]
    assert values[0] == "read" and values[-2:] == ["yes", "no"]
    assert any(value.startswith("article:") for value in values)  # related articles

    whole = chat.say("Read the whole article")
    assert len(text_of(whole)) > len(text_of(out)) and whole.waiting_for == "feedback"
    thanks = chat.say("no")
    assert thanks.waiting_for is None and "flow:file_incident" in [v for v, _ in choices_of(thanks)]
    with session_factory() as session:
        [logged] = session.scalars(select(QuestionLog)).all()
        assert (logged.answered, logged.slug, logged.lang) == (True, "gold-program", "en")
        [vote] = session.scalars(select(ArticleFeedback)).all()
        assert (vote.slug, vote.helpful, vote.question_id) == ("gold-program", False, logged.id)
        assert questions.feedback_tally(session)[0].unhelpful == 1


def test_a_related_article_then_something_else(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("What is the Gold support programme?")
    related = next(label for value, label in choices_of(out) if value.startswith("article:"))
    out = chat.say(related)
    assert text_of(out).startswith(f"{related}\n") and out.waiting_for == "feedback"
    out = chat.say("my products")  # not a vote: understood as a new request
    assert out.waiting_for is None and "registered products" in text_of(out)


def test_a_question_in_french_is_answered_in_french(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang=None))
    out = chat.say("comment activer mon contrat DAS ?")
    assert out.lang == "fr" and out.waiting_for == "feedback"
    assert ("read", "Lire l’article complet") in choices_of(out)
    assert chat.say("oui").replies[0].text == "Merci pour votre retour !"


def test_no_answer_is_honest_logged_and_offers_an_incident(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("what is the weather like on the moon tomorrow?")
    assert "no answer to that in the knowledge base" in text_of(out)
    assert ("flow:file_incident", "Report an incident") in choices_of(out)
    with session_factory() as session:
        [unanswered] = questions.unanswered_questions(session)
        assert unanswered.question == "what is the weather like on the moon tomorrow?"
    out = chat.say("Report an incident")
    assert out.waiting_for == "subscription"


def test_how_to_question_versus_request(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    assert chat.say("how do I activate my DAS contract?").waiting_for == "feedback"
    assert chat.say("I want to activate my DAS contract").waiting_for == "terms"


# --- state in the database ----------------------------------------------------------------


def test_a_restart_continues_at_the_same_step(
    assistant: Assistant, session_factory: SessionFactory, settings: Settings
) -> None:
    who = user("U1", lang="en")
    Chat(assistant, who).says("register a product", "DAP-2662")
    restarted = Assistant(session_factory, settings, assistant.kb)  # a new process
    out = Chat(restarted, who, now=NOW + dt.timedelta(minutes=5)).say("AP26G81009999")
    assert out.waiting_for == "purchase_date"


def test_threads_are_separate_conversations(assistant: Assistant) -> None:
    Chat(assistant, user("U1", lang="en", thread="D1")).says("register a product")
    out = Chat(assistant, user("U1", lang="en", thread="C9-1234.5")).say("my services")
    assert out.waiting_for is None and "DAS-8x5" in text_of(out)


def test_idle_flows_expire_politely(
    session_factory: SessionFactory, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    seed_demo(session_factory)
    quick = Assistant(
        session_factory,
        dataclasses.replace(settings, flow_idle_minutes=10),
        shared_kb(tmp_path_factory),
    )
    chat = Chat(quick, user("U1", lang="fr"))
    chat.says("enregistrer un produit", "DGS-1210-28")
    chat.now += dt.timedelta(minutes=11)
    out = chat.say("QBQE160077777")
    assert out.waiting_for is None
    assert "Votre demande précédente (enregistrement d’un produit)" in text_of(out)
    assert "10 minutes" in text_of(out).replace("\xa0", " ")
    assert chat.say("enregistrer un produit").waiting_for == "model"  # starts afresh


def test_the_conversation_row_is_versioned(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("register a product", "DAP-2662")
    with session_factory() as session:
        row = session.scalars(select(Conversation)).one()
        # Created at version 1 by the first message, then one version per message saved.
        assert (row.flow, row.step, row.version) == ("register_product", "serial", 3)
        assert row.slots["values"] == {"model": "DAP-2662"}


# --- accounts and menu --------------------------------------------------------------------


def test_profile_email_links_the_existing_account(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    out = Chat(assistant, user("U-new-slack-user", email="DEMO@example.com", lang="en")).say(
        "my products"
    )
    assert "You have 5 registered products" in text_of(out)
    with session_factory() as session:
        account = accounts.account_for_slack_user(session, "T1", "U-new-slack-user")
        assert account is not None and account.email == "demo@example.com"


@pytest.mark.parametrize(
    ("lang", "text", "said"),
    [
        ("en", "hi I have a problem", "What is not working?"),
        ("fr", "😡😡😡 rien ne marche !!!", "Qu’est-ce qui ne fonctionne pas ?"),
    ],
)
def test_a_problem_said_without_what_it_is_about_is_asked_about(
    assistant: Assistant, session_factory: SessionFactory, lang: str, text: str, said: str
) -> None:
    out = Chat(assistant, user("U1", lang=lang)).say(text)
    assert said in text_of(out) and choices_of(out)[0][0] == "flow:file_incident"
    with session_factory() as session:  # nothing for the editors to answer
        assert session.scalars(select(QuestionLog)).all() == []


@pytest.mark.parametrize(
    ("lang", "text", "said"),
    [
        ("en", "bye", "Goodbye"),
        ("fr", "merci, au revoir", "Au revoir"),
        ("en", "thanks", "You are welcome!"),
    ],
)
def test_leaving_is_answered_with_a_goodbye(
    assistant: Assistant, lang: str, text: str, said: str
) -> None:
    assert said in text_of(Chat(assistant, user("U1", lang=lang)).say(text))


def test_who_are_you_gets_what_the_bot_can_do(assistant: Assistant) -> None:
    out = Chat(assistant, user("U1", lang="en")).say("who are you?")
    assert ("flow:register_product", "Register a product") in choices_of(out)


def test_a_user_without_account_sees_empty_lists(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U9", email="stranger@example.com", lang="en"))
    assert "no registered product yet" in text_of(chat.say("my products"))
    assert "no activated DAS service yet" in text_of(chat.say("my services"))
    assert "not reported any incident yet" in text_of(chat.say("my incidents"))
    assert "no subscription service" in text_of(chat.say("my subscriptions"))


@pytest.mark.parametrize(
    ("lang", "text", "said"),
    [
        ("fr", "mes abonnements", "Vous avez 6 services par abonnement"),
        ("fr", "quels sont mes abonnements payants ?", "OneTouch AT.com — type 2, payant"),
        ("en", "which subscriptions do I have?", "Link-Live Cloud — type 2, free"),
    ],
)
def test_my_subscriptions_are_listed_with_their_type_and_tier(
    assistant: Assistant, lang: str, text: str, said: str
) -> None:
    out = Chat(assistant, user("U1", lang=lang)).say(text)
    assert said in text_of(out) and "D-Link Assist" not in text_of(out)
    assert [value for value, _ in choices_of(out)] == ["flow:file_incident"]


def test_menu_thanks_and_not_understood(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", name="Ada Lovelace", lang="en"))
    out = chat.say("hello")
    assert text_of(out).startswith("Hello Ada!") and len(choices_of(out)) == 7
    assert "welcome" in text_of(chat.say("thanks"))
    out = chat.say("xyzzy")
    assert "did not understand" in text_of(out) and len(choices_of(out)) == 7
    out = Chat(assistant, user("U2", lang="fr")).say("aide")
    assert ("flow:register_product", "Enregistrer un produit") in choices_of(out)
    assert "nothing to cancel" in text_of(chat.say("cancel"))


def test_answers_in_a_flow_never_switch_but_questions_do(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.says("register a product", "DGS-1210-28", "QBQE160055555", "le 2 novembre 2026")
    assert out.lang == "en" and out.waiting_for == "site"  # a French date is still an answer
    out = chat.say("c'est quoi une adresse de site, pourquoi me demandez-vous cela ?")
    assert out.lang == "fr" and out.waiting_for == "site"
    assert text_of(out).rstrip().endswith("ou passez cette étape pour l’instant.")


def test_reopen_refusal_names_the_status_in_the_users_words(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.says("signaler un incident", "1", "Lent", "Tout est lent.", "oui")
    out = chat.say("rouvrir INC-000001")
    assert "L’incident INC-000001 a le statut « nouveau »" in text_of(out)
