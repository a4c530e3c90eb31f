"""The incident conversation in any channel (here the engine, as the console uses it):
checking an incident shows what the customer and the support team said — never an
internal note — and offers to answer; the answer is recorded on the incident."""

from __future__ import annotations

import pytest

from bot.conversation import Assistant
from services import incidents, triage
from storage.db import SessionFactory
from tests.conversation_helpers import Chat, choices_of, text_of, user


def _filed_and_answered(chat: Chat, session_factory: SessionFactory) -> None:
    chat.says("report an incident", "1", "Flaky", "It is flaky.", "yes")
    with session_factory.begin() as session:
        triage.staff_reply(session, "INC-000001", actor="UAGENT", text="Which firmware? <!here>")
        triage.internal_note(session, "INC-000001", actor="UAGENT", text="secret: old firmware")
        incidents.change_status(
            session, "INC-000001", incidents.WAITING_ON_CUSTOMER, actor="UAGENT"
        )


def test_checking_shows_the_conversation_and_answering_records_it(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    _filed_and_answered(chat, session_factory)
    out = chat.say("INC-000001")
    shown = text_of(out)
    assert "Your conversation with the support team" in shown
    assert "Support team" in shown and "Which firmware? <!here>" in shown
    assert "old firmware" not in shown
    assert ("answer:INC-000001", "Answer the support team") in choices_of(out)

    out = chat.say("Answer the support team")
    assert "What would you like to tell the support team?" in text_of(out)
    out = chat.says("Version 1.2, and it still fails", "yes")
    assert "passed on to the support team" in text_of(out)
    assert "Only the support team closes" not in text_of(out)  # an answer, no closing asked
    with session_factory() as session:
        found = incidents.get_incident(session, "INC-000001")
        said = [(e.actor_role, e.note) for e in triage.conversation(found)]
        assert found.status == incidents.IN_PROGRESS
    assert said == [
        ("staff", "Which firmware? <!here>"),
        ("customer", "Version 1.2, and it still fails"),
    ]
    assert "Version 1.2" in text_of(chat.say("INC-000001"))


@pytest.mark.parametrize(
    ("lang", "first", "then"),
    [
        ("en", "Reply to support", ["Firmware 6.5.1, still failing"]),
        ("fr", "je veux répondre au support", ["Firmware 6.5.1, toujours en panne"]),
        ("en", "reply to INC-000001: firmware 6.5.1, still failing", []),
    ],
)
def test_answering_the_support_team_in_ones_own_words(
    assistant: Assistant, session_factory: SessionFactory, lang: str, first: str, then: list[str]
) -> None:
    chat = Chat(assistant, user("U-demo", lang=lang))
    _filed_and_answered(chat, session_factory)
    chat.say("INC-000001")
    out = chat.says(first, *then)
    assert out.waiting_for == "confirm" and "6.5.1" in text_of(out)
    chat.say("oui" if lang == "fr" else "yes")
    with session_factory() as session:
        found = incidents.get_incident(session, "INC-000001")
        said = [(e.actor_role, e.note) for e in triage.conversation(found)]
    assert said[-1][0] == "customer" and "6.5.1" in (said[-1][1] or "")
    assert len(incidents_of(session_factory)) == 1  # no new incident was started


def incidents_of(session_factory: SessionFactory) -> list[str]:
    with session_factory() as session:
        return [i.number for i in incidents.list_incidents(session)]


def test_the_conversation_in_french(assistant: Assistant, session_factory: SessionFactory) -> None:
    chat = Chat(assistant, user("U-demo", lang="fr"))
    chat.say("en français")
    _filed_and_answered(chat, session_factory)
    out = chat.say("INC-000001")
    assert "Votre conversation avec l’équipe du support" in text_of(out)
    assert ("answer:INC-000001", "Répondre au support") in choices_of(out)
    assert "old firmware" not in text_of(out)


def test_another_account_cannot_answer(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    _filed_and_answered(chat, session_factory)
    other = Chat(assistant, user("U-other", email="someone@example.org", name="Someone"))
    out = other.say("INC-000001")
    assert "Which firmware" not in text_of(out)
    with session_factory() as session:
        count = len(incidents.get_incident(session, "INC-000001").events)
    other.say("Answer the support team")
    with session_factory() as session:
        assert len(incidents.get_incident(session, "INC-000001").events) == count


def test_the_conversation_reads_well_in_french(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    _filed_and_answered(chat, session_factory)
    shown = text_of(Chat(assistant, user("U-demo", lang="fr")).say("en français : INC-000001"))
    line = next(row for row in shown.splitlines() if "Which firmware?" in row)
    assert "))" not in line and ") : Which firmware?" in line
    assert line.startswith("• Équipe du support, ")  # bold is rendered, not shown as **


def test_asking_to_close_an_incident_tells_the_support_team(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.says("report an incident", "1", "Flaky", "It is flaky.", "yes")
    out = chat.say("please close INC-000001, the problem is solved")
    assert out.waiting_for == "confirm" and "the problem is solved" in text_of(out)
    done = text_of(chat.say("yes"))
    assert "passed on to the support team" in done
    assert "Only the support team closes an incident" in done
    with session_factory() as session:
        found = incidents.get_incident(session, "INC-000001")
        said = [(e.actor_role, e.note) for e in triage.conversation(found)]
    assert said[-1] == ("customer", "please close INC-000001, the problem is solved")


def test_an_answer_goes_to_the_incident_named_not_the_one_waiting(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    _filed_and_answered(chat, session_factory)  # INC-000001 waits on the customer
    chat.says("report an incident", "1", "Slow", "It is slow.", "yes")  # INC-000002
    out = chat.say("reply to INC-000002: still slow after your restart")
    assert "INC-000002" in text_of(out) and out.waiting_for == "confirm"
    out = chat.say("my incidents")  # a word of a label, not a correction of the incident
    assert "no incident" not in text_of(out).lower()
    chat.say("yes")
    with session_factory() as session:
        second = incidents.get_incident(session, "INC-000002")
        first = incidents.get_incident(session, "INC-000001")
        assert [e.note for e in triage.conversation(second)][-1] == "still slow after your restart"
        assert first.status == incidents.WAITING_ON_CUSTOMER  # untouched


def test_a_closed_incident_is_refused_when_named_not_after_the_answer_is_written(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U-demo", lang="en"))
    chat.says("report an incident", "1", "Flaky", "It is flaky.", "yes")  # INC-000001
    chat.says("report an incident", "1", "Slow", "It is slow.", "yes")  # INC-000002
    with session_factory.begin() as session:
        for status in (incidents.IN_PROGRESS, incidents.RESOLVED, incidents.CLOSED):
            incidents.change_status(session, "INC-000001", status, actor="UAGENT")
    out = chat.say("reply to support on INC-000001")
    assert "INC-000001 is closed" in text_of(out) and out.waiting_for != "message"
    out = chat.say("reply to support")
    offered = [value for value, _ in choices_of(out)]
    assert "INC-000002" in offered and "INC-000001" not in offered
