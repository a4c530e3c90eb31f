"""Staff triage end to end through signed HTTP requests and the fake Web API: the card in
the triage channel, staff take, reply and change status, the customer reads and answers
(in the DM thread, with the button), internal notes never reach the customer, and a
customer can never act as staff."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import Any

from sqlalchemy import func, select

from bot.handlers.satisfaction import JOB_SECONDS, send_surveys
from bot.settings import Settings
from bot.slack.scheduler import Job
from services import incidents, triage
from services.clock import utcnow
from storage.db import SessionFactory
from storage.models import Account, Incident, IncidentEvent
from tests.slack.fixtures import CLIENT_FR, CUSTOMER, DEMO_EMAIL
from tests.slack.harness import SIGNING_SECRET, RunningApp
from tests.slack.jobs import scheduler
from tests.slack.triage import (  # noqa: F401 (a fixture)
    AGENT,
    LEAD,
    TRIAGE,
    button,
    card,
    in_channel,
    incident,
    process,
    run_jobs,
    thread,
    triage_app,
    wait_until,
)
from tests.slack.ui import controls, shown_text
from tests.test_slack_safety import HOSTILE, assert_inert, mrkdwn_texts


def _file(
    running: RunningApp, summary: str = "Switch down", description: str = "It stopped"
) -> str:
    with running.session_factory.begin() as session:
        account = session.scalars(select(Account).where(Account.email == DEMO_EMAIL)).one()
        found = incidents.create_incident(
            session,
            account,
            service="Nuclias Cloud Pro",
            summary=summary,
            description=description,
            actor=DEMO_EMAIL,
        )
        return found.number or ""


def _file_in_slack(running: RunningApp) -> str:
    """The customer files from the incident form, as in Slack."""
    before = len(running.fake.calls_to("views.update"))
    assert running.sender.command(CUSTOMER, "incident").status == 200
    update = running.fake.wait_for("views.update", before + 1)[-1].args
    view = {**update["view"], "id": update["view_id"]}
    values = {
        "subscription": {
            "type": "static_select",
            "selected_option": {"value": "Nuclias Cloud Pro"},
        },
        "summary": {"type": "plain_text_input", "value": "Switch down"},
        "description": {"type": "plain_text_input", "value": f"It stopped {HOSTILE}"},
    }
    assert running.sender.view_submission(CUSTOMER, view, values).status == 200
    wait_until(lambda: _count(running.session_factory, Incident) == 1)
    return "INC-000001"


def _count(session_factory: SessionFactory, model: type) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _modal(running: RunningApp, before: int) -> dict[str, Any]:
    opened = running.fake.wait_for("views.open", before + 1)[-1].args
    view = opened["view"]
    return {**view, "id": f"V-{before}", "hash": "h1"}


def _text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def _click(
    running: RunningApp, user: str, message: dict[str, Any], label: str, channel: str
) -> None:
    block, element = button(message, label)
    assert running.sender.block_action(user, block, element, channel=channel).status == 200


def _dms(running: RunningApp, user: str) -> list[dict[str, Any]]:
    return in_channel(running, f"D{user}")


def _reply_as_staff(running: RunningApp, user: str, text: str) -> None:
    before = len(running.fake.calls_to("views.open"))
    _click(running, user, card(running), "Reply to customer", TRIAGE)
    view = _modal(running, before)
    assert view["callback_id"] == "triage_reply"
    response = running.sender.view_submission(user, view, {"text": _text(text)})
    assert response.status == 200 and response.body == ""


def test_the_whole_journey_from_filing_to_answer(triage_app: RunningApp) -> None:  # noqa: F811
    running = triage_app
    number = _file_in_slack(running)
    run_jobs(running)
    posted = card(running)
    assert posted["channel"] == TRIAGE
    shown = shown_text(posted["blocks"])
    for expected in (number, "Switch down", "Demo Customer", "Nuclias Cloud Pro", "type 1", "New"):
        assert expected in shown, expected
    assert "left)" in shown and "nobody yet" in shown
    run_jobs(running)  # nothing changed: nothing posted again
    assert len(in_channel(running, TRIAGE)) == 1

    _click(running, AGENT, posted, "Take", TRIAGE)
    wait_until(lambda: incident(running).assignee == AGENT)
    wait_until(lambda: "Alice Agent" in shown_text(card(running)["blocks"]))

    _reply_as_staff(running, AGENT, f"Please reboot it {HOSTILE}")
    wait_until(lambda: len(_dms(running, CUSTOMER)) >= 2)  # the filing's result, then the reply
    dm = _dms(running, CUSTOMER)[-1]
    dm_text = shown_text(dm["blocks"])
    assert "The support team replied about your incident INC-000001" in dm_text
    assert "Please reboot it &lt;!channel&gt;" in dm_text
    assert button(dm, "Answer")
    filed = incident(running)
    assert filed.status == incidents.ACKNOWLEDGED and filed.first_response_at is not None
    wait_until(lambda: any("replied to the customer" in line for line in thread(running)))
    assert "answered" in shown_text(card(running)["blocks"])

    # Staff write in the card's thread: an internal note, never delivered.
    card_ts = incident(running).card_ts
    running.sender.event(
        {
            "type": "message",
            "channel": TRIAGE,
            "channel_type": "channel",
            "user": AGENT,
            "text": "internal: customer is on an old firmware",
            "ts": running.sender.next_ts(),
            "thread_ts": card_ts,
        }
    )
    wait_until(lambda: any(e.kind == incidents.COMMENT for e in incident(running).events))
    note = next(e for e in incident(running).events if e.kind == incidents.COMMENT)
    assert note.actor == AGENT and note.actor_role == incidents.STAFF

    # Waiting on the customer, who answers in the reply's DM thread.
    before = len(running.fake.calls_to("views.open"))
    _click(running, AGENT, card(running), "Change status", TRIAGE)
    view = _modal(running, before)
    values = {
        "status": {"type": "static_select", "selected_option": {"value": "waiting_on_customer"}},
        "text": _text(""),
    }
    assert running.sender.view_submission(AGENT, view, values).status == 200
    wait_until(lambda: incident(running).status == incidents.WAITING_ON_CUSTOMER)
    wait_until(lambda: "Waiting on customer" in shown_text(card(running)["blocks"]))

    dms_before = len(_dms(running, CUSTOMER))
    reply_ts = next(e.slack_ts for e in incident(running).events if e.kind == incidents.REPLY)
    running.sender.dm(CUSTOMER, "I rebooted, what is a password?", thread_ts=reply_ts)
    wait_until(lambda: incident(running).status == incidents.IN_PROGRESS)
    answer = [e for e in incident(running).events if e.kind == "answer"]
    assert answer[0].note == "I rebooted, what is a password?" and answer[0].actor == DEMO_EMAIL
    wait_until(lambda: any("I rebooted" in line for line in thread(running)))

    def said_since() -> str:
        return " ".join(str(m["text"]) for m in _dms(running, CUSTOMER)[dms_before:])

    # Waited for by what it says: on a busy machine another DM can come first.
    wait_until(lambda: "passed on to the support team" in said_since())
    relayed = _dms(running, CUSTOMER)[dms_before:]
    assert all(m.get("thread_ts") == reply_ts for m in relayed)  # no KB answer in the DM

    # The Answer button: a modal, the answer recorded like the other.
    before = len(running.fake.calls_to("views.open"))
    _click(running, CUSTOMER, dm, "Answer", f"D{CUSTOMER}")
    view = _modal(running, before)
    assert view["callback_id"] == "incident_answer"
    assert (
        running.sender.view_submission(CUSTOMER, view, {"text": _text("Still down")}).status == 200
    )
    wait_until(lambda: len([e for e in incident(running).events if e.kind == "answer"]) == 2)

    # Staff resolve it; the customer is asked to rate the help, and rates it.
    before = len(running.fake.calls_to("views.open"))
    _click(running, AGENT, card(running), "Change status", TRIAGE)
    view = _modal(running, before)
    values = {
        "status": {"type": "static_select", "selected_option": {"value": "resolved"}},
        "text": _text(""),
    }
    assert running.sender.view_submission(AGENT, view, values).status == 200
    wait_until(lambda: incident(running).status == incidents.RESOLVED)
    wait_until(lambda: "Resolved" in shown_text(card(running)["blocks"]))
    surveys = scheduler(
        dataclasses.replace(
            Settings.from_env(),
            slack_bot_token="xoxb-test",
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=running.fake.url,
            triage_channel=TRIAGE,
        ),
        running.session_factory,
        None,
        [Job("satisfaction surveys", JOB_SECONDS, send_surveys)],
    )
    turns = itertools.count()

    def surveys_sent() -> list[dict[str, Any]]:
        # Found by what it says, not by being last: the confirmation of the answer given in
        # the modal may reach the customer after it.
        return [
            m
            for m in _dms(running, CUSTOMER)
            if "has been resolved" in shown_text(m.get("blocks", []))
        ]

    def next_turn() -> bool:
        # The card's update may still hold the incident (PostgreSQL: the survey's claim
        # skips a locked row), and then the survey goes at the job's next turn.
        surveys.run_due(now=next(turns) * JOB_SECONDS)
        return bool(surveys_sent())

    wait_until(next_turn)
    assert len(surveys_sent()) == 1  # once, however many turns it took
    survey = surveys_sent()[0]
    rating = controls(survey["blocks"])
    block, element = next((b, e) for b, e in rating if e["text"]["text"].startswith("4 "))
    running.sender.block_action(CUSTOMER, block, element)
    wait_until(lambda: incident(running).csat_rating == 4)

    # Nothing staff typed in the thread ever reached the customer.
    for message in _dms(running, CUSTOMER):
        assert "old firmware" not in str(message)
    for call in running.fake.calls:
        assert_inert(call.args)


def test_incidents_filed_outside_slack_get_one_card_with_two_processes(
    triage_app: RunningApp,  # noqa: F811
) -> None:
    running = triage_app
    _file(running, "Console one")
    _file(running, "CLI two")
    first, second = process(running), process(running)
    first.run_due()
    second.run_due()
    cards = [a for a in in_channel(running, TRIAGE) if a.get("thread_ts") is None]
    assert sorted(shown_text(c["blocks"]).split("\n")[0] for c in cards) == [
        "*INC-000001* — Console one",
        "*INC-000002* — CLI two",
    ]


def test_a_customer_cannot_act_as_staff(triage_app: RunningApp) -> None:  # noqa: F811
    running = triage_app
    number = _file(running)
    run_jobs(running)
    posted = card(running)
    events_before = _count(running.session_factory, IncidentEvent)

    # Forged clicks on the card's buttons, sent from the customer's own DM.
    for label in ("Take", "Reply to customer", "Change status", "Internal note"):
        _click(running, CUSTOMER, posted, label, f"D{CUSTOMER}")
    wait_until(lambda: len(_dms(running, CUSTOMER)) == 4)
    for message in _dms(running, CUSTOMER):
        assert "only the support team can do that" in shown_text(message["blocks"])
    assert not running.fake.calls_to("views.open")

    # A forged submission of the reply modal.
    view = {
        "type": "modal",
        "callback_id": "triage_reply",
        "private_metadata": f'{{"number": "{number}"}}',
        "title": {"type": "plain_text", "text": "Reply"},
        "id": "VFORGED",
        "hash": "h",
    }
    response = running.sender.view_submission(CUSTOMER, view, {"text": _text("I close it myself")})
    assert response.status == 200 and "only the support team" in response.body
    # Staff commands.
    queue = running.sender.command(CUSTOMER, "queue")
    assert "only the support team" in queue.body and number not in queue.body
    reply = running.sender.command(CUSTOMER, f"reply {number} hello")
    assert "only the support team" in reply.body

    filed = incident(running)
    assert filed.assignee is None and filed.status == incidents.NEW
    assert _count(running.session_factory, IncidentEvent) == events_before


def test_a_french_customer_is_refused_in_french(triage_app: RunningApp) -> None:  # noqa: F811
    running = triage_app
    _file(running)
    run_jobs(running)
    _click(running, CLIENT_FR, card(running), "Take", f"D{CLIENT_FR}")
    wait_until(lambda: len(_dms(running, CLIENT_FR)) == 1)
    assert "seule l’équipe du support" in shown_text(_dms(running, CLIENT_FR)[0]["blocks"])
    assert incident(running).assignee is None

    # Nor may they answer someone else's incident with a forged Answer button.
    events = len(incident(running).events)
    forged = {"type": "actions", "block_id": "incident_answer"}
    element = {"type": "button", "action_id": "incident_answer", "value": "INC-000001"}
    running.sender.block_action(CLIENT_FR, forged, element)
    wait_until(lambda: len(_dms(running, CLIENT_FR)) == 2)
    assert "INC-000001" in shown_text(_dms(running, CLIENT_FR)[1]["blocks"])
    assert not running.fake.calls_to("views.open")
    assert len(incident(running).events) == events


def test_the_reply_reaches_a_french_customer_in_french(triage_app: RunningApp) -> None:  # noqa: F811
    running = triage_app
    running.sender.command(CUSTOMER, "lang fr")
    running.fake.wait_for("chat.postMessage")
    number = _file(running)
    run_jobs(running)
    seen = len(_dms(running, CUSTOMER))
    reply = running.sender.command(LEAD, f"reply {number} Please check the cable.\n\nThen  retry.")
    assert "on its way" in reply.body or "en route" in reply.body
    wait_until(lambda: len(_dms(running, CUSTOMER)) > seen)
    text = shown_text(_dms(running, CUSTOMER)[-1]["blocks"])
    assert "L’équipe du support a répondu" in text
    assert "Please check the cable.\n\nThen  retry." in text  # as written
    assert incident(running).status == incidents.ACKNOWLEDGED


def test_the_queue_lists_open_incidents_by_deadline_own_first(triage_app: RunningApp) -> None:  # noqa: F811
    running = triage_app
    _file(running, "First filed")
    _file(running, "Second filed")
    with running.session_factory.begin() as session:
        incidents.assign(session, "INC-000002", assignee=AGENT, actor=AGENT)
        incidents.change_status(session, "INC-000001", "resolved", actor=LEAD)
    _file(running, "Third filed")
    body = running.sender.command(AGENT, "queue").json()
    text = shown_text(body["blocks"])
    assert text.index("INC-000002") < text.index("INC-000003")
    assert "INC-000001" not in text  # resolved: not in the queue
    assert "Alice Agent" in text

    # The Home tab: the same queue for staff, nothing of it for customers.
    running.sender.event({"type": "app_home_opened", "user": AGENT, "tab": "home"})
    running.sender.event({"type": "app_home_opened", "user": CUSTOMER, "tab": "home"})
    wait_until(lambda: len(running.fake.calls_to("views.publish")) == 2)
    views = {c.args["user_id"]: str(c.args["view"]) for c in running.fake.calls_to("views.publish")}
    assert "Incident queue" in views[AGENT] and "INC-000002" in views[AGENT]
    assert "Incident queue" not in views[CUSTOMER]
    for text in mrkdwn_texts(body):
        assert "<" not in text


def test_the_time_left_is_redrawn_while_the_clock_runs(
    triage_app: RunningApp,  # noqa: F811
) -> None:
    running = triage_app
    _file(running)
    run_jobs(running)
    run_jobs(running)
    assert not running.fake.calls_to("chat.update")  # drawn a moment ago: left alone

    def age_the_card() -> None:
        with running.session_factory.begin() as session:
            found = session.scalars(select(Incident)).one()
            found.card_updated_at = utcnow() - dt.timedelta(minutes=6)

    age_the_card()
    run_jobs(running)
    assert len(running.fake.calls_to("chat.update")) == 1
    assert "left)" in shown_text(card(running)["blocks"])
    assert len(in_channel(running, TRIAGE)) == 1  # nothing new in the thread

    with running.session_factory.begin() as session:
        triage.staff_reply(session, "INC-000001", actor=AGENT, text="On it")
    run_jobs(running)
    assert "answered" in shown_text(card(running)["blocks"])
    updates = len(running.fake.calls_to("chat.update"))
    age_the_card()
    run_jobs(running)  # answered: the clock has stopped, nothing to redraw
    assert len(running.fake.calls_to("chat.update")) == updates


def test_an_internal_note_from_the_button_stays_in_the_thread(
    triage_app: RunningApp,  # noqa: F811
) -> None:
    running = triage_app
    _file(running)
    run_jobs(running)
    before = len(running.fake.calls_to("views.open"))
    _click(running, LEAD, card(running), "Internal note", TRIAGE)
    view = _modal(running, before)
    assert view["callback_id"] == "triage_note"
    assert view["title"]["text"] == "Note interne"  # the lead's own language
    note = f"Customer is difficult {HOSTILE}"
    assert running.sender.view_submission(LEAD, view, {"text": _text(note)}).status == 200
    wait_until(lambda: any("difficult" in line for line in thread(running)))
    line = next(line for line in thread(running) if "difficult" in line)
    assert "Internal note by Léa Lead (not shown to the customer)" in line
    assert "&lt;!channel&gt;" in line
    assert incident(running).status == incidents.NEW  # a note is no first response
    assert not any("difficult" in str(m) for m in _dms(running, CUSTOMER))
    for call in running.fake.calls:
        assert_inert(call.args)


def test_the_usage_names_the_staff_commands_only_to_staff(triage_app: RunningApp) -> None:  # noqa: F811
    staff = triage_app.sender.command(AGENT, "dance").body
    customer = triage_app.sender.command(CUSTOMER, "dance").body
    assert "/helpdesk queue" in staff and "register" in staff
    assert "queue" not in customer and "register" in customer
