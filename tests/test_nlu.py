"""Understanding messages in French and English: intents, yes/no, incident numbers, dates."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dates import parse_date
from bot.nlu import (
    Intent,
    incident_number_in,
    language_hint,
    looks_like_question,
    parse_yes_no,
    understand,
)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # The phrases the KB articles tell users to type, in both languages.
        ("register a product", Intent.REGISTER_PRODUCT),
        ("enregistrer un produit", Intent.REGISTER_PRODUCT),
        ("activate a service", Intent.ACTIVATE_SERVICE),
        ("activer un service", Intent.ACTIVATE_SERVICE),
        ("report an incident", Intent.FILE_INCIDENT),
        ("signaler un incident", Intent.FILE_INCIDENT),
        ("incident status", Intent.CHECK_INCIDENT),
        ("état de mon incident", Intent.CHECK_INCIDENT),
        ("my products", Intent.LIST_PRODUCTS),
        ("mes produits", Intent.LIST_PRODUCTS),
        ("my services", Intent.LIST_SERVICES),
        ("mes services", Intent.LIST_SERVICES),
        ("my incidents", Intent.LIST_INCIDENTS),
        ("mes incidents", Intent.LIST_INCIDENTS),
        # Natural variants, typos and missing accents.
        ("I want to register my new switch product", Intent.REGISTER_PRODUCT),
        ("je voudrais enregister un nouveau prodiut", Intent.REGISTER_PRODUCT),
        ("I want to activate a code", Intent.ACTIVATE_SERVICE),
        ("je veux activer mon code", Intent.ACTIVATE_SERVICE),
        ("can you activate my DAS contract", Intent.ACTIVATE_SERVICE),
        ("I need to open a ticket", Intent.FILE_INCIDENT),
        ("je veux ouvrir un incident", Intent.FILE_INCIDENT),
        ("show me my products please", Intent.LIST_PRODUCTS),
        ("afficher mes produits", Intent.LIST_PRODUCTS),
        ("list my services", Intent.LIST_SERVICES),
        ("voir mes contrats", Intent.LIST_SERVICES),
        ("show all my tickets", Intent.LIST_INCIDENTS),
        ("etat de mon incidnet", Intent.CHECK_INCIDENT),
        ("what is the status of my incident?", Intent.CHECK_INCIDENT),
        ("I'd like to register my new router", Intent.REGISTER_PRODUCT),
        ("j'ai acheté un nouveau switch, je veux l'enregistrer", Intent.REGISTER_PRODUCT),
        ("report a problem", Intent.FILE_INCIDENT),
        ("signaler un problème", Intent.FILE_INCIDENT),
        ("report an outage", Intent.FILE_INCIDENT),
        ("signaler un dysfonctionnement", Intent.FILE_INCIDENT),
        ("exit", Intent.CANCEL),
        # About the user's things, but a question or a problem: not a list.
        ("how long is my code valid", Intent.QUESTION),
        ("combien de temps mon code est valable", Intent.QUESTION),
        ("my product doesn't show up when activating", Intent.QUESTION),
        ("mon produit n'apparaît pas", Intent.QUESTION),
        ("I cannot see my services", Intent.QUESTION),
        ("quels sont mes produits ?", Intent.LIST_PRODUCTS),
        ("what products do I have", Intent.LIST_PRODUCTS),
        ("can I see my incidents?", Intent.LIST_INCIDENTS),
        ("my switch is broken", Intent.QUESTION),
        ("où en est mon ticket", Intent.CHECK_INCIDENT),
        # The menu's own labels, and status words alone.
        ("Check an incident", Intent.CHECK_INCIDENT),
        ("Suivre un incident", Intent.CHECK_INCIDENT),
        ("status", Intent.CHECK_INCIDENT),
        ("statut ?", Intent.CHECK_INCIDENT),
        ("check status", Intent.CHECK_INCIDENT),
        # "active" describes services; it does not ask to activate one.
        ("what are my active services", Intent.LIST_SERVICES),
        ("quels sont mes services actifs ?", Intent.LIST_SERVICES),
        # Commands.
        ("cancel", Intent.CANCEL),
        ("cancel that", Intent.CANCEL),
        ("I want to cancel", Intent.CANCEL),
        # ...with the words people put before it
        ("ok cancel", Intent.CANCEL),
        ("nevermind, cancel", Intent.CANCEL),
        ("actually cancel that please", Intent.CANCEL),
        ("non finalement j'annule", Intent.CANCEL),
        ("non merci, oublie ça", Intent.CANCEL),
        ("c'est bon laisse faire", Intent.CANCEL),
        ("tant pis", Intent.CANCEL),
        ("on arrête là", Intent.CANCEL),
        ("ok leave it", Intent.CANCEL),
        ("let's stop here", Intent.CANCEL),
        ("ok cancel my subscription", Intent.QUESTION),
        ("revenir en arrière", Intent.BACK),
        ("que peux-tu faire", Intent.HELP),
        ("t'es qui toi", Intent.HELP),
        ("tu sais faire quoi ?", Intent.HELP),
        # Cancelling a subscription is a billing question, not a command.
        ("cancel my subscription", Intent.QUESTION),
        ("annuler mon abonnement", Intent.QUESTION),
        ("Annuler", Intent.CANCEL),
        ("anuler", Intent.CANCEL),
        ("back", Intent.BACK),
        ("retour", Intent.BACK),
        ("help", Intent.HELP),
        ("aide", Intent.HELP),
        ("bonjour", Intent.GREETING),
        ("merci beaucoup", Intent.THANKS),
        # How-to questions go to the knowledge base.
        ("how do I activate my DAS contract?", Intent.QUESTION),
        ("comment activer un service DAS ?", Intent.QUESTION),
        ("how to register a product", Intent.QUESTION),
        ("why is my router slow", Intent.QUESTION),
        ("what is Gold support?", Intent.QUESTION),
    ],
)
def test_intents(text: str, intent: Intent) -> None:
    assert understand(text).intent is intent


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("where is INC-000042", 42),
        ("état de l'incident 42", 42),
        ("status of incident #7", 7),
        ("inc 12", 12),
        ("INC-000123?", 123),
    ],
)
def test_incident_status_with_its_number(text: str, number: int) -> None:
    understood = understand(text)
    assert understood.intent is Intent.CHECK_INCIDENT
    assert understood.incident_number == number


def test_reopen_needs_a_number() -> None:
    understood = understand("reopen INC-000003")
    assert (understood.intent, understood.incident_number) == (Intent.REOPEN_INCIDENT, 3)
    assert understand("rouvrir INC-000003").intent is Intent.REOPEN_INCIDENT


def test_numbers_that_are_not_incidents() -> None:
    assert incident_number_in("I bought it 3 months ago") is None
    assert incident_number_in("incident 42") == 42


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("in English please", "en"),
        ("en français", "fr"),
        ("en francais svp", "fr"),
        ("English", "en"),
        ("parlez-moi en anglais", "en"),
        ("can we speak french", "fr"),
    ],
)
def test_switch_language(text: str, lang: str) -> None:
    understood = understand(text)
    assert (understood.intent, understood.lang) == (Intent.SWITCH_LANGUAGE, lang)


def test_long_sentence_mentioning_a_language_is_not_a_switch() -> None:
    assert (
        understand("is the documentation of the DAS contract available in French?").intent
        is Intent.QUESTION
    )


@pytest.mark.parametrize(
    "text", ["yes", "Oui", "o", "y", "ok", "OK!", "d'accord", "yes please", "je confirme", "ouais"]
)
def test_yes(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize("text", ["no", "Non", "n", "nope", "non merci", "pas d'accord"])
def test_no(text: str) -> None:
    assert parse_yes_no(text) is False


@pytest.mark.parametrize(
    "text", ["maybe", "peut-être", "DGS-1210-28", "", "oui mais change la date", "yes but later"]
)
def test_neither_yes_nor_no(text: str) -> None:
    assert parse_yes_no(text) is None


def test_question_mid_flow() -> None:
    assert looks_like_question("where do I find the serial number?")
    assert looks_like_question("où trouver le numéro de série")
    assert not looks_like_question("QBQE160012345")
    assert not looks_like_question("12 rue de la Paix")


def test_language_hint_for_short_first_messages() -> None:
    assert language_hint("bonjour") == "fr"
    assert language_hint("hello") == "en"
    assert language_hint("QBQE160012345") is None


TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23",
        "23/11/2026",
        "23.11.2026",
        "23-11-2026",
        "23/11/26",
        "23 novembre 2026",
        "23 Novembre 2026",
        "Nov 23 2026",
        "Nov 23, 2026",
        "23 Nov 2026",
        "November 23rd, 2026",
        "le 23 novembre 2026",
        "lundi 23 novembre 2026",
        "today",
        "aujourd'hui",
    ],
)
def test_dates(text: str) -> None:
    assert parse_date(text, TODAY) == TODAY


def test_dates_without_accents_and_with_first() -> None:
    assert parse_date("23 fevrier 2026") == dt.date(2026, 2, 23)
    assert parse_date("23 février 2026") == dt.date(2026, 2, 23)
    assert parse_date("1er mars 2026") == dt.date(2026, 3, 1)
    assert parse_date("hier", TODAY) == dt.date(2026, 11, 22)


def test_slashes_are_day_first_us_order_only_when_unambiguous() -> None:
    assert parse_date("03/04/2026") == dt.date(2026, 4, 3)
    assert parse_date("11/23/2026") == dt.date(2026, 11, 23)  # no 23rd month: month first
    assert parse_date("2026/11/23") == dt.date(2026, 11, 23)


def test_dates_with_of_and_de() -> None:
    assert parse_date("the 23rd of November 2026") == dt.date(2026, 11, 23)
    assert parse_date("23 de novembre 2026") == dt.date(2026, 11, 23)


@pytest.mark.parametrize("text", ["31/02/2026", "soon", "23 brumaire 2026", "2026-13-01", "12345"])
def test_not_dates(text: str) -> None:
    assert parse_date(text, TODAY) is None


def test_a_pasted_log_is_understood_quickly() -> None:
    import random
    import string
    import time

    rng = random.Random(1)
    words = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))
        for _ in range(8000)
    ]
    started = time.perf_counter()
    assert understand(" ".join(words)).intent is Intent.QUESTION
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("I accept the terms", True),
        ("j'accepte les conditions générales", True),
        ("I agree to the terms", True),
        ("je refuse les conditions", False),
        ("je n'accepte pas les conditions", False),
        ("i accept but not today", None),
    ],
)
def test_yes_or_no_phrase_followed_by_more_words(text: str, answer: bool | None) -> None:
    assert parse_yes_no(text) is answer
