"""The catalogs are complete and current; texts are formatted for the user's locale and zone.

The source is extracted exactly as `make extract` does (same babel.cfg, same keywords)
into a temporary template, then compared with locales/fr and locales/en: a message in the
source missing from a catalog, an empty or placeholder-breaking French translation, or a
catalog entry the source no longer has, fails the build.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot.i18n import (
    LOCALES_DIR,
    ROOT,
    TEMPLATES_DIR,
    Texts,
    _environment,
    texts_for,
)
from bot.media import to_plain
from bot.replies import ProductItem
from services.errors import CodeExpired, CodeUnknown, FreeTierNoIncidents, PurchaseDateInFuture

KEYWORDS = ["N_", "_", "gettext", "ngettext:1,2", "lazy_gettext"]


@pytest.fixture(scope="module")
def source_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    pot = tmp_path_factory.mktemp("extract") / "messages.pot"
    args = [
        "pybabel",
        "-q",
        "extract",
        "-F",
        str(ROOT / "babel.cfg"),
        "--no-location",
        "-o",
        str(pot),
    ]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    CommandLineInterface().run([*args, str(ROOT)])
    with pot.open("rb") as handle:
        return read_po(handle)


def _catalog(lang: str) -> Catalog:
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {message.id for message in catalog if message.id}


def test_source_has_messages(source_catalog: Catalog) -> None:
    ids = _ids(source_catalog)
    assert "Please answer yes or no." in ids  # python, bot layer
    assert any(
        isinstance(i, str) and i.startswith("Activation code {code} does not exist") for i in ids
    )  # services
    assert "In which city?" in ids  # templates


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_source_message_is_in_the_catalog(source_catalog: Catalog, lang: str) -> None:
    missing = _ids(source_catalog) - _ids(_catalog(lang))
    assert not missing, f"run `make extract`, then translate: {sorted(map(str, missing))[:10]}"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_catalog_has_no_stale_messages(source_catalog: Catalog, lang: str) -> None:
    stale = _ids(_catalog(lang)) - _ids(source_catalog)
    assert not stale, f"run `make extract`: {sorted(map(str, stale))[:10]}"


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{\w+\}|%\(\w+\)s", text))


def test_french_translations_are_complete_and_keep_placeholders() -> None:
    problems = []
    for message in _catalog("fr"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"untranslated: {ids[0]}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]}")
        for string in strings:
            if _placeholders(string) != _placeholders(ids[0]):
                problems.append(f"placeholders differ: {ids[0]}")
    assert not problems, problems[:10]


def test_every_template_compiles() -> None:
    env = _environment("fr")
    names = [str(p.relative_to(TEMPLATES_DIR)) for p in TEMPLATES_DIR.rglob("*.j2")]
    assert names
    for name in names:
        env.get_template(name)


def test_templates_are_translated() -> None:
    fr = plain("fr").render("flows/ask_serial.j2", model="DGS-1210-28")
    en = plain("en").render("flows/ask_serial.j2", model="DGS-1210-28")
    assert fr.startswith("Quel est le numéro de série de votre DGS-1210-28")
    assert en.startswith("What is the serial number of your DGS-1210-28")


def test_plurals() -> None:
    items = [ProductItem("M", "N", "S", dt.date(2026, 11, 23), "")]
    assert (
        plain("fr")
        .render("lists/products.j2", items=items, count=1)
        .startswith("Vous avez 1 produit enregistré :")
    )
    two = plain("fr").render("lists/products.j2", items=items * 2, count=2)
    assert two.startswith("Vous avez 2 produits enregistrés :")


def test_dates_times_and_durations_follow_locale_and_zone() -> None:
    moment = dt.datetime(2026, 11, 28, 4, 0, tzinfo=dt.UTC)
    paris = texts_for("fr", "Europe/Paris")
    assert paris.datetime(moment).startswith("samedi 28 novembre 2026")
    assert "05:00" in paris.datetime(moment)
    new_york = texts_for("en", "America/New_York")
    assert new_york.datetime(moment).startswith("Friday, November 27, 2026")
    assert "11:00" in new_york.datetime(moment)
    assert paris.date(dt.date(2026, 2, 23)) == "23 février 2026"
    assert paris.duration(dt.timedelta(hours=24)).replace("\xa0", " ") == "24 heures"
    assert new_york.duration(dt.timedelta(hours=2)) == "2 hours"


def test_unknown_language_and_zone_fall_back() -> None:
    texts = texts_for("de-DE", "Mars/Olympus")
    assert (texts.lang, texts.tz) == ("en", "UTC")
    assert texts_for("fr-CA").lang == "fr"


class PlainTexts(Texts):
    """Texts as a plain-text medium shows them (rendering marks interpolated values)."""

    def render(self, template: str, **context: object) -> str:
        return to_plain(super().render(template, **context))

    def refusal(self, err: Exception) -> str:  # type: ignore[override]
        return to_plain(super().refusal(err))  # type: ignore[arg-type]


def plain(lang: str) -> PlainTexts:
    return PlainTexts(texts_for(lang).lang)


def test_refusals_are_translated_with_their_parameters() -> None:
    fr = plain("fr")
    expired = CodeExpired(deadline=dt.date(2026, 5, 24), purchase_date=dt.date(2026, 2, 23))
    assert fr.refusal(expired) == (
        "Ce code a expiré : il devait être utilisé au plus tard le 24 mai 2026, 90 jours après "
        "l’achat du service le 23 février 2026. Contactez votre fournisseur."
    )
    assert "May 24, 2026" in plain("en").refusal(expired)
    assert "1er décembre 2026" in fr.refusal(PurchaseDateInFuture(date=dt.date(2026, 12, 1)))
    assert fr.refusal(FreeTierNoIncidents(service="Nuclias Cloud Basic")).startswith(
        "Nuclias Cloud Basic est un abonnement gratuit"
    )


def test_codes_in_refusals_are_never_shown_whole() -> None:
    text = plain("en").refusal(CodeUnknown(code="ABCD-EFGH-1234"))
    assert "ABCD" not in text and "1234" in text
    assert text.count("****-****-1234") == 1  # the one masking format (services.das)
    assert "****-****-1234" in plain("en").refusal(CodeUnknown(code="****-****-1234"))


def test_catalog_sources_exist() -> None:
    for lang in ("fr", "en"):
        assert Path(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").is_file()


def test_french_writes_the_first_of_the_month_1er() -> None:
    fr = texts_for("fr", "Europe/Paris")
    assert fr.date(dt.date(2026, 11, 1)) == "1er novembre 2026"
    assert fr.date(dt.date(2026, 11, 11)) == "11 novembre 2026"
    assert fr.date(dt.date(2026, 11, 21)) == "21 novembre 2026"
    assert fr.datetime(dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)).startswith(
        "dimanche 1er novembre 2026, 11:00"
    )
    assert texts_for("en").date(dt.date(2026, 11, 1)) == "November 1, 2026"
