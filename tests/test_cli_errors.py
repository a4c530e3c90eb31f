"""What the CLI does with hostile values and a broken environment: one line, the right code.

Exit codes: 1 a rule refused, 2 usage, 3 operational failure (README, admin CLI).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from storage.db import upgrade


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def seeded(database_url: str) -> str:
    assert run("demo", "seed").exit_code == 0
    return database_url


# --- usage: 2 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        (
            "products",
            "register",
            "--email",
            "demo@example.com",
            "--model",
            "DIR-X5460",
            "--serial",
            "RX1M240009999",
            "--purchase-date",
            "2026-01-01",
            "--site",
            "99999999999",
        ),
        ("sla", "due", "--type", "1", "--tier", "paid", "--at", "9999-12-31T23:00:00-05:00"),
        ("sla", "holidays", "--year", "10000"),
        ("sla", "holidays", "--year", "0"),
        (
            "products",
            "register",
            "--email",
            "demo@example.com",
            "--model",
            "DIR-X5460",
            "--serial",
            "RX1M240009999",
            "--purchase-date",
            "0001-01-01",
        ),
        ("incidents", "status", "INC-000001"),
        ("incidents", "list", "--status", "nonsense"),
        ("incidents", "nonsense"),
        ("incidents", "assign", "INC-000001", "--to", "sam", "--actor", "sam\x1b[2J"),
        ("incidents", "comment", "INC-000001", "--note", "x", "--actor", "a\nINC-1 fake"),
        ("incidents", "assign", "INC-000001", "--to", "x" * 101, "--actor", "lee"),
    ],
)
def test_out_of_range_and_bad_values_are_usage_errors(seeded: str, args: tuple[str, ...]) -> None:
    line = one_line_error(run(*args), 2)
    assert "\x1b" not in line


# --- operational failures: 3 -------------------------------------------------------------


def test_an_unreachable_database_exits_3_in_one_line() -> None:
    env = {"HELPDESK_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    line = one_line_error(run("incidents", "list", env=env), 3)
    assert line.startswith("error: the database cannot be reached")


def test_a_database_at_an_old_revision_exits_3_and_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    env = {"HELPDESK_DATABASE_URL": url}
    # The seed writes activation codes, whose columns changed in 0003.
    line = one_line_error(run("demo", "seed", env=env), 3)
    assert "not migrated (at 0002" in line and "helpdesk db upgrade" in line


def test_an_unknown_support_time_zone_exits_3_in_one_line(seeded: str) -> None:
    env = {"HELPDESK_SUPPORT_TZ": "Mars/Olympus_Mons"}
    for args in (
        ("sla", "holidays", "--year", "2026"),
        ("sla", "due", "--type", "1", "--tier", "paid", "--at", "2026-11-25T23:00:00-05:00"),
        ("incidents", "list"),
    ):
        line = one_line_error(run(*args, env=env), 3)
        assert "HELPDESK_SUPPORT_TZ" in line


# --- refusals stay 1 ------------------------------------------------------------------------


def test_a_rule_refusing_still_exits_1_in_one_line(seeded: str) -> None:
    line = one_line_error(run("incidents", "show", "INC-999999"), 1)
    assert "INC-999999" in line


# --- control characters -----------------------------------------------------------------------


HOSTILE = "Printer down\nINC-999999  new  evil@example.com  fake row\x1b[31m red\x9b2J\x07"


def test_control_characters_in_a_summary_never_reach_the_terminal(seeded: str) -> None:
    created = run(
        "incidents",
        "create",
        "--email",
        "demo@example.com",
        "--service",
        "OneTouch AT.com",
        "--summary",
        HOSTILE,
        "--description",
        "line one\nline two\x1b]0;title\x07",
    )
    assert created.exit_code == 0, created.stderr
    number = created.stdout.strip()

    listed = run("incidents", "list")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert len(lines) == 2  # the header and the one incident: no fake row
    assert not any(line.startswith("INC-999999") for line in lines)
    assert "Printer down\\nINC-999999" in lines[1] and "\\x1b[31m" in lines[1]
    for output in (listed.stdout, run("incidents", "show", number).stdout):
        assert not any(char in output for char in "\x1b\x9b\x07")

    data = json.loads(run("incidents", "list", "--json").stdout)
    assert data[0]["summary"] == HOSTILE  # JSON keeps the text, escaped by the format
    assert "\x9b" not in run("incidents", "list", "--json").stdout
