"""Product registration through the conversation, in English and French, with onboarding.

Driven the way a customer would: messages in, replies and `waiting_for` out; the results
are checked through the services (what the admin CLI shows).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.conversation import Assistant
from services import accounts, products, sites
from storage.db import SessionFactory
from tests.conversation_helpers import Chat, choices_of, text_of, user


@pytest.mark.parametrize(
    ("lang", "name", "company", "stored"),
    [
        ("en", "My name is Amy Wong", "I don't have a company", ("Amy Wong", None)),
        ("fr", "je m'appelle Jean Dupont", "je suis un particulier", ("Jean Dupont", None)),
        ("en", "Amy Wong", "I work for Wong & Co", ("Amy Wong", "Wong & Co")),
        ("en", "hi, I am Jane Doe", "I work for No Limit SARL", ("Jane Doe", "No Limit SARL")),
        (
            "fr",
            "Bonjour, moi c'est Jean Dupont",
            "Aucune Limite SAS",
            ("Jean Dupont", "Aucune Limite SAS"),
        ),
        ("en", "Amy Wong", "Personal Networks Ltd", ("Amy Wong", "Personal Networks Ltd")),
    ],
)
def test_a_name_and_a_company_said_in_a_sentence_are_kept_without_it(
    assistant: Assistant,
    session_factory: SessionFactory,
    lang: str,
    name: str,
    company: str,
    stored: tuple[str, str | None],
) -> None:
    chat = Chat(assistant, user("U-new", email="amy@example.com", name=None, lang=lang))
    assert chat.say("register a product").waiting_for == "name"
    out = chat.say("RX1M240009999")  # a serial pasted at the wrong step is nobody's name
    assert out.waiting_for == "name"
    chat.says(name, company, "FR", "DIR-X5460", "RX1M240009999", "2026-11-02", "none")
    chat.say("yes")
    with session_factory() as session:
        account = accounts.get_account(session, "amy@example.com")
        assert (account.name, account.company) == stored


def test_new_customer_registers_a_product_in_english(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-new", email=None, name=None, lang="en"))
    assert chat.say("register a product").waiting_for == "email"

    out = chat.say("not an address")
    assert "not a valid e-mail address" in text_of(out) and out.waiting_for == "email"
    out = chat.say("demo@example.com")  # typing someone's address must not hand their account over
    assert "already uses demo@example.com" in text_of(out) and out.waiting_for == "email"
    assert chat.say("ada@example.com").waiting_for == "name"
    assert chat.say("Ada Lovelace").waiting_for == "company"
    assert chat.say("none").waiting_for == "country"
    out = chat.say("Narnia")
    assert "do not know the country" in text_of(out) and out.waiting_for == "country"
    out = chat.say("United Kingdom")
    assert out.waiting_for == "model"
    assert ("DGS-1210-28", "DGS-1210-28 — 28-port Gigabit Smart Managed Switch") in choices_of(out)

    out = chat.say("DWL-0000")
    assert "not in the product catalogue" in text_of(out) and out.waiting_for == "model"
    out = chat.say("DGS-1210-82")  # two digits swapped
    assert "Did you mean DGS-1210-28?" in text_of(out) and out.waiting_for == "model"
    out = chat.say("dgs-1210-28")  # typed, not picked: case does not matter
    assert out.waiting_for == "serial" and "DGS-1210-28" in text_of(out)
    out = chat.say("12345")
    assert (
        "is not a valid serial number for DGS-1210-28" in text_of(out)
        and out.waiting_for == "serial"
    )
    out = chat.say("QBQE160012345")  # the demo customer's switch: never say whose it is
    assert "already registered to another account" in text_of(out)
    assert "demo" not in text_of(out).lower() and out.waiting_for == "serial"
    assert chat.say("qb-qe1-600-99999").waiting_for == "purchase_date"

    out = chat.say("31/12/2026")
    assert "is in the future" in text_of(out) and "December 31, 2026" in text_of(out)
    out = chat.say("someday")
    assert "did not recognise that date" in text_of(out) and out.waiting_for == "purchase_date"
    out = chat.say("Nov 2, 2026")
    assert out.waiting_for == "site"
    values = [value for value, _ in choices_of(out)]
    assert values == ["new", "none"]  # a new account has no site yet

    assert chat.say("Create a new site address").waiting_for == "street"
    assert chat.say("221B Baker Street").waiting_for == "postal_code"
    out = chat.say("near the station")
    assert (
        "near the station is not a postal code" in text_of(out) and out.waiting_for == "postal_code"
    )
    assert chat.say("NW1 6XE").waiting_for == "city"
    out = chat.say("London")
    assert out.waiting_for == "country" and "United Kingdom" in text_of(out)
    out = chat.say("GB")
    assert out.waiting_for == "confirm"
    summary = text_of(out)
    for expected in (
        "Ada Lovelace",
        "ada@example.com",
        "DGS-1210-28",
        "QBQE160099999",
        "November 2, 2026",
        "221B Baker Street",
    ):
        assert expected in summary

    with session_factory() as session:  # nothing is written before the user confirms
        assert accounts.find_account(session, "ada@example.com") is None

    out = chat.say("yes")
    assert out.waiting_for is None
    assert "is registered" in text_of(out)
    with session_factory() as session:
        account = accounts.get_account(session, "ada@example.com")
        assert (account.name, account.company, account.country) == ("Ada Lovelace", None, "GB")
        assert accounts.account_for_slack_user(session, "T1", "U-new").id == account.id
        [product] = products.list_products(session, account)
        assert (product.model, product.serial, product.purchase_date) == (
            "DGS-1210-28",
            "QBQE160099999",
            dt.date(2026, 11, 2),
        )
        [site] = sites.list_sites(session, account)
        assert product.site_id == site.id and site.city == "London"

    out = chat.say("my products")
    assert "QBQE160099999" in text_of(out)


def test_known_customer_registers_in_french_without_onboarding(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    out = chat.say("je voudrais enregistrer un produit")
    assert out.waiting_for == "model" and out.lang == "fr"
    assert "De quel modèle" in text_of(out)
    assert chat.say("DAP-X2850").waiting_for == "serial"
    out = chat.say("comment trouver le numéro de série ?")  # a question mid-flow is answered…
    assert out.waiting_for == "serial"
    assert (
        text_of(out).rstrip().endswith("Il est imprimé sur l’étiquette sous le produit.")
    )  # …then asked again
    assert len(out.replies) == 2
    assert chat.say("AX28A52000111").waiting_for == "purchase_date"
    assert chat.say("23 fevrier 2026").waiting_for == "site"
    out = chat.say("aide")
    assert out.waiting_for == "site" and "adresse physique" in text_of(out)
    out = chat.say("Pas de site pour l’instant")
    assert out.waiting_for == "confirm"
    assert "23 février 2026" in text_of(out) and "Nouveau compte" not in text_of(out)
    out = chat.say("retour")
    assert out.waiting_for == "site"
    out = chat.say("1")  # the demo site in Lyon, by its number
    assert out.waiting_for == "confirm" and "Lyon" in text_of(out)
    out = chat.say("oui")
    assert "est enregistré" in text_of(out)
    with session_factory() as session:
        account = accounts.get_account(session, "demo@example.com")
        product = products.get_product(session, account, "AX28A52000111")
        assert product.purchase_date == dt.date(2026, 2, 23)
        assert product.site is not None and product.site.city == "Lyon"


def test_cancel_writes_nothing(assistant: Assistant, session_factory: SessionFactory) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.says("register a product", "DNS-340L", "NS34L11000999", "2026-11-01", "none")
    assert chat.last is not None and chat.last.waiting_for == "confirm"
    out = chat.say("cancel")
    assert out.waiting_for is None and "Nothing was saved" in text_of(out)
    with session_factory() as session:
        assert not products.serial_registered(session, "NS34L11000999")
    assert chat.say("cancel").waiting_for is None  # nothing left to cancel: said so kindly


def test_saying_no_at_confirm_writes_nothing(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    out = chat.says(
        "enregistrer un produit", "DNS-340L", "NS34L11000998", "01/11/2026", "aucun", "non"
    )
    assert out.waiting_for is None and "Rien n’a été enregistré" in text_of(out)
    with session_factory() as session:
        assert not products.serial_registered(session, "NS34L11000998")


def test_back_at_the_first_question(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.say("register a product")
    out = chat.say("back")
    assert out.waiting_for == "model" and "first question" in text_of(out)


def test_a_registered_product_of_the_same_account_is_named_as_such(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    out = chat.says("register a product", "DGS-1210-28", "QBQE160012345")
    assert "already registered on your account" in text_of(out) and out.waiting_for == "serial"


def test_a_serial_that_looks_like_an_incident_number_is_a_serial(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    with session_factory.begin() as session:
        from storage.models import ProductModel

        session.add(
            ProductModel(model="INC-SW-8", name="Incognito switch", serial_pattern=r"INC[0-9]{8}")
        )
    chat = Chat(assistant, user("U-demo", lang="en"))
    out = chat.says("register a product", "INC-SW-8", "INC12345678")
    assert out.waiting_for == "purchase_date"


def test_help_for_the_site_country_step(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.says(
        "register a product",
        "DAP-2662",
        "AP26G81005555",
        "2026-11-01",
        "new",
        "1 Main St",
        "10001",
        "New York",
    )
    out = chat.say("help")
    assert out.waiting_for == "country" and "two-letter code" in text_of(out)


def test_the_request_under_way_asked_again_is_not_taken_for_the_pending_value(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    assert chat.say("je veux enregistrer un produit").waiting_for == "model"
    out = chat.say("in English please, I want to register a product")
    said = text_of(out)
    assert out.waiting_for == "model" and out.lang == "en"
    assert "not in the product catalogue" not in said and "Which model is it?" in said
    out = chat.say("I want to register my DGS-3630-28TC")  # the same request, with a value
    assert out.waiting_for == "serial" and "DGS-3630-28TC" in text_of(out)


def test_fr_at_the_country_question_is_france_not_french(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.says(
        "register a product", "DAP-2662", "AP26G81005555", "2026-11-01", "new", "1 Main St",
        "10001", "New York",
    )  # fmt: skip
    out = chat.say("FR")
    assert out.waiting_for == "confirm"
    assert "France" in text_of(out) and "Please check" in text_of(out)  # still in English


@pytest.mark.parametrize(
    ("lang", "typed"),
    [
        ("en", "it's AP26G81005555"),
        ("fr", "AP26G81005555 merci"),
        ("fr", "le numéro est AP26G 8100 5555"),
    ],
)
def test_a_serial_with_words_around_it_is_taken(
    assistant: Assistant, lang: str, typed: str
) -> None:
    chat = Chat(assistant, user("U-demo", lang=lang))
    chat.says("register a product" if lang == "en" else "enregistrer un produit", "DAP-2662")
    assert chat.say(typed).waiting_for == "purchase_date"


def test_a_model_typed_without_its_dashes_is_found(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.say("register a product")
    out = chat.say("dgs3630")
    assert out.waiting_for == "serial" and "DGS-3630-28TC" in text_of(out)


def test_a_correction_mid_flow_replaces_the_value_and_asks_the_step_again(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    chat.says("enregistrer un produit", "DSR-1000AC", "VR1KA30000789")
    out = chat.say("non attends, le numéro de série c'est VR1KA30000788")
    assert "VR1KA30000788" in text_of(out) and out.waiting_for == "purchase_date"
    out = chat.say("non, le numero de serie c est VR1KA-3000-0787")  # no apostrophe
    assert "VR1KA30000787" in text_of(out) and out.waiting_for == "purchase_date"
    chat.says("12/11/2026", "pas de site pour l'instant")
    out = chat.say("oui mais change la date au 2 novembre")  # not a yes: the summary again
    assert out.waiting_for == "confirm"
    assert "2 novembre 2026" in text_of(out) and "VR1KA30000787" in text_of(out)
    assert "12 novembre" not in text_of(out)


def test_a_new_model_checks_the_serial_given_for_the_old_one(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.say("register my DSR-1000AC serial VR1KA30000788")
    out = chat.say("sorry, it's a DAP-2662 actually")
    assert "Model: DAP-2662" in text_of(out)
    assert "not a valid serial number for DAP-2662" in text_of(out)
    assert out.waiting_for == "serial"
