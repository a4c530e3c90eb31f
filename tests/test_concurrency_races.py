"""The races an operator found, each replayed across real OS processes on both databases.

A lock held by the test itself widens each race's window so that it happens on every run:
the test holds a lock the work needs half-way through (PostgreSQL: a table lock or an
uncommitted row; SQLite: the write lock), starts the processes one after the other, waits
until they are stuck where the race was, then lets go. Without the fix each test fails
on PostgreSQL; SQLite serialises writing transactions whole, so there the tests check
that the same outcomes hold.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, func, select, text

from bot.cli import cli
from services import das, incidents, subscriptions
from services.accounts import create_account, get_account
from services.catalog import import_catalog
from services.codes import hash_code
from services.errors import Refusal
from services.products import register_product
from services.sites import add_site
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.models import (
    ActivatedService,
    ActivationCode,
    Incident,
    PendingSubscription,
    Subscription,
)

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
CATALOG = "model,name,serial_pattern,das_services\nDGS-1100-08,Switch,[A-Z0-9]{13},DAS-NBD\n"


# --- what a child process does ------------------------------------------------------------


def _import_subscriptions(session: Any, path: str) -> str:
    result = subscriptions.import_subscriptions(session, path)
    return f"{result.created} created, {result.unchanged} unchanged"


def _import_codes(session: Any, path: str) -> str:
    result = das.import_codes(session, path, now=NOW)
    return f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"


def _create_account(session: Any, email: str) -> str:
    create_account(session, email=email, name="New")
    return "ok"


def _activate(session: Any, email: str, **args: Any) -> str:
    das.activate(session, get_account(session, email), now=NOW, **args)
    return "ok"


def _file(session: Any, email: str, key: str) -> str:
    incident = incidents.create_incident(
        session,
        get_account(session, email),
        service="Cloud Pro",
        summary="Down",
        description="It is down",
        actor=email,
        idempotency_key=key,
        now=NOW,
    )
    return incident.number or ""


TASKS: dict[str, Callable[..., str]] = {
    "import_subscriptions": _import_subscriptions,
    "import_codes": _import_codes,
    "create_account": _create_account,
    "activate": _activate,
    "file": _file,
}


def _child(url: str, label: str, task: str, kwargs: dict[str, Any], results: Any) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            outcome = TASKS[task](session, **kwargs)
        results.put((label, outcome))
    except Refusal as refusal:
        results.put((label, refusal.code))
    except Exception as err:  # the race's symptom: reported, so the test says what broke
        results.put((label, f"error: {type(err).__name__}: {str(err).splitlines()[0][:200]}"))
    finally:
        engine.dispose()


class Contenders:
    """Processes started one by one; their outcomes by label."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.context = mp.get_context("spawn")
        self.results = self.context.Queue()
        self.processes: list[Any] = []
        self.outcomes: dict[str, str] = {}

    def start(self, label: str, task: str, **kwargs: Any) -> None:
        process = self.context.Process(
            target=_child, args=(self.url, label, task, kwargs, self.results)
        )
        process.start()
        self.processes.append(process)

    def collect(self, count: int | None = None) -> dict[str, str]:
        wanted = len(self.processes) if count is None else count
        try:
            while len(self.outcomes) < wanted:
                label, outcome = self.results.get(timeout=120)
                self.outcomes[label] = outcome
        except queue.Empty:
            pytest.fail(f"a contender gave no answer; got {self.outcomes}")
        return self.outcomes

    def finished(self) -> int:
        while True:
            try:
                label, outcome = self.results.get_nowait()
            except queue.Empty:
                return len(self.outcomes)
            self.outcomes[label] = outcome

    def close(self) -> None:
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


@pytest.fixture
def group(database_url: str) -> Iterator[Contenders]:
    """The test's contenders; joined (or killed) at the end, after every lock is let go."""
    contenders = Contenders(database_url)
    yield contenders
    contenders.close()


# --- widening the window ------------------------------------------------------------------


@contextmanager
def holding(url: str, postgres_statement: str) -> Iterator[Connection]:
    """A transaction that holds a lock until the block ends (then rolls back).

    SQLite: the write lock (BEGIN IMMEDIATE); PostgreSQL: whatever the statement takes.
    """
    engine = make_engine(url)
    connection = engine.connect()
    connection.begin()
    if engine.dialect.name == "postgresql":
        connection.execute(text(postgres_statement))
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()
        engine.dispose()


def wait_until_waiting(url: str, count: int, group: Contenders | None = None) -> None:
    """Until `count` sessions of this database wait for a lock (PostgreSQL), or contenders
    have finished instead (the race the test looks for); SQLite: a moment."""
    if not url.startswith("postgresql"):
        time.sleep(2)
        return
    engine = make_engine(url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                waiting = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
                        "WHERE NOT granted AND datname = current_database()"
                    )
                )
            done = group.finished() if group is not None else 0
            if (waiting or 0) + done >= count:
                return
            time.sleep(0.1)
        pytest.fail(f"{count} sessions never waited for a lock")
    finally:
        engine.dispose()


# --- the data -------------------------------------------------------------------------------


def _setup(session_factory: SessionFactory, tmp_path: Path) -> int:
    (tmp_path / "catalog.csv").write_text(CATALOG)
    (tmp_path / "subs.csv").write_text(
        "email,service,type,tier\nalice@example.com,Cloud Pro,1,paid\n"
    )
    with session_factory.begin() as session:
        import_catalog(session, tmp_path / "catalog.csv")
        alice = create_account(session, email="alice@example.com", name="Alice")
        subscriptions.import_subscriptions(session, tmp_path / "subs.csv")
        site = add_site(
            session, alice, street="1 rue", postal_code="75001", city="Paris", country="FR"
        )
        register_product(
            session,
            alice,
            model="DGS-1100-08",
            serial="RACE000000001",
            purchase_date=dt.date(2026, 1, 1),
        )
        return site.id


# --- the races ------------------------------------------------------------------------------


def test_an_account_created_during_a_subscriptions_import_gets_its_subscription(
    database_url: str, session_factory: SessionFactory, tmp_path: Path, group: Contenders
) -> None:
    path = tmp_path / "import.csv"
    path.write_text(
        "email,service,type,tier\n"
        + "newcomer@example.com,Cloud Pro,1,paid\n"
        + "".join(f"other{n}@example.com,Cloud Pro,1,paid\n" for n in range(50))
    )
    with holding(database_url, "LOCK TABLE pending_subscriptions IN EXCLUSIVE MODE"):
        group.start("import", "import_subscriptions", path=str(path))
        wait_until_waiting(database_url, 1)  # the import is half-way: accounts read
        group.start("account", "create_account", email="newcomer@example.com")
        wait_until_waiting(database_url, 2, group)
    outcomes = group.collect()

    assert outcomes == {"import": "51 created, 0 unchanged", "account": "ok"}
    with session_factory() as session:
        account = get_account(session, "newcomer@example.com")
        held = session.scalars(
            select(Subscription.service).where(Subscription.account_id == account.id)
        ).all()
        assert held == ["Cloud Pro"]
        waiting = session.scalars(
            select(PendingSubscription.email).where(
                PendingSubscription.email == "newcomer@example.com"
            )
        ).all()
        assert waiting == []


def test_a_codes_import_never_changes_a_code_an_activation_uses_meanwhile(
    database_url: str, session_factory: SessionFactory, tmp_path: Path, group: Contenders
) -> None:
    site_id = _setup(session_factory, tmp_path)
    first = tmp_path / "codes.csv"
    first.write_text(
        "code,service,models,purchase_date,duration_months\nRACE-0001,DAS-NBD,DGS-1100-08,2026-11-01,12\n"
    )
    with session_factory.begin() as session:
        das.import_codes(session, first, now=NOW)
        blocker = hash_code(session, "LATE-0001")
    second = tmp_path / "codes2.csv"
    second.write_text(
        "code,service,models,purchase_date,duration_months\n"
        "RACE-0001,DAS-NBD,DGS-1100-08,2026-11-01,36\n"
        "LATE-0001,DAS-NBD,DGS-1100-08,2026-11-01,12\n"
    )
    # PostgreSQL: an uncommitted LATE-0001 makes the import wait at its insert, after it
    # has read RACE-0001 as unused.
    insert_blocker = (
        "INSERT INTO activation_codes (code_hash, code_tail, service, models, duration_months,"
        f" imported_at) VALUES ('{blocker}', '0001', 'DAS-NBD', '[]', 1, now())"
    )
    with holding(database_url, insert_blocker):
        group.start("import", "import_codes", path=str(second))
        wait_until_waiting(database_url, 1)
        group.start(
            "activation",
            "activate",
            email="alice@example.com",
            serial="RACE000000001",
            code="race-0001",
            service_purchase_date=None,
            site_id=site_id,
            accept_terms=True,
        )
        wait_until_waiting(database_url, 2, group)
    outcomes = group.collect()

    assert outcomes["activation"] == "ok"
    assert outcomes["import"] in {"import_failed", "1 created, 1 updated, 0 unchanged"}
    with session_factory() as session:
        code = session.scalars(
            select(ActivationCode).where(ActivationCode.code_hash == hash_code(session, "RACE0001"))
        ).one()
        service = session.scalars(select(ActivatedService)).one()
    # The code says what the service was activated with, whichever came first.
    assert code.used_at is not None
    assert service.ends_on == das.service_period(service.activated_on, code.duration_months)[1]
    assert code.duration_months == (36 if outcomes["import"] != "import_failed" else 12)


def test_concurrent_wrong_codes_get_no_more_does_not_exist_answers_than_the_limit(
    database_url: str, session_factory: SessionFactory, tmp_path: Path, group: Contenders
) -> None:
    site_id = _setup(session_factory, tmp_path)
    tries = 8
    # PostgreSQL: every try waits to record its failure; SQLite: to begin.
    with holding(database_url, "LOCK TABLE code_attempts IN SHARE MODE"):
        for n in range(tries):
            group.start(
                f"try{n}",
                "activate",
                email="alice@example.com",
                serial="RACE000000001",
                code=f"WRONG-{n:04d}",
                service_purchase_date=None,
                site_id=site_id,
                accept_terms=True,
            )
        wait_until_waiting(database_url, tries, group)
    outcomes = group.collect()

    assert Counter(outcomes.values()) == {
        "code_unknown": 5,
        "too_many_code_attempts": tries - 5,
    }


def test_idempotent_filings_colliding_leave_no_gap_in_incident_numbers(
    database_url: str, session_factory: SessionFactory, tmp_path: Path, group: Contenders
) -> None:
    _setup(session_factory, tmp_path)
    filings = 4
    with holding(database_url, "LOCK TABLE incidents IN SHARE MODE"):
        for n in range(filings):
            group.start(f"click{n}", "file", email="alice@example.com", key="slack-event-1")
        wait_until_waiting(database_url, filings, group)
    outcomes = group.collect()
    assert set(outcomes.values()) == {"INC-000001"}

    with session_factory.begin() as session:
        alice = get_account(session, "alice@example.com")
        following = incidents.create_incident(
            session,
            alice,
            service="Cloud Pro",
            summary="Again",
            description="Another one",
            actor=alice.email,
            now=NOW,
        )
        assert following.number == "INC-000002"
        assert session.scalar(select(func.count()).select_from(Incident)) == 2


@pytest.mark.parametrize("kind", ["codes", "subscriptions"])
def test_two_identical_imports_at_once_give_the_same_clean_result(
    kind: str,
    database_url: str,
    session_factory: SessionFactory,
    tmp_path: Path,
    group: Contenders,
) -> None:
    _setup(session_factory, tmp_path)
    path = tmp_path / "twice.csv"
    if kind == "codes":
        path.write_text(
            "code,service,models,purchase_date,duration_months\n"
            + "".join(f"TWICE-{n:04d},DAS-NBD,DGS-1100-08,2026-11-01,12\n" for n in range(300))
        )
        table, task, done = (
            "activation_codes",
            "import_codes",
            "300 created, 0 updated, 0 unchanged",
        )
        again = "0 created, 0 updated, 300 unchanged"
    else:
        path.write_text(
            "email,service,type,tier\n"
            + "".join(f"twice{n}@example.com,Cloud Pro,1,paid\n" for n in range(300))
        )
        table, task = "pending_subscriptions", "import_subscriptions"
        done, again = "300 created, 0 unchanged", "0 created, 300 unchanged"
    with holding(database_url, f"LOCK TABLE {table} IN SHARE MODE"):
        group.start("first", task, path=str(path))
        group.start("second", task, path=str(path))
        wait_until_waiting(database_url, 2, group)
    outcomes = group.collect()

    assert sorted(outcomes.values()) == sorted([done, again])


def test_reading_never_waits_for_a_writer(
    database_url: str, session_factory: SessionFactory
) -> None:
    """A long import holds the write lock; `incidents list` still answers at once."""
    finished = threading.Event()
    result: list[Any] = []

    def list_incidents() -> None:
        result.append(CliRunner().invoke(cli, ["incidents", "list", "--json"]))
        finished.set()

    with holding(database_url, "LOCK TABLE incidents IN EXCLUSIVE MODE") as writer:
        writer.execute(text("SELECT count(*) FROM incidents"))
        reader = threading.Thread(target=list_incidents, daemon=True)
        reader.start()
        # Not a speed check: the reader must answer while the writer still holds its lock
        # (before, it waited the whole 30-second busy timeout and failed).
        answered_while_locked = finished.wait(timeout=15)
    reader.join(timeout=60)
    assert answered_while_locked
    assert (result[0].exit_code, result[0].stdout) == (0, "[]\n")
