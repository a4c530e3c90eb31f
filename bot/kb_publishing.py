"""Publishing the KB, and every process following the published version.

Publishing (`/helpdesk kb reindex`, `helpdesk kb publish`) copies the article files into a
snapshot directory, lints that copy, builds the index from it and records the files and
their digest in the database (services.kb_versions). A snapshot with lint errors is not
published: the processes keep serving the previous version.

Following: every process checks the latest published digest every few seconds
(`follow`, a scheduler job); when it is not the version its KnowledgeBase serves, it
writes the published files into its own snapshot directory (unless it has them), builds
its index from them (the embedding cache makes that quick: only changed texts are
embedded) and switches atomically; questions meanwhile are answered from the old index.
Replicas share nothing but the database: the files come from there, not from a disk
another replica may not see as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from kb.articles import LANGS, article_files, content_hash
from kb.knowledge import KnowledgeBase
from kb.lint import lint
from services import kb_versions
from services.kb_versions import Published
from storage.db import SessionFactory

log = logging.getLogger(__name__)

SNAPSHOTS_DIR = "published"
KEEP_SNAPSHOTS = 3  # the one served, the one before it (in-flight questions) and one more
CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the version (None when refused), whether it is new, the article
    counts per language and, when refused, the lint problems (`file:line: message`)."""

    version: Published | None
    new: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.version is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "published": self.published,
            "new": self.new,
            "version": self.version.to_dict() if self.version else None,
            "articles": self.counts,
            "errors": self.errors,
        }


# One publish or follow at a time per KnowledgeBase: a check running while this process
# publishes would see the database still naming the previous version and switch back.
_busy: weakref.WeakKeyDictionary[KnowledgeBase, threading.Lock] = weakref.WeakKeyDictionary()
_busy_guard = threading.Lock()


def _lock(kb: KnowledgeBase) -> threading.Lock:
    with _busy_guard:
        return _busy.setdefault(kb, threading.Lock())


def _snapshots(kb: KnowledgeBase) -> Path:
    return kb.index_dir / SNAPSHOTS_DIR


def read_files(articles_dir: Path) -> dict[str, str]:
    """Every article file's text by its path under `articles_dir` (bytes kept as they are:
    the digest of the copy is the digest of the original)."""
    files: dict[str, str] = {}
    for path in article_files(articles_dir):
        raw = path.read_bytes()
        # Undecodable bytes become U+FFFD: the copy then fails its lint, as the file would.
        files[path.relative_to(articles_dir).as_posix()] = raw.decode("utf-8", errors="replace")
    return files


def _write_tree(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = (directory / name).resolve()
        if directory.resolve() not in target.parents:
            raise ValueError(f"article path outside the snapshot: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def _stage(kb: KnowledgeBase, files: dict[str, str]) -> Path:
    staging = _snapshots(kb) / f".staging-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    _write_tree(staging, files)
    return staging


def _settle(staging: Path, digest: str) -> Path:
    """The staged copy under its digest's name (atomic rename; a copy already there —
    same digest, same files — is kept and the staged one dropped)."""
    target = staging.parent / digest
    if target.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        return target
    try:
        os.rename(staging, target)
    except OSError:  # another process of this machine settled it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _prune(kb: KnowledgeBase) -> None:
    root = _snapshots(kb)
    served = kb.articles_dir.resolve()
    olds = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in olds[KEEP_SNAPSHOTS:]:
        if path.resolve() != served:
            shutil.rmtree(path, ignore_errors=True)


def _counts(kb: KnowledgeBase) -> dict[str, int]:
    counts = dict.fromkeys(LANGS, 0)
    for article in kb.articles():
        counts[article.lang] = counts.get(article.lang, 0) + 1
    return counts


def publish(
    kb: KnowledgeBase, session_factory: SessionFactory, articles_dir: Path, *, by: str
) -> PublishResult:
    """Check, build and publish the articles of `articles_dir`; this process switches to
    them at once, the others at their next check."""
    with _lock(kb):
        return _publish(kb, session_factory, articles_dir, by)


def _publish(
    kb: KnowledgeBase, session_factory: SessionFactory, articles_dir: Path, by: str
) -> PublishResult:
    staging = _stage(kb, read_files(articles_dir))
    report = lint(staging)
    if not report.ok:
        shutil.rmtree(staging, ignore_errors=True)
        errors = [
            f"{p.path.relative_to(staging).as_posix()}:{p.line}: {p.message}"
            for p in report.problems
        ]
        return PublishResult(None, errors=errors)
    digest = content_hash(staging)
    snapshot = _settle(staging, digest)
    kb.reload(articles_dir=snapshot)
    with session_factory.begin() as session:
        version, new = kb_versions.record(
            session,
            digest=digest,
            files=read_files(snapshot),
            articles=len(kb.articles()),
            by=by,
        )
    _prune(kb)
    return PublishResult(version, new=new, counts=_counts(kb))


def follow(kb: KnowledgeBase, session_factory: SessionFactory) -> bool:
    """Serve the latest published version if this process does not yet; True if it
    switched. Nothing published yet: the articles on disk are served, as before."""
    lock = _lock(kb)
    if not lock.acquire(blocking=False):
        return False  # this process is publishing: it switches by itself
    try:
        return _follow(kb, session_factory)
    finally:
        lock.release()


def _follow(kb: KnowledgeBase, session_factory: SessionFactory) -> bool:
    with session_factory() as session:
        latest = kb_versions.latest(session)
        if latest is None or latest.digest == kb.version:
            return False
        snapshot = _snapshots(kb) / latest.digest
        # The files, unless this machine has them already (another process of it switched).
        files = None if snapshot.is_dir() else kb_versions.files_of(session, latest.id)
    if files is not None:
        snapshot = _settle(_stage(kb, files), latest.digest)
    kb.reload(articles_dir=snapshot)
    log.info("knowledge base switched to published version %s (%s)", latest.id, latest.digest)
    _prune(kb)
    return True
