"""Language detection: right on real sentences, silent (None) when it cannot be sure."""

from __future__ import annotations

import pytest

from kb import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Comment activer mon contrat DAS ?", "fr"),
        ("comment activer mon contrat das", "fr"),
        ("Parlez-vous français ?", "fr"),
        ("C'est quoi le programme Gold ?", "fr"),
        ("jai pas recu de code dactivation", "fr"),
        ("Le support est-il disponible 24h/24 ?", "fr"),
        ("mot de passe oublie", "fr"),
        ("How do I activate a D-Link Assist service?", "en"),
        ("Is my credit card safe with you?", "en"),
        ("Which days is support closed?", "en"),
        ("cant find my product in the activation list", "en"),
        ("what is gold support", "en"),
    ],
)
def test_detects_sentences(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ok",
        "OK!",
        "oui",
        "merci",
        "thanks",
        "yes",
        "AB12-345-XYZ",
        "2026-11-25",
        "25/11/2026",
        "INC-000123",
        "DAS",
        "Gold",
        "???",
        "👍",
        "12345",
        # Three bare keywords, no clue either way: the model's guess is not trusted.
        "prerequis activation das",
        "minimum billing period",
        # Names and identifiers are no words of either language.
        "incident OneTouch AT.com port 3 KO",
    ],
)
def test_too_little_evidence_gives_none(text: str) -> None:
    assert detect_language(text) is None


def test_identifiers_do_not_outvote_the_words_around_them() -> None:
    assert detect_language("activer code sur QBQE160012345") == "fr"
    assert detect_language("activer NBD3-7KQ2-A9XM sur QBQE160012345") == "fr"
    assert detect_language("problem with OneTouch AT.com: the test fails") == "en"


def test_a_clue_of_one_language_wins_over_names_and_technical_words() -> None:
    assert detect_language("incident sur linksprinter : DHCP timeout") == "fr"
    assert detect_language("incident sur linksprinter") == "fr"
