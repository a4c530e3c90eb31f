"""What a demanding customer found in review: menu choices by number outside a flow, labels
and loose wording for choices, an incident's own number before a list position, greetings
that tell the language, typos in a country, plural refusals, empty messages."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.conversation import Assistant
from bot.settings import Settings
from services import accounts, incidents, sites, sla, subscriptions
from storage.db import SessionFactory
from storage.models import ArticleFeedback, QuestionLog
from tests.conversation_helpers import NOW, Chat, choices_of, seed_demo, shared_kb, text_of, user


def _file(session_factory: SessionFactory, service: str, summary: str) -> str:
    with session_factory.begin() as session:
        account = accounts.get_account(session, "demo@example.com")
        incident = incidents.create_incident(
            session,
            account,
            service=service,
            summary=summary,
            description="details",
            actor="demo@example.com",
            now=NOW,
            calendar=sla.SupportCalendar("America/New_York"),
        )
        return incident.number or ""


# --- choices shown outside a flow ---------------------------------------------------------


def test_menu_choice_by_number(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    menu = chat.say("hello")
    assert choices_of(menu)[4] == ("list:products", "My products")
    out = chat.say("5")
    assert "You have 5 registered products" in text_of(out)
    out = chat.say("1")  # the list's own choice now: nothing is offered after a full list
    assert "did not understand" in text_of(out)


def test_menu_choice_by_number_in_french_starts_the_flow(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.say("bonjour")
    out = chat.say("1")
    assert out.waiting_for == "model" and out.lang == "fr"


def test_every_menu_label_does_what_it_says(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    _file(session_factory, "Nuclias Cloud Pro", "Dashboard blank")
    for lang in ("en", "fr"):
        chat = Chat(assistant, user(f"U-{lang}", lang=lang))
        labels = [label for _, label in choices_of(chat.say("help"))]
        expected = ["model", "terms", "subscription", "incident_number", None, None, None]
        for label, waiting in zip(labels, expected, strict=True):
            out = chat.say(label)
            assert out.waiting_for == waiting, (lang, label, text_of(out))
            chat.say("cancel" if lang == "en" else "annuler")


def test_a_number_after_my_incidents_opens_that_incident(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    first = _file(session_factory, "Nuclias Cloud Pro", "Dashboard blank")
    second = _file(session_factory, "OneTouch AT.com", "Cannot log in")
    chat = Chat(assistant, user("U1", lang="en"))
    listed = chat.say("my incidents")
    assert [label for _, label in choices_of(listed)] == [second, first]  # newest first
    out = chat.say("2")
    assert f"Incident {first}: Dashboard blank" in text_of(out)


# --- choices inside a flow ----------------------------------------------------------------


def test_subscription_by_some_of_its_words(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.say("signaler un incident")
    out = chat.say("nuclias pro")
    assert out.waiting_for == "summary"
    out = chat.says("Tableau de bord vide", "Page blanche depuis ce matin.")
    assert "Abonnement : Nuclias Cloud Pro" in text_of(out)


def test_product_named_with_an_article(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("activate a service", "yes")
    out = chat.say("the DXS-1210-12SC")
    assert out.waiting_for == "code"
    chat.say("cancel")
    chat.says("activer un service", "oui")
    assert chat.say("le DNS-340L").waiting_for == "code"


def test_an_incident_number_beats_a_list_position(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    first = _file(session_factory, "Nuclias Cloud Pro", "Dashboard blank")
    _file(session_factory, "OneTouch AT.com", "Cannot log in")
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("where is my incident?")
    assert out.waiting_for == "incident_number"
    assert choices_of(out)[0][0] != first  # the newest is listed first...
    out = chat.say("1")  # ...but "1" is the number the question asks for
    assert f"Incident {first}: Dashboard blank" in text_of(out)


def test_a_position_still_picks_when_it_is_no_incident_of_the_user(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    _file(session_factory, "Nuclias Cloud Pro", "Dashboard blank")
    newest = _file(session_factory, "OneTouch AT.com", "Cannot log in")
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say("check an incident")
    out = chat.say("incident 2")
    assert f"Incident {newest}: Cannot log in" in text_of(out)


# --- language -----------------------------------------------------------------------------


def test_a_greeting_switches_to_its_language(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang=None))
    assert chat.say("hello").lang == "en"
    out = chat.say("bonjour")
    assert out.lang == "fr" and "Bonjour Demo" in text_of(out)
    assert chat.say("ok").lang == "fr"
    assert chat.say("hi").lang == "en"


def test_a_greeting_against_the_profile_language_does_not_switch(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    assert chat.say("mes produits").lang == "fr"
    assert chat.say("hello").lang == "fr"  # French profile, an English "hello": still French


def test_a_greeting_inside_a_flow_keeps_the_language(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang=None))
    chat.say("register a product")
    out = chat.say("bonjour")
    assert out.lang == "en" and out.waiting_for == "model"


# --- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "said", "country"),
    [
        (("register a product", "none", "no site"), "I'm in France", "France"),
        (("enregistrer un produit", "aucune", "pas de site"), "je suis en Belgique", "Belgique"),
    ],
)
def test_a_country_said_in_a_sentence_is_understood(
    assistant: Assistant, words: tuple[str, str, str], said: str, country: str
) -> None:
    start, no_company, no_site = words
    chat = Chat(assistant, user("U-new", email="marie@example.fr", name="Marie Dupont"))
    chat.says(start, no_company)
    assert chat.say(said).waiting_for == "model"
    out = chat.says("DGS-1210-28", "QBQE160099999", "23/11/2026", no_site)
    assert f"(marie@example.fr), {country}" in text_of(out)


def test_a_country_with_a_typo_is_understood(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-new", email="marie@example.fr", name="Marie Dupont", lang="fr"))
    chat.says("enregistrer un produit", "aucune")
    out = chat.say("Frnace")
    assert out.waiting_for == "model"
    out = chat.says("DGS-1210-28", "QBQE160099999", "23/11/2026", "pas de site")
    assert "Nouveau compte support : Marie Dupont (marie@example.fr), France" in text_of(out)


def test_an_empty_message_in_a_flow_asks_again(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.says("enregistrer un produit", "DGS-1210-28")
    out = chat.say("   ")
    assert out.waiting_for == "serial"
    assert out.replies[0].text == "Je n’ai pas reçu de réponse."


def test_several_free_subscriptions_are_named_in_a_plural_sentence(
    assistant: Assistant, session_factory: SessionFactory, tmp_path: Path
) -> None:
    with session_factory.begin() as session:
        accounts.create_account(session, email="free@example.com", name="Free User", now=NOW)
    rows = tmp_path / "subs.csv"
    rows.write_text(
        "email,service,type,tier\nfree@example.com,Nuclias Cloud Basic,1,free\nfree@example.com,Link-Live Cloud,2,free\n"
    )
    with session_factory.begin() as session:
        subscriptions.import_subscriptions(session, rows)
    out = Chat(assistant, user("U-free", email="free@example.com", lang="fr")).say(
        "je veux ouvrir un ticket"
    )
    text = text_of(out)
    assert "Vos abonnements Link-Live Cloud et Nuclias Cloud Basic sont tous gratuits" in text
    assert " est un abonnement gratuit" not in text
    out = Chat(assistant, user("U-free-en", email="free@example.com", lang="en")).say(
        "report an incident"
    )
    assert "Your subscriptions Link-Live Cloud and Nuclias Cloud Basic are all free" in text_of(out)


# --- identifiers: a sentence is not a guess -----------------------------------------------


def test_questions_and_short_answers_at_the_code_step_are_not_counted_as_wrong_codes(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.says("activer un service", "oui", "QBQE160012345")
    out = chat.say("c'est quoi le programme Gold")
    assert out.waiting_for == "code"
    assert "n’existe pas" not in text_of(out) and "Gold" in text_of(out)
    for answer in ("oui", "1", "ok", "je ne trouve pas le code dans mon mail"):
        out = chat.say(answer)
        assert out.waiting_for == "code" and "n’existe pas" not in text_of(out), answer
    assert "Cela ne ressemble pas à un code d’activation" in text_of(chat.say("non"))
    out = chat.say("where do I find the code")  # a question in English: answered in English
    assert out.waiting_for == "code" and "does not exist" not in text_of(out)
    chat.say("en français")
    out = chat.say("mon code est NBD3-7KQ2-A9XM")  # not rate-limited, and found in the sentence
    assert out.waiting_for == "service_purchase_date", text_of(out)


def test_a_serial_inside_a_sentence(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("register a product", "DAP-X2850")
    out = chat.say("the serial is AX28A52000934.")
    assert out.waiting_for == "purchase_date"
    out = chat.says("back", "where can I find the serial number")
    assert "is not a valid serial number" not in text_of(out)
    assert out.waiting_for == "which_article"  # two articles alike: which, then the step
    assert chat.say("1").waiting_for == "serial"


def test_a_request_at_the_code_step_is_still_a_request(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("activate a service", "yes", "QBQE160012345")
    out = chat.say("show me my products")
    assert "You have 5 registered products" in text_of(out) and out.waiting_for == "code"


def test_an_answer_after_expiry_gets_the_menu_not_a_search(
    session_factory: SessionFactory, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    seed_demo(session_factory)
    quick = Assistant(
        session_factory,
        dataclasses.replace(settings, flow_idle_minutes=10),
        shared_kb(tmp_path_factory),
    )
    chat = Chat(quick, user("U1", lang="fr"))
    chat.say("enregistrer un produit")
    chat.now += dt.timedelta(minutes=11)
    out = chat.say("DGS-1210-28 modèle")
    text = text_of(out)
    assert "Votre demande précédente" in text and "base de connaissances" not in text
    assert next(value for value, _ in choices_of(out)) == "flow:register_product"
    with session_factory() as session:
        assert session.scalars(select(QuestionLog)).all() == []  # no junk question for the editors


def test_an_incident_asked_about_mid_flow_is_shown(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    number = _file(session_factory, "Nuclias Cloud Pro", "Dashboard blank")
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say("report an incident")
    out = chat.say(f"where is {number}?")
    assert f"Incident {number}: Dashboard blank" in text_of(out)
    assert out.waiting_for == "subscription"
    assert "no answer to that in the knowledge base" not in text_of(out)


def test_a_sentence_in_the_other_language_at_the_serial_step_is_answered_in_it(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.says("enregistrer un produit", "DGS-1210-28")
    out = chat.say("Could you tell me where I can find the serial number on the device")
    assert out.lang == "en" and out.waiting_for == "serial"
    assert "What is the serial number of your DGS-1210-28" in text_of(out)


def test_a_command_in_the_profile_language_brings_it_back(assistant: Assistant) -> None:
    Chat(assistant, user("U1", lang=None)).say("show me my products please")  # remembered: English
    chat = Chat(assistant, user("U1", lang="fr"))  # the same user, now with a French profile
    out = chat.say("aide")
    assert out.lang == "fr" and "Posez-moi votre question" in text_of(out)
    chat.say("in English please")
    assert chat.say("oui").lang == "en"  # a short answer never flips the choice back
    assert chat.say("help").lang == "en"


def test_an_address_too_long_is_refused_at_its_own_step(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("register a product", "DGS-1210-28", "QBQE160055555", "23/11/2026", "new")
    out = chat.say("R" * 301)
    assert out.waiting_for == "street" and "at most 300 characters" in text_of(out)
    chat.say("5 rue du Port")
    out = chat.say("7" * 21)
    assert out.waiting_for == "postal_code" and "is not a postal code" in text_of(out)
    chat.say("13002")
    assert "at most 120 characters" in text_of(chat.say("C" * 121))
    out = chat.says("Marseille", "France", "yes")
    assert "is registered" in text_of(out)


def test_bytes_that_are_not_utf8_and_control_characters_are_kept_as_text(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    out = chat.say("caf\udce9 cr\udce8me au lait ?")  # Latin-1 bytes read by a UTF-8 console
    assert out.lang == "fr" and "Désolé" in text_of(out)
    out = chat.say("mes\x00 produits")  # PostgreSQL refuses NUL in text
    assert "Vous avez 5 produits enregistrés" in text_of(out)
    with session_factory() as session:
        assert session.scalars(select(QuestionLog.question)).all() == ["café crème au lait ?"]


def test_the_recorded_service_purchase_date_is_shown_and_yes_confirms_it(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    out = chat.says("activer un service", "oui", "NS34L11000562", "8X5N-C9P4-W7LD")
    assert out.waiting_for == "service_purchase_date"
    assert "Votre fournisseur a enregistré le 24 octobre 2026 pour ce code" in text_of(out)
    out = chat.say("oui")
    assert out.waiting_for == "site"
    out = chat.says("1")
    assert "Date d’achat du service : 24 octobre 2026" in text_of(out)


def test_a_code_without_recorded_date_asks_for_it_plainly(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.says("activate a service", "yes", "XS12C19000877", "4HRS-B8M3-Q1ZT")
    assert "(The date on your invoice for the service, e.g. 23/11/2026.)" in text_of(out)
    out = chat.say("yes")
    assert out.waiting_for == "service_purchase_date" and "did not recognise that date" in text_of(
        out
    )


def test_a_serial_copied_with_its_label(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.says("enregistrer un produit", "DAP-X2850")
    assert chat.say("S/N: AX28A52000934").waiting_for == "purchase_date"
    chat.say("retour")
    assert chat.say("N° de série : AX28A52000934").waiting_for == "purchase_date"
    chat.say("retour")
    out = chat.say("S/N: XX")
    assert out.waiting_for == "serial" and "S/N: XX n’est pas un numéro de série valide" in text_of(
        out
    )


def test_a_number_typed_picks_the_site_at_that_position_never_by_its_id(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    with session_factory.begin() as session:
        other = accounts.create_account(session, email="other@example.com", name="Other", now=NOW)
        sites.add_site(
            session,
            other,
            street="1 Elm St",
            postal_code="10001",
            city="New York",
            country="US",
            now=NOW,
        )
        demo_account = accounts.get_account(session, "demo@example.com")
        second = sites.add_site(
            session,
            demo_account,
            street="5 rue du Port",
            postal_code="13002",
            city="Marseille",
            country="FR",
            now=NOW,
        )
        second_id = str(second.id)
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.says("register a product", "DAP-X2850", "AX28A52000934", "23/11/2026")
    values = [value for value, _ in choices_of(out)]
    assert values == ["site:1", f"site:{second_id}", "new", "none"] and second_id == "3"
    out = chat.say("3")  # the third choice as the list shows it, not the site whose id is 3
    assert out.waiting_for == "street"
    chat.say("back")
    out = chat.say("2")
    assert out.waiting_for == "confirm" and "5 rue du Port, 13002 Marseille" in text_of(out)
    chat.say("back")
    out = chat.say(f"site:{second_id}")  # a driver sending the value it was shown
    assert out.waiting_for == "confirm" and "5 rue du Port, 13002 Marseille" in text_of(out)
    chat.say("back")
    out = chat.say("site 2")  # the second in the list, whatever the sites' ids
    assert out.waiting_for == "confirm" and "5 rue du Port, 13002 Marseille" in text_of(out)


def test_after_an_answer_a_request_is_not_taken_for_a_related_title(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    out = chat.say("When does my DAS service start?")
    assert out.waiting_for == "feedback"
    titles = [label for _, label in choices_of(out)]
    assert any("activate" in title.lower() and "service" in title.lower() for title in titles)
    assert chat.say("activate my DAS contract").waiting_for == "terms"


def test_a_pasted_page_is_not_echoed_in_full(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say("register a product")
    out = chat.say("lorem ipsum " * 500)
    assert out.waiting_for == "model"
    assert len(out.replies[0].text) < 200 and "…" in out.replies[0].text
    chat.say("cancel")
    chat.say("report an incident")
    out = chat.say("x" * 300)
    assert "Your account has no subscription to " + "x" * 79 + "…" in text_of(out)


def test_a_long_description_is_filed_whole_and_shown_short(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    long_description = "The probe reboots. " * 1000
    out = chat.says("report an incident", "Nuclias Cloud Pro", "Probe reboots", long_description)
    assert out.waiting_for == "confirm" and len(text_of(out)) < 1000
    chat.say("yes")
    with session_factory() as session:
        [incident] = incidents.list_incidents(
            session, account=accounts.get_account(session, "demo@example.com")
        )
        assert incident.description == long_description.strip()


def test_an_incident_asked_about_at_the_serial_step_is_shown(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    number = _file(session_factory, "Nuclias Cloud Pro", "Dashboard blank")
    chat = Chat(assistant, user("U1", lang="fr"))
    chat.says("enregistrer un produit", "DSR-1000AC")
    out = chat.say(f"où en est {number} ?")
    assert f"Incident {number} : Dashboard blank" in text_of(out)
    assert out.waiting_for == "serial" and "n’est pas un numéro de série valide" not in text_of(out)
    assert chat.say("VR1KA30000788").waiting_for == "purchase_date"


@pytest.mark.parametrize(
    "ask", ["read more", "lire la suite", "en savoir plus", "l'article complet"]
)
def test_asking_for_the_rest_of_an_answer(assistant: Assistant, ask: str) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    short = chat.say("How long is my activation code valid?")
    out = chat.say(ask)
    assert out.waiting_for == "feedback"
    assert len(text_of(out)) > len(text_of(short)) and "Read the whole article" not in str(
        choices_of(out)
    )


@pytest.mark.parametrize(
    ("said", "helpful"),
    [
        ("ça m'a aidé", True),
        ("very helpful", True),
        ("pas utile", False),
        ("it didn't help", False),
    ],
)
def test_feedback_in_words(
    assistant: Assistant, session_factory: SessionFactory, said: str, helpful: bool
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.say("How long is my activation code valid?")
    chat.say(said)
    with session_factory() as session:
        assert session.scalars(select(ArticleFeedback.helpful)).all() == [helpful]


def test_a_masked_code_is_not_looked_up(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    chat.says("activate a service", "yes", "RX1M240003418")
    for _ in range(6):
        out = chat.say("****-****-K8NC")
        assert "That code is masked" in text_of(out) and out.waiting_for == "code"
    assert "Too many wrong" not in text_of(chat.say("AAAA-BBBB-CCCC"))  # none of them counted
