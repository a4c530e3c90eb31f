"""CSV imports: the whole file is checked first, every bad row is reported with its line,
a file with errors imports nothing, and importing the same file again changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.accounts import create_account, get_account
from services.catalog import applicable_services, get_model, import_catalog
from services.codes import hash_code
from services.csvimport import ImportResult
from services.das import import_codes
from services.errors import ImportFailed, SubscriptionNotFound
from services.subscriptions import get_subscription, import_subscriptions, list_subscriptions
from storage.db import SessionFactory
from storage.models import ActivationCode, ProductModel, Subscription

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)

CATALOG = """model,name,serial_pattern,das_services
DGS-1100-08,8-Port Gigabit Smart Managed Switch,[A-Z0-9]{13},DAS-NBD;DAS-4H
DAP-2610,Wireless AC1300 Access Point,DAP[0-9]{9},DAS-NBD
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def counts(result: ImportResult) -> tuple[int, int, int]:
    return result.created, result.updated, result.unchanged


def rows(session_factory: SessionFactory, model: type[object]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def catalogue(session_factory: SessionFactory, tmp_path: Path) -> None:
    with session_factory.begin() as session:
        import_catalog(session, write(tmp_path, "catalog.csv", CATALOG))


# --- catalogue -------------------------------------------------------------------------


def test_catalogue_import_creates_updates_and_leaves_the_rest_alone(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    path = write(tmp_path, "catalog.csv", CATALOG)
    with session_factory.begin() as session:
        assert counts(import_catalog(session, path)) == (2, 0, 0)
    with session_factory.begin() as session:
        assert counts(import_catalog(session, path)) == (0, 0, 2)

    changed = write(
        tmp_path,
        "catalog2.csv",
        "model,name,serial_pattern,das_services\n"
        "dgs-1100-08,8-Port Gigabit Smart Managed Switch,[A-Z0-9]{13},DAS-NBD\n"  # DAS-4H dropped
        "DAP-2610,Wireless AC1300 Access Point,DAP[0-9]{9},DAS-NBD\n"
        "DIR-842,AC1200 MU-MIMO Router,R[0-9A-Z]{12}, DAS-NBD ; DAS-NBD ;\n",
    )
    with session_factory.begin() as session:
        assert counts(import_catalog(session, changed)) == (1, 1, 1)
    with session_factory() as session:
        assert applicable_services(session, "DGS-1100-08") == ["DAS-NBD"]
        assert applicable_services(session, "DIR-842") == ["DAS-NBD"]
        assert get_model(session, "DGS-1100-08").model == "DGS-1100-08"  # the first spelling stays
    assert rows(session_factory, ProductModel) == 3


def test_a_catalogue_with_bad_rows_reports_each_and_imports_nothing(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "catalog.csv",
        "model,name,serial_pattern,das_services\n"
        "DGS-1100-08,8-Port Switch,[A-Z0-9]{13},DAS-NBD\n"
        "DGS-1210-28,28-Port Switch,[A-Z0-9{13,DAS-NBD\n"
        ",No model,[0-9]+,\n"
        "\n"
        "DES-1005,,[0-9]+,\n"
        "dgs-1100-08,Again,[0-9]+,\n",
    )
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_catalog(session, path)
    errors = dict(failed.value.errors)
    assert sorted(errors) == [3, 4, 6, 7]
    assert "not a valid regular expression" in errors[3]
    assert "model is empty" in errors[4]
    assert "name is empty" in errors[6]
    assert "duplicate of line 2" in errors[7]
    assert rows(session_factory, ProductModel) == 0


def test_a_file_without_the_expected_columns_is_refused(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    path = write(tmp_path, "catalog.csv", "model,name\nDGS-1100-08,Switch\n")
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_catalog(session, path)
    assert failed.value.errors[0][0] == 1
    assert "serial_pattern" in failed.value.errors[0][1]


def test_columns_are_found_whatever_their_case_order_and_spacing_with_extra_columns(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    text = '\ufeffName , SERIAL_PATTERN,Notes,Model,Das_Services\r\n\r\nSwitch,[A-Z0-9]{13},x,DGS-1100-08,"DAS-NBD, DAS-4H"\r\n'
    path = tmp_path / "catalog.csv"
    path.write_bytes(text.encode("utf-8"))
    with session_factory.begin() as session:
        assert counts(import_catalog(session, path)) == (1, 0, 0)
    with session_factory() as session:
        model = get_model(session, "dgs-1100-08")
        assert (model.name, model.serial_pattern) == ("Switch", "[A-Z0-9]{13}")
        assert applicable_services(session, "DGS-1100-08") == [
            "DAS-4H",
            "DAS-NBD",
        ]  # ',' as well as ';'


def test_a_semicolon_separated_file_from_a_french_spreadsheet_is_read(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    text = "\ufeffmodel;name;serial_pattern;das_services\r\nDGS-1100-08;Commutateur 8 ports;[A-Z0-9]{13};DAS-NBD, DAS-4H\r\n"
    path = tmp_path / "catalog.csv"
    path.write_bytes(text.encode("utf-8"))
    with session_factory.begin() as session:
        assert counts(import_catalog(session, path)) == (1, 0, 0)
    with session_factory() as session:
        assert get_model(session, "DGS-1100-08").name == "Commutateur 8 ports"
        assert applicable_services(session, "DGS-1100-08") == ["DAS-4H", "DAS-NBD"]


# --- activation codes ------------------------------------------------------------------

CODES = """code,service,models,purchase_date,duration_months
ab12-cd34-7f3a,DAS-NBD,DGS-1100-08,2026-10-01,12
XY99 ZZ00 1111,DAS-NBD,dgs-1100-08;DAP-2610,,24
"""


def test_a_quoted_comma_list_of_models_is_accepted_like_semicolons(
    session_factory: SessionFactory, catalogue: None, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "codes.csv",
        "code,service,models,purchase_date,duration_months\n"
        'comma-0001,DAS-NBD,"DAP-2610, dgs-1100-08",,12\n',
    )
    with session_factory.begin() as session:
        assert counts(import_codes(session, path, now=NOW)) == (1, 0, 0)
    with session_factory() as session:
        assert session.scalars(select(ActivationCode.models)).one() == ["DAP-2610", "DGS-1100-08"]


def test_codes_import_normalises_codes_and_models_and_is_idempotent(
    session_factory: SessionFactory, catalogue: None, tmp_path: Path
) -> None:
    path = write(tmp_path, "codes.csv", CODES)
    with session_factory.begin() as session:
        assert counts(import_codes(session, path, now=NOW)) == (2, 0, 0)
    with session_factory.begin() as session:
        assert counts(import_codes(session, path, now=NOW)) == (0, 0, 2)
    with session_factory() as session:
        by_hash = {hash_code(session, code): code for code in ("AB12CD347F3A", "XY99ZZ001111")}
        stored = {by_hash[c.code_hash]: c for c in session.scalars(select(ActivationCode))}
    assert set(stored) == {"AB12CD347F3A", "XY99ZZ001111"}
    # Only the hash and what the mask shows are kept: the codes themselves are gone.
    assert {c.code_tail for c in stored.values()} == {"7F3A", "1111"}
    assert stored["XY99ZZ001111"].models == ["DGS-1100-08", "DAP-2610"]
    assert stored["XY99ZZ001111"].purchase_date is None
    assert stored["AB12CD347F3A"].purchase_date == dt.date(2026, 10, 1)
    assert stored["AB12CD347F3A"].imported_at == NOW

    changed = write(tmp_path, "codes2.csv", CODES.replace(",12\n", ",36\n"))
    with session_factory.begin() as session:
        assert counts(import_codes(session, changed, now=NOW)) == (0, 1, 1)
    with session_factory() as session:
        code = session.scalars(
            select(ActivationCode).where(
                ActivationCode.code_hash == hash_code(session, "AB12CD347F3A")
            )
        ).one()
        assert code.duration_months == 36


def test_a_codes_file_with_bad_rows_reports_every_one_and_imports_nothing(
    session_factory: SessionFactory, catalogue: None, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "codes.csv",
        "code,service,models,purchase_date,duration_months\n"
        "GOOD-0001,DAS-NBD,DGS-1100-08,2026-10-01,12\n"
        "BAD-MODEL,DAS-NBD,DGS-9999,2026-10-01,12\n"
        "BAD-DATE,DAS-NBD,DGS-1100-08,01/10/2026,12\n"
        "BAD-DURATION,DAS-NBD,DGS-1100-08,,twelve\n"
        "FUTURE,DAS-NBD,DGS-1100-08,2026-11-24,12\n"
        "good-0001,DAS-NBD,DGS-1100-08,2026-10-01,12\n"
        ",,,,0\n"
        "FOREVER,DAS-NBD,DGS-1100-08,,99999\n",
    )
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_codes(session, path, now=NOW)
    errors = dict(failed.value.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert "more than 1200 months" in errors[9]  # would end after the year 9999
    assert "unknown model 'DGS-9999'" in errors[3]
    assert "not a date" in errors[4]
    assert "not a whole number" in errors[5]
    assert "in the future" in errors[6]
    assert "duplicate of line 2" in errors[7]
    assert all(
        part in errors[8]
        for part in ("code is empty", "service is empty", "models is empty", "at least 1")
    )
    assert rows(session_factory, ActivationCode) == 0


def test_a_used_code_cannot_be_changed_by_an_import(
    session_factory: SessionFactory, catalogue: None, tmp_path: Path
) -> None:
    path = write(tmp_path, "codes.csv", CODES)
    with session_factory.begin() as session:
        import_codes(session, path, now=NOW)
        code = session.scalars(
            select(ActivationCode).where(
                ActivationCode.code_hash == hash_code(session, "AB12CD347F3A")
            )
        ).one()
        code.used_at = NOW
    with session_factory.begin() as session:
        assert counts(import_codes(session, path, now=NOW)) == (0, 0, 2)  # the same row is fine
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_codes(session, write(tmp_path, "c2.csv", CODES.replace(",12\n", ",36\n")), now=NOW)
    ((line, message),) = failed.value.errors
    assert line == 2 and "already used" in message
    assert "AB12CD347F3A" not in message  # masked, even for staff
    # Reported in the same pass as the rows that do not even parse: every bad row at once.
    mixed = write(
        tmp_path, "c3.csv", CODES.replace(",12\n", ",36\n") + "BROKEN,DAS-NBD,DGS-1100-08,,x\n"
    )
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_codes(session, mixed, now=NOW)
    assert [line for line, _ in failed.value.errors] == [2, 4]


def test_a_large_codes_file_imports_in_one_go_and_reports_progress(
    session_factory: SessionFactory, catalogue: None, tmp_path: Path
) -> None:
    lines = ["code,service,models,purchase_date,duration_months"]
    lines += [f"BULK-{n:06d},DAS-NBD,DGS-1100-08,2026-10-01,12" for n in range(2500)]
    path = write(tmp_path, "bulk.csv", "\n".join(lines) + "\n")
    seen: list[int] = []
    with session_factory.begin() as session:
        result = import_codes(session, path, seen.append, now=NOW)
    assert counts(result) == (2500, 0, 0)
    assert sum(seen) == 2500 and len(seen) > 1
    assert rows(session_factory, ActivationCode) == 2500

    seen.clear()
    with session_factory.begin() as session:
        assert counts(import_codes(session, path, seen.append, now=NOW)) == (0, 0, 2500)
    assert sum(seen) == 2500


# --- subscriptions ---------------------------------------------------------------------


@pytest.fixture
def accounts(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        create_account(session, email="alice@example.com", name="Alice")
        create_account(session, email="bob@example.com", name="Bob")


SUBSCRIPTIONS = """email,service,type,tier
alice@example.com,LinkSprinter.com,3,paid
ALICE@example.com,OneTouch AT.com,2,paid
alice@example.com,Network Insights,1,free
bob@example.com,Network Insights,1,PAID
"""


def test_subscriptions_import_upserts_by_email_and_service(
    session_factory: SessionFactory, accounts: None, tmp_path: Path
) -> None:
    path = write(tmp_path, "subs.csv", SUBSCRIPTIONS)
    with session_factory.begin() as session:
        assert counts(import_subscriptions(session, path)) == (4, 0, 0)
    with session_factory.begin() as session:
        assert counts(import_subscriptions(session, path)) == (0, 0, 4)
    upgraded = write(
        tmp_path,
        "subs2.csv",
        "email,service,type,tier\nalice@example.com,network insights,1,paid\n",
    )
    with session_factory.begin() as session:
        assert counts(import_subscriptions(session, upgraded)) == (0, 1, 0)
    with session_factory() as session:
        alice = get_account(session, "alice@example.com")
        assert [(s.service, s.type, s.tier) for s in list_subscriptions(session, alice)] == [
            ("LinkSprinter.com", 3, "paid"),
            ("network insights", 1, "paid"),
            ("OneTouch AT.com", 2, "paid"),
        ]
        assert get_subscription(session, alice, "ONETOUCH at.com").type == 2
        with pytest.raises(SubscriptionNotFound):
            get_subscription(session, alice, "Unknown Service")
        bob = get_account(session, "bob@example.com")
        assert get_subscription(session, bob, "Network Insights").tier == "paid"
        with pytest.raises(SubscriptionNotFound):
            get_subscription(session, bob, "LinkSprinter.com")  # Alice's
    assert rows(session_factory, Subscription) == 4


def test_a_subscriptions_file_with_bad_rows_reports_every_one_and_imports_nothing(
    session_factory: SessionFactory, accounts: None, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "subs.csv",
        "email,service,type,tier\n"
        "alice@example.com,LinkSprinter.com,3,paid\n"
        "carol@example.com,LinkSprinter.com,3,9\n"
        "alice@example.com,OneTouch AT.com,4,paid\n"
        "alice@example.com,Insights,1,gold\n"
        "not-an-email,Insights,1,free\n"
        "alice@example.com,linksprinter.COM,3,free\n",
    )
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_subscriptions(session, path)
    errors = dict(failed.value.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert "must be free or paid" in errors[3]
    assert "must be 1, 2 or 3" in errors[4]
    assert "must be free or paid" in errors[5]
    assert "not a valid e-mail" in errors[6]
    assert "duplicate of line 2" in errors[7]
    assert rows(session_factory, Subscription) == 0


def test_subscriptions_for_an_e_mail_without_account_wait_for_the_account(
    session_factory: SessionFactory, accounts: None, tmp_path: Path
) -> None:
    # Billing knows customers before they ever talk to the bot: nothing is refused.
    path = write(
        tmp_path,
        "subs.csv",
        "email,service,type,tier\n"
        "alice@example.com,LinkSprinter.com,3,paid\n"
        "Carol@Example.com,OneTouch AT.com,2,paid\n"
        "carol@example.com,Insights,1,free\n",
    )
    with session_factory.begin() as session:
        result = import_subscriptions(session, path)
    assert counts(result) == (3, 0, 0)
    assert result.details == {"waiting for an account with their e-mail": 2}
    with session_factory.begin() as session:
        again = import_subscriptions(session, path)
    assert counts(again) == (0, 0, 3)  # re-importing changes nothing, pending rows included
    with session_factory.begin() as session:
        import_subscriptions(
            session,
            write(
                tmp_path, "paid.csv", "email,service,type,tier\ncarol@example.com,insights,1,paid\n"
            ),
        )
    assert rows(session_factory, Subscription) == 1

    with session_factory.begin() as session:
        create_account(session, email="carol@example.com", name="Carol")
    with session_factory() as session:
        carol = get_account(session, "carol@example.com")
        assert [(s.service, s.type, s.tier) for s in list_subscriptions(session, carol)] == [
            ("insights", 1, "paid"),
            ("OneTouch AT.com", 2, "paid"),
        ]
    with session_factory.begin() as session:
        assert counts(import_subscriptions(session, path)) == (
            0,
            1,
            2,
        )  # now on her account: Insights back to free


# --- hostile files -----------------------------------------------------------------------


def test_rows_with_more_or_fewer_fields_than_the_header_are_refused(
    session_factory: SessionFactory, catalogue: None, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "codes.csv",
        "code,service,models,purchase_date,duration_months\n"
        "GOOD-0001,DAS-NBD,DGS-1100-08,2026-10-01,12\n"
        "SHIFT-0001,DAS-NBD,DGS-1100-08,DAP-2610,2026-10-01,12\n"  # a model list unquoted
        "SHORT-0001,DAS-NBD,DGS-1100-08\n",
    )
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_codes(session, path, now=NOW)
    assert failed.value.errors == [
        (3, "6 fields where the header has 5"),
        (4, "3 fields where the header has 5"),
    ]
    assert rows(session_factory, ActivationCode) == 0

    subs = write(tmp_path, "subs.csv", "email,service,type,tier\na@example.com,Pro,1,paid,extra\n")
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_subscriptions(session, subs)
    assert failed.value.errors == [(2, "5 fields where the header has 4")]


def test_a_code_for_a_service_the_catalogue_does_not_offer_on_its_models_is_refused(
    session_factory: SessionFactory, catalogue: None, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "codes.csv",
        "code,service,models,purchase_date,duration_months\n"
        "GOOD-0001,das-nbd,DGS-1100-08;DAP-2610,2026-10-01,12\n"
        "NOSUCH-0001,DAS-GOLD,DGS-1100-08,2026-10-01,12\n"
        "NOTHERE-0001,DAS-4H,DGS-1100-08;DAP-2610,2026-10-01,12\n",
    )
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_codes(session, path, now=NOW)
    assert failed.value.errors == [
        (3, "service 'DAS-GOLD' is not in the catalogue"),
        (4, "service 'DAS-4H' is not offered for model 'DAP-2610' in the catalogue"),
    ]
    assert rows(session_factory, ActivationCode) == 0


def test_a_file_is_read_as_it_is_imported_not_all_at_once(tmp_path: Path) -> None:
    from services.csvimport import read_rows

    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,service,type,tier\n")
        handle.writelines(f"user{n}@example.com,Pro,1,paid\n" for n in range(1000))
    rows_read = read_rows(path, ("email", "service", "type", "tier"))
    first = next(iter(rows_read))
    assert first.line == 2 and first.values["email"] == "user0@example.com"
    # The rest of the file is still to be read: nothing was loaded ahead of the import.
    assert sum(1 for _ in rows_read) == 999
