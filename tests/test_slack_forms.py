"""Forms (modals) end to end through signed HTTP requests: opened by /helpdesk and by
buttons, searchable selects, errors by field in the user's language, one incident per
submission however many clicks, the result in the DM and the Home tab refreshed."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import func, select

from services.clock import utcnow
from storage.models import ActivatedService, Incident, RegisteredProduct
from tests.slack.fixtures import CLIENT_FR, CUSTOMER, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp
from tests.test_slack_safety import HOSTILE, assert_inert


def _count(running: RunningApp, model: type) -> int:
    with running.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _open(running: RunningApp, user: str, subcommand: str) -> dict[str, Any]:
    """/helpdesk SUBCOMMAND → the form the modal ends up showing."""
    before = len(running.fake.calls_to("views.update"))
    assert running.sender.command(user, subcommand).status == 200
    opened = running.fake.wait_for("views.open")[-1].args
    assert opened["trigger_id"].startswith("trigger-")
    update = running.fake.wait_for("views.update", before + 1)[-1].args
    return {**update["view"], "id": update["view_id"]}


def _text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def _option(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def _date(value: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def _days_ago(days: int) -> str:
    return (utcnow().date() - dt.timedelta(days=days)).isoformat()


def test_an_incident_form_files_one_incident_however_many_clicks(slack: RunningApp) -> None:  # noqa: F811
    view = _open(slack, CUSTOMER, "incident")
    assert [b["block_id"] for b in view["blocks"]] == ["subscription", "summary", "description"]
    assert view["blocks"][2]["element"]["multiline"] is True
    values = {
        "subscription": _option("Nuclias Cloud Pro"),
        "summary": _text("Switch down"),
        "description": _text(f"It stopped {HOSTILE}"),
    }
    first = slack.sender.view_submission(CUSTOMER, view, values)
    second = slack.sender.view_submission(CUSTOMER, view, values)
    assert first.status == second.status == 200
    assert first.body == ""  # the modal closes
    dm = slack.fake.wait_for("chat.postMessage")[0].args
    assert dm["channel"] == f"D{CUSTOMER}" and "INC-000001" in dm["text"]
    time.sleep(0.3)
    assert _count(slack, Incident) == 1
    assert "INC-000001" in str(slack.fake.wait_for("views.publish")[-1].args["view"])
    for call in slack.fake.calls:
        assert_inert(call.args)


def test_field_errors_are_shown_in_the_form_in_french(slack: RunningApp) -> None:  # noqa: F811
    slack.sender.command(CUSTOMER, "lang fr")
    slack.fake.wait_for("chat.postMessage")
    view = _open(slack, CUSTOMER, "register")
    assert view["title"]["text"] == "Enregistrer un produit"
    tomorrow = (utcnow().date() + dt.timedelta(days=2)).isoformat()
    values = {
        "model": {"type": "external_select", "selected_option": {"value": "DGS-3630-28TC"}},
        "serial": _text("not a serial"),
        "purchase_date": _date(tomorrow),
        "site": _option("none"),
    }
    response = slack.sender.view_submission(CUSTOMER, view, values)
    assert response.status == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"serial", "purchase_date"}
    assert "futur" in answer["errors"]["purchase_date"]
    assert _count(slack, RegisteredProduct) == 5
    # Corrected, the same form goes through.
    values |= {"serial": _text("S3TC270004512"), "purchase_date": _date(_days_ago(3))}
    assert slack.sender.view_submission(CUSTOMER, view, values).body == ""
    assert "S3TC270004512" in slack.fake.wait_for("chat.postMessage", 2)[1].args["text"]
    assert _count(slack, RegisteredProduct) == 6


def test_a_searchable_select_loads_its_options(slack: RunningApp) -> None:  # noqa: F811
    view = _open(slack, CUSTOMER, "register")
    model = next(b for b in view["blocks"] if b["block_id"] == "model")
    assert model["element"]["type"] == "external_select"
    response = slack.sender.options_load(CUSTOMER, view, "model", "value", "3630")
    labels = [o["text"]["text"] for o in response.json()["options"]]
    assert labels == ["DGS-3630-28TC — 28-port Layer 3 Stackable Managed Switch"]


def test_the_activation_form_opens_from_the_home_tab(slack: RunningApp) -> None:  # noqa: F811
    slack.sender.event({"type": "app_home_opened", "user": CUSTOMER, "tab": "home"})
    home = slack.fake.wait_for("views.publish")[0].args["view"]
    button = next(
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["value"] == "activate_service"
    )
    assert slack.sender.home_action(CUSTOMER, button).status == 200
    view = {
        **slack.fake.wait_for("views.update")[-1].args["view"],
        "id": slack.fake.calls_to("views.update")[-1].args["view_id"],
    }
    values = {
        "terms": {"type": "checkboxes", "selected_options": [{"value": "yes"}]},
        "product": {"type": "external_select", "selected_option": {"value": "XS12C19000877"}},
        "code": _text("4HRS-B8M3-Q1ZT"),
        "service_purchase_date": _date(_days_ago(5)),
        "site": _option("1"),
    }
    response = slack.sender.view_submission(CUSTOMER, view, values)
    assert response.body == "", response.body
    assert "DAS-4H" in slack.fake.wait_for("chat.postMessage")[0].args["text"]
    assert _count(slack, ActivatedService) == 2


def test_a_form_the_user_cannot_use_says_why(slack: RunningApp) -> None:  # noqa: F811
    view = _open(slack, CLIENT_FR, "activate")
    assert "submit" not in view
    assert "produit" in str(view["blocks"])


def test_a_menu_button_opens_the_form_and_typed_words_start_the_conversation(
    slack: RunningApp,  # noqa: F811
) -> None:
    slack.sender.dm(CUSTOMER, "hello")
    menu = slack.fake.wait_for("chat.postMessage")[0].args["blocks"]
    opens = [e["action_id"] for b in menu if b["type"] == "actions" for e in b["elements"]]
    assert "hd_open_form:file_incident" in opens
    slack.sender.dm(CUSTOMER, "report an incident")
    assert "subscription" in slack.fake.wait_for("chat.postMessage", 2)[1].args["text"]
