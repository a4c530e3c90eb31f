"""Emptying the PostgreSQL test database between tests (tests/conftest.py, bench/).

The cheap way: one connection kept for the run, one query to find the tables that hold
rows, a DELETE of those only (children first) and the used sequences set back to 1.
`truncate_all` is the way it was done before, kept for the benchmark's comparison.
"""

from __future__ import annotations

from sqlalchemy import text

from storage.db import make_engine
from storage.models import Base


class Emptier:
    """Empties the test database between tests, on one connection kept for the run."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        self.probe = text(
            " UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in self.tables
            )
        )

    def __call__(self) -> None:
        with self.engine.begin() as conn:
            filled = {row[0] for row in conn.execute(self.probe)}
            for name in self.tables:  # children before their parents
                if name in filled:
                    conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(
                text(
                    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false)"
                    " FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                )
            )

    def close(self) -> None:
        self.engine.dispose()


def truncate_all(url: str) -> None:
    """One TRUNCATE of every table, restarting identities, on a new engine (the old reset)."""
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
