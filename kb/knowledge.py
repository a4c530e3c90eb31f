"""KnowledgeBase: the one object the rest of the bot uses to ask the KB anything.

    kb = KnowledgeBase.open(articles_dir, index_dir)   # builds the index if missing or stale
    kb.ask("comment activer mon contrat das ?")        # -> Answer

Languages. `ask(text, lang=None)` detects the language of the text. When the caller
passes `lang` (the language the conversation is held in), the answer is in that language,
but the search uses the detected language when the text is clearly in the other one:
stems and stop words only work in the language the words are written in. When nothing
can be detected ("DAS gold?"), both languages are searched and the better match wins.
If the chosen language's fields give no confident answer, the other language's fields
are tried too (customers mix languages: "activation DAS contrat"). The article returned is
the translation in the answer language when it exists, else the one found.

Search is hybrid: the lexical ranking (Whoosh, kb.search) and the semantic one (a sentence
encoder over what each article answers, kb.semantic) are fused and the decision to
answer, to ask which of two articles is meant, or to say there is no answer is taken from
both signals (kb.decision). The encoder is also offered to the rest of the bot
(`embed`): recognising what a message asks from example phrasings uses the same one.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh.index import Index
from whoosh.searching import Searcher

from kb import index as kb_index
from kb.answer import Answer, Reasons, confidence, confident
from kb.articles import LANGS, Article, ArticleRef, content_hash, load_articles
from kb.decision import DEFAULT, Candidate, Decision, Params, Verdict, decide
from kb.encoder import Encoder, Vectors, default_encoder
from kb.index import LanguageStats
from kb.lang import detect_language
from kb.off_topic import OFF_TOPIC
from kb.search import LanguageSearch, Ranking
from kb.semantic import CACHE_DIR, EmbeddingCache, SemanticIndex

MAX_ALTERNATIVES = 3
# Semantic candidates fetched per question (the lexical ones come from kb.search).
SEMANTIC_CANDIDATES = 10
# Question vectors kept per process: customers ask the same things again and again, and
# embedding a question is most of the time an answer takes.
QUERY_CACHE = 2048


@dataclass(frozen=True)
class _Loaded:
    version: str
    articles: dict[tuple[str, str], Article]
    ix: Index
    searcher: Searcher
    by_lang: dict[str, LanguageSearch]
    semantic: SemanticIndex


class _Shares:
    """Parts of one build, each reporting (done, total) from its own thread, summed into
    one progress callback."""

    def __init__(self, progress: Callable[[int, int], None] | None) -> None:
        self._progress = progress
        self._parts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def part(self, name: str) -> Callable[[int, int], None] | None:
        if self._progress is None:
            return None
        progress = self._progress

        def update(done: int, total: int) -> None:
            with self._lock:
                self._parts[name] = (done, total)
                progress(
                    sum(d for d, _ in self._parts.values()),
                    sum(t for _, t in self._parts.values()),
                )

        return update


def _all_known(ranking: Ranking) -> bool:
    return bool(ranking.words) and all(word.known for word in ranking.words)


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text[:500])


class KnowledgeBase:
    def __init__(
        self,
        articles_dir: Path,
        index_dir: Path,
        default_lang: str = "en",
        *,
        encoder: Encoder | None = None,
        params: Params = DEFAULT,
        query_cache: int = QUERY_CACHE,
    ) -> None:
        self.articles_dir = Path(articles_dir)
        self.index_dir = Path(index_dir)
        self.default_lang = default_lang
        self.params = params
        self._encoder = encoder
        self._query_cache_size = query_cache
        self._query_vectors: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.RLock()
        # One switch at a time (a periodic check and an editor's publish may race).
        self._switch_lock = threading.Lock()
        self._state: _Loaded | None = None
        # The state before the last switch stays open: a question that started on it
        # finishes on it (each question reads one state, whole, old or new).
        self._previous: _Loaded | None = None

    @classmethod
    def open(
        cls,
        articles_dir: Path,
        index_dir: Path,
        *,
        default_lang: str = "en",
        progress: Callable[[int, int], None] | None = None,
        encoder: Encoder | None = None,
    ) -> KnowledgeBase:
        """Open the KB, building its index first if it is missing or stale."""
        kb = cls(articles_dir, index_dir, default_lang, encoder=encoder)
        kb.reload(progress=progress)
        return kb

    # --- lifecycle ------------------------------------------------------------------------

    def reload(
        self,
        *,
        force: bool = False,
        progress: Callable[[int, int], None] | None = None,
        articles_dir: Path | None = None,
    ) -> bool:
        """(Re)build if the articles changed, then switch to the new index. With
        `articles_dir`, serve the articles of that directory from now on (a published
        version's files)."""
        with self._switch_lock:
            return self._reload(force, progress, Path(articles_dir or self.articles_dir))

    def _reload(
        self, force: bool, progress: Callable[[int, int], None] | None, articles_dir: Path
    ) -> bool:
        version = content_hash(articles_dir)
        articles = {(a.slug, a.lang): a for a in load_articles(articles_dir).articles}
        loaded = list(articles.values())
        # The lexical index is written while the texts are embedded: Whoosh is Python and
        # holds the GIL, the encoder's runs release it, so the two overlap on the cores.
        # Progress adds up both: articles indexed, texts embedded.
        shares = _Shares(progress)
        with ThreadPoolExecutor(1, thread_name_prefix="kb-index") as pool:
            lexical = pool.submit(
                kb_index.ensure,
                self.index_dir,
                version,
                lambda: loaded,
                force=force,
                progress=shares.part("lexical"),
            )
            # Vectors are cached by content beside the index: only changed texts are embedded.
            semantic = SemanticIndex(
                loaded,
                EmbeddingCache(self.index_dir / CACHE_DIR, self.encoder),
                progress=shares.part("semantic"),
                off_topic=OFF_TOPIC,
            )
            built = lexical.result()
        ix, pointer, stats = kb_index.open_current(self.index_dir)
        searcher = ix.searcher()
        state = _Loaded(
            version=pointer.version,
            articles=articles,
            ix=ix,
            searcher=searcher,
            by_lang={
                lang: LanguageSearch(searcher, lang, stats.get(lang, LanguageStats()))
                for lang in LANGS
            },
            semantic=semantic,
        )
        with self._lock:
            oldest, self._previous, self._state = self._previous, self._state, state
            self.articles_dir = articles_dir
        if oldest is not None:
            oldest.searcher.close()
            oldest.ix.close()
        return built

    def reload_if_changed(self) -> bool:
        """For long-running processes: pick up edited articles. True if it switched."""
        if content_hash(self.articles_dir) == self.version:
            return False
        self.reload()
        return True

    def close(self) -> None:
        with self._lock:
            for state in (self._state, self._previous):
                if state is not None:
                    state.searcher.close()
                    state.ix.close()
            self._state = self._previous = None

    @property
    def _loaded(self) -> _Loaded:
        if self._state is None:
            raise RuntimeError("the knowledge base is closed")
        return self._state

    @property
    def version(self) -> str:
        return self._loaded.version

    @property
    def encoder(self) -> Encoder:
        """The sentence encoder the search uses (loaded once per process)."""
        if self._encoder is None:
            self._encoder = default_encoder()
        return self._encoder

    @property
    def semantic(self) -> SemanticIndex:
        return self._loaded.semantic

    def embed(self, texts: list[str]) -> Vectors:
        """Unit vectors for short texts (messages, example phrasings), one row each: the
        dot product of two rows is their similarity (-1..1; related texts score about 0.8
        and up with the shipped encoder)."""
        return self.encoder.embed_queries(texts)

    # --- articles -------------------------------------------------------------------------

    def article(self, slug: str, lang: str) -> Article | None:
        return self._loaded.articles.get((slug, lang))

    def articles(self) -> list[Article]:
        return sorted(self._loaded.articles.values(), key=lambda a: (a.slug, a.lang))

    def _ref(self, slug: str, lang: str) -> ArticleRef | None:
        """The article in `lang`, else in the other language."""
        for candidate in (lang, *[other for other in LANGS if other != lang]):
            article = self.article(slug, candidate)
            if article is not None:
                return article.ref
        return None

    # --- search ---------------------------------------------------------------------------

    def _rank(self, state: _Loaded, text: str, lang: str) -> Ranking:
        with self._lock:  # a Whoosh searcher is not shared between threads at once
            return state.by_lang[lang].rank(text)

    def _best_ranking(self, state: _Loaded, text: str, first: str | None) -> Ranking:
        """Rank in `first`'s fields; try the other language when that is not conclusive."""
        order = [first] if first else []
        order += [lang for lang in LANGS if lang not in order]
        rankings: list[Ranking] = []
        for lang in order:
            ranking = self._rank(state, text, lang)
            if first and lang == first and (confident(ranking) or _all_known(ranking)):
                # Every word exists in this language's articles: the other language's
                # fields cannot explain the question better. Saves a second search.
                return ranking
            rankings.append(ranking)

        def strength(ranking: Ranking) -> tuple[float, int]:
            best = ranking.best
            # A tie (same words in both languages: "gold", "das") goes to the language
            # asked for, else the bot's default language, never to the first in LANGS.
            preferred = 1 if ranking.lang == (first or self.default_lang) else 0
            return (confidence(best) if best else -1.0, preferred)

        return max(rankings, key=strength)

    def decide(self, question: str, lang: str | None = None) -> tuple[Decision, str]:
        """The fused ranking and the decision for a question, and the answer language."""
        detected = detect_language(question)
        if not _has_words(question):
            return Decision(Verdict.NONE, ()), lang or detected or self.default_lang
        with self._lock:
            state = self._loaded  # the whole question is answered from this one state
        ranking = self._best_ranking(state, question, detected or lang)
        lexical: dict[str, tuple[float, str]] = {}
        for hit in ranking.hits:
            if hit.slug not in lexical:
                lexical[hit.slug] = (confidence(hit), hit.lang)
        query = self._query_vector(_corrected(question, ranking))
        semantic = state.semantic
        sims = semantic.similarities(query)
        affinity = semantic.affinities(query)
        candidates: dict[str, Candidate] = {}
        for near in semantic.search(sims, SEMANTIC_CANDIDATES):
            lex, _lang = lexical.get(near.slug, (0.0, near.lang))
            candidates[near.slug] = Candidate(
                near.slug, near.lang, lex, near.similarity, affinity.get(near.slug, 0.0)
            )
        for slug, (lex, hit_lang) in lexical.items():
            if slug not in candidates:
                similarity = semantic.similarity(sims, slug)
                candidates[slug] = Candidate(
                    slug, hit_lang, lex, similarity, affinity.get(slug, 0.0)
                )
        decision = decide(
            candidates.values(), self.params, off_topic=semantic.off_topic_similarity(query)
        )
        best = decision.best
        # Undetected language: the language whose fields matched the question's words best
        # (a tie goes to the default language), else that of the closest text in meaning.
        matched = ranking.lang if ranking.hits else best.lang if best else None
        answer_lang = lang or detected or matched or self.default_lang
        return decision, answer_lang

    def embed_cached(self, texts: list[str]) -> Vectors:
        """`embed` through the per-process question cache (one batch for those not in it):
        the editors' report embeds the same logged questions each time it is shown."""
        with self._lock:
            known = {t: v for t in texts if (v := self._query_vectors.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self.encoder.embed_queries(missing), strict=True))
            with self._lock:
                for text in missing:
                    self._query_vectors[text] = known[text]
                while len(self._query_vectors) > max(self._query_cache_size, 0):
                    self._query_vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([known[t] for t in texts])

    def _query_vector(self, question: str) -> Vectors:
        with self._lock:
            vector = self._query_vectors.get(question)
            if vector is not None:
                self._query_vectors.move_to_end(question)
                return vector
        vector = self.encoder.embed_queries([question])[0]
        if self._query_cache_size:
            with self._lock:
                self._query_vectors[question] = vector
                if len(self._query_vectors) > self._query_cache_size:
                    self._query_vectors.popitem(last=False)
        return vector

    def search(
        self, query: str, lang: str | None = None, limit: int = 10
    ) -> list[tuple[ArticleRef, float]]:
        """Ranked articles for an editor's query, as the bot ranks them (fused score)."""
        decision, _answer_lang = self.decide(query)
        results: list[tuple[ArticleRef, float]] = []
        for candidate in decision.ranked[: max(0, limit)]:
            ref = self._ref(candidate.slug, lang or candidate.lang)
            if ref is not None:
                results.append((ref, round(candidate.score, 4)))
        return results

    def ask(self, question: str, lang: str | None = None) -> Answer:
        """What the bot would answer. See the module docstring for the language rules."""
        decision, answer_lang = self.decide(question, lang)
        best = decision.best
        score = round(best.score, 3) if best else 0.0
        reasons = Reasons.of(decision)
        refs = self._distinct_refs(decision.ranked, answer_lang)
        if decision.verdict is Verdict.ANSWER:
            return Answer(
                lang=answer_lang,
                answered=True,
                article=refs[0],
                score=score,
                alternatives=refs[1 : 1 + MAX_ALTERNATIVES],
                reasons=reasons,
            )
        if decision.verdict is Verdict.CLARIFY:
            pair = self._distinct_refs(decision.clarify, answer_lang)
            return Answer(
                lang=answer_lang,
                answered=False,
                article=None,
                score=score,
                alternatives=pair,
                clarify=pair,
                reasons=reasons,
            )
        # Not sure: offer the closest articles, if any is close enough to be worth a look.
        related = self._distinct_refs(decision.related(self.params), answer_lang)
        return Answer(
            lang=answer_lang,
            answered=False,
            article=None,
            score=score,
            alternatives=related[:MAX_ALTERNATIVES],
            reasons=reasons,
        )

    def _distinct_refs(
        self, hits: tuple[Candidate, ...] | list[Candidate], lang: str
    ) -> list[ArticleRef]:
        refs: list[ArticleRef] = []
        seen: set[str] = set()
        for hit in hits:
            if hit.slug in seen:
                continue
            seen.add(hit.slug)
            ref = self._ref(hit.slug, lang)
            if ref is not None:
                refs.append(ref)
        return refs


def _corrected(question: str, ranking: Ranking) -> str:
    """The question with the lexical search's surest spelling corrections applied: the
    encoder reads "how do I register a product" far better than "hw do i regsiter a
    prodcut". Only sure typos (one letter off, or the same letters swapped): a real word
    the KB does not know ("commande") must not become another ("commence")."""
    text = question
    for word in ranking.words:
        typed = word.corrected_from
        if typed and (word.edits <= 1 or sorted(typed) == sorted(word.surface)):
            text = re.sub(rf"\b{re.escape(typed)}\b", word.surface, text, flags=re.IGNORECASE)
    return text
