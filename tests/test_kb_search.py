"""KnowledgeBase on small fixture articles: answers, languages, refusals, the public API."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb import Answer, Article, ArticleRef, KnowledgeBase, detect_language
from kb.analysis import analyse

FIXTURES = Path(__file__).parent / "fixtures" / "kb"


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    target = tmp_path / "articles"
    shutil.copytree(FIXTURES, target)
    return target


@pytest.fixture
def kb(articles: Path, tmp_path: Path) -> Iterator[KnowledgeBase]:
    knowledge = KnowledgeBase.open(articles, tmp_path / "index")
    yield knowledge
    knowledge.close()


def _answered(answer: Answer) -> tuple[str, str] | None:
    return (
        (answer.article.slug, answer.article.lang) if answer.answered and answer.article else None
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Comment activer mon contrat DAS ?", ("das-activate", "fr")),
        ("comment activer mon contrat das", ("das-activate", "fr")),  # no accents, no capitals
        (
            "ou saisir mon code dactivation das",
            ("das-activate", "fr"),
        ),  # elision typed without apostrophe
        ("How do I activate my DAS service contract?", ("das-activate", "en")),
        ("how do i activte my das contract", ("das-activate", "en")),  # typo
        ("Le support est-il fermé à Noël ?", ("support-holidays", "fr")),
        ("le support est il ferme a noel", ("support-holidays", "fr")),
        ("Is support closed on Christmas day?", ("support-holidays", "en")),
        ("Is my credit card safe with you?", ("payment-security", "en")),
        ("ma carte bancaire est elle en securite", ("payment-security", "fr")),
    ],
)
def test_answers_the_right_article_in_the_question_language(
    kb: KnowledgeBase, question: str, expected: tuple[str, str]
) -> None:
    answer = kb.ask(question)
    assert _answered(answer) == expected
    assert answer.lang == expected[1]
    assert 0 < answer.score <= 1


@pytest.mark.parametrize(
    "question",
    [
        "How do I reset my password?",
        "Comment changer mon mot de passe ?",
        "What's the weather like in Paris today?",
        "Can you recommend a good pizza place?",
        "Quel est le prix d'un routeur ?",
    ],
)
def test_out_of_scope_questions_are_not_answered(kb: KnowledgeBase, question: str) -> None:
    answer = kb.ask(question)
    assert answer.answered is False
    assert answer.article is None


def test_answer_json_shape(kb: KnowledgeBase) -> None:
    data = kb.ask("Comment activer mon contrat DAS ?").to_dict()
    # The fields of the first version keep their meaning; the hybrid search added two.
    assert set(data) == {
        "lang",
        "answered",
        "article",
        "score",
        "alternatives",
        "clarify",
        "reasons",
    }
    assert data["article"] == {
        "slug": "das-activate",
        "lang": "fr",
        "title": "Comment activer un contrat de service D-Link Assist (DAS) ?",
    }
    assert all(set(alt) == {"slug", "lang", "title"} for alt in data["alternatives"])
    assert "das-activate" not in [alt["slug"] for alt in data["alternatives"]]
    refused = kb.ask("How do I reset my password?").to_dict()
    assert refused["answered"] is False and refused["article"] is None


def test_given_lang_sets_the_answer_language(kb: KnowledgeBase) -> None:
    """The conversation is in French, the customer pasted English: the French article."""
    answer = kb.ask("How do I activate my DAS contract?", lang="fr")
    assert _answered(answer) == ("das-activate", "fr")
    assert answer.lang == "fr"


def test_missing_translation_falls_back_to_the_other_language(
    articles: Path, tmp_path: Path
) -> None:
    (articles / "payment-security.fr.md").unlink()
    knowledge = KnowledgeBase.open(articles, tmp_path / "index2")
    try:
        answer = knowledge.ask("Is my credit card safe with you?", lang="fr")
        assert answer.lang == "fr"
        assert answer.article == ArticleRef(
            "payment-security", "en", "How is my credit card data protected?"
        )
    finally:
        knowledge.close()


def test_undetected_language_searches_both(kb: KnowledgeBase) -> None:
    assert detect_language("DAS activation") is None
    answer = kb.ask("DAS activation")
    assert answer.answered and answer.article is not None
    assert answer.article.slug == "das-activate"


def test_search_ranks_and_limits(kb: KnowledgeBase) -> None:
    results = kb.search("jours fériés noël", limit=2)
    assert 1 <= len(results) <= 2
    ref, score = results[0]
    assert (ref.slug, ref.lang) == ("support-holidays", "fr") and score > 0
    assert kb.search("jours fériés", limit=0) == []
    english = kb.search("holidays", lang="en")
    assert english[0][0].slug == "support-holidays" and english[0][0].lang == "en"


def test_article_accessors(kb: KnowledgeBase, articles: Path) -> None:
    article = kb.article("das-activate", "en")
    assert isinstance(article, Article)
    assert article.title == "How do I activate a D-Link Assist (DAS) service contract?"
    assert article.questions[0] == "How can I activate my DAS contract?"
    assert article.tags == ("das", "activation", "service contract")
    assert article.related == ("support-holidays",)
    assert article.summary.startswith("Accept the D-Link Assist terms")
    assert "## Details" in article.body
    assert article.path == articles / "das-activate.en.md"
    assert kb.article("das-activate", "de") is None
    assert kb.article("nothing", "fr") is None
    assert [(a.slug, a.lang) for a in kb.articles()][:2] == [
        ("das-activate", "en"),
        ("das-activate", "fr"),
    ]
    assert len(kb.articles()) == 6


def test_version_is_the_content_hash_and_changes_with_an_edit(
    kb: KnowledgeBase, articles: Path
) -> None:
    before = kb.version
    assert len(before) == 16
    assert kb.reload_if_changed() is False
    path = articles / "payment-security.en.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Braintree", "Braintree (a PayPal company)")
    )
    assert kb.reload_if_changed() is True
    assert kb.version != before
    assert "PayPal" in (kb.article("payment-security", "en") or pytest.fail("article gone")).body


def test_new_article_becomes_searchable_after_reload(kb: KnowledgeBase, articles: Path) -> None:
    assert kb.ask("How do I reset my password?").answered is False
    for lang, title, body in (
        ("en", "How do I reset my password?", "Use the Forgot password link on the sign-in page."),
        ("fr", "Comment réinitialiser mon mot de passe ?", "Utilisez le lien Mot de passe oublié."),
    ):
        (articles / f"password-reset.{lang}.md").write_text(
            f"---\nslug: password-reset\nlang: {lang}\ntitle: {title}\nquestions:\n  - {title}\n"
            f"tags: [password]\nrelated: []\n---\n{body}\n",
            encoding="utf-8",
        )
    kb.reload_if_changed()
    assert _answered(kb.ask("How do I reset my password?")) == ("password-reset", "en")
    assert _answered(kb.ask("mot de passe oublie")) == ("password-reset", "fr")


def test_broken_articles_are_skipped_not_fatal(articles: Path, tmp_path: Path) -> None:
    (articles / "broken.en.md").write_text("---\nslug: [unclosed\n---\nBody\n", encoding="utf-8")
    knowledge = KnowledgeBase.open(articles, tmp_path / "index3")
    try:
        assert len(knowledge.articles()) == 6
        assert _answered(knowledge.ask("Is my credit card safe with you?")) == (
            "payment-security",
            "en",
        )
    finally:
        knowledge.close()


def test_french_analysis_meets_accented_and_bare_spellings() -> None:
    def terms(text: str) -> set[str]:
        return {term for word in analyse(text, "fr") for term in word.terms}

    assert terms("l'activation") == terms("activation")  # elision
    assert terms("d’activation") == terms("activation")  # typographic apostrophe
    assert terms("première réponse") & terms("premiere reponse") == terms("premiere reponse")
    assert terms("le la les des et est") == set()  # stop words, accented or not
    assert terms("à été") == terms("a ete") == set()
    assert {"dlink", "link"} <= terms("D-Link")  # compounds are also joined, as customers type them


def test_english_analysis_stems_and_drops_stop_words() -> None:
    words = [w.surface for w in analyse("The services I activated doesn't show", "en")]
    assert words == ["services", "activated", "show"]
    assert analyse("services", "en")[0].terms == analyse("service", "en")[0].terms


@pytest.mark.parametrize("default_lang", ["en", "fr"])
def test_a_word_of_both_languages_is_answered_in_the_default_language(
    articles: Path, tmp_path: Path, default_lang: str
) -> None:
    knowledge = KnowledgeBase.open(articles, tmp_path / "index", default_lang=default_lang)
    try:
        answer = knowledge.ask("DAS")
    finally:
        knowledge.close()
    assert answer.lang == default_lang
    assert answer.article is not None and answer.article.lang == default_lang


def _article(directory: Path, slug: str, title: str, questions: list[str]) -> None:
    listed = "\n".join(f"  - {q}" for q in questions)
    (directory / f"{slug}.en.md").write_text(
        f"---\nslug: {slug}\nlang: en\ntitle: {title}\nquestions:\n{listed}\ntags: []\n"
        f"related: []\n---\nThe short answer.\n",
        encoding="utf-8",
    )


def test_words_spread_over_many_phrasings_cover_less_than_one_phrasing_holding_them(
    tmp_path: Path,
) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    # Both articles hold every word of the question somewhere; only one holds them together.
    _article(
        articles,
        "spread",
        "Which lights does my access point show?",
        ["new firmware released", "warehouse inventory", "account settings"],
    )
    _article(
        articles,
        "together",
        "Where do I record hardware?",
        ["warehouse inventory of a new access point", "account settings"],
    )
    knowledge = KnowledgeBase.open(articles, tmp_path / "index")
    try:
        decision, _lang = knowledge.decide("new access point in the warehouse inventory")
        lexical = {candidate.slug: candidate.lexical for candidate in decision.ranked}
    finally:
        knowledge.close()
    assert lexical["together"] > lexical["spread"] + 0.2
