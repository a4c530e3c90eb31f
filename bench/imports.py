"""Import speed: `subscriptions import` and `das import-codes` on SQLite and PostgreSQL.

    .venv/bin/python bench/imports.py                       # 150,000 subscriptions, SQLite
    .venv/bin/python bench/imports.py --postgres postgresql+psycopg://postgres@127.0.0.1/bench
    .venv/bin/python bench/imports.py --rows 20000 --codes 20000 --postgres URL

Each backend runs in its own process on a freshly migrated database (the PostgreSQL one
is emptied first and migrated down to nothing afterwards: give it a database of its own).
The subscriptions file has ROWS rows, one in ten for an e-mail that already has an
account (the rest wait as pending subscriptions); the codes file has CODES codes. Every
file is imported twice: first into empty tables (all created), then again (all unchanged).
Printed: wall-clock seconds per import and the process's peak memory growth, which shows
whether the file is streamed (it stays flat as ROWS grows) or held in memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MAX_ROWS = 1_000_000  # keeps a typo from filling the disk


def _write_files(folder: Path, rows: int, codes: int) -> tuple[Path, Path, Path, int]:
    catalog = folder / "catalog.csv"
    catalog.write_text(
        "model,name,serial_pattern,das_services\n"
        "DGS-1100-08,Switch,[A-Z0-9]{13},DAS-NBD;DAS-4H\n"
        "DIR-X1860,Router,[A-Z0-9]{12},DAS-NBD\n"
    )
    subscriptions = folder / "subscriptions.csv"
    accounts = 0
    with subscriptions.open("w") as handle:
        handle.write("email,service,type,tier\n")
        for n in range(rows):
            handle.write(
                f"user{n}@example.com,Service {n % 3},{n % 3 + 1},{('free', 'paid')[n % 2]}\n"
            )
            accounts += n % 10 == 0
    codes_file = folder / "codes.csv"
    with codes_file.open("w") as handle:
        handle.write("code,service,models,purchase_date,duration_months\n")
        for n in range(codes):
            handle.write(f"BENCH-{n:08d},DAS-NBD,DGS-1100-08;DIR-X1860,2026-11-01,12\n")
    return catalog, subscriptions, codes_file, accounts


def _run_backend(url: str, rows: int, codes: int) -> dict[str, float]:
    """In a child process: migrate, seed accounts, time the imports."""
    from sqlalchemy import insert, text

    from services import das, subscriptions
    from services.catalog import import_catalog
    from storage.db import make_engine, make_session_factory, upgrade
    from storage.models import Account, Base

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(url)
    session_factory = make_session_factory(engine)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        catalog, subs_file, codes_file, _ = _write_files(Path(tmp), rows, codes)
        now = dt.datetime.now(dt.UTC)
        with session_factory.begin() as session:
            import_catalog(session, catalog)
            session.execute(
                insert(Account),
                [
                    {"email": f"user{n}@example.com", "name": f"User {n}", "created_at": now}
                    for n in range(0, rows, 10)
                ],
            )
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for label, function, path in (
            ("subscriptions", subscriptions.import_subscriptions, subs_file),
            ("codes", das.import_codes, codes_file),
        ):
            for attempt in ("first", "again"):
                started = time.perf_counter()
                with session_factory.begin() as session:
                    function(session, path)
                figures[f"{label} {attempt} (s)"] = round(time.perf_counter() - started, 2)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        figures["peak memory growth (MB)"] = round((peak - base_rss) / 1024, 1)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000, help="subscriptions in the file")
    parser.add_argument("--codes", type=int, default=50_000, help="activation codes in the file")
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL this bench may empty")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (0 < args.rows <= MAX_ROWS and 0 <= args.codes <= MAX_ROWS):
        parser.error(f"--rows and --codes must be at most {MAX_ROWS}")
    if args.child:
        print(json.dumps(_run_backend(args.child, args.rows, args.codes)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        backends = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}"}
        if args.postgres:
            backends["postgresql"] = args.postgres
        print(
            f"{args.rows:,} subscriptions ({args.rows // 10:,} with an account), {args.codes:,} codes"
        )
        for name, url in backends.items():
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--rows",
                    str(args.rows),
                    "--codes",
                    str(args.codes),
                    "--child",
                    url,
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            figures = json.loads(output.strip().splitlines()[-1])
            print(f"{name:>10}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
