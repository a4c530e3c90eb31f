"""The incident conversation's rules in services.triage: what a customer may ever be
shown, who may answer, what an answer does, and the outbox's claims."""

from __future__ import annotations

import pytest

from services import incidents, triage
from services.errors import FieldTooLong, IncidentClosed, IncidentNotFound
from storage.db import SessionFactory
from storage.models import IncidentEvent
from tests.test_incidents import NOW, account, count, file
from tests.test_incidents import accounts as accounts


def test_the_customer_is_only_ever_shown_replies_and_answers(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        triage.internal_note(session, number, actor="UAGENT", text="Reply: he is on old firmware")
        triage.staff_reply(session, number, actor="UAGENT", text="Which firmware?")
        incidents.change_status(session, number, incidents.WAITING_ON_CUSTOMER, actor="UAGENT")
        triage.customer_answer(
            session, number, account=account(session, "alice@example.com"), text="1.2"
        )
        triage.internal_note(session, number, actor="UAGENT", text="as I thought")
    with accounts() as session:
        found = incidents.get_incident(session, number)
        shown = [(e.kind, e.note) for e in triage.conversation(found)]
        assert shown == [("reply", "Which firmware?"), ("answer", "1.2")]
        assert [e.note for e in triage.undelivered_replies(found, 0)] == ["Which firmware?"]
        assert found.status == incidents.IN_PROGRESS


def test_the_first_reply_acknowledges_and_stops_the_clock(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        triage.internal_note(session, number, actor="UAGENT", text="looking", now=NOW)
        assert incidents.get_incident(session, number).first_response_at is None
        triage.staff_reply(session, number, actor="UAGENT", text="On it", now=NOW)
        found = incidents.get_incident(session, number)
        assert found.status == incidents.ACKNOWLEDGED and found.first_response_at == NOW


def test_only_the_incident_s_account_may_answer(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        before = count(session, IncidentEvent)
    with accounts.begin() as session, pytest.raises(IncidentNotFound):
        bob = account(session, "bob@example.com")
        triage.customer_answer(session, number, account=bob, text="let me in")
    with accounts.begin() as session:
        assert count(session, IncidentEvent) == before
        incidents.change_status(session, number, incidents.RESOLVED, actor="UAGENT")
        incidents.change_status(session, number, incidents.CLOSED, actor="UAGENT")
    with accounts.begin() as session, pytest.raises(IncidentClosed):
        alice = account(session, "alice@example.com")
        triage.customer_answer(session, number, account=alice, text="one more thing")


def test_a_text_too_long_is_refused_not_cut(accounts: SessionFactory) -> None:
    with accounts.begin() as session, pytest.raises(FieldTooLong):
        number = file(session).number or ""
        triage.staff_reply(session, number, actor="UAGENT", text="x" * (triage.TEXT_MAX + 1))


def test_the_queue_is_by_deadline_with_one_s_own_first(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        slow = file(session, service="NetFlow Insight").number  # type 1: 24 hours
        fast = file(session, service="OneTouch AT.com").number  # type 2: 2 hours
        mine = file(session, service="LinkSprinter.com").number  # type 3: 24 hours
        done = file(session, service="OneTouch AT.com").number or ""
        incidents.assign(session, mine or "", assignee="UME", actor="UME")
        incidents.change_status(session, done, incidents.RESOLVED, actor="UME")
    with accounts() as session:
        assert [i.number for i in triage.queue(session)] == [fast, slow, mine]
        assert [i.number for i in triage.queue(session, first="UME")] == [mine, fast, slow]


def test_a_card_being_synced_by_one_process_is_skipped_by_another(
    accounts: SessionFactory,
    database_url: str,
) -> None:
    with accounts.begin() as session:
        numbers = [file(session).number for _ in range(3)]
    with accounts.begin() as first:
        claimed = [i.number for i in triage.claim_card_work(first, limit=2)]
        assert claimed == numbers[:2]
        if database_url.startswith("postgresql"):
            # SQLite serialises writing transactions whole: only PostgreSQL runs both.
            with accounts.begin() as second:
                assert [i.number for i in triage.claim_card_work(second)] == numbers[2:]
        for incident in triage.claim_card_work(first, limit=2):
            incident.card_channel, incident.card_ts = "CTRIAGE", f"1.{incident.id}"
            incident.card_synced_event = max(e.id for e in incident.events)
            incident.card_updated_at = NOW
    with accounts.begin() as session:
        left = [i.number for i in triage.claim_card_work(session, now=NOW)]
        assert left == numbers[2:]


def test_taking_one_s_own_incident_again_records_nothing(accounts: SessionFactory) -> None:
    with accounts.begin() as session:
        number = file(session).number or ""
        triage.take(session, number, staff="UME")
        triage.take(session, number, staff="UME")
        triage.take(session, number, staff="UYOU")
        found = incidents.get_incident(session, number)
        moves = [(e.from_assignee, e.to_assignee) for e in found.events if e.kind == "assigned"]
        assert moves == [(None, "UME"), ("UME", "UYOU")] and found.assignee == "UYOU"
