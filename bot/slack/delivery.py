"""Slack delivers at least once: the same event can arrive again (a retry after a slow
ack) or reach another process behind the load balancer. The first process to insert a
delivery's key into `processed_events` does the work; every later one sees the key and
does nothing. A retry whose first delivery never arrived inserts the key first, so it is
answered: retries are never dropped blindly.

The claim runs in the worker after the ack, never on the ack path.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.clock import utcnow
from storage.db import SessionFactory
from storage.models import ProcessedEvent

KEY_CHARS = 255


def claim(session_factory: SessionFactory, key: str, *, now: dt.datetime | None = None) -> bool:
    """True for the first caller with this key, False for every later one (any process)."""
    values = {"key": key[:KEY_CHARS], "at": now or utcnow()}
    with session_factory.begin() as session:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        # RETURNING says whether this insert took the key (a row count does not, reliably,
        # for ON CONFLICT DO NOTHING through every driver).
        stmt = (
            insert(ProcessedEvent)
            .values(values)
            .on_conflict_do_nothing()
            .returning(ProcessedEvent.key)
        )
        return session.execute(stmt).first() is not None


def release(session_factory: SessionFactory, key: str) -> None:
    """Give a key back: the work it guarded did not happen (a form refused), so the same
    submission may be tried again."""
    with session_factory.begin() as session:
        session.execute(delete(ProcessedEvent).where(ProcessedEvent.key == key[:KEY_CHARS]))


def forget_before(session_factory: SessionFactory, moment: dt.datetime) -> int:
    """Drop keys older than any retry Slack still sends (it stops after about an hour)."""
    with session_factory.begin() as session:
        result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.at < moment))
        return int(result.rowcount)  # type: ignore[attr-defined]
