"""The admin CLI as staff use it: exact command names, JSON shapes, exit codes 0/1/2."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import admin, cli, common
from services.clock import utcnow

CATALOG = """model,name,serial_pattern,das_services
DGS-1100-08,8-Port Gigabit Smart Managed Switch,[A-Z0-9]{13},DAS-NBD;DAS-4H
DGS-3630-28TC,28-Port Stackable Managed Switch,QB[0-9A-Z]{11},DAS-NBD
"""

# The CLI's today is UTC's (services.clock), whatever the machine's time zone.
TODAY = utcnow().date()
RECENT = (TODAY - dt.timedelta(days=10)).isoformat()
CODES = f"""code,service,models,purchase_date,duration_months
AB12-CD34-7F3A,DAS-NBD,DGS-1100-08,{RECENT},12
QQ11-WW22-EE33,DAS-NBD,DGS-3630-28TC,,12
"""

SERVICE_KEYS = ["serial", "model", "service", "activated_on", "starts_on", "ends_on", "site_id"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ok_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "catalog": tmp_path / "catalog.csv",
        "codes": tmp_path / "codes.csv",
        "subs": tmp_path / "subs.csv",
    }
    paths["catalog"].write_text(CATALOG, encoding="utf-8")
    paths["codes"].write_text(CODES, encoding="utf-8")
    paths["subs"].write_text(
        "email,service,type,tier\njane@example.com,OneTouch AT.com,2,paid\n", encoding="utf-8"
    )
    return paths


@pytest.fixture
def customer(database_url: str, files: dict[str, Path]) -> int:
    """Catalogue and codes imported; jane@example.com with one site. Returns the site id."""
    assert run("catalog", "import", str(files["catalog"])).exit_code == 0
    assert run("das", "import-codes", str(files["codes"])).exit_code == 0
    account = ok_json(
        "accounts", "create", "--email", "Jane@Example.com", "--name", "Jane", "--country", "fr"
    )
    assert account["email"] == "jane@example.com" and account["country"] == "FR"
    site = ok_json(
        "sites",
        "add",
        "--email",
        "jane@example.com",
        "--street",
        "1 rue de Rivoli",
        "--postal-code",
        "75001",
        "--city",
        "Paris",
        "--country",
        "FR",
    )
    assert list(site) == ["id"]
    plain = run(
        "sites",
        "add",
        "--email",
        "jane@example.com",
        "--street",
        "2 quai Branly",
        "--postal-code",
        "75007",
        "--city",
        "Paris",
        "--country",
        "FR",
    )
    assert plain.stdout == f"{site['id'] + 1}\n"  # without --json: the new id alone
    return int(site["id"])


def test_imports_print_what_was_created_updated_unchanged(
    database_url: str, files: dict[str, Path]
) -> None:
    first = run("catalog", "import", str(files["catalog"]))
    assert (first.exit_code, first.stdout) == (0, "catalog: 2 created, 0 updated, 0 unchanged\n")
    assert first.stderr == ""  # no progress bar when not on a terminal
    again = run("catalog", "import", str(files["catalog"]))
    assert again.stdout == "catalog: 0 created, 0 updated, 2 unchanged\n"
    codes = run("das", "import-codes", str(files["codes"]))
    assert codes.stdout == "activation codes: 2 created, 0 updated, 0 unchanged\n"
    assert run("accounts", "create", "--email", "jane@example.com", "--name", "Jane").exit_code == 0
    subs = run("subscriptions", "import", str(files["subs"]))
    assert subs.stdout == "subscriptions: 1 created, 0 updated, 0 unchanged\n"
    assert ok_json("subscriptions", "list", "--email", "jane@example.com") == [
        {"service": "OneTouch AT.com", "type": 2, "tier": "paid"}
    ]


def test_an_import_with_bad_rows_lists_them_exits_1_and_imports_nothing(
    database_url: str, files: dict[str, Path], tmp_path: Path
) -> None:
    run("catalog", "import", str(files["catalog"]))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        CODES + "XX,DAS-NBD,DIR-842,,12\nYY,DAS-NBD,DGS-1100-08,2026-02-30,x\n", encoding="utf-8"
    )
    result = run("das", "import-codes", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("line 4: unknown model 'DIR-842'")
    assert lines[1].startswith("line 5: purchase_date '2026-02-30' is not a date")
    assert "not a whole number" in lines[1]
    assert "nothing was imported" in lines[-1]
    missing = run("catalog", "import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1
    assert (
        missing.stderr == f"error: file not found: {tmp_path / 'nope.csv'}\n"
    )  # no "line 0", no error count


def test_the_progress_bar_on_a_terminal_does_not_change_the_import(
    database_url: str, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with common.progress_bar("catalog") as bar:
        assert bar is None  # tests are not a terminal
    monkeypatch.setattr(common, "on_terminal", lambda: True)
    monkeypatch.setattr(admin, "on_terminal", lambda: True)
    advanced: list[int] = []
    real_bar = common.progress_bar

    @contextlib.contextmanager
    def spying_bar(label: str, total: int | None = None) -> Iterator[common.ProgressBar | None]:
        assert total == 2  # the file's rows, counted for the bar
        with real_bar(label, total) as bar:
            assert bar is not None
            monkeypatch.setattr(bar, "advance", lambda count: advanced.append(count))
            yield bar

    monkeypatch.setattr(admin, "progress_bar", spying_bar)
    result = run("catalog", "import", str(files["catalog"]))
    assert result.exit_code == 0
    assert result.stdout == "catalog: 2 created, 0 updated, 0 unchanged\n"
    assert sum(advanced) == 2


def test_register_list_activate_and_list_services(customer: int) -> None:
    product = ok_json(
        "products",
        "register",
        "--email",
        "jane@example.com",
        "--model",
        "dgs-1100-08",
        "--serial",
        "ab12-cd34-ef56-g",
        "--purchase-date",
        "2026-01-15",
    )
    assert product == {
        "serial": "AB12CD34EF56G",
        "model": "DGS-1100-08",
        "purchase_date": "2026-01-15",
        "site_id": None,
    }
    assert ok_json("products", "list", "--email", "jane@example.com") == [product]

    activated = ok_json(
        "das",
        "activate",
        "--email",
        "jane@example.com",
        "--serial",
        "AB12CD34EF56G",
        "--code",
        "ab12cd347f3a",
        "--purchase-date",
        RECENT,
        "--site",
        str(customer),
        "--accept-terms",
    )
    assert list(activated) == SERVICE_KEYS
    assert activated["activated_on"] == TODAY.isoformat()
    assert activated["starts_on"] == (TODAY + dt.timedelta(days=2)).isoformat()
    assert activated["site_id"] == customer
    listed = ok_json("services", "list", "--email", "jane@example.com")
    assert listed == [activated]

    table = run("services", "list", "--email", "jane@example.com")
    assert "****-****-7F3A" in table.stdout
    assert "AB12CD347F3A" not in table.stdout and "AB12-CD34-7F3A" not in table.stdout


def test_refusals_exit_1_with_the_reason_on_stderr(customer: int) -> None:
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    refused = run(
        "products",
        "register",
        "--email",
        "jane@example.com",
        "--model",
        "DGS-1100-08",
        "--serial",
        "AB12CD34EF56G",
        "--purchase-date",
        future,
    )
    assert refused.exit_code == 1
    assert "in the future" in refused.stderr and refused.stdout == ""

    unknown = run("products", "list", "--email", "nobody@example.com", "--json")
    assert unknown.exit_code == 1 and "nobody@example.com" in unknown.stderr

    run(
        "products",
        "register",
        "--email",
        "jane@example.com",
        "--model",
        "DGS-1100-08",
        "--serial",
        "AB12CD34EF56G",
        "--purchase-date",
        "2026-01-15",
    )
    base = [
        "das",
        "activate",
        "--email",
        "jane@example.com",
        "--serial",
        "AB12CD34EF56G",
        "--purchase-date",
        RECENT,
        "--site",
        str(customer),
    ]
    no_terms = run(*base, "--code", "AB12CD347F3A")
    assert no_terms.exit_code == 1 and "terms and conditions" in no_terms.stderr
    wrong_model = run(*base, "--code", "QQ11-WW22-EE33", "--accept-terms")
    assert wrong_model.exit_code == 1
    assert "This code is for DGS-3630-28TC models, not DGS-1100-08" in wrong_model.stderr
    assert ok_json("services", "list", "--email", "jane@example.com") == []

    assert run(*base, "--code", "AB12CD347F3A", "--accept-terms").exit_code == 0
    used = run(*base, "--code", "AB12-CD34-7F3A", "--accept-terms")
    assert used.exit_code == 1
    assert "already been used" in used.stderr and "****-****-7F3A" in used.stderr
    assert "AB12CD347F3A" not in used.stderr and "AB12-CD34-7F3A" not in used.stderr


def test_usage_errors_exit_2(customer: int) -> None:
    bad_date = run(
        "products",
        "register",
        "--email",
        "jane@example.com",
        "--model",
        "DGS-1100-08",
        "--serial",
        "AB12CD34EF56G",
        "--purchase-date",
        "15/01/2026",
    )
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.stderr
    assert run("sites", "add", "--email", "jane@example.com").exit_code == 2
    assert (
        run(
            "das",
            "activate",
            "--email",
            "jane@example.com",
            "--serial",
            "X",
            "--code",
            "C",
            "--purchase-date",
            RECENT,
            "--site",
            "first",
        ).exit_code
        == 2
    )
    assert run("products", "frobnicate").exit_code == 2
    assert ok_json("products", "list", "--email", "jane@example.com") == []


def test_the_installed_console_script(
    database_url: str, files: dict[str, Path], tmp_path: Path
) -> None:
    script = Path(sys.executable).with_name("helpdesk")
    env = os.environ | {
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_DATA_DIR": str(tmp_path / "data"),
    }

    def helpdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args], env=env, capture_output=True, text=True, timeout=120
        )

    assert helpdesk("catalog", "import", str(files["catalog"])).returncode == 0
    created = helpdesk(
        "accounts", "create", "--email", "sam@example.com", "--name", "Sam", "--json"
    )
    assert created.returncode == 0 and json.loads(created.stdout)["email"] == "sam@example.com"
    site = helpdesk(
        "sites",
        "add",
        "--email",
        "sam@example.com",
        "--street",
        "5 Main St",
        "--postal-code",
        "10001",
        "--city",
        "New York",
        "--country",
        "US",
        "--json",
    )
    assert site.returncode == 0 and isinstance(json.loads(site.stdout)["id"], int)
    refused = helpdesk(
        "products",
        "register",
        "--email",
        "sam@example.com",
        "--model",
        "DGS-1100-08",
        "--serial",
        "TOO-SHORT",
        "--purchase-date",
        "2026-01-15",
    )
    assert refused.returncode == 1
    assert "is not a valid serial number for DGS-1100-08" in refused.stderr
    usage = helpdesk("products", "register", "--email", "sam@example.com")
    assert usage.returncode == 2 and "Missing option" in usage.stderr


def test_wrong_codes_are_rate_limited_across_invocations(
    customer: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_CODE_FAILURES_PER_HOUR", "2")
    run(
        "products",
        "register",
        "--email",
        "jane@example.com",
        "--model",
        "DGS-1100-08",
        "--serial",
        "AB12CD34EF56G",
        "--purchase-date",
        "2026-01-15",
    )
    base = [
        "das",
        "activate",
        "--email",
        "jane@example.com",
        "--serial",
        "AB12CD34EF56G",
        "--purchase-date",
        RECENT,
        "--site",
        str(customer),
        "--accept-terms",
        "--code",
    ]
    for guess in ("AAAA-BBBB-CCCC", "AAAA-BBBB-CCCD"):
        wrong = run(*base, guess)
        assert wrong.exit_code == 1 and "does not exist" in wrong.stderr
    limited = run(*base, "AB12-CD34-7F3A")  # even the right code must wait now
    assert limited.exit_code == 1
    assert (
        "Too many wrong activation codes" in limited.stderr and "try again after" in limited.stderr
    )
    assert ok_json("services", "list", "--email", "jane@example.com") == []


def test_a_command_before_db_upgrade_says_to_run_it() -> None:
    # No database_url fixture: a fresh, empty data folder, as on a first run.
    result = run("accounts", "create", "--email", "first@example.com", "--name", "First")
    assert result.exit_code == 3  # an operational failure, not a rule's refusal
    assert (
        result.stderr == "error: the database has no tables yet: run `helpdesk db upgrade` first\n"
    )
    assert run("db", "upgrade").exit_code == 0
    assert (
        run("accounts", "create", "--email", "first@example.com", "--name", "First").exit_code == 0
    )


def test_subscriptions_imported_before_the_account_is_created_are_its_own(
    database_url: str, tmp_path: Path
) -> None:
    subs = tmp_path / "subs.csv"
    subs.write_text("email,service,type,tier\nlate@example.com,Probe.io,3,paid\n", encoding="utf-8")
    imported = run("subscriptions", "import", str(subs))
    assert imported.exit_code == 0, imported.stderr
    assert (
        imported.stdout
        == "subscriptions: 1 created, 0 updated, 0 unchanged; 1 waiting for an account with their e-mail\n"
    )
    assert run("accounts", "create", "--email", "Late@Example.com", "--name", "Late").exit_code == 0
    assert ok_json("subscriptions", "list", "--email", "late@example.com") == [
        {"service": "Probe.io", "type": 3, "tier": "paid"}
    ]
    filed = run(
        "incidents",
        "create",
        "--email",
        "late@example.com",
        "--service",
        "probe.io",
        "--summary",
        "Probe offline",
        "--description",
        "Since this morning.",
    )
    assert filed.exit_code == 0 and filed.stdout.startswith("INC-")
