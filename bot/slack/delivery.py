"""Slack delivers at least once: the same event can arrive again (a retry after a slow
ack) or reach another process behind the load balancer. The first process to insert a
delivery's key into `processed_events` does the work; every later one sees the key and
does nothing. A retry whose first delivery never arrived inserts the key first, so it is
answered: retries are never dropped blindly.

The claim runs in the worker after the ack, never on the ack path.
"""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.clock import utcnow
from storage.db import SessionFactory
from storage.models import ProcessedEvent

KEY_CHARS = 255
# Slack stops retrying an event within the hour; keys are kept well beyond, then dropped.
KEEP_KEYS = dt.timedelta(days=1)
_FORGET_EVERY = 3600.0  # seconds between two clean-ups in one process
_last_forget = [time.monotonic()]


def claim(session_factory: SessionFactory, key: str, *, now: dt.datetime | None = None) -> bool:
    """True for the first caller with this key, False for every later one (any process)."""
    at = now or utcnow()
    values = {"key": key[:KEY_CHARS], "at": at}
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
        took = session.execute(stmt).first() is not None
    if time.monotonic() - _last_forget[0] > _FORGET_EVERY:
        _last_forget[0] = time.monotonic()
        forget_before(session_factory, at - KEEP_KEYS)
    return took


def forget_old_keys(session_factory: SessionFactory, *, now: dt.datetime | None = None) -> int:
    """The scheduled clean-up (every serve process runs it; a DELETE is safe to repeat)."""
    return forget_before(session_factory, (now or utcnow()) - KEEP_KEYS)


def forget_before(session_factory: SessionFactory, moment: dt.datetime) -> int:
    """Drop keys older than any retry Slack still sends (it stops after about an hour)."""
    with session_factory.begin() as session:
        result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.at < moment))
        return int(result.rowcount)  # type: ignore[attr-defined]
