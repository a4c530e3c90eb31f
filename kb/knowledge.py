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
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from whoosh.index import Index
from whoosh.searching import Searcher

from kb import index as kb_index
from kb.answer import Answer, confidence, confident
from kb.articles import LANGS, Article, ArticleRef, content_hash, load_articles
from kb.index import LanguageStats
from kb.lang import detect_language
from kb.search import Hit, LanguageSearch, Ranking

MAX_ALTERNATIVES = 3
# Below the answer threshold, articles still worth offering as "the closest articles":
# those that account for a fair part of the question, not any article sharing one word.
RELATED_MIN_CONFIDENCE = 0.3


@dataclass(frozen=True)
class _Loaded:
    version: str
    articles: dict[tuple[str, str], Article]
    ix: Index
    searcher: Searcher
    by_lang: dict[str, LanguageSearch]


def _all_known(ranking: Ranking) -> bool:
    return bool(ranking.words) and all(word.known for word in ranking.words)


class KnowledgeBase:
    def __init__(self, articles_dir: Path, index_dir: Path, default_lang: str = "en") -> None:
        self.articles_dir = Path(articles_dir)
        self.index_dir = Path(index_dir)
        self.default_lang = default_lang
        self._lock = threading.RLock()
        self._state: _Loaded | None = None

    @classmethod
    def open(
        cls,
        articles_dir: Path,
        index_dir: Path,
        *,
        default_lang: str = "en",
        progress: Callable[[int, int], None] | None = None,
    ) -> KnowledgeBase:
        """Open the KB, building its index first if it is missing or stale."""
        kb = cls(articles_dir, index_dir, default_lang)
        kb.reload(progress=progress)
        return kb

    # --- lifecycle ------------------------------------------------------------------------

    def reload(
        self, *, force: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> bool:
        """(Re)build if the articles changed, then switch to the published index."""
        version = content_hash(self.articles_dir)
        articles = {(a.slug, a.lang): a for a in load_articles(self.articles_dir).articles}
        built = kb_index.ensure(
            self.index_dir, version, lambda: list(articles.values()), force=force, progress=progress
        )
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
        )
        with self._lock:
            old, self._state = self._state, state
        if old is not None:
            old.searcher.close()
            old.ix.close()
        return built

    def reload_if_changed(self) -> bool:
        """For long-running processes: pick up edited articles. True if it switched."""
        if content_hash(self.articles_dir) == self.version:
            return False
        self.reload()
        return True

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._state.searcher.close()
                self._state.ix.close()
                self._state = None

    @property
    def _loaded(self) -> _Loaded:
        if self._state is None:
            raise RuntimeError("the knowledge base is closed")
        return self._state

    @property
    def version(self) -> str:
        return self._loaded.version

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

    def _rank(self, text: str, lang: str) -> Ranking:
        with self._lock:
            return self._loaded.by_lang[lang].rank(text)

    def _best_ranking(self, text: str, first: str | None) -> Ranking:
        """Rank in `first`'s fields; try the other language when that is not conclusive."""
        order = [first] if first else []
        order += [lang for lang in LANGS if lang not in order]
        rankings: list[Ranking] = []
        for lang in order:
            ranking = self._rank(text, lang)
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

    def search(
        self, query: str, lang: str | None = None, limit: int = 10
    ) -> list[tuple[ArticleRef, float]]:
        """Ranked articles for an editor's query, in `lang`'s fields (detected if None)."""
        search_lang = detect_language(query) or lang
        ranking = self._best_ranking(query, search_lang)
        return [
            (ArticleRef(hit.slug, hit.lang, hit.title), round(hit.score, 4))
            for hit in ranking.hits[: max(0, limit)]
        ]

    def ask(self, question: str, lang: str | None = None) -> Answer:
        """What the bot would answer. See the module docstring for the language rules."""
        detected = detect_language(question)
        ranking = self._best_ranking(question, detected or lang)
        best = ranking.best
        # Undetected language: the language whose fields matched the question best.
        answer_lang = lang or detected or (best.lang if best else self.default_lang)
        if best is None:
            return Answer(lang=answer_lang, answered=False, article=None, score=0.0)
        answered = confident(ranking)
        refs = self._distinct_refs(ranking.hits, answer_lang)
        if answered:
            return Answer(
                lang=answer_lang,
                answered=True,
                article=refs[0],
                score=round(confidence(best), 3),
                alternatives=refs[1 : 1 + MAX_ALTERNATIVES],
            )
        # Not sure: offer the closest articles, if any is close enough to be worth a look.
        related = [hit for hit in ranking.hits if confidence(hit) >= RELATED_MIN_CONFIDENCE]
        return Answer(
            lang=answer_lang,
            answered=False,
            article=None,
            score=round(confidence(best), 3),
            alternatives=self._distinct_refs(related, answer_lang)[:MAX_ALTERNATIVES],
        )

    def _distinct_refs(self, hits: tuple[Hit, ...] | list[Hit], lang: str) -> list[ArticleRef]:
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
