"""Hybrid search with the real encoder: meaning without shared words, the embedding cache,
out-of-scope questions, and the encoder offered to the rest of the bot.

The encoder is loaded once per test session (kb.encoder.default_encoder is process-wide).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from kb import KnowledgeBase
from kb.articles import Article
from kb.encoder import Encoder, Vectors, default_encoder
from kb.off_topic import OFF_TOPIC
from kb.semantic import EmbeddingCache, SemanticIndex, article_texts

FIXTURES = Path(__file__).parent / "fixtures" / "kb"
REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "kb" / "articles"


class CountingEncoder:
    """The real encoder, counting the texts it is asked to embed. Its own name keeps its
    cache keys apart from every other test's (nothing is found already embedded)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self._name = f"{inner.name}-counting-{uuid.uuid4().hex}"
        self.texts = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return self.inner.embed_passages(texts)


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    target = tmp_path / "articles"
    shutil.copytree(FIXTURES, target)
    return target


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    knowledge = KnowledgeBase.open(SHIPPED, tmp_path_factory.mktemp("index"))
    yield knowledge
    knowledge.close()


def test_the_cache_embeds_only_what_changed(articles: Path, tmp_path: Path) -> None:
    encoder = CountingEncoder(default_encoder())
    index_dir = tmp_path / "index"
    all_texts = sum(
        len(article_texts(a)) for a in KnowledgeBase.open(articles, tmp_path / "probe").articles()
    )
    first = KnowledgeBase.open(articles, index_dir, encoder=encoder)
    # The articles' texts, and the off-topic examples in the same cache.
    assert encoder.texts == all_texts + len(OFF_TOPIC)
    assert first.semantic.texts == all_texts
    first.close()

    # Another process starting on the same articles: everything comes from the disk.
    restarted = CountingEncoder(default_encoder())
    restarted._name = encoder.name
    KnowledgeBase.open(articles, index_dir, encoder=restarted).close()
    assert restarted.texts == 0

    # One article edited: one new question, its other texts unchanged.
    path = articles / "payment-security.en.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "  - Do you store my card number?\n",
            "  - Do you store my card number?\n  - Who sees my card details?\n",
        ),
        encoding="utf-8",
    )
    restarted.texts = 0
    edited = KnowledgeBase.open(articles, index_dir, encoder=restarted)
    assert restarted.texts == 1
    assert edited.semantic.texts == all_texts + 1
    assert edited.ask("Who sees my card details?").article.slug == "payment-security"
    edited.close()


def test_a_build_reports_its_progress_as_one_bar(articles: Path, tmp_path: Path) -> None:
    """The lexical index is written while the texts are embedded: the progress callback
    sees both as one count (articles indexed + texts embedded), rising to its total."""
    encoder = CountingEncoder(default_encoder())
    calls: list[tuple[int, int]] = []
    kb = KnowledgeBase.open(
        articles, tmp_path / "index", encoder=encoder, progress=lambda d, t: calls.append((d, t))
    )
    count = len(kb.articles())
    kb.close()
    assert calls[-1] == (count + encoder.texts, count + encoder.texts)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_paraphrase_sharing_no_word_with_the_article_finds_it(
    articles: Path, tmp_path: Path
) -> None:
    kb = KnowledgeBase.open(articles, tmp_path / "index")
    # Not one word of the question is in the article (title, questions, tags or body).
    question = "Can hackers steal my Visa number when I pay?"
    text = " ".join(
        [a.title + " " + " ".join(a.questions + a.tags) + " " + a.body for a in kb.articles()]
    ).lower()
    assert not [w for w in ("hackers", "steal", "visa") if w in text]
    answer = kb.ask(question)
    assert answer.reasons is not None and answer.reasons.best is not None
    assert answer.reasons.best.slug == "payment-security"
    assert answer.reasons.best.lexical < 0.1  # found by meaning, not by words
    # Meaning alone is not enough to answer outright (out-of-scope questions get as
    # close), but the article is the first one offered.
    shown = [ref.slug for ref in ([answer.article] if answer.article else [])]
    shown += [ref.slug for ref in answer.alternatives]
    assert shown[0] == "payment-security"
    kb.close()


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("quand est-ce que l'assistance est ouverte", "support-hours"),
        ("hw do i regsiter a prodcut", "product-registration"),
        ("how do I activer mon code DAS", "das-activate"),
    ],
)
def test_fresh_phrasings_from_the_issue_find_the_right_article_first(
    shipped: KnowledgeBase, question: str, slug: str
) -> None:
    answer = shipped.ask(question)
    assert answer.reasons is not None and answer.reasons.best is not None
    assert answer.reasons.best.slug == slug, answer.to_dict()
    shown = [ref.slug for ref in ([answer.article] if answer.article else [])]
    shown += [ref.slug for ref in answer.alternatives]
    assert shown and shown[0] == slug


@pytest.mark.parametrize(
    "question",
    [
        "quelle sera la météo demain à Bordeaux ?",
        "how do i make a pivot table in excel",
        "what is the status of my RMA?",
        "j'ai oublié mon mot de passe",
        "can you recommend a good pizza place",
    ],
)
def test_out_of_scope_questions_are_not_answered(shipped: KnowledgeBase, question: str) -> None:
    answer = shipped.ask(question)
    assert not answer.answered and answer.article is None, answer.to_dict()
    assert answer.clarify == []


def test_the_answer_says_why(shipped: KnowledgeBase) -> None:
    data = shipped.ask("how do i activate my DAS contract").to_dict()
    assert data["answered"] is True and data["article"]["slug"] == "das-activate"
    reasons = data["reasons"]
    assert reasons["decision"] == "answer"
    assert reasons["best"]["slug"] == "das-activate"
    assert 0 < reasons["lexical"] <= 1 and 0 < reasons["semantic"] <= 1
    assert reasons["runner_up"]["slug"] != "das-activate"
    assert reasons["runner_up"]["score"] <= reasons["score"]


def test_embed_gives_comparable_unit_vectors(shipped: KnowledgeBase) -> None:
    vectors = shipped.embed(
        ["I want to register a product", "je veux enregistrer un produit", "quel temps fait-il"]
    )
    assert vectors.shape == (3, shipped.encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    same, other = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert same > other


class TableEncoder:
    """Each text's vector chosen by the test: its cosine with the question (1, 0, 0)."""

    def __init__(self, cosines: dict[str, float]) -> None:
        self.cosines = cosines
        self._name = f"table-{uuid.uuid4().hex}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return 2

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        cosines = np.array([self.cosines.get(text, 0.0) for text in texts], dtype=np.float32)
        return np.stack([cosines, np.sqrt(1.0 - cosines**2)], axis=1)

    embed_passages = embed_queries


def _article(slug: str, title: str, questions: Sequence[str]) -> Article:
    path = Path(f"{slug}.en.md")
    return Article(slug, "en", title, tuple(questions), (), (), "", path)


def test_an_article_several_of_whose_phrasings_are_close_beats_one_stray_phrasing(
    tmp_path: Path,
) -> None:
    close = {f"close {i}": 0.95 for i in range(5)}
    stray = {"stray": 0.97} | {f"far {i}": 0.5 for i in range(4)}
    alone = {"alone": 0.9}
    encoder = TableEncoder(close | stray | alone | {"question": 1.0})
    index = SemanticIndex(
        [
            _article("consistent", "close 0", [f"close {i}" for i in range(1, 5)]),
            _article("lucky", "stray", [f"far {i}" for i in range(4)]),
            _article("short", "alone", []),
        ],
        EmbeddingCache(tmp_path, encoder),
    )
    sims = index.similarities(encoder.embed_queries(["question"])[0])
    ranked = index.search(sims)
    assert [hit.slug for hit in ranked] == ["consistent", "lucky", "short"]
    assert ranked[0].similarity == pytest.approx(0.95, abs=1e-6)
    # one close phrasing among far ones: held below its best cosine, never above
    assert 0.97 - 0.02 * np.log(5) - 1e-6 <= ranked[1].similarity < 0.95
    # an article with a single text is measured by that text alone
    assert index.similarity(sims, "short") == pytest.approx(0.9, abs=1e-6)
