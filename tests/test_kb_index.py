"""The index: built when missing or stale, atomic switch, safe with several processes."""

from __future__ import annotations

import json
import multiprocessing
import shutil
from pathlib import Path

import pytest
from whoosh.qparser import QueryParser

from kb import KnowledgeBase
from kb import index as kb_index
from kb.articles import content_hash, load_articles

FIXTURES = Path(__file__).parent / "fixtures" / "kb"


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    target = tmp_path / "articles"
    shutil.copytree(FIXTURES, target)
    return target


def _generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("gen-"))


def test_built_when_missing_then_reused(articles: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    version = content_hash(articles)

    def load() -> list:
        return load_articles(articles).articles

    assert kb_index.ensure(index_dir, version, load) is True
    pointer = json.loads((index_dir / "CURRENT").read_text())
    assert pointer["version"] == version and pointer["format"] == kb_index.FORMAT
    assert (index_dir / pointer["generation"]).is_dir()
    assert kb_index.ensure(index_dir, version, load) is False  # current: nothing to do
    assert _generations(index_dir) == [pointer["generation"]]


def test_stale_index_is_rebuilt_and_old_generations_pruned(articles: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = KnowledgeBase.open(articles, index_dir)
    first_generation = json.loads((index_dir / "CURRENT").read_text())["generation"]
    path = articles / "support-holidays.en.md"
    for round_ in range(3):
        path.write_text(path.read_text(encoding="utf-8") + f"\nEdit {round_}.\n", encoding="utf-8")
        second = KnowledgeBase.open(articles, index_dir)
        assert second.version == content_hash(articles) != first.version
        second.close()
    # The published generation and the previous one (a reader may hold it) remain.
    generations = _generations(index_dir)
    assert len(generations) == 2 and first_generation not in generations
    first.close()


def test_a_reader_keeps_working_while_a_rebuild_is_published(
    articles: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    reader = KnowledgeBase.open(articles, index_dir)
    before = reader.ask("Is my credit card safe with you?")
    writer = KnowledgeBase(articles, index_dir)
    writer.reload(force=True)
    after = reader.ask("Is my credit card safe with you?")
    assert after == before and after.answered
    writer.close()
    reader.close()


def test_interrupted_build_leaves_the_published_index_alone(
    articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    KnowledgeBase.open(articles, index_dir).close()
    published = (index_dir / "CURRENT").read_text()

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(kb_index, "_write", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        KnowledgeBase(articles, index_dir).reload(force=True)
    assert (index_dir / "CURRENT").read_text() == published
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".building-")]
    monkeypatch.undo()
    reopened = KnowledgeBase.open(articles, index_dir)
    assert reopened.ask("Is my credit card safe with you?").answered
    reopened.close()


def test_open_retries_when_the_generation_vanishes(articles: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    KnowledgeBase.open(articles, index_dir).close()
    (index_dir / "CURRENT").unlink()
    with pytest.raises(FileNotFoundError):
        kb_index.open_current(index_dir)
    assert kb_index.open_current.statistics["attempt_number"] == 6  # type: ignore[attr-defined]


def _open_and_ask(articles: str, index_dir: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    kb = KnowledgeBase.open(Path(articles), Path(index_dir))
    answer = kb.ask("Is my credit card safe with you?")
    queue.put((kb.version, answer.answered, answer.article.slug if answer.article else None))
    kb.close()


@pytest.mark.slow
def test_processes_opening_a_stale_index_at_once_build_it_once(
    articles: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(target=_open_and_ask, args=(str(articles), str(index_dir), queue))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    results = {queue.get(timeout=5) for _ in workers}
    assert results == {(content_hash(articles), True, "payment-security")}
    assert len(_generations(index_dir)) == 1  # the lock made the others wait and reuse it


def test_index_built_by_other_analysis_code_is_rebuilt(articles: Path, tmp_path: Path) -> None:
    """Articles unchanged, analysis changed: the old terms must not be searched any more."""
    index_dir = tmp_path / "index"
    version = content_hash(articles)

    def load() -> list:
        return load_articles(articles).articles

    kb_index.ensure(index_dir, version, load)
    pointer_file = index_dir / "CURRENT"
    pointer = json.loads(pointer_file.read_text())
    pointer["format"] = f"{kb_index.INDEX_FORMAT}-builtbyoldcode"
    pointer_file.write_text(json.dumps(pointer))
    assert not kb_index.is_current(index_dir, version)
    assert kb_index.ensure(index_dir, version, load) is True
    assert json.loads(pointer_file.read_text())["format"] == kb_index.FORMAT


def _published(index_dir: Path) -> Path:
    return index_dir / json.loads((index_dir / "CURRENT").read_text())["generation"]


def test_a_rebuild_indexes_only_what_changed_and_matches_a_full_build(
    articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    KnowledgeBase.open(articles, index_dir).close()
    edited, removed = articles / "support-holidays.en.md", articles / "payment-security.fr.md"
    edited.write_text(
        edited.read_text(encoding="utf-8") + "\nThe zanzibarian calendar applies too.\n",
        encoding="utf-8",
    )
    removed.unlink()
    analysed: list[str] = []
    document = kb_index.document

    def counting(article):  # type: ignore[no-untyped-def]
        analysed.append(f"{article.slug}.{article.lang}")
        return document(article)

    monkeypatch.setattr(kb_index, "document", counting)
    kb = KnowledgeBase.open(articles, index_dir)
    assert analysed == ["support-holidays.en"]
    kb.close()
    ix = kb_index.open_current(index_dir)[0]
    with ix.searcher() as searcher:
        stored = {fields["key"]: fields for fields in searcher.all_stored_fields()}
        hits = searcher.search(QueryParser("body_en", ix.schema).parse("zanzibarian"))
        assert [hit["key"] for hit in hits] == ["support-holidays.en"]
    ix.close()
    assert "payment-security.fr" not in stored and "payment-security.en" in stored
    assert "zanzibarian" in stored["support-holidays.en"]["words"].split()

    # The same articles indexed from nothing: same documents, same statistics.
    monkeypatch.setattr(kb_index, "document", document)
    fresh = tmp_path / "fresh"
    kb_index.build(load_articles(articles).articles, fresh, "v", incremental=False)
    assert kb_index.load_stats(_published(index_dir)) == kb_index.load_stats(_published(fresh))
