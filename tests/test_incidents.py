"""Incidents: filing, numbers, idempotency across processes, visibility, life cycle, SLA."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from services import incidents
from services.accounts import create_account
from services.codes import code_tail, hash_code
from services.deadlines import claim_deadline_notices, settle_deadline_notice
from services.errors import (
    FieldTooLong,
    FreeTierNoIncidents,
    IncidentClosed,
    IncidentNotFound,
    InvalidActor,
    InvalidTransition,
    MissingField,
    OnlyReopenAllowed,
    SubscriptionNotFound,
    UnknownStatus,
)
from services.incidents import (
    acknowledge,
    add_comment,
    assign,
    change_status,
    create_incident,
    due_soon,
    get_incident,
    list_incidents,
    parse_number,
    reopen,
    reply,
)
from services.sla import SupportCalendar
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.models import Account, ActivationCode, Incident, IncidentEvent, Subscription

NY = ZoneInfo("America/New_York")
# Wed 18 March 2026, 10:00 in New York: an ordinary working day.
NOW = dt.datetime(2026, 3, 18, 10, 0, tzinfo=NY)
H = dt.timedelta(hours=1)


def _customer(session: Any, email: str) -> Account:
    account = create_account(
        session, email=email, name=email.split("@", maxsplit=1)[0].title(), country="FR"
    )
    for service, type_, tier in [
        ("NetFlow Insight", 1, "paid"),
        ("OneTouch AT.com", 2, "paid"),
        ("LinkSprinter.com", 3, "paid"),
        ("Cloud Starter", 1, "free"),
    ]:
        session.add(Subscription(account_id=account.id, service=service, type=type_, tier=tier))
    session.flush()
    return account


@pytest.fixture
def accounts(session_factory: SessionFactory) -> SessionFactory:
    with session_factory.begin() as session:
        _customer(session, "alice@example.com")
        _customer(session, "bob@example.com")
    return session_factory


def account(session: Any, email: str) -> Account:
    return session.scalars(select(Account).where(Account.email == email)).one()


def file(
    session: Any, email: str = "alice@example.com", service: str = "NetFlow Insight", **kw: Any
) -> Incident:
    kw.setdefault("now", NOW)
    return create_incident(
        session,
        account(session, email),
        service=service,
        summary=kw.pop("summary", "Switch reboots every night"),
        description=kw.pop("description", "The DGS-1210 reboots at 02:00, logs attached."),
        actor=kw.pop("actor", email),
        **kw,
    )


def count(session: Any, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- filing -----------------------------------------------------------------------------------


def test_filing_gives_a_number_a_deadline_and_a_created_event(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        incident = file(session, lang="fr-FR")
        number = incident.number
    with accounts() as session:
        stored = get_incident(session, number)
        assert re.fullmatch(r"INC-\d{6}", stored.number or "")
        assert stored.status == "new"
        assert stored.subscription_type == 1
        assert stored.lang == "fr"  # support is in English; the conversation layer says so
        assert stored.created_at == NOW
        assert stored.first_response_due == NOW + 24 * H
        assert stored.first_response_at is None
        assert [(e.kind, e.actor, e.from_status, e.to_status, e.at) for e in stored.events] == [
            ("created", "alice@example.com", None, "new", NOW)
        ]


def test_type_2_is_due_in_two_hours_and_type_3_in_twenty_four(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        assert file(session, service="OneTouch AT.com").first_response_due == NOW + 2 * H
        assert file(session, service="LinkSprinter.com").first_response_due == NOW + 24 * H


def test_deadline_skips_holidays_of_the_given_calendar(accounts: SessionFactory) -> None:
    filed = dt.datetime(2026, 11, 25, 23, tzinfo=NY)
    with accounts.begin() as session:
        incident = file(session, now=filed)
        assert incident.first_response_due == dt.datetime(2026, 11, 28, 23, tzinfo=NY)
        paris = file(session, now=filed, calendar=SupportCalendar("Europe/Paris"))
        # 23:00 in New York is already Thursday 05:00 in Paris: the clock starts on
        # Saturday 28 at 00:00 Paris time.
        assert paris.first_response_due == dt.datetime(
            2026, 11, 29, 0, tzinfo=ZoneInfo("Europe/Paris")
        )


def test_free_subscription_cannot_file_and_nothing_is_written(accounts: SessionFactory) -> None:
    with pytest.raises(FreeTierNoIncidents) as err, accounts.begin() as session:
        file(session, service="Cloud Starter")
    assert "Cloud Starter is a free subscription" in str(err.value)
    with accounts() as session:
        assert count(session, Incident) == 0


def test_a_service_the_account_does_not_hold_is_refused(accounts: SessionFactory) -> None:
    with accounts.begin() as session, pytest.raises(SubscriptionNotFound):
        file(session, service="Gold Support Plus")


def test_activation_codes_pasted_into_an_incident_are_never_stored_in_full(
    accounts: SessionFactory,
) -> None:
    with accounts.begin() as session:
        for code in ("AB12CD347F3A", "NODATE0001"):
            session.add(
                ActivationCode(
                    code_hash=hash_code(session, code),
                    code_tail=code_tail(code),
                    service="DAS-NBD",
                    models=["DGS-1210-28"],
                    purchase_date=None,
                    duration_months=12,
                    imported_at=NOW,
                )
            )
    with accounts.begin() as session:
        number = file(
            session,
            summary="Code ab12-cd34-7f3a refused",
            description="I typed AB12 CD34 7F3A, then nodate-0001. Port 12, firmware 1.20.004, order 7F3A-99.",
        ).number
        add_comment(
            session,
            number,
            actor="alice@example.com",
            note="Also tried ab12cd347f3a",
            account=account(session, "alice@example.com"),
        )
        reply(session, number, actor="sam", note="Code NODATE-0001 is fine", now=NOW + H)
    with accounts() as session:
        incident = get_incident(session, number)
        assert incident.summary == "Code ****-****-7F3A refused"
        # Only real codes are masked, however they were written; other numbers stay.
        assert incident.description == (
            "I typed ****-****-7F3A, then ****-****-001. Port 12, firmware 1.20.004, order 7F3A-99."
        )
        assert [e.note for e in incident.events[1:]] == [
            "Also tried ****-****-7F3A",
            "Code ****-****-001 is fine",
        ]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"summary": "  "}, MissingField),
        ({"description": ""}, MissingField),
        ({"summary": "x" * 201}, FieldTooLong),
    ],
)
def test_summary_and_description_are_required(
    accounts: SessionFactory, fields: dict[str, str], error: type
) -> None:
    with accounts.begin() as session:
        with pytest.raises(error):
            file(session, **fields)
        assert count(session, Incident) == 0


def test_numbers_are_unique_and_human_friendly(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        numbers = [file(session).number for _ in range(3)]
    assert len(set(numbers)) == 3
    assert all(re.fullmatch(r"INC-\d{6}", n or "") for n in numbers)


def test_number_formats() -> None:
    assert incidents.format_number(123) == "INC-000123"
    assert incidents.format_number(1234567) == "INC-1234567"
    assert parse_number("INC-000123") == "INC-000123"
    assert parse_number(" inc-123 ") == "INC-000123"
    assert parse_number("123") == "INC-000123"
    assert parse_number("INC123") == "INC-000123"
    assert parse_number("INC-1234567") == "INC-1234567"
    assert parse_number("INC-0") is None
    assert parse_number("hello") is None
    assert parse_number("INC-12a") is None


def test_a_failure_before_commit_leaves_neither_incident_nor_event(
    accounts: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(incident_id: int) -> str:
        raise RuntimeError("crash after the insert")

    monkeypatch.setattr(incidents, "format_number", broken)
    with pytest.raises(RuntimeError), accounts.begin() as session:
        file(session)
    with accounts() as session:
        assert count(session, Incident) == 0
        assert count(session, IncidentEvent) == 0


# --- idempotency --------------------------------------------------------------------------------


def test_the_same_key_returns_the_incident_already_filed(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        first = file(session, idempotency_key="slack:Ev123").number
    with accounts.begin() as session:
        again = file(session, idempotency_key="slack:Ev123", summary="Retried delivery")
        assert again.number == first
        assert again.summary == "Switch reboots every night"
        assert count(session, Incident) == 1
        other = file(session, idempotency_key="slack:Ev124").number
        assert other != first


def test_keys_are_per_account(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        alice = file(session, idempotency_key="k1")
        bob = file(session, email="bob@example.com", idempotency_key="k1")
        assert alice.number != bob.number
        assert bob.account.email == "bob@example.com"


def test_losing_the_insert_race_returns_the_winner(
    accounts: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-up saw nothing, then the insert hit the unique key: the other's incident wins."""
    with accounts.begin() as session:
        winner = file(session, idempotency_key="race").number
    real = incidents._find_by_key
    calls = []

    def blind_first_time(session: Any, key: str) -> Incident | None:
        calls.append(key)
        return None if len(calls) == 1 else real(session, key)

    monkeypatch.setattr(incidents, "_find_by_key", blind_first_time)
    with accounts.begin() as session:
        loser = file(session, idempotency_key="race")
        assert loser.number == winner
        assert len(calls) == 2
        assert count(session, Incident) == 1


def _file_in_process(url: str, key: str | None, barrier: Any, results: Any) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    barrier.wait(timeout=30)
    with factory.begin() as session:
        incident = file(session, idempotency_key=key, now=None)
        results.put(incident.number)
    engine.dispose()


def _race(url: str, keys: list[str | None]) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(keys))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_file_in_process, args=(url, key, barrier, results)) for key in keys
    ]
    for proc in procs:
        proc.start()
    numbers = [results.get(timeout=60) for _ in keys]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    return numbers


@pytest.mark.slow
def test_two_processes_filing_with_the_same_key_file_one_incident(
    accounts: SessionFactory, database_url: str
) -> None:
    for round_ in range(3):
        numbers = _race(database_url, [f"double-click-{round_}"] * 2)
        assert numbers[0] == numbers[1]
    with accounts() as session:
        assert count(session, Incident) == 3
        assert count(session, IncidentEvent) == 3


@pytest.mark.slow
def test_processes_filing_at_once_get_distinct_numbers(
    accounts: SessionFactory, database_url: str
) -> None:
    numbers = _race(database_url, [None, None, None, None])
    assert len(set(numbers)) == 4
    with accounts() as session:
        assert sorted(numbers) == [i.number for i in list_incidents(session)]


# --- visibility --------------------------------------------------------------------------------


def test_customers_see_only_their_own_incidents(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        mine = file(session).number or ""
        theirs = file(session, email="bob@example.com").number or ""
    with accounts() as session:
        alice = account(session, "alice@example.com")
        assert (
            get_incident(session, mine.lower().replace("inc-0000", "inc-"), account=alice).number
            == mine
        )
        assert get_incident(session, str(int(mine[4:])), account=alice).number == mine
        with pytest.raises(IncidentNotFound) as hidden:
            get_incident(session, theirs, account=alice)
        with pytest.raises(IncidentNotFound) as missing:
            get_incident(session, "INC-999999", account=alice)
        # The refusal for someone else's incident reads exactly like a missing one.
        assert str(hidden.value).replace(theirs, "N") == str(missing.value).replace(
            "INC-999999", "N"
        )
        assert [i.number for i in list_incidents(session, account=alice)] == [mine]
        assert [i.number for i in list_incidents(session)] == [mine, theirs]  # staff
        assert get_incident(session, theirs).account.email == "bob@example.com"
        with pytest.raises(IncidentNotFound):
            get_incident(session, "not a number")


def test_list_by_status(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        first = file(session).number or ""
        second = file(session).number or ""
        acknowledge(session, second, actor="sam", now=NOW + H)
    with accounts() as session:
        assert [i.number for i in list_incidents(session, status="new")] == [first]
        assert [i.number for i in list_incidents(session, status="acknowledged")] == [second]
        assert list_incidents(session, status="closed") == []
        with pytest.raises(UnknownStatus):
            list_incidents(session, status="open")


# --- life cycle ----------------------------------------------------------------------------------


def test_full_life_cycle_is_recorded_event_by_event(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
    steps = [
        ("acknowledged", "sam", None),
        ("in_progress", "sam", "Looking at the logs"),
        ("waiting_on_customer", "sam", "Please send the firmware version"),
        ("in_progress", "sam", None),
        ("resolved", "sam", "Firmware 2.1 fixes it"),
        ("closed", "lee", None),
    ]
    for i, (status, actor, note) in enumerate(steps, start=1):
        with accounts.begin() as session:
            change_status(session, number, status, actor=actor, note=note, now=NOW + i * H)
    with accounts() as session:
        incident = get_incident(session, number)
        assert incident.status == "closed"
        assert incident.first_response_at == NOW + H
        events = [
            (e.kind, e.actor, e.from_status, e.to_status, e.note, e.at) for e in incident.events
        ]
    expected = [("created", "alice@example.com", None, "new", None, NOW)]
    previous = "new"
    for i, (status, actor, note) in enumerate(steps, start=1):
        expected.append(("status_changed", actor, previous, status, note, NOW + i * H))
        previous = status
    assert events == expected


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "closed"),
        ([], "new"),
        (["acknowledged"], "acknowledged"),
        (["in_progress"], "acknowledged"),
        (["resolved", "closed"], "in_progress"),
        (["resolved", "closed"], "resolved"),
    ],
)
def test_invalid_transitions_are_refused(
    accounts: SessionFactory, path: list[str], target: str
) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        for status in path:
            change_status(session, number, status, actor="sam", now=NOW)
    with accounts.begin() as session:
        with pytest.raises(InvalidTransition) as err:
            change_status(session, number, target, actor="sam", now=NOW)
        assert f"cannot become {target}" in str(err.value)
        assert get_incident(session, number).status == (path[-1] if path else "new")
        with pytest.raises(UnknownStatus):
            change_status(session, number, "done", actor="sam")


def test_a_customer_may_only_reopen_a_resolved_incident(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
    with accounts.begin() as session:
        alice = account(session, "alice@example.com")
        with pytest.raises(OnlyReopenAllowed):
            change_status(session, number, "acknowledged", actor="alice@example.com", account=alice)
        change_status(session, number, "resolved", actor="sam", now=NOW + H)
        with pytest.raises(OnlyReopenAllowed):
            change_status(session, number, "closed", actor="alice@example.com", account=alice)
        reopened = reopen(
            session,
            number,
            actor="alice@example.com",
            account=alice,
            note="Still rebooting",
            now=NOW + 2 * H,
        )
        assert reopened.status == "in_progress"
        last = reopened.events[-1]
        assert (last.actor, last.from_status, last.to_status, last.note) == (
            "alice@example.com",
            "resolved",
            "in_progress",
            "Still rebooting",
        )
        bob = account(session, "bob@example.com")
        with pytest.raises(IncidentNotFound):
            reopen(session, number, actor="bob@example.com", account=bob)
        change_status(session, number, "resolved", actor="sam")
        change_status(session, number, "closed", actor="sam")
        with pytest.raises(IncidentClosed):
            reopen(session, number, actor="alice@example.com", account=alice)


def test_first_staff_reply_acknowledges_and_stops_the_clock(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        add_comment(
            session,
            number,
            actor="alice@example.com",
            note="More logs attached",
            account=account(session, "alice@example.com"),
            now=NOW + H,
        )
        assert (
            get_incident(session, number).first_response_at is None
        )  # a customer note is no response
        reply(session, number, actor="sam", note="We are on it", now=NOW + 2 * H)
        reply(session, number, actor="lee", note="Which firmware?", now=NOW + 3 * H)
    with accounts() as session:
        incident = get_incident(session, number)
        assert incident.status == "acknowledged"
        assert incident.first_response_at == NOW + 2 * H
        assert [
            (e.kind, e.actor, e.from_status, e.to_status, e.note) for e in incident.events[1:]
        ] == [
            ("comment", "alice@example.com", None, None, "More logs attached"),
            ("reply", "sam", "new", "acknowledged", "We are on it"),
            ("reply", "lee", None, None, "Which firmware?"),
        ]


def test_nothing_can_be_added_to_a_closed_incident(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        change_status(session, number, "resolved", actor="sam")
        change_status(session, number, "closed", actor="sam")
        with pytest.raises(IncidentClosed):
            reply(session, number, actor="sam", note="late")
        with pytest.raises(IncidentClosed):
            add_comment(session, number, actor="x", note="late")
        with pytest.raises(IncidentClosed):
            assign(session, number, assignee="sam", actor="sam")


def test_assigning_records_who_took_it(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        incident = assign(session, number, assignee="sam", actor="sam", now=NOW + H)
        assert incident.assignee == "sam"
        assert incident.status == "new"
        assert (incident.events[-1].kind, incident.events[-1].note) == ("assigned", "sam")


def test_the_audit_trail_says_who_acted_in_which_role_and_what_changed(
    accounts: SessionFactory,
) -> None:
    with accounts.begin() as session:
        alice = account(session, "alice@example.com")
        number = file(session).number or ""
        add_comment(session, number, actor="alice@example.com", note="Still down", account=alice)
        add_comment(session, number, actor="sam", note="Internal: check the logs")
        assign(session, number, assignee="sam", actor="lee", now=NOW + H)
        assign(session, number, assignee="kim", actor="sam", now=NOW + 2 * H)
        change_status(session, number, "resolved", actor="kim", now=NOW + 3 * H)
        reopen(session, number, actor="alice@example.com", account=alice, now=NOW + 4 * H)
    with accounts() as session:
        trail = [
            (
                e.actor,
                e.actor_role,
                e.kind,
                e.from_status,
                e.to_status,
                e.from_assignee,
                e.to_assignee,
            )
            for e in get_incident(session, number).events
        ]
    assert trail == [
        ("alice@example.com", "customer", "created", None, "new", None, None),
        ("alice@example.com", "customer", "comment", None, None, None, None),
        ("sam", "staff", "comment", None, None, None, None),
        ("lee", "staff", "assigned", None, None, None, "sam"),
        ("sam", "staff", "assigned", None, None, "sam", "kim"),
        ("kim", "staff", "status_changed", "new", "resolved", None, None),
        ("alice@example.com", "customer", "status_changed", "resolved", "in_progress", None, None),
    ]


@pytest.mark.parametrize(
    "actor", ["", "   ", "sam\nINC-000002", "\x1b[31msam", "x" * 101, "<@U123>"]
)
def test_a_staff_actor_must_be_a_name(accounts: SessionFactory, actor: str) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        with pytest.raises(InvalidActor):
            add_comment(session, number, actor=actor, note="hello")
        with pytest.raises(InvalidActor):
            assign(session, number, assignee=actor, actor="sam")


# --- SLA warnings ----------------------------------------------------------------------------------


def test_due_soon_lists_unanswered_open_incidents_most_urgent_first(
    accounts: SessionFactory,
) -> None:
    with accounts.begin() as session:
        slow = file(session).number  # due NOW + 24h
        fast = file(session, service="OneTouch AT.com").number  # due NOW + 2h
        answered = file(session, service="OneTouch AT.com").number
        reply(session, answered or "", actor="sam", note="Hello", now=NOW + H)
        solved = file(session, service="OneTouch AT.com").number
        change_status(session, solved or "", "resolved", actor="sam", now=NOW + H)
    with accounts() as session:
        assert [i.number for i in due_soon(session, within=H, now=NOW)] == []
        assert [i.number for i in due_soon(session, within=H, now=NOW + H)] == [fast]
        assert [i.number for i in due_soon(session, within=H, now=NOW + 3 * H)] == [fast]  # overdue
        assert [i.number for i in due_soon(session, within=H, now=NOW + 23 * H)] == [fast, slow]


def test_each_warning_is_claimed_once(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        fast = file(session, service="OneTouch AT.com").number
    with accounts.begin() as session:
        notices = claim_deadline_notices(session, within=H, now=NOW + H)
        assert [(n.number, n.kind) for n in notices] == [(fast, "warning")]
    with accounts.begin() as session:  # leased: nobody else claims it meanwhile
        assert claim_deadline_notices(session, within=H, now=NOW + H) == []
        settle_deadline_notice(session, notices[0], now=NOW + H)
    with accounts.begin() as session:
        later = NOW + 90 * dt.timedelta(minutes=1)
        assert claim_deadline_notices(session, within=H, now=later) == []
        assert get_incident(session, fast or "").sla_warned_at == NOW + H


def _claim_in_process(url: str, barrier: Any, results: Any) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    barrier.wait(timeout=30)
    with factory.begin() as session:
        claimed = [n.number for n in claim_deadline_notices(session, within=H, now=NOW + H)]
    results.put(claimed)
    engine.dispose()


@pytest.mark.slow
def test_processes_claiming_warnings_at_once_never_claim_the_same_incident(
    accounts: SessionFactory, database_url: str
) -> None:
    with accounts.begin() as session:
        numbers = [file(session, service="OneTouch AT.com").number for _ in range(6)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_claim_in_process, args=(database_url, barrier, results))
        for _ in range(3)
    ]
    for proc in procs:
        proc.start()
    claimed = [number for _ in procs for number in results.get(timeout=60)]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert sorted(claimed) == sorted(numbers)  # each one exactly once
