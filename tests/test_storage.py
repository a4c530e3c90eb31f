"""The schema: migrations run both ways, and datetimes come back aware and in UTC."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, select

from storage.db import SessionFactory, downgrade, make_engine, upgrade
from storage.models import Account, Base


def test_migrations_create_every_model_table_and_downgrade_removes_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = make_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_datetimes_round_trip_as_aware_utc(session_factory: SessionFactory) -> None:
    paris = dt.datetime(2026, 11, 23, 18, 30, tzinfo=ZoneInfo("Europe/Paris"))
    with session_factory.begin() as session:
        session.add(Account(email="a@example.com", name="A", created_at=paris))
    with session_factory() as session:
        account = session.scalars(select(Account)).one()
    assert account.created_at == paris
    assert account.created_at.utcoffset() == dt.timedelta(0)


def test_the_storage_layer_loads_without_alembic() -> None:
    # Every CLI command imports storage.db; only `db upgrade` needs Alembic (slow to import).
    code = "import sys, storage.db; sys.exit('alembic' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
