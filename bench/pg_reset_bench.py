"""The PostgreSQL test run's per-test reset: the old TRUNCATE against the emptier.

    HELPDESK_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<db> \
        .venv/bin/python bench/pg_reset_bench.py [--rounds 30]

The database is migrated, then each round writes the demo data (a few rows in every
table) and empties the database one way or the other; the figures are milliseconds per
reset (median and p90). The database is migrated down at the end. Never point it at a database that holds anything of value.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services import demo
from storage.db import downgrade, make_engine, make_session_factory, upgrade
from tests.database_reset import Emptier, truncate_all

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


def write_a_little(url: str) -> None:
    """What a conversation test writes: the demo data (every table gets a few rows)."""
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        demo.seed(session, today=NOW.date())
    engine.dispose()


def measure(name: str, reset: Callable[[], None], url: str, rounds: int) -> None:
    timings = []
    for _ in range(rounds):
        write_a_little(url)
        start = time.perf_counter()
        reset()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p90 = timings[int(len(timings) * 0.9) - 1]
    print(f"{name:10} median {statistics.median(timings):7.1f} ms   p90 {p90:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    url = os.environ.get("HELPDESK_TEST_DATABASE_URL", "").strip()
    if not url.startswith("postgresql"):
        sys.exit("set HELPDESK_TEST_DATABASE_URL to a PostgreSQL test database")
    upgrade(url)
    try:
        measure("truncate", lambda: truncate_all(url), url, args.rounds)
        emptier = Emptier(url)
        measure("emptier", emptier, url, args.rounds)
        emptier.close()
    finally:
        downgrade(url, "base")


if __name__ == "__main__":
    main()
