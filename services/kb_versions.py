"""The published KB versions: what every bot process serves.

Publishing records the article files as they were checked and built; each process
compares the latest published digest with the version it serves (a one-row query, cheap
enough to run every few seconds) and switches when they differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from services.clock import utcnow
from storage.models import KbVersion


@dataclass(frozen=True)
class Published:
    """A published version without its files (what a check needs)."""

    id: int
    digest: str
    articles: int
    published_at: dt.datetime
    published_by: str

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "digest": self.digest,
            "articles": self.articles,
            "published_at": self.published_at.isoformat(),
            "published_by": self.published_by,
        }


def _published(row: KbVersion) -> Published:
    return Published(row.id, row.digest, row.articles, row.published_at, row.published_by)


def latest(session: Session) -> Published | None:
    row = session.execute(
        select(
            KbVersion.id,
            KbVersion.digest,
            KbVersion.articles,
            KbVersion.published_at,
            KbVersion.published_by,
        )
        .order_by(KbVersion.id.desc())
        .limit(1)
    ).first()
    return Published(*row) if row is not None else None


def files_of(session: Session, version_id: int) -> dict[str, str]:
    row = session.scalars(
        select(KbVersion).options(undefer(KbVersion.files)).where(KbVersion.id == version_id)
    ).one()
    return dict(row.files)


def record(
    session: Session,
    *,
    digest: str,
    files: dict[str, str],
    articles: int,
    by: str,
    now: dt.datetime | None = None,
) -> tuple[Published, bool]:
    """Record a published version; (the version, True) — or, when the latest published
    version already has this digest, (that one, False): publishing twice changes nothing."""
    current = latest(session)
    if current is not None and current.digest == digest:
        return current, False
    row = KbVersion(
        digest=digest,
        files=files,
        articles=articles,
        published_at=now or utcnow(),
        published_by=by[:100],
    )
    session.add(row)
    session.flush()
    return _published(row), True
