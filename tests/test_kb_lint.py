"""`kb lint`: a clean KB passes; each kind of broken article fails with its file:line message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from kb.lint import lint

FIXTURES = Path(__file__).parent / "fixtures" / "kb"
REPO_ARTICLES = Path(__file__).resolve().parent.parent / "kb" / "articles"


@pytest.fixture
def articles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "articles"
    shutil.copytree(FIXTURES, target)
    monkeypatch.setenv("HELPDESK_KB_DIR", str(target))
    return target


def _messages(articles: Path) -> list[str]:
    return [str(p).replace(f"{articles}/", "") for p in lint(articles).problems]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_clean_kb_passes_with_a_summary(articles: Path) -> None:
    result = CliRunner().invoke(cli, ["kb", "lint"])
    assert result.exit_code == 0, result.output
    assert "OK: 6 articles, 3 slugs" in result.output


def test_shipped_articles_pass_lint() -> None:
    if not any(REPO_ARTICLES.glob("*.md")):
        pytest.skip("no shipped article yet")
    report = lint(REPO_ARTICLES)
    assert report.problems == []
    assert report.articles >= 2


def test_yaml_error_points_at_its_line(articles: Path) -> None:
    _edit(articles / "payment-security.en.md", "title: How is my", "title: Card: how is my")
    messages = _messages(articles)
    assert any(
        m.startswith("payment-security.en.md:4: front matter is not valid YAML") for m in messages
    ), messages


def test_missing_field(articles: Path) -> None:
    _edit(articles / "payment-security.en.md", "title: How is my credit card data protected?\n", "")
    assert "payment-security.en.md:1: missing field 'title'" in _messages(articles)


def test_wrongly_typed_field(articles: Path) -> None:
    _edit(
        articles / "payment-security.en.md",
        "questions:\n  - Is my credit card safe with you?\n  - Do you store my card number?\n",
        "questions: Is my credit card safe with you?\n",
    )
    assert "payment-security.en.md:5: field 'questions' must be a list of texts" in _messages(
        articles
    )


def test_slug_not_matching_the_file_name(articles: Path) -> None:
    _edit(articles / "payment-security.en.md", "slug: payment-security", "slug: card-security")
    messages = _messages(articles)
    assert (
        "payment-security.en.md:2: slug 'card-security' does not match the file name payment-security.en.md"
        in messages
    )


def test_lang_not_matching_the_file_name(articles: Path) -> None:
    _edit(articles / "payment-security.en.md", "lang: en", "lang: fr")
    assert (
        "payment-security.en.md:3: lang 'fr' does not match the file name payment-security.en.md"
        in _messages(articles)
    )


def test_lang_not_fr_or_en(articles: Path) -> None:
    shutil.move(articles / "payment-security.en.md", articles / "payment-security.de.md")
    _edit(articles / "payment-security.de.md", "lang: en", "lang: de")
    assert "payment-security.de.md:3: lang 'de' must be one of: fr, en" in _messages(articles)


def test_duplicate_slug_and_lang_across_folders(articles: Path) -> None:
    (articles / "billing").mkdir()
    shutil.copy(
        articles / "payment-security.en.md", articles / "billing" / "payment-security.en.md"
    )
    messages = _messages(articles)
    assert any(
        m.startswith("payment-security.en.md:1: duplicate article payment-security (en)")
        for m in messages
    ), messages


def test_missing_translation(articles: Path) -> None:
    (articles / "payment-security.fr.md").unlink()
    assert (
        "payment-security.en.md:1: missing translation: no 'fr' article for slug 'payment-security'"
        in _messages(articles)
    )


def test_unknown_related_slug(articles: Path) -> None:
    _edit(
        articles / "support-holidays.en.md",
        "related: [das-activate]",
        "related: [das-activate, holiday-list]",
    )
    assert "support-holidays.en.md:9: unknown related slug 'holiday-list'" in _messages(articles)


def test_empty_body(articles: Path) -> None:
    path = articles / "payment-security.en.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("---\n", 4) + 4] + "\n## Details\n", encoding="utf-8")
    assert "payment-security.en.md:11: empty body: write at least a first paragraph" in _messages(
        articles
    )


def test_cli_exits_1_with_file_line_messages(articles: Path) -> None:
    _edit(articles / "payment-security.en.md", "lang: en", "lang: fr")
    result = CliRunner().invoke(cli, ["kb", "lint"])
    assert result.exit_code == 1
    assert f"{articles / 'payment-security.en.md'}:3: lang 'fr' does not match" in result.output
    assert "problem(s)" in result.output


def test_new_scaffold_has_the_front_matter_and_lints_once_translated(articles: Path) -> None:
    runner = CliRunner()
    for lang in ("fr", "en"):
        result = runner.invoke(cli, ["kb", "new", "password-reset", "--lang", lang])
        assert result.exit_code == 0, result.output
    text = (articles / "password-reset.fr.md").read_text(encoding="utf-8")
    assert text.startswith("---\nslug: password-reset\nlang: fr\ntitle:")
    assert lint(articles).problems == []
    again = runner.invoke(cli, ["kb", "new", "password-reset", "--lang", "fr"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(cli, ["kb", "new", "Password Reset", "--lang", "fr"])
    assert bad.exit_code == 1 and "lower-case words" in bad.output


def test_a_phrasing_in_the_other_language(articles: Path) -> None:
    # In the English article, a French phrasing would make the lexical search claim short
    # French questions for English ("horaires du support?" answered in English).
    _edit(
        articles / "payment-security.en.md",
        "  - Do you store my card number?\n",
        "  - Do you store my card number?\n  - est-ce que vous gardez ma carte bancaire ?\n",
    )
    assert (
        "payment-security.en.md:8: question written in 'fr', not 'en': "
        "'est-ce que vous gardez ma carte bancaire ?'"
    ) in _messages(articles)
