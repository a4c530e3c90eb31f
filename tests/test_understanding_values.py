"""Values read from a message like a person would: models, serials, codes, dates, incident
numbers, postal codes, subscriptions."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dates import parse_date
from bot.understanding.values import extract
from bot.understanding.when import dates_in, read_date

TODAY = dt.date(2026, 11, 29)
MODELS = ("DGS-1210-28", "DGS-3630-28TC", "DXS-1210-12SC", "DIR-X5460", "DAP-2662", "DNS-340L")
SUBSCRIPTIONS = ("Nuclias Cloud Basic", "Nuclias Cloud Pro", "OneTouch AT.com", "LinkSprinter.com")


def values(text: str):
    found, _ = extract(text, today=TODAY, catalogue_models=MODELS, subscriptions=SUBSCRIPTIONS)
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("le 12 novembre", dt.date(2026, 11, 12)),
        ("le 12 décembre", dt.date(2025, 12, 12)),  # no year, a purchase: the last one past
        ("demain", dt.date(2026, 11, 30)),
        ("tomorrow", dt.date(2026, 11, 30)),
        ("hier", dt.date(2026, 11, 28)),
        ("12/11/2026", dt.date(2026, 11, 12)),  # day first
        ("11/23/2026", dt.date(2026, 11, 23)),  # only one reading: month first
        ("2024-08-19", dt.date(2024, 8, 19)),
        ("1er février 2026", dt.date(2026, 2, 1)),
        ("Nov 3rd, 2025", dt.date(2025, 11, 3)),
        ("il y a 3 jours", dt.date(2026, 11, 26)),
        ("last week", dt.date(2026, 11, 22)),
        ("la semaine dernière", dt.date(2026, 11, 22)),
        # TODAY is a Sunday: the last Tuesday was five days before, the last Sunday seven.
        ("mardi dernier", dt.date(2026, 11, 24)),
        ("dimanche dernier", dt.date(2026, 11, 22)),
        ("la semaine passée", dt.date(2026, 11, 22)),
        ("samedi", dt.date(2026, 11, 28)),  # alone: this week's (the past)
        ("dimanche", TODAY),
        ("last sunday", dt.date(2026, 11, 22)),
        ("since Saturday", dt.date(2026, 11, 28)),
        ("il y a deux semaines", dt.date(2026, 11, 15)),
        ("three days ago", dt.date(2026, 11, 26)),
    ],
)
def test_dates_read_like_a_person(text: str, expected: dt.date) -> None:
    assert read_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("05/11", dt.date(2026, 11, 5)), ("24/12", dt.date(2025, 12, 24)), ("31/02", None)],
)
def test_a_day_and_a_month_answering_a_date_question(text: str, expected: dt.date | None) -> None:
    assert parse_date(text, TODAY) == expected


def test_a_day_and_a_month_in_a_sentence_only_after_a_word_for_a_date() -> None:
    assert [d.value for d in dates_in("je l'ai acheté le 05/11", TODAY)] == [dt.date(2026, 11, 5)]
    assert dates_in("is support 24/7?", TODAY) == ()
    assert dates_in("is support open monday to friday?", TODAY) == ()
    assert [d.value for d in dates_in("ça plante depuis samedi", TODAY)] == [dt.date(2026, 11, 28)]


def test_a_code_is_never_taken_for_a_model() -> None:
    found = values("activate my code ABCD-1234-EFGH")
    assert found.model is None and found.code == "ABCD1234EFGH"


@pytest.mark.parametrize(
    "text",
    [
        "non attends, le numéro de série c'est S3TC-2700-04512",
        "le numero de serie c est S3TC 2700 04512",  # the apostrophe typed as a space
        "enregistrer mon DGS-3630-28TC, le numéro est S3TC 2700 04512",
    ],
)
def test_a_serial_after_its_name_and_a_verb(text: str) -> None:
    assert values(text).serial == "S3TC270004512"


def test_relative_dates_are_found_inside_a_sentence() -> None:
    assert [d.value for d in dates_in("I bought it last month", TODAY)] == [dt.date(2026, 10, 29)]
    assert [d.value for d in dates_in("livré demain matin", TODAY)] == [dt.date(2026, 11, 30)]


def test_dates_are_found_inside_a_sentence_and_not_in_durations() -> None:
    found = dates_in("acheté le 5 janvier, activé après 2 heures, code valable 90 jours", TODAY)
    assert [d.value for d in found] == [dt.date(2026, 1, 5)]
    assert read_date("31/02/2026", TODAY) is None


def test_registration_values_in_one_message() -> None:
    found = values("register my DGS-3630-28TC serial S3XY1A2004242 bought 12/11/2026")
    assert found.model is not None and found.model.model == "DGS-3630-28TC"
    assert found.serial == "S3XY1A2004242"
    assert found.date == dt.date(2026, 11, 12)


def test_serial_typed_in_groups_is_joined_and_normalised() -> None:
    found = values("enregistre mon dir-x5460 sn R4AB 1C30 0988 acheté le 5 janvier")
    assert found.model is not None and found.model.model == "DIR-X5460"
    assert found.serial == "R4AB1C300988"
    assert found.date == dt.date(2026, 1, 5)


@pytest.mark.parametrize(
    ("typed", "model"),
    [
        ("dgs3630", "DGS-3630-28TC"),
        ("DGS 1210-28", "DGS-1210-28"),
        ("dir-x5460", "DIR-X5460"),
        ("DNS340L", "DNS-340L"),
        ("DGS-1210", "DGS-1210-28"),  # a unique beginning names its model
    ],
)
def test_models_without_dashes_match_the_catalogue(typed: str, model: str) -> None:
    found = values(f"please register my {typed} today")
    assert found.model is not None
    assert found.model.model == model
    assert found.model.text.casefold() == typed.casefold()


def test_an_ambiguous_or_unknown_model_is_kept_as_written() -> None:
    catalogue = ("DGS-1210-28", "DGS-1210-52", "DIR-X5460")
    found, _ = extract("register my dgs1210 please", today=TODAY, catalogue_models=catalogue)
    assert found.model is not None and found.model.model is None
    assert found.model.candidates == ("DGS-1210-28", "DGS-1210-52")
    # The beginning of a group names nothing: "dgs12" is not DGS-1210-….
    assert values("register my dgs12 please").model is None
    unknown = values("register my DGS-1100-10").model
    assert unknown is not None and unknown.model is None and unknown.text == "DGS-1100-10"


def test_activation_code_and_product_in_one_message() -> None:
    found = values("activate code NBD3-7KQ2-A9XM on my DGS-1210")
    assert found.code == "NBD37KQ2A9XM"
    assert found.model is not None and found.model.text == "DGS-1210"


def test_code_shapes_and_keywords() -> None:
    assert values("activer mon code NBD3 7KQ2 A9XM").code == "NBD37KQ2A9XM"
    assert values("activation DAS pour le DAP-2662, code ONS5-Q8WE-7TZR").code == "ONS5Q8WE7TZR"
    assert values("my activation code is expired what can i do").code is None


@pytest.mark.parametrize(
    ("text", "number", "how"),
    [
        ("where is INC-000002", 2, "number"),
        ("status of inc 17", 17, "number"),
        ("incident 2 please", 2, "word"),
        ("où en est le ticket 2 ?", 2, "word"),
        ("quel est le statut du dossier n° 14", 14, "word"),
        ("any news about #4?", 4, "hash"),
    ],
)
def test_incident_numbers_when_the_message_refers_to_one(text: str, number: int, how: str) -> None:
    ref = values(text).incident
    assert ref is not None and (ref.number, ref.how) == (number, how)


@pytest.mark.parametrize(
    "text",
    [
        "my incident has no answer after 2 hours",
        "incident ouvert depuis 3 jours",
        "my ticket was answered in 2 hours",
        "I have 2 switches",
        "type 2 subscription",
    ],
)
def test_numbers_that_refer_to_no_incident(text: str) -> None:
    assert values(text).incident is None


def test_postal_code_inside_a_sentence() -> None:
    assert values("mon code postal est 33000").postal_code == "33000"
    assert values("my postcode is SW1A 1AA").postal_code == "SW1A 1AA"
    assert values("zip: 10001").postal_code == "10001"
    assert values("I waited 33000 seconds").postal_code is None


def test_subscriptions_however_written() -> None:
    assert values("problem with onetouch at.com today").subscription == "OneTouch AT.com"
    assert values("linksprinter.com n'affiche plus rien").subscription == "LinkSprinter.com"
    assert values("Nuclias Cloud Pro is down").subscription == "Nuclias Cloud Pro"
    # A web name is also said without its ending; a part of a name names nothing.
    assert values("I use a linksprinter").subscription == "LinkSprinter.com"
    assert values("my link is down").subscription is None


def test_slots_by_flow_slot_names() -> None:
    found = values("register my DGS-3630-28TC serial S3XY1A2004242 bought 12/11/2026")
    assert found.slots() == {
        "model": "DGS-3630-28TC",
        "serial": "S3XY1A2004242",
        "purchase_date": "2026-11-12",
    }
