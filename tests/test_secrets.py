"""Activation codes are secrets: once imported, a full code appears nowhere.

Not in the database, not in a database error, not in the question log or incident text
(whatever separators the customer typed), not in the command line of `das activate`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.exc import OperationalError

from bot.cli import cli
from services import das, incidents, questions, subscriptions
from services.accounts import create_account, get_account
from services.catalog import import_catalog
from services.codes import hash_code, redact_codes
from services.errors import CodeUnknown
from services.products import register_product
from services.sites import add_site
from storage.db import SessionFactory, make_engine, make_session_factory, upgrade
from storage.models import Base

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
CODE = "AB12-CD34-7F3A"
SECRETS = ("AB12CD347F3A", "AB12-CD34-7F3A", "ab12cd347f3a")


@pytest.fixture
def world(session_factory: SessionFactory, tmp_path: Path) -> int:
    (tmp_path / "catalog.csv").write_text(
        "model,name,serial_pattern,das_services\nDGS-1100-08,Switch,[A-Z0-9]{13},DAS-NBD\n"
    )
    (tmp_path / "codes.csv").write_text(
        "code,service,models,purchase_date,duration_months\n"
        f"{CODE},DAS-NBD,DGS-1100-08,2026-11-01,12\nOTHER-0000-9999,DAS-NBD,DGS-1100-08,,12\n"
    )
    (tmp_path / "subs.csv").write_text(
        "email,service,type,tier\nalice@example.com,Cloud Pro,1,paid\n"
    )
    with session_factory.begin() as session:
        import_catalog(session, tmp_path / "catalog.csv")
        das.import_codes(session, tmp_path / "codes.csv", now=NOW)
        alice = create_account(session, email="alice@example.com", name="Alice")
        subscriptions.import_subscriptions(session, tmp_path / "subs.csv")
        site = add_site(
            session, alice, street="1 rue", postal_code="75001", city="Paris", country="FR"
        )
        register_product(
            session,
            alice,
            model="DGS-1100-08",
            serial="AB12CD34EF56G",
            purchase_date=dt.date(2026, 1, 1),
        )
        return site.id


def _everything(engine: Engine) -> str:
    """Every value of every table, as text."""
    with engine.connect() as connection:
        return json.dumps(
            {
                table.name: [list(map(str, row)) for row in connection.execute(table.select())]
                for table in Base.metadata.sorted_tables
            }
        )


def _contains_a_code(text_: str) -> bool:
    return any(secret in text_ for secret in SECRETS)


def test_a_code_is_stored_as_a_keyed_hash_and_its_last_characters(
    engine: Engine, session_factory: SessionFactory, world: int
) -> None:
    with session_factory.begin() as session:
        das.activate(
            session,
            get_account(session, "alice@example.com"),
            serial="AB12CD34EF56G",
            code=CODE,
            service_purchase_date=None,
            site_id=world,
            accept_terms=True,
            now=NOW,
        )
    assert not _contains_a_code(_everything(engine))
    with session_factory() as session:
        stored = das.find_code(session, "ab12 cd34 7f3a")
        assert stored is not None and stored.used_at is not None
        assert das.masked(stored) == "****-****-7F3A"
        # Keyed: another secret gives another hash, so a stolen table says nothing.
        other = make_session_factory(engine, code_secret="another secret", read_only=True)()
        assert hash_code(other, CODE) != stored.code_hash
        assert das.find_code(other, CODE) is None
        other.close()


def test_a_database_error_during_activation_never_shows_the_code(
    engine: Engine, session_factory: SessionFactory, world: int
) -> None:
    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM activation_codes" in statement:
            raise engine.dialect.loaded_dbapi.OperationalError("disk I/O error")

    event.listen(engine, "before_cursor_execute", fail)
    try:
        with pytest.raises(OperationalError) as failure, session_factory.begin() as session:
            das.activate(
                session,
                get_account(session, "alice@example.com"),
                serial="AB12CD34EF56G",
                code=CODE,
                service_purchase_date=None,
                site_id=world,
                accept_terms=True,
                now=NOW,
            )
    finally:
        event.remove(engine, "before_cursor_execute", fail)
    assert "[parameters:" in str(failure.value)
    assert not _contains_a_code(str(failure.value))


TYPED = [
    "AB12.CD34.7F3A",
    "ab12_cd34_7f3a",
    "AB12/CD34/7F3A",
    "AB12 CD34 7F3A",
    "ab12 - cd34 - 7f3a",
    "AB12–CD34–7F3A",
    "AB12CD347F3A",
]


@pytest.mark.parametrize("typed", TYPED)
def test_a_code_in_a_question_to_the_kb_is_masked_whatever_the_separators(
    session_factory: SessionFactory, world: int, typed: str
) -> None:
    with session_factory.begin() as session:
        questions.record_question(
            session, question=f"why does my code {typed} not work?", lang="en", answered=False
        )
    with session_factory() as session:
        (logged,) = questions.unanswered_questions(session)
    assert logged.question == "why does my code ****-****-7F3A not work?"


@pytest.mark.parametrize("typed", TYPED)
def test_a_code_in_an_incident_is_masked_whatever_the_separators(
    session_factory: SessionFactory, world: int, typed: str
) -> None:
    with session_factory.begin() as session:
        alice = get_account(session, "alice@example.com")
        number = incidents.create_incident(
            session,
            alice,
            service="Cloud Pro",
            summary=f"Code {typed} refused",
            description=f"I typed {typed}.\nFirmware 1.20.004, model DGS-1100-08, 2026-11-01.",
            actor=alice.email,
            now=NOW,
        ).number
        incidents.add_comment(
            session, number or "", actor="sam", note=f"customer sent {typed} again", now=NOW
        )
    with session_factory() as session:
        incident = incidents.get_incident(session, number or "")
        assert incident.summary == "Code ****-****-7F3A refused"
        # Only stored codes are masked: versions, models and dates stay readable.
        assert incident.description == (
            "I typed ****-****-7F3A.\nFirmware 1.20.004, model DGS-1100-08, 2026-11-01."
        )
        assert incident.events[-1].note == "customer sent ****-****-7F3A again"


def test_redaction_leaves_text_without_codes_alone(
    session_factory: SessionFactory, world: int
) -> None:
    with session_factory() as session:
        plain = "Port 12 on DGS-1100-08 since 2026-11-01 (order AB12-CD34)"
        assert redact_codes(session, plain) == plain


def _activate(site_id: int, *options: str, **kwargs: Any) -> Result:
    return CliRunner().invoke(
        cli,
        [
            "das",
            "activate",
            "--email",
            "alice@example.com",
            "--serial",
            "AB12CD34EF56G",
            "--purchase-date",
            "2026-11-01",
            "--site",
            str(site_id),
            "--accept-terms",
            *options,
        ],
        **kwargs,
    )


def test_das_activate_reads_the_code_from_standard_input(world: int) -> None:
    result = _activate(world, "--code", "-", input=f"{CODE}\n")
    assert result.exit_code == 0, result.stderr
    assert "with code ****-****-7F3A" in result.stdout
    assert not _contains_a_code(result.stdout + result.stderr)


def test_das_activate_reads_the_code_from_an_environment_variable(world: int) -> None:
    result = _activate(world, "--code-env", "DAS_CODE", env={"DAS_CODE": CODE})
    assert result.exit_code == 0, result.stderr
    assert "with code ****-****-7F3A" in result.stdout


def test_das_activate_wants_exactly_one_way_of_giving_the_code(world: int) -> None:
    for options, env in (
        ((), {}),
        (("--code", CODE, "--code-env", "X"), {}),
        (("--code-env", "UNSET"), {}),
    ):
        result = _activate(world, *options, env=env)
        assert result.exit_code == 2
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")


def test_a_wrong_code_from_standard_input_is_refused_masked(world: int) -> None:
    result = _activate(world, "--code", "-", input="ZZ99-YY88-XX77\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "****-****-XX77" in result.stderr
    assert "ZZ99" not in result.stderr


def test_the_migration_hashes_the_codes_already_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO activation_codes (code, service, models, duration_months, imported_at)"
                " VALUES ('AB12CD347F3A', 'DAS-NBD', '[\"DGS-1100-08\"]', 12, '2026-11-01 00:00:00')"
            )
        )
    monkeypatch.setenv("HELPDESK_CODE_SECRET", "production secret")
    upgrade(url)
    assert "code" not in {c["name"] for c in inspect(engine).get_columns("activation_codes")}
    assert not _contains_a_code(_everything(engine))
    with make_session_factory(engine, code_secret="production secret")() as session:
        stored = das.find_code(session, CODE)
        assert stored is not None and das.masked(stored) == "****-****-7F3A"
    with make_session_factory(engine)() as session, pytest.raises(CodeUnknown):
        if das.find_code(session, CODE) is None:
            raise CodeUnknown(code=das.mask_code(CODE))
    engine.dispose()


def test_no_code_is_left_in_the_sqlite_file(world: int, database_url: str, engine: Engine) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the file itself is SQLite's")
    engine.dispose()
    path = Path(database_url.removeprefix("sqlite:///"))
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    raw = path.read_bytes()
    assert not any(secret.encode() in raw for secret in SECRETS)
