"""The inbox: every Slack delivery acknowledged is in the database first.

Slack delivers at least once: the same event can arrive again (a retry after a slow ack)
or reach another replica behind the load balancer. The ack path stores the delivery under
its key with INSERT … ON CONFLICT DO NOTHING and answers 200: the first insert of a key is
the one that will be worked on, every later one is a duplicate and is only acknowledged. A
retry whose first delivery never arrived inserts the key first, so it is answered: retries
are never dropped blindly. This is the one de-duplication rule of the app.

Workers then lease deliveries (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's
writing transactions run one at a time), handle them and mark them done. A lease that
runs out — its process was killed — is taken over by another worker, so nothing
acknowledged is lost. Deliveries of one lane (one user of one workspace) are handled one
at a time and in the order received: a conversation's second message never overtakes its
first, whichever worker or replica takes them.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.clock import utcnow
from storage.db import READ_ONLY
from storage.models import InboxDelivery, UTCDateTime

KEY_CHARS = 255
# Slack stops retrying an event within the hour; keys are kept well beyond, then dropped.
KEEP_KEYS = dt.timedelta(days=1)
LEASE = dt.timedelta(seconds=30)
SQLITE_LOCK_WAIT = 30.0  # seconds an ack waits for SQLite's write lock, as everywhere
SQLITE_BUSY_MS = 30000  # storage.db's busy timeout, given back to the pooled connection
# The PostgreSQL channel a stored delivery is announced on (workers LISTEN to it).
CHANNEL = "helpdesk_inbox"
# The headers bolt reads when the stored request is dispatched again.
# What bolt reads of a request's headers, and the request id its logs carry after the ack.
REQUEST_ID_HEADER = "x-helpdesk-request-id"
KEPT_HEADERS = ("content-type", "x-slack-retry-num", "x-slack-retry-reason", REQUEST_ID_HEADER)

_TABLE: Table = InboxDelivery.__table__  # type: ignore[assignment]
_STORE_SQLITE = (
    "INSERT INTO event_inbox (key, lane, body, headers, received_at, attempts, done_at)"
    " VALUES (:key, :lane, :body, :headers, :received_at, :attempts, :done_at)"
    " ON CONFLICT DO NOTHING RETURNING key"
)
_STORE_PG = text(
    "WITH stored AS ("
    " INSERT INTO event_inbox (key, lane, body, headers, received_at, attempts, done_at)"
    " VALUES (:key, :lane, :body, :headers, :received_at, :attempts, :done_at)"
    " ON CONFLICT DO NOTHING RETURNING key)"
    f" SELECT key, pg_notify('{CHANNEL}', '') FROM stored"
).bindparams(
    bindparam("received_at", type_=UTCDateTime()), bindparam("done_at", type_=UTCDateTime())
)


@dataclass(frozen=True)
class Delivery:
    """A request to work on after its ack: its key, its lane and what bolt needs of it."""

    key: str
    lane: str
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Leased:
    key: str
    body: str
    headers: dict[str, str]
    attempts: int


def store(engine: Engine, delivery: Delivery, *, now: dt.datetime | None = None) -> bool:
    """Keep `delivery` for the workers: True when it is new, False for a duplicate."""
    at = now or utcnow()
    if engine.dialect.name == "postgresql":
        # The ack path's one write: one statement, atomic on its own (no BEGIN/COMMIT
        # round trips), announcing the new row to LISTENing workers at its commit.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return (
                connection.execute(_STORE_PG, _values(delivery, at, done=False)).first() is not None
            )
    return _store_sqlite(engine, delivery, at)


def _store_sqlite(engine: Engine, delivery: Delivery, at: dt.datetime) -> bool:
    """SQLite has one write lock for the whole file, which the workers take too. Its own
    busy handler sleeps longer and longer between tries (up to 100 ms), so a waiting ack
    keeps missing the moments the lock is free; here the ack tries again every
    millisecond instead, and gets the lock as soon as it is let go."""
    values = _values(delivery, at, done=False)
    process = _TABLE.c.received_at.type.bind_processor(engine.dialect)
    values["received_at"] = process(at) if process else at
    raw: Any = engine.raw_connection()
    try:
        raw.execute("PRAGMA busy_timeout=0")
        deadline = time.monotonic() + SQLITE_LOCK_WAIT
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.001)
        try:
            row = raw.execute(_STORE_SQLITE, values).fetchone()
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        return row is not None
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        raw.close()


def record(engine: Engine, delivery: Delivery, *, now: dt.datetime | None = None) -> bool:
    """Socket Mode (no inbox in between): the same rule, the key recorded as already done.
    True for the first delivery of the key, False for every later one."""
    with engine.begin() as connection:
        return _insert(connection, delivery, now or utcnow(), done=True)


def once(engine: Engine, key: str, *, now: dt.datetime | None = None) -> bool:
    """A request answered at once (a form submitted twice by a double click, a retry):
    True for the first with this key in any process, False for every later one."""
    return record(engine, Delivery(key, key, "", {}), now=now)


def _values(delivery: Delivery, now: dt.datetime, *, done: bool) -> dict[str, Any]:
    return {
        "key": delivery.key[:KEY_CHARS],
        "lane": delivery.lane[:KEY_CHARS],
        "body": "" if done else delivery.body,
        "headers": "{}" if done else json.dumps(delivery.headers),
        "received_at": now,
        "attempts": 0,
        "done_at": now if done else None,
    }


def _insert(connection: Any, delivery: Delivery, now: dt.datetime, *, done: bool) -> bool:
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    values = _values(delivery, now, done=done)
    # RETURNING says whether this insert took the key (a row count does not, reliably, for
    # ON CONFLICT DO NOTHING through every driver).
    stmt = insert(InboxDelivery).values(values).on_conflict_do_nothing().returning(_TABLE.c.key)
    return connection.execute(stmt).first() is not None


def claim(
    engine: Engine, owner: str, *, lease: dt.timedelta = LEASE, now: dt.datetime | None = None
) -> Leased | None:
    """Lease the oldest delivery that is not done, not leased by a live worker, and first
    of its lane among those not done; None when there is none."""
    at = now or utcnow()
    mine = _TABLE
    other = _TABLE.alias("earlier")
    earlier_in_lane = exists().where(
        other.c.lane == mine.c.lane,
        other.c.done_at.is_(None),
        or_(
            other.c.received_at < mine.c.received_at,
            and_(other.c.received_at == mine.c.received_at, other.c.key < mine.c.key),
        ),
    )
    query = (
        select(mine.c.key, mine.c.body, mine.c.headers, mine.c.attempts)
        .where(
            mine.c.done_at.is_(None),
            or_(mine.c.lease_until.is_(None), mine.c.lease_until < at),
            ~earlier_in_lane,
        )
        .order_by(mine.c.received_at)
        .limit(1)
    )
    if engine.dialect.name == "sqlite":
        # Look before taking SQLite's one write lock: an idle worker never takes it, so
        # it never keeps the ack path waiting.
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            if connection.execute(query).first() is None:
                connection.rollback()
                return None
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=mine)
        row = connection.execute(query).first()
        if row is None:
            return None
        connection.execute(
            update(mine)
            .where(mine.c.key == row.key)
            .values(lease_owner=owner, lease_until=at + lease, attempts=mine.c.attempts + 1)
        )
    return Leased(row.key, row.body, json.loads(row.headers), row.attempts + 1)


def renew(
    engine: Engine,
    owner: str,
    keys: list[str],
    *,
    lease: dt.timedelta = LEASE,
    now: dt.datetime | None = None,
) -> None:
    """Keep the leases of deliveries still being worked on (a slow Slack API)."""
    if not keys:
        return
    with engine.begin() as connection:
        connection.execute(
            update(_TABLE)
            .where(
                _TABLE.c.key.in_(keys), _TABLE.c.lease_owner == owner, _TABLE.c.done_at.is_(None)
            )
            .values(lease_until=(now or utcnow()) + lease)
        )


def finish(engine: Engine, key: str, owner: str, *, now: dt.datetime | None = None) -> bool:
    """Mark a delivery done; the key stays (a later retry is a duplicate), its content,
    which holds what the user wrote, goes. False when the lease was lost meanwhile."""
    with engine.begin() as connection:
        result = connection.execute(
            update(_TABLE)
            .where(_TABLE.c.key == key, _TABLE.c.lease_owner == owner, _TABLE.c.done_at.is_(None))
            .values(done_at=now or utcnow(), lease_until=None, body="", headers="{}")
        )
        return bool(result.rowcount)


def pending(engine: Engine) -> int:
    """Deliveries acknowledged and not done yet."""
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count()).select_from(_TABLE).where(_TABLE.c.done_at.is_(None))
        ).scalar()
    return int(count or 0)


def forget_before(engine: Engine, moment: dt.datetime) -> int:
    """Drop the keys of deliveries done before `moment` (Slack retries for about an hour)."""
    with engine.begin() as connection:
        result = connection.execute(
            delete(_TABLE).where(_TABLE.c.done_at.is_not(None), _TABLE.c.done_at < moment)
        )
        return int(result.rowcount)


def forget_old_deliveries(deps: Any, client: Any) -> int:
    """The periodic job: a delivery's key is kept a day after it is done (Slack's retries
    stop within the hour), then dropped."""
    return forget_before(deps.session_factory.kw["bind"], utcnow() - KEEP_KEYS)
