"""Exactly once across real OS processes: one code, one activation; one serial, one owner.

Each test starts several processes (spawn: nothing shared but the database URL), lets
them wait at a barrier, then has them all try at the same moment. Runs on SQLite and on
PostgreSQL like every database test.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import queue
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from services import das
from services.accounts import create_account, get_account
from services.catalog import import_catalog
from services.codes import hash_code
from services.errors import Refusal
from services.products import register_product
from services.sites import add_site
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.models import ActivatedService, ActivationCode, CodeAttempt, RegisteredProduct

pytestmark = pytest.mark.slow

PROCESSES = 4
SERIAL = "RACE123456789"
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def _contender(
    url: str, task: str, label: str, email: str, args: dict[str, Any], barrier: Any, results: Any
) -> None:
    """Runs in a child process: get ready, wait for the others, then try once."""
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    with engine.connect() as connection:  # connect before the start signal, not after
        connection.execute(text("SELECT 1"))
    try:
        barrier.wait(timeout=60)
        with session_factory.begin() as session:
            account = get_account(session, email)
            if task == "activate":
                das.activate(session, account, now=NOW, **args)
            else:
                register_product(session, account, **args)
        results.put((label, "ok"))
    except Refusal as refusal:
        results.put((label, refusal.code))
    finally:
        engine.dispose()


def _race(
    url: str, task: str, contenders: dict[str, dict[str, Any]], email: str | None = None
) -> dict[str, str]:
    """Run every contender at once; {label: "ok" or the refusal's code}.

    The label is the contender's e-mail, unless `email` says they all act for one account.
    """
    context = mp.get_context("spawn")
    barrier = context.Barrier(len(contenders))
    results = context.Queue()
    processes = [
        context.Process(
            target=_contender, args=(url, task, label, email or label, args, barrier, results)
        )
        for label, args in contenders.items()
    ]
    for process in processes:
        process.start()
    outcomes: dict[str, str] = {}
    try:
        for _ in processes:
            label, outcome = results.get(timeout=120)
            outcomes[label] = outcome
    except queue.Empty:
        pytest.fail(f"a contender gave no answer; got {outcomes}")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert all(process.exitcode == 0 for process in processes)
    return outcomes


def _accounts(session_factory: SessionFactory, tmp_path: Path) -> list[str]:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "model,name,serial_pattern,das_services\nDGS-1100-08,Switch,[A-Z0-9]{13},DAS-NBD\n"
    )
    emails = [f"customer{n}@example.com" for n in range(PROCESSES)]
    with session_factory.begin() as session:
        import_catalog(session, catalog)
        for email in emails:
            account = create_account(session, email=email, name=email)
            add_site(
                session, account, street="1 rue", postal_code="75001", city="Paris", country="FR"
            )
    return emails


def test_two_processes_cannot_activate_one_code_twice(
    database_url: str, session_factory: SessionFactory, tmp_path: Path
) -> None:
    emails = _accounts(session_factory, tmp_path)
    codes = tmp_path / "codes.csv"
    codes.write_text(
        "code,service,models,purchase_date,duration_months\nRACE-0001,DAS-NBD,DGS-1100-08,2026-11-01,12\n"
    )
    contenders: dict[str, dict[str, Any]] = {}
    with session_factory.begin() as session:
        das.import_codes(session, codes, now=NOW)
        for n, email in enumerate(emails):
            account = get_account(session, email)
            serial = f"RACE{n:09d}"
            register_product(
                session,
                account,
                model="DGS-1100-08",
                serial=serial,
                purchase_date=dt.date(2026, 1, 1),
            )
            contenders[email] = {
                "serial": serial,
                "code": "race-0001",
                "service_purchase_date": None,
                "site_id": account.sites[0].id,
                "accept_terms": True,
            }

    outcomes = _race(database_url, "activate", contenders)

    assert Counter(outcomes.values()) == {"ok": 1, "code_already_used": PROCESSES - 1}
    (winner,) = [email for email, outcome in outcomes.items() if outcome == "ok"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ActivatedService)) == 1
        code = session.scalars(select(ActivationCode)).one()
        assert code.used_by_account_id == get_account(session, winner).id
        # Losing a race is not guessing: no loser is counted towards the rate limit.
        assert session.scalars(select(CodeAttempt.reason)).all() == []


def test_two_accounts_cannot_register_one_serial(
    database_url: str, session_factory: SessionFactory, tmp_path: Path
) -> None:
    emails = _accounts(session_factory, tmp_path)
    args = {"model": "DGS-1100-08", "serial": SERIAL.lower(), "purchase_date": dt.date(2026, 1, 1)}

    outcomes = _race(database_url, "register", dict.fromkeys(emails, args))

    assert Counter(outcomes.values()) == {"ok": 1, "serial_taken": PROCESSES - 1}
    (winner,) = [email for email, outcome in outcomes.items() if outcome == "ok"]
    with session_factory() as session:
        product = session.scalars(select(RegisteredProduct)).one()
        assert (product.serial, product.account_id) == (SERIAL, get_account(session, winner).id)


def test_one_service_is_not_activated_twice_on_one_product_by_two_codes_at_once(
    database_url: str, session_factory: SessionFactory, tmp_path: Path
) -> None:
    (email, *_) = _accounts(session_factory, tmp_path)
    codes = tmp_path / "codes.csv"
    codes.write_text(
        "code,service,models,purchase_date,duration_months\n"
        + "".join(f"TWIN-000{n},DAS-NBD,DGS-1100-08,2026-11-01,12\n" for n in range(PROCESSES))
    )
    with session_factory.begin() as session:
        das.import_codes(session, codes, now=NOW)
        account = get_account(session, email)
        register_product(
            session, account, model="DGS-1100-08", serial=SERIAL, purchase_date=dt.date(2026, 1, 1)
        )
        site_id = account.sites[0].id
    contenders = {
        f"TWIN-000{n}": {
            "serial": SERIAL,
            "code": f"TWIN-000{n}",
            "service_purchase_date": None,
            "site_id": site_id,
            "accept_terms": True,
        }
        for n in range(PROCESSES)
    }

    outcomes = _race(database_url, "activate", contenders, email=email)

    assert Counter(outcomes.values()) == {"ok": 1, "service_already_active": PROCESSES - 1}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ActivatedService)) == 1
        used = session.scalars(
            select(ActivationCode.code_hash).where(ActivationCode.used_at.is_not(None))
        ).all()
        assert used == [
            hash_code(session, label) for label, outcome in outcomes.items() if outcome == "ok"
        ]
