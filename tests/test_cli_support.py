"""`helpdesk incidents ...`, `helpdesk sla ...` and `helpdesk demo seed`, as staff run them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from services.das import normalize_code
from services.demo import USED_CODE


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def ok_json(*args: str) -> Any:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# --- sla due ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "at", "due"),
    [
        ("1", "2026-11-25T23:00:00-05:00", "2026-11-28T23:00:00-05:00"),  # the reference example
        ("3", "2026-11-25T23:00:00-05:00", "2026-11-28T23:00:00-05:00"),
        ("2", "2026-11-25T23:00:00-05:00", "2026-11-28T01:00:00-05:00"),
        (
            "2",
            "2026-12-24T15:00:00Z",
            "2026-12-26T07:00:00+00:00",
        ),  # 10:00 in New York, on Christmas Eve
        ("1", "2026-03-18T10:00:00+01:00", "2026-03-19T10:00:00+01:00"),
        (
            "2",
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T03:30:00-05:00",
        ),  # across the DST jump: same offset out
    ],
)
def test_sla_due_prints_the_deadline_in_the_offset_it_was_given(
    type_: str, at: str, due: str
) -> None:
    result = run("sla", "due", "--type", type_, "--tier", "paid", "--at", at)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == due + "\n"


def test_sla_due_takes_the_tier_in_any_case_and_a_z_suffix() -> None:
    result = run("sla", "due", "--type", "2", "--tier", "PAID", "--at", "2026-11-25T23:00:00Z")
    assert (result.exit_code, result.stdout) == (0, "2026-11-26T01:00:00+00:00\n")


def test_sla_due_uses_the_configured_support_zone() -> None:
    result = run(
        "sla",
        "due",
        "--type",
        "1",
        "--tier",
        "paid",
        "--at",
        "2026-11-26T03:00:00+01:00",
        env={"HELPDESK_SUPPORT_TZ": "Europe/Paris"},
    )
    assert result.stdout == "2026-11-29T00:00:00+01:00\n"


def test_sla_due_for_a_free_tier_is_a_refusal() -> None:
    result = run("sla", "due", "--type", "1", "--tier", "free", "--at", "2026-11-25T23:00:00-05:00")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "cannot file incidents" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--type", "4", "--tier", "paid", "--at", "2026-11-25T23:00:00-05:00"],
        ["--type", "1", "--tier", "gold", "--at", "2026-11-25T23:00:00-05:00"],
        ["--type", "1", "--tier", "paid", "--at", "2026-11-25T23:00:00"],  # no offset
        ["--type", "1", "--tier", "paid", "--at", "next tuesday"],
        ["--type", "1", "--tier", "paid"],
    ],
)
def test_sla_due_usage_errors_exit_2(args: list[str]) -> None:
    assert run("sla", "due", *args).exit_code == 2


def test_sla_holidays_lists_the_year() -> None:
    days = ok_json("sla", "holidays", "--year", "2027", "--json")
    assert len(days) == 10
    assert {"date": "2027-11-26", "key": "day_after_thanksgiving"} in days


# --- demo seed -------------------------------------------------------------------------------


def test_demo_seed_lists_the_demo_and_is_idempotent(database_url: str) -> None:
    first = run("demo", "seed")
    assert first.exit_code == 0, first.stderr
    for expected in (
        "demo@example.com",
        "DGS-1210-28",
        "QBQE160012345",
        "NBD3-7KQ2-A9XM",
        "past 90 days",
        "already used",
        "for another model",
        "****-****-K8NC",
    ):
        assert expected in first.stdout
    assert normalize_code(USED_CODE) not in normalize_code(first.stdout)
    second = run("demo", "seed")
    assert second.exit_code == 0
    assert "changed nothing" in second.stdout
    data = ok_json("demo", "seed", "--json")
    assert not any(data["changes"].values())
    assert "| activation code |" in run("demo", "seed", "--markdown").stdout


# --- incidents -------------------------------------------------------------------------------


@pytest.fixture
def seeded(database_url: str) -> str:
    assert run("demo", "seed").exit_code == 0
    return database_url


def create(service: str = "OneTouch AT.com", *extra: str) -> Result:
    return run(
        "incidents",
        "create",
        "--email",
        "demo@example.com",
        "--service",
        service,
        "--summary",
        "Port 3 flapping",
        "--description",
        "Port 3 goes up and down every minute.",
        *extra,
    )


def test_create_prints_the_number(seeded: str) -> None:
    result = create()
    assert result.exit_code == 0, result.stderr
    number = result.stdout.strip()
    assert number.startswith("INC-") and len(number) == 10
    assert json.loads(create("Nuclias Cloud Pro", "--json").stdout)["number"] != number


def test_create_refusals_exit_1(seeded: str) -> None:
    free = create("Nuclias Cloud Basic")
    assert free.exit_code == 1
    assert "free subscription" in free.stderr
    unknown = create("Gold Everything")
    assert unknown.exit_code == 1
    assert "no subscription to Gold Everything" in unknown.stderr
    nobody = run(
        "incidents",
        "create",
        "--email",
        "nobody@example.com",
        "--service",
        "x",
        "--summary",
        "s",
        "--description",
        "d",
    )
    assert nobody.exit_code == 1
    assert run("incidents", "create", "--email", "demo@example.com").exit_code == 2


def test_the_same_idempotency_key_files_once(seeded: str) -> None:
    first = create("OneTouch AT.com", "--idempotency-key", "form-42", "--json")
    again = create("OneTouch AT.com", "--idempotency-key", "form-42", "--json")
    assert json.loads(first.stdout) == json.loads(again.stdout)
    assert len(ok_json("incidents", "list", "--json")) == 1


def test_show_gives_the_incident_and_its_audit_trail(seeded: str) -> None:
    number = create().stdout.strip()
    shown = ok_json("incidents", "show", number.lower().replace("inc-0000", "inc-"), "--json")
    assert shown["number"] == number
    assert shown["status"] == "new"
    assert shown["email"] == "demo@example.com"
    assert shown["subscription_type"] == 2
    created = shown["created_at"]
    due = shown["first_response_due"]
    assert created.endswith("+00:00") and due.endswith("+00:00")
    # Type 2: two hours, more if the filing is near a holiday; never less.
    assert dt.datetime.fromisoformat(due) - dt.datetime.fromisoformat(created) >= dt.timedelta(
        hours=2
    )
    assert shown["events"] == [
        {
            "at": created,
            "actor": "demo@example.com",
            "actor_role": "customer",
            "kind": "created",
            "from_status": None,
            "to_status": "new",
            "note": None,
            "from_assignee": None,
            "to_assignee": None,
        }
    ]


def test_a_code_pasted_into_an_incident_is_masked_in_every_output(seeded: str) -> None:
    number = run(
        "incidents",
        "create",
        "--email",
        "demo@example.com",
        "--service",
        "OneTouch AT.com",
        "--summary",
        "Code nbd3 7kq2 a9xm refused",
        "--description",
        "I typed NBD3-7KQ2-A9XM twice.",
    ).stdout.strip()
    outputs = [
        run("incidents", "show", number).stdout,
        run("incidents", "show", number, "--json").stdout,
        run("incidents", "list").stdout,
        run("incidents", "list", "--json").stdout,
    ]
    for output in outputs:
        assert "NBD37KQ2A9XM" not in normalize_code(output)
    assert "****-****-A9XM" in outputs[0]


def test_show_unknown_or_other_customers_incident_exits_1(seeded: str) -> None:
    number = create().stdout.strip()
    assert run("incidents", "show", "INC-999999", "--json").exit_code == 1
    assert run("incidents", "show", "garbage").exit_code == 1
    assert run("accounts", "create", "--email", "eve@example.com", "--name", "Eve").exit_code == 0
    hidden = run("incidents", "show", number, "--email", "eve@example.com")
    assert hidden.exit_code == 1
    assert f"no incident {number}" in hidden.stderr


def test_staff_move_an_incident_through_its_life_cycle(seeded: str) -> None:
    number = create().stdout.strip()
    assert run("incidents", "assign", number, "--to", "sam", "--actor", "lee").exit_code == 0
    replied = ok_json(
        "incidents", "reply", number, "--actor", "sam", "--note", "Which firmware?", "--json"
    )
    assert replied["status"] == "acknowledged"
    assert replied["first_response_at"] is not None
    assert replied["assignee"] == "sam"
    for status in ("in_progress", "waiting_on_customer", "in_progress", "resolved"):
        result = run(
            "incidents", "status", number, status, "--actor", "sam", "--note", f"now {status}"
        )
        assert result.exit_code == 0, result.stderr
        assert result.stdout == f"{number}: {status}\n"
    bad = run("incidents", "status", number, "acknowledged", "--actor", "sam")
    assert bad.exit_code == 1
    assert "cannot become acknowledged" in bad.stderr
    assert run("incidents", "status", number, "done", "--actor", "sam").exit_code == 2
    reopened = ok_json(
        "incidents",
        "reopen",
        number,
        "--email",
        "demo@example.com",
        "--note",
        "Back again",
        "--json",
    )
    assert reopened["status"] == "in_progress"
    events = ok_json("incidents", "show", number, "--json")["events"]
    assert [(e["kind"], e["actor"], e["from_status"], e["to_status"]) for e in events] == [
        ("created", "demo@example.com", None, "new"),
        ("assigned", "lee", None, None),
        ("reply", "sam", "new", "acknowledged"),
        ("status_changed", "sam", "acknowledged", "in_progress"),
        ("status_changed", "sam", "in_progress", "waiting_on_customer"),
        ("status_changed", "sam", "waiting_on_customer", "in_progress"),
        ("status_changed", "sam", "in_progress", "resolved"),
        ("status_changed", "demo@example.com", "resolved", "in_progress"),
    ]
    assert events[-1]["note"] == "Back again"


def test_list_filters_by_customer_and_status(seeded: str) -> None:
    first = create().stdout.strip()
    second = create("LinkSprinter.com").stdout.strip()
    run("incidents", "status", second, "acknowledged", "--actor", "sam")
    listed = ok_json("incidents", "list", "--json")
    assert [i["number"] for i in listed] == [first, second]
    assert {
        "number",
        "status",
        "email",
        "service",
        "subscription_type",
        "summary",
        "created_at",
        "first_response_due",
    } <= set(listed[0])
    assert listed[1]["service"] == "LinkSprinter.com"
    assert [i["number"] for i in ok_json("incidents", "list", "--status", "new", "--json")] == [
        first
    ]
    assert [
        i["number"] for i in ok_json("incidents", "list", "--email", "demo@example.com", "--json")
    ] == [first, second]
    run("accounts", "create", "--email", "eve@example.com", "--name", "Eve")
    assert ok_json("incidents", "list", "--email", "eve@example.com", "--json") == []
    assert run("incidents", "list", "--email", "nobody@example.com", "--json").exit_code == 1
    assert run("incidents", "list", "--status", "open", "--json").exit_code == 2
    table = run("incidents", "list")
    assert first in table.stdout and "LinkSprinter.com" in table.stdout


def test_status_filters_accept_statuses_as_people_write_them(seeded: str) -> None:
    first = create().stdout.strip()
    second = create("LinkSprinter.com").stdout.strip()
    assert run("incidents", "status", second, "In progress", "--actor", "sam").exit_code == 0
    for spelling in ("in_progress", "in progress", "In-Progress", "IN_PROGRESS"):
        assert [
            i["number"] for i in ok_json("incidents", "list", "--status", spelling, "--json")
        ] == [second]
    assert [i["number"] for i in ok_json("incidents", "list", "--status", "NEW", "--json")] == [
        first
    ]
    assert (
        run("incidents", "status", second, "waiting on customer", "--actor", "sam").exit_code == 0
    )
    assert ok_json("incidents", "show", second, "--json")["status"] == "waiting_on_customer"
    assert (
        ok_json("incidents", "list", "--status", "Waiting-on-customer", "--json")[0]["number"]
        == second
    )
    assert run("incidents", "list", "--status", "in progres", "--json").exit_code == 2


def test_due_soon_lists_unanswered_incidents(seeded: str) -> None:
    number = create().stdout.strip()  # type 2: due within two hours (or after a holiday)
    week = str(7 * 24 * 60)
    assert [i["number"] for i in ok_json("incidents", "due-soon", "--within", week, "--json")] == [
        number
    ]
    run("incidents", "reply", number, "--actor", "sam", "--note", "On it")
    assert ok_json("incidents", "due-soon", "--within", week, "--json") == []
