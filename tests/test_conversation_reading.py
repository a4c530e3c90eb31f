"""One reading per message, end to end: question or request, values said once, two
things in one message, questions in the middle of a flow, incident numbers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.conversation import Assistant
from storage.db import SessionFactory
from storage.models import Conversation, QuestionLog
from tests.conversation_helpers import Chat, choices_of, text_of, user

# --- question or request ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "what if my code expired?"),
        ("en", "how long is my code valid?"),
        ("en", "my activation code is expired what can i do"),
        ("fr", "j'ai perdu mon code"),
        ("fr", "combien de temps mon code est-il valable ?"),
        ("en", "when will my incident be fixed?"),  # the resolution rule, not the status
    ],
)
def test_a_question_about_a_thing_is_answered_not_started(
    assistant: Assistant, session_factory: SessionFactory, lang: str, text: str
) -> None:
    out = Chat(assistant, user("U1", lang=lang)).say(text)
    assert out.waiting_for in ("feedback", None) and out.lang == lang  # no flow started
    with session_factory() as session:  # the knowledge base was asked
        assert session.scalars(select(QuestionLog.question)).all() == [text]


@pytest.mark.parametrize(
    ("lang", "text", "first_question"),
    [
        ("en", "activate my code", "terms"),
        ("fr", "je veux activer mon code DAS", "terms"),
        ("en", "I want to register a product", "model"),
        ("fr", "enregistrer un produit", "model"),
    ],
)
def test_a_request_starts_its_flow(
    assistant: Assistant, lang: str, text: str, first_question: str
) -> None:
    out = Chat(assistant, user("U1", lang=lang)).say(text)
    assert out.waiting_for == first_question


def test_no_incident_is_taken_from_a_duration(assistant: Assistant) -> None:
    out = Chat(assistant, user("U1", lang="en")).say("my incident has no answer after 2 hours")
    assert out.waiting_for == "feedback"  # answered from the KB
    assert "INC-000002" not in text_of(out)


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "where is INC-000002?"), ("en", "status of ticket 2"), ("fr", "où en est le #2 ?")],
)
def test_an_incident_referred_to_is_shown(assistant: Assistant, lang: str, text: str) -> None:
    out = Chat(assistant, user("U1", lang=lang)).say(text)
    assert "INC-000002" in text_of(out)
    assert out.waiting_for is None


# --- say it once --------------------------------------------------------------------------


def test_registration_takes_what_the_first_message_gives(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("register my DGS-3630-28TC serial S3XY120042420 bought 12/11/2025")
    said = text_of(out)
    assert "I noted: Model: DGS-3630-28TC; Serial number: S3XY120042420" in said
    assert "12 Nov" in said or "November 12" in said
    assert out.waiting_for == "site"  # only the rest is asked
    out = chat.say("no site for now")
    assert out.waiting_for == "confirm" and "S3XY120042420" in text_of(out)


def test_a_french_report_made_of_names_stays_in_french(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    out = chat.say("incident OneTouch AT.com port 3 KO")
    assert out.lang == "fr" and out.waiting_for == "description"
    assert "J’ai noté : Abonnement : OneTouch AT.com ; Résumé : port 3 KO." in text_of(out)


def test_a_bad_value_in_the_first_message_is_asked_again_with_the_reason(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    out = chat.say("enregistrer mon dgs3630 numéro de série S3XY1A2004242 acheté demain")
    said = text_of(out)
    assert "J’ai noté : Modèle : DGS-3630-28TC" in said
    assert "n’est pas un numéro de série valide" in said
    assert out.waiting_for == "serial"
    assert chat.say("S3XY120042420").waiting_for == "purchase_date"
    out = chat.say("le 12 novembre")
    assert out.waiting_for == "site"


def test_activation_takes_the_code_and_the_product_and_never_shows_the_code(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("activate code NBD3-7KQ2-A9XM on my DGS-1210")
    said = text_of(out)
    assert "NBD3-7KQ2-A9XM" not in said and "****-****-A9XM" in said
    assert "QBQE160012345" in said  # the product understood
    assert out.waiting_for == "terms"
    out = chat.say("yes")
    assert out.waiting_for not in ("product", "code")
    with session_factory() as session:
        logged = session.scalars(select(QuestionLog.question)).all()
    assert not any("NBD3" in question for question in logged)


def test_a_code_given_before_its_product_is_used_once_the_product_is_chosen(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("activate my code NBD3-7KQ2-A9XM")
    assert "****-****-A9XM" in text_of(out) and "NBD3-7KQ2-A9XM" not in text_of(out)
    with session_factory() as session:
        kept = session.scalars(select(Conversation.slots)).all()
    assert kept and not any("NBD3" in str(slots) or "7KQ2" in str(slots) for slots in kept)
    assert chat.say("yes").waiting_for == "product"
    out = chat.say("DGS-1210-28")
    assert out.waiting_for == "service_purchase_date"  # the code is not asked again


def test_a_code_held_for_a_product_of_another_model_asks_for_the_product_again(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.say("activez moi ce code svp : NBD3-7KQ2-A9XM")
    chat.say("oui")
    out = chat.say("DXS-1210-12SC")
    assert "DGS-1210-28" in text_of(out)  # the model the code is for
    assert out.waiting_for == "product"  # the code is kept
    assert chat.say("DGS-1210-28").waiting_for == "service_purchase_date"


@pytest.mark.parametrize(
    ("lang", "text"),
    [("fr", "activer DAS sur le produit NS34L11000562"), ("en", "activate DAS for QBQE160012345")],
)
def test_a_serial_in_an_activation_request_is_the_product_not_a_code(
    assistant: Assistant, lang: str, text: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    chat.say(text)
    out = chat.say("oui" if lang == "fr" else "yes")
    assert out.waiting_for == "code"  # the product is taken; no code was tried
    assert "****" not in text_of(out)


def test_a_serial_beside_a_code_in_an_activation_request_is_the_product(
    assistant: Assistant,
) -> None:
    out = Chat(assistant, user("U1", lang="en")).say(
        "activate code 8X5N-C9P4-W7LD on NS34L11000562"
    )
    assert "Product: DNS-340L — NS34L11000562" in text_of(out)


@pytest.mark.parametrize(
    "pasted",
    ["my code: 8X5N C9P4 W7LD (DAS-8x5)", "c'est le code DAS-8x5 : 8x5n c9p4 w7ld"],
)
def test_a_code_typed_in_groups_beside_its_service_name_is_the_code(
    assistant: Assistant, pasted: str
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("activate DAS", "yes", "DNS-340L")
    assert chat.say(pasted).waiting_for == "service_purchase_date"


def test_a_code_pasted_with_its_service_name_is_the_code(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("activate DAS", "yes", "DGS-1210-28")
    out = chat.say('Here is the code from the email: "NBD3-7KQ2-A9XM" (DAS-NBD, 36 months)')
    assert out.waiting_for == "service_purchase_date"


def test_a_value_that_ends_a_sentence_ends_what_was_noted(assistant: Assistant) -> None:
    out = Chat(assistant, user("U1", lang="en")).say(
        "problem with OneTouch AT.com: the probe fails after the firmware update."
    )
    assert "Summary: the probe fails after the firmware update.\n" in text_of(out) + "\n"
    assert "update.." not in text_of(out)


def test_a_code_in_a_question_is_never_logged_in_full(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("I activated code NBD3-7KQ2-A9XM yesterday, why hasn't the service started?")
    assert "NBD3-7KQ2-A9XM" not in text_of(out)
    with session_factory() as session:
        logged = session.scalars(select(QuestionLog.question)).all()
    assert logged and not any("NBD3-7KQ2" in question for question in logged)


@pytest.mark.parametrize(
    ("lang", "text", "noted"),
    [
        ("en", "problem with OneTouch AT.com: the test fails", "the test fails"),
        (
            "fr",
            "créer un ticket : OneTouch AT.com n'affiche plus les résultats",
            "n'affiche plus les résultats",
        ),
    ],
)
def test_an_incident_report_takes_the_subscription_and_the_summary(
    assistant: Assistant, lang: str, text: str, noted: str
) -> None:
    out = Chat(assistant, user("U1", lang=lang)).say(text)
    assert "OneTouch AT.com" in text_of(out) and noted in text_of(out).replace("’", "'")
    assert out.waiting_for == "description"


def test_a_long_report_is_summed_up_by_its_first_sentence_and_filed_whole(
    assistant: Assistant,
) -> None:
    report = (
        "I'd like to open a ticket for OneTouch AT.com: the dashboard shows every tester "
        "offline since this morning. They still run their tests and upload nothing, all "
        "forty of them across two buildings went grey at the same time around 7am, and "
        "nothing changed on our side since last week's maintenance window."
    )
    out = Chat(assistant, user("U1", lang="en")).say(report)
    said = text_of(out)
    assert "too long" not in said
    assert "Summary: the dashboard shows every tester offline since this morning." in said
    assert "nothing changed on our side" in said  # the description, whole
    assert out.waiting_for == "confirm"


# --- inside a flow ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "question"),
    [("en", "how long is my code valid?"), ("fr", "combien de temps mon code est-il valable ?")],
)
def test_a_question_mid_flow_is_answered_and_the_step_asked_again(
    assistant: Assistant, lang: str, question: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    assert (
        chat.say("register a product" if lang == "en" else "enregistrer un produit").waiting_for
        == "model"
    )
    out = chat.say(question)
    assert out.waiting_for == "model"  # the same step, no other flow started
    assert len(out.replies) == 2


def test_how_to_activate_mid_registration_starts_nothing(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    assert chat.say("register a product").waiting_for == "model"
    out = chat.say("how do I activate a DAS code?")
    assert out.waiting_for == "model"
    assert "set aside" not in text_of(out)


# --- language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text", "to"),
    [
        ("fr", "in English please, I want to register a product", "en"),
        ("en", "en français svp, je veux enregistrer un produit", "fr"),
    ],
)
def test_a_switch_and_a_request_in_one_message(
    assistant: Assistant, lang: str, text: str, to: str
) -> None:
    out = Chat(assistant, user("U1", lang=lang)).say(text)
    assert out.lang == to
    assert out.waiting_for == "model"  # the request is not lost


@pytest.mark.parametrize(
    ("lang", "switch", "question", "to"),
    [
        ("en", "en français please", "how long is my activation code valid for?", "fr"),
        (
            "fr",
            "in English please",
            "combien de temps mon code d'activation est-il valable ?",
            "en",
        ),
    ],
)
def test_a_language_asked_for_stays_until_the_user_asks_otherwise(
    assistant: Assistant, lang: str, switch: str, question: str, to: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    assert chat.say(switch).lang == to
    assert chat.say(question).lang == to  # a question in the other language: same language
    assert chat.say("my products" if to == "fr" else "mes produits").lang == to
    back = chat.say("in English please" if to == "fr" else "en français svp")
    assert back.lang == lang


@pytest.mark.parametrize(
    ("lang", "text", "yes", "offer"),
    [
        (
            "en",
            "register my DGS-3630-28TC serial S3XY120042420 bought 12/11/2025 and then "
            "show my incidents",
            "yes",
            "Shall we do it now?",
        ),
        (
            "fr",
            "enregistrer mon DGS-3630-28TC numéro de série S3XY120042420 acheté le 12/11/2025 "
            "puis voir mes incidents",
            "oui",
            "On s’en occupe maintenant ?",
        ),
    ],
)
def test_a_second_request_is_offered_once_the_first_is_done(
    assistant: Assistant, lang: str, text: str, yes: str, offer: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    assert chat.say(text).waiting_for == "site"  # the first request, with what it gave
    assert chat.say("no site for now" if lang == "en" else "pas de site").waiting_for == "confirm"
    done = chat.say(yes)
    assert done.waiting_for is None and offer in text_of(done)
    value, label = choices_of(done)[-1]
    assert value == "list:incidents"
    shown = chat.say(label)  # the offer, picked by its label
    asked = Chat(assistant, user("U2", lang=lang)).say(label)  # as if asked in so many words
    assert text_of(shown) == text_of(asked) and "incident" in text_of(shown)


def test_a_second_request_the_first_already_offers_is_offered_once(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say(
        "register my DGS-3630-28TC serial S3XY120042420 bought 12/11/2025 and then activate a code"
    )
    chat.say("no site for now")
    done = chat.say("yes")
    assert "Shall we do it now?" not in text_of(done)
    assert [value for value, _ in choices_of(done)].count("flow:activate_service") == 1
    assert chat.say(choices_of(done)[-1][1]).waiting_for == "terms"


def test_a_list_and_a_request_in_one_message(assistant: Assistant) -> None:
    out = Chat(assistant, user("U1", lang="en")).say("show my products and then register a new one")
    assert out.waiting_for is None and "DGS-1210-28" in text_of(out)  # the demo's products
    assert "flow:register_product" in [value for value, _ in choices_of(out)]


def test_a_second_request_is_not_offered_after_a_cancel(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say("I want to register my switch and activate a code")
    out = chat.say("cancel")
    assert "Shall we do it now?" not in text_of(out)


@pytest.mark.parametrize(("lang", "text"), [("fr", "au revoir"), ("en", "thanks")])
def test_thanks_mid_flow_is_no_answer_to_the_step(
    assistant: Assistant, lang: str, text: str
) -> None:
    chat = Chat(assistant, user("U1", lang=lang))
    chat.say("report an incident" if lang == "en" else "signaler un incident")
    out = chat.say(text)
    assert out.waiting_for == "subscription"
    assert "no subscription to" not in text_of(out) and "pas d’abonnement à" not in text_of(out)


def test_a_code_pasted_with_an_invisible_character_reads_as_it_looks(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("activate a service", "yes", "DNS-340L")
    assert chat.say("8X5N-C9P4-W7LD\u200b").waiting_for == "service_purchase_date"


def test_a_value_for_a_later_step_is_taken_where_another_is_asked(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("activate a service", "yes")
    out = chat.say("8X5N-C9P4-W7LD")  # the code, where the product is asked
    assert "****-****-W7LD" in text_of(out) and "8X5N" not in text_of(out)
    assert out.waiting_for == "product"
    assert chat.say("DNS-340L").waiting_for == "service_purchase_date"
    other = Chat(assistant, user("U2", lang="en"))
    other.say("register a product")
    out = other.say("DGS-1210-28 serial QBQE160099999")  # the model and its serial
    assert out.waiting_for == "purchase_date"


def test_a_request_set_aside_is_offered_again_once_the_other_is_done(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say("report an incident")
    out = chat.say("I want to register a product")
    assert "set aside your current request (reporting an incident)" in text_of(out)
    out = chat.says("DGS-1210-28", "QBQE160099992", "yesterday", "no site", "yes")
    assert "is registered" in text_of(out)
    assert ("flow:file_incident", "Report an incident") in choices_of(out)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("fr", "supprime le produit AP26G81002107 de mon compte"),
        ("en", "remove my DAP-2662 from my account"),
    ],
)
def test_asking_to_remove_a_product_starts_no_registration(
    assistant: Assistant, lang: str, text: str
) -> None:
    out = Chat(assistant, user("U1", lang=lang)).say(text)
    assert out.waiting_for in (None, "feedback")  # no flow under way
    assert "noted" not in text_of(out) and "noté" not in text_of(out)  # no value taken
