"""The Whoosh index: one schema, per-language fields, atomic rebuilds, safe across processes.

Layout of the index directory:

    CURRENT            {"generation": "gen-…", "version": "<content hash>", "format": N}
    gen-<version>-…/   one complete Whoosh index per build
    build.lock         filelock: one builder at a time, across processes

A build writes a new generation directory, and only when it is complete does CURRENT get
replaced (os.replace is atomic), so a reader in another process sees either the old index
or the new one, never a half-built one. A new generation starts as a copy of the
published one when the same code built it: only the articles whose digest changed are
analysed and indexed again (one edit in 10,000 articles re-indexes one), and the stats
take out the old version's counts (stored with each document) and add the new. The
previous generation is kept (a reader may still have it open); older ones are deleted.

Each article is one document. Its text goes only into the fields of its own language
(strong_fr = title + questions + tags, body_fr; or the _en ones), so a search restricted
to the customer's language fields never touches the other half of the KB. Two fields,
not four, because every query term costs one posting list per field. `strong_terms` and
`terms` (stored) hold the document's analysed terms, and `phrasings` (stored) those of
each phrasing apart (title, each question, the tags), used to measure how much of a
question an article covers. stats.json (see LanguageStats) sits in the generation
directory with the index it describes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import whoosh.index
from filelock import FileLock
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.index import EmptyIndexError, Index

from kb.analysis import analyse, make_analyzer
from kb.articles import LANGS, Article

# Bump when the schema changes: every existing index becomes stale.
INDEX_FORMAT = 9


def _analysis_fingerprint() -> str:
    """A hash of the code that decides which terms are indexed.

    An edit to the analysis or the synonyms must rebuild indexes built with the old
    terms, even when no article changed and nobody remembered to bump INDEX_FORMAT.
    """
    digest = hashlib.sha256(str(INDEX_FORMAT).encode())
    here = Path(__file__).resolve().parent
    for name in ("analysis.py", "synonyms.py", "index.py"):
        digest.update((here / name).read_bytes())
    return f"{INDEX_FORMAT}-{digest.hexdigest()[:12]}"


FORMAT = _analysis_fingerprint()
CURRENT_FILE = "CURRENT"
LOCK_FILE = "build.lock"
STATS_FILE = "stats.json"
# "strong" = title + questions + tags: short texts written to match questions.
TEXT_FIELDS: tuple[str, ...] = ("strong", "body")

Progress = Callable[[int, int], None]


def field_name(part: str, lang: str) -> str:
    return f"{part}_{lang}"


def make_schema() -> Schema:
    fields: dict[str, object] = {
        "key": ID(unique=True, stored=True),
        "slug": ID(stored=True),
        "lang": ID(stored=True),
        "title": STORED(),
        "strong_terms": STORED(),
        "terms": STORED(),
        "phrasings": STORED(),
        # What an incremental build needs to tell a changed article and to take its
        # old contribution out of the stats: its source's digest and its vocabulary.
        "digest": STORED(),
        "words": STORED(),
    }
    for lang in LANGS:
        analyzer = make_analyzer(lang)
        # Positions only where phrases matter (short, precise texts): a leaner index.
        fields[field_name("strong", lang)] = TEXT(analyzer=analyzer, phrase=True)
        fields[field_name("body", lang)] = TEXT(analyzer=analyzer, phrase=False)
    return Schema(**fields)


@dataclass
class LanguageStats:
    """Per-language figures kept beside the index (stats.json), loaded once per process.

    df, strong_df: in how many articles each index term occurs (any field; title,
    questions or tags): query weights and the query planner's posting counts, without a
    Whoosh term lookup per word.
    vocabulary: every unstemmed folded word and its article count: the dictionary for
    typo correction.
    """

    docs: int = 0
    df: dict[str, int] = field(default_factory=dict)
    strong_df: dict[str, int] = field(default_factory=dict)
    vocabulary: dict[str, int] = field(default_factory=dict)

    def count(self, fields: dict[str, str], sign: int = 1) -> None:
        """Count one indexed document in (sign 1) or out (sign -1), from its stored fields."""
        self.docs += sign
        for counts, name in (
            (self.df, "terms"),
            (self.strong_df, "strong_terms"),
            (self.vocabulary, "words"),
        ):
            for item in fields[name].split():
                left = counts.get(item, 0) + sign
                if left > 0:
                    counts[item] = left
                else:
                    counts.pop(item, None)


def digest(article: Article) -> str:
    """Everything of an article the index holds: equal digests, same document."""
    parts = [article.slug, article.lang, article.title, *article.questions, "", *article.tags]
    return hashlib.sha256("\x00".join([*parts, "", article.body]).encode()).hexdigest()


# Between the phrasings of the stored `phrasings` field (terms never contain it).
PHRASING_SEPARATOR = "|"


def document(article: Article) -> dict[str, str]:
    lang = article.lang
    phrasings = [article.title, *article.questions, " ".join(article.tags)]
    strong_text = "\n".join([article.title, *article.questions, *article.tags])
    strong_words = analyse(strong_text, lang)
    body_words = analyse(article.body, lang)
    strong_terms = {t for w in strong_words for t in w.terms}
    all_terms = strong_terms | {t for w in body_words for t in w.terms}
    vocabulary = {
        w.surface
        for w in (*strong_words, *body_words)
        if len(w.surface) >= 3 and w.surface.isalpha()
    }
    return {
        "key": f"{article.slug}.{lang}",
        "slug": article.slug,
        "lang": lang,
        "title": article.title,
        "strong_terms": " ".join(sorted(strong_terms)),
        "terms": " ".join(sorted(all_terms)),
        "phrasings": PHRASING_SEPARATOR.join(
            " ".join(sorted({t for w in analyse(text, lang) for t in w.terms}))
            for text in phrasings
        ),
        "digest": digest(article),
        "words": " ".join(sorted(vocabulary)),
        field_name("strong", lang): strong_text,
        field_name("body", lang): article.body,
    }


def load_stats(generation_dir: Path) -> dict[str, LanguageStats]:
    data = json.loads((generation_dir / STATS_FILE).read_text(encoding="utf-8"))
    return {
        lang: LanguageStats(int(d["docs"]), d["df"], d["strong_df"], d["vocabulary"])
        for lang, d in data.items()
    }


@dataclass(frozen=True)
class Pointer:
    generation: str
    version: str
    format: str  # FORMAT of the code that built it


def read_pointer(index_dir: Path) -> Pointer | None:
    try:
        data = json.loads((index_dir / CURRENT_FILE).read_text(encoding="utf-8"))
        return Pointer(str(data["generation"]), str(data["version"]), str(data["format"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_pointer(index_dir: Path, pointer: Pointer) -> None:
    tmp = index_dir / f".{CURRENT_FILE}.{uuid.uuid4().hex}"
    tmp.write_text(
        json.dumps(
            {"generation": pointer.generation, "version": pointer.version, "format": pointer.format}
        ),
        encoding="utf-8",
    )
    os.replace(tmp, index_dir / CURRENT_FILE)


def is_current(index_dir: Path, version: str) -> bool:
    pointer = read_pointer(index_dir)
    return (
        pointer is not None
        and pointer.version == version
        and pointer.format == FORMAT
        and (index_dir / pointer.generation).is_dir()
    )


def _write(
    ix: Index, articles: Sequence[Article], progress: Progress | None
) -> dict[str, LanguageStats]:
    # One writer process: the build runs beside the embedding of the articles' texts,
    # which already has the cores (kb.knowledge), and no process forks from a threaded one.
    writer = ix.writer(limitmb=256)
    stats: dict[str, LanguageStats] = {lang: LanguageStats() for lang in LANGS}
    total = len(articles)
    for done, article in enumerate(articles, start=1):
        doc = document(article)
        stats.setdefault(article.lang, LanguageStats()).count(doc)
        writer.add_document(**doc)
        if progress is not None:
            progress(done, total)
    writer.commit()
    return stats


def _update(
    ix: Index,
    articles: Sequence[Article],
    stats: dict[str, LanguageStats],
    progress: Progress | None,
) -> dict[str, LanguageStats]:
    """Bring a copy of the previous generation up to `articles`: only the articles whose
    digest changed are analysed and indexed again, and the stats follow them."""
    with ix.searcher() as searcher:
        old = {fields["key"]: fields for fields in searcher.all_stored_fields()}
    new = {f"{a.slug}.{a.lang}": a for a in articles}
    gone = {k for k, fields in old.items() if k not in new or digest(new[k]) != fields["digest"]}
    added = [a for k, a in new.items() if k not in old or k in gone]
    writer = ix.writer(limitmb=256)
    for key in gone:
        writer.delete_by_term("key", key)
        stats.setdefault(old[key]["lang"], LanguageStats()).count(old[key], -1)
    for done, article in enumerate(added, start=1):
        doc = document(article)
        stats.setdefault(article.lang, LanguageStats()).count(doc)
        writer.add_document(**doc)
        if progress is not None:
            progress(done, len(added))
    writer.commit()
    return stats


def _reusable(index_dir: Path) -> Path | None:
    """The published generation, when it was built by this very code (same terms)."""
    pointer = read_pointer(index_dir)
    if pointer is None or pointer.format != FORMAT:
        return None
    generation = index_dir / pointer.generation
    return generation if (generation / STATS_FILE).is_file() else None


def build(
    articles: Sequence[Article],
    index_dir: Path,
    version: str,
    *,
    progress: Progress | None = None,
    incremental: bool = True,
) -> Path:
    """Build a new generation and publish it; the caller holds the build lock.

    Incremental unless told otherwise: from the published generation when this code
    built it. A forced rebuild (`incremental=False`) starts from nothing."""
    index_dir.mkdir(parents=True, exist_ok=True)
    generation = f"gen-{version}-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    target = index_dir / generation
    staging = index_dir / f".building-{generation}"
    staging.mkdir()
    try:
        previous = _reusable(index_dir) if incremental else None
        if previous is not None:
            # A copy of the previous generation (readers keep theirs), then only the
            # changes: editing one article of 10,000 does not re-index the other 9,999.
            shutil.copytree(previous, staging, dirs_exist_ok=True)
            ix = whoosh.index.open_dir(str(staging))
            stats = _update(ix, articles, load_stats(staging), progress)
        else:
            ix = whoosh.index.create_in(str(staging), make_schema())
            stats = _write(ix, articles, progress)
        ix.close()
        (staging / STATS_FILE).write_text(
            json.dumps({lang: vars(value) for lang, value in stats.items()}, ensure_ascii=False),
            encoding="utf-8",
        )
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write_pointer(index_dir, Pointer(generation, version, FORMAT))
    _prune(index_dir, keep={generation, _previous_generation(index_dir, generation)})
    return target


def _previous_generation(index_dir: Path, current: str) -> str:
    gens = sorted(
        (p for p in index_dir.glob("gen-*") if p.is_dir() and p.name != current),
        key=lambda p: p.stat().st_mtime,
    )
    return gens[-1].name if gens else ""


def _prune(index_dir: Path, keep: set[str]) -> None:
    """Old generations go; the previous one stays for readers that still have it open."""
    for path in index_dir.iterdir():
        if path.is_dir() and path.name.startswith(("gen-", ".building-")) and path.name not in keep:
            if path.name.startswith(".building-") and time.time() - path.stat().st_mtime < 3600:
                continue  # another builder's work in progress (it holds the lock; be safe)
            shutil.rmtree(path, ignore_errors=True)


def ensure(
    index_dir: Path,
    version: str,
    load: Callable[[], Sequence[Article]],
    *,
    force: bool = False,
    progress: Progress | None = None,
    lock_timeout: float = 600.0,
) -> bool:
    """Make sure the published index matches `version`; build it if not. True if built."""
    if not force and is_current(index_dir, version):
        return False
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / LOCK_FILE), timeout=lock_timeout):
        # Another process may have built it while we waited for the lock.
        if not force and is_current(index_dir, version):
            return False
        build(load(), index_dir, version, progress=progress, incremental=not force)
        return True


@retry(
    retry=retry_if_exception_type((FileNotFoundError, EmptyIndexError)),
    stop=stop_after_attempt(6),
    wait=wait_exponential(multiplier=0.02, max=0.5),
    reraise=True,
)
def open_current(index_dir: Path) -> tuple[Index, Pointer, dict[str, LanguageStats]]:
    """Open the published generation. Retried: a rebuild may switch it under our feet."""
    pointer = read_pointer(index_dir)
    if pointer is None:
        raise FileNotFoundError(f"no index published in {index_dir}")
    generation = index_dir / pointer.generation
    ix = whoosh.index.open_dir(str(generation))
    return ix, pointer, load_stats(generation)
