"""DAS activation through the conversation: terms, product, code, dates, site, confirm.

The demo data (services.demo, seeded on NOW's date) holds a code in every state: valid
with a recorded purchase date, valid with the date to give, expired, used, other model.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from bot.conversation import Assistant
from services import accounts, das, sites
from storage.db import SessionFactory
from storage.models import Conversation
from tests.conversation_helpers import NOW, Chat, choices_of, text_of, user


def _services(session_factory: SessionFactory) -> list[tuple[str, str, dt.date, dt.date]]:
    with session_factory() as session:
        account = accounts.get_account(session, "demo@example.com")
        return [
            (s.service, s.product.serial, s.starts_on, s.ends_on)
            for s in das.list_services(session, account)
        ]


def test_activation_in_english_with_every_wrong_code(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en", tz="America/New_York"))
    out = chat.say("I want to activate a code")
    assert out.waiting_for == "terms" and "terms and conditions" in text_of(out)
    out = chat.say("no")  # declined: the activation ends there, rather than asking again
    assert "must be accepted" in text_of(out) and "Nothing was saved" in text_of(out)
    assert out.waiting_for is None
    assert chat.say("I want to activate a code").waiting_for == "terms"
    out = chat.say("yes")
    assert out.waiting_for == "product"
    assert ("QBQE160012345", "DGS-1210-28 — QBQE160012345") in choices_of(out)

    out = chat.say("ZZ999")
    assert "No product with serial number ZZ999 is registered. Register it first" in text_of(out)
    assert out.waiting_for == "product"
    out = chat.say("dgs 1210")  # a search among the customer's products
    assert out.waiting_for == "code"

    out = chat.say("EXPD-D1Q5-H3VB")
    assert "has expired" in text_of(out) and "EXPD" not in text_of(out)
    out = chat.say("USED-E2R6-K8NC")
    assert "already been used" in text_of(out) and out.waiting_for == "code"
    out = chat.say("3630-F3S7-M5TJ")  # for another model: the product is asked again
    assert "DGS-3630-28TC" in text_of(out) and "not DGS-1210-28" in text_of(out)
    assert out.waiting_for == "product"
    out = chat.say("dgs 1210")  # the same again: the code is dropped, not asked forever
    assert "not DGS-1210-28" in text_of(out) and out.waiting_for == "code"
    out = chat.say("nbd3 7kq2 a9xm")
    assert out.waiting_for == "service_purchase_date"

    out = chat.say("2026-11-01")  # the code's recorded purchase date wins
    assert "does not match" in text_of(out) and out.waiting_for == "service_purchase_date"
    out = chat.say("13/11/2026")
    assert out.waiting_for == "site"
    out = chat.say("1")
    assert out.waiting_for == "confirm"
    summary = text_of(out)
    assert "DAS-NBD" in summary and "****-****-A9XM" in summary and "November 25, 2026" in summary
    assert _services(session_factory) == [
        ("DAS-8x5", "RX1M240003418", dt.date(2026, 11, 25), dt.date(2027, 11, 25))
    ]

    out = chat.say("yes")
    assert out.waiting_for is None
    assert "starts on November 25, 2026" in text_of(out) and "until November 25, 2029" in text_of(
        out
    )
    assert ("DAS-NBD", "QBQE160012345", dt.date(2026, 11, 25), dt.date(2029, 11, 25)) in _services(
        session_factory
    )

    out = chat.say("yes")  # a repeated confirm does nothing more
    assert out.waiting_for is None
    assert len(_services(session_factory)) == 2
    listing = text_of(chat.say("my services"))
    assert "DAS-NBD" in listing and "November 25, 2029" in listing


def test_activation_in_french_on_a_new_site(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    out = chat.say("je veux activer mon code")
    assert out.waiting_for == "terms" and "conditions générales" in text_of(out)
    assert chat.say("d'accord").waiting_for == "product"
    assert chat.say("DXS").waiting_for == "code"
    out = chat.say("CODE-FAUX-0000")
    assert "n’existe pas" in text_of(out) and "CODE-FAUX" not in text_of(out)
    assert chat.say("4HRS-B8M3-Q1ZT").waiting_for == "service_purchase_date"
    out = chat.say("15/01/2027")
    assert "est dans le futur" in text_of(out) and "15 janvier 2027" in text_of(out)
    out = chat.say("1er novembre 2026")
    assert out.waiting_for == "site"
    assert choices_of(out)[-1] == ("new", "Créer une nouvelle adresse de site")
    assert chat.say("Créer une nouvelle adresse de site").waiting_for == "street"
    assert chat.say("5 avenue des Champs").waiting_for == "postal_code"
    out = chat.say("je ne sais pas")
    assert (
        "« je ne sais pas » n’est pas un code postal" in text_of(out)
        and out.waiting_for == "postal_code"
    )
    assert chat.say("33000").waiting_for == "city"
    assert chat.say("Bordeaux").waiting_for == "country"
    out = chat.say("France")
    assert out.waiting_for == "confirm"
    assert "5 avenue des Champs, 33000 Bordeaux, France" in text_of(out)
    out = chat.say("oui")
    assert "est activé" in text_of(out) and "25 novembre 2026" in text_of(out)
    with session_factory() as session:
        account = accounts.get_account(session, "demo@example.com")
        bordeaux = [s for s in sites.list_sites(session, account) if s.city == "Bordeaux"]
        assert len(bordeaux) == 1
        [service] = [s for s in das.list_services(session, account) if s.service == "DAS-4H"]
        assert service.site_id == bordeaux[0].id
        assert service.service_purchase_date == dt.date(2026, 11, 1)


def test_wrong_codes_are_rate_limited(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en", tz="Europe/Paris"))
    chat.says("activate a service", "yes", "QBQE160012345")
    for attempt in range(5):
        out = chat.say(f"WRONG-CODE-000{attempt}")
        assert "does not exist" in text_of(out)
    out = chat.say("NBD3-7KQ2-A9XM")  # even the right code waits now
    assert "Too many wrong activation codes" in text_of(out) and "try again after" in text_of(out)
    # Nothing can be accepted before then: the activation ends instead of asking again.
    assert out.waiting_for is None and "What is the activation code?" not in text_of(out)
    # A new activation is refused up front, before its terms and product.
    out = chat.say("activate a service")
    assert "Too many wrong activation codes" in text_of(out) and out.waiting_for is None


def test_conversation_at_the_code_step_is_no_wrong_code(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr", tz="Europe/Paris"))
    chat.says("activer un service", "oui", "le nas")  # a search: the DNS-340L (NAS)
    for chatter in ("un instant svp", "un moment svp", "ok go", "wait a sec pls", "ok go go",
                    "the switch", "attends"):  # fmt: skip
        out = chat.say(chatter)
        assert "ne ressemble pas à un code" in text_of(out) and out.waiting_for == "code"
    out = chat.say("voici le code : 8X5N-C9P4-W7LD merci")  # not locked out
    assert out.waiting_for == "service_purchase_date"


def test_a_product_that_is_not_in_the_list_gets_the_help_it_needs(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-demo", lang="en", tz="Europe/Paris"))
    chat.says("activate a service", "yes")
    out = chat.say("my product is not in the list")
    assert "already active" in text_of(out)  # the troubleshooting article
    assert "No product with serial number" not in text_of(out)
    assert out.waiting_for == "product"
    out = chat.say("DGS-3630-28TC")  # a model of the catalogue, not one of theirs
    assert "You have no DGS-3630-28TC registered" in text_of(out)
    assert out.waiting_for == "product"


def test_a_customer_without_products_is_sent_to_registration(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U-nobody", email="nobody@example.com", lang="en"))
    out = chat.say("activate a service")
    assert out.waiting_for is None and "Register your product first" in text_of(out)
    assert choices_of(out) == [("flow:register_product", "Register a product")]
    assert (
        chat.say("register a product").waiting_for == "company"
    )  # onboarding: name is in the profile


def test_the_conversation_keeps_the_code_sealed_never_in_full(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    """Between two messages the conversation row holds the code the customer typed: only
    its keyed hash and the tail the mask shows, and the activation still works from it."""
    chat = Chat(assistant, user("U-demo", lang="en", tz="America/New_York"))
    chat.say("I want to activate a code")
    chat.say("yes")
    chat.say("QBQE160012345")
    out = chat.say("nbd3 7kq2 a9xm")
    assert out.waiting_for == "service_purchase_date"
    with session_factory() as session:
        rows = session.scalars(select(Conversation)).all()
        stored = json.dumps([row.slots for row in rows])
    assert "NBD37KQ2A9XM" not in stored.upper().replace("-", "").replace(" ", "")
    assert "A9XM" in stored  # the tail, for the mask
    out = chat.say("yes")
    while out.waiting_for not in (None, "confirm"):
        out = chat.say("1")
    assert "****-****-A9XM" in text_of(out)
    out = chat.say("yes")
    assert out.waiting_for is None
    assert any(service == "DAS-NBD" for service, *_ in _services(session_factory))


def _import_code(session_factory: SessionFactory, tmp_path: Path, code: str, models: str) -> None:
    """A DAS-8x5 code for these models (';'-separated), bought ten days before NOW."""
    csv = tmp_path / "codes.csv"
    bought = (NOW - dt.timedelta(days=10)).date().isoformat()
    csv.write_text(
        f"code,service,models,purchase_date,duration_months\n{code},DAS-8x5,{models},{bought},12\n",
        encoding="utf-8",
    )
    with session_factory.begin() as session:
        das.import_codes(session, csv, now=NOW)


def test_a_code_for_a_product_already_covered_is_kept_and_another_product_asked(
    assistant: Assistant, session_factory: SessionFactory, tmp_path: Path
) -> None:
    _import_code(session_factory, tmp_path, "DIR8-AAA1-BBB2", "DIR-X5460;DAP-2662")
    chat = Chat(assistant, user("U-demo", lang="en"))
    out = chat.say("activate code DIR8-AAA1-BBB2 on my DIR-X5460")  # DAS-8x5 runs there
    assert "DAS-8x5 is already active on RX1M240003418" in text_of(out)
    out = chat.say("yes")
    assert out.waiting_for == "product"  # the code is kept: only the product is asked again
    out = chat.say("DAP-2662")
    assert out.waiting_for == "service_purchase_date", text_of(out)
    assert chat.say("yes").waiting_for == "site"
    assert chat.say("1").waiting_for == "confirm"
    assert "DAS-8x5 is activated on AP26G81002107" in text_of(chat.say("yes"))


def test_back_goes_through_the_steps_in_order_values_given_first_included(
    assistant: Assistant,
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.say("I want to activate code 4HRS-B8M3-Q1ZT on my DXS-1210-12SC")  # product, code
    assert chat.say("yes").waiting_for == "service_purchase_date"
    assert chat.say("back").waiting_for == "code"
    assert chat.say("back").waiting_for == "product"
    assert chat.say("back").waiting_for == "terms"
    out = chat.say("back")
    assert out.waiting_for == "terms" and "nothing to go back to" in text_of(out)


def test_a_code_typed_in_groups_starting_with_letters_only_is_the_code(
    assistant: Assistant, session_factory: SessionFactory, tmp_path: Path
) -> None:
    _import_code(session_factory, tmp_path, "DEMO-BBBB-0002", "DAP-2662")
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.says("activate a service", "yes", "DAP-2662")
    out = chat.say("demo bbbb 0002")
    assert "does not exist" not in text_of(out)
    assert out.waiting_for == "service_purchase_date"
