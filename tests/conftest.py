"""Shared fixtures.

Every test that uses `database_url` (or what is built on it) runs on SQLite, and again on
PostgreSQL when HELPDESK_TEST_DATABASE_URL is set. SQLite tests get a fresh copy of a
migrated template file; PostgreSQL is migrated once per run, emptied after every test and
migrated down to nothing at the end, so no run leaves the database dirty.

Emptying PostgreSQL after each test is what its run spends most time on, so it is cheap:
one connection kept for the run, one query to find the tables that hold rows, a DELETE of
those only (children first; a few rows each) and the used sequences set back to 1 (tests
read incident numbers such as INC-000001). TRUNCATE, by contrast, creates new files for
every table and index each time.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.conversation import Assistant
from bot.runtime import Runtime
from bot.settings import Settings
from storage.db import SessionFactory, downgrade, make_engine, make_session_factory, upgrade
from storage.models import Base
from tests.conversation_helpers import seed_demo, shared_kb
from tests.database_reset import Emptier

POSTGRES_URL = os.environ.get("HELPDESK_TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No HELPDESK_/SLACK_ variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("HELPDESK_", "SLACK_")) and name != "HELPDESK_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "helpdesk.db"
    upgrade(f"sqlite:///{path}")
    return path


def _drop_everything(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    _drop_everything(POSTGRES_URL)  # a run that was killed may have left tables behind
    upgrade(POSTGRES_URL)
    yield POSTGRES_URL
    downgrade(POSTGRES_URL, "base")
    _drop_everything(POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_emptier(postgres_migrated: str) -> Iterator[Emptier]:
    emptier = Emptier(postgres_migrated)
    yield emptier
    emptier.close()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "helpdesk.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
        yield url
    else:
        url = request.getfixturevalue("postgres_migrated")
        empty = request.getfixturevalue("postgres_emptier")
        monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
        try:
            yield url
        finally:
            empty()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for this test's database, read the way the app reads them."""
    return Settings.from_env()


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def assistant(
    session_factory: SessionFactory, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Assistant:
    """The bot over the demo data and the shipped KB (built once per run): what a customer
    talks to. A test module needing another KB defines its own."""
    seed_demo(session_factory)
    return Assistant(session_factory, settings, shared_kb(tmp_path_factory))
