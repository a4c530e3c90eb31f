"""Incidents on products: a customer whose registered product has an active DAS service
asks for help on it; the incident hangs on the product and its service, and promises a
first-response time only when the catalogue gives one for that service. In conversation
and in the Slack form."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.conversation import Assistant
from bot.settings import Settings
from services import accounts, catalog, incidents
from services.clock import utcnow
from services.demo import MODELS, USED_CODE_SERIAL
from services.errors import DasServiceNotStarted, NoActiveDasService, ProductNotFound
from storage.db import SessionFactory
from storage.models import ActivatedService, Incident
from tests.conversation_helpers import (
    NOW,
    Chat,
    choices_of,
    seed_demo,
    shared_kb,
    text_of,
    user,
)
from tests.slack.fixtures import CUSTOMER, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp

DEMO = "demo@example.com"
SERIAL = USED_CODE_SERIAL  # the demo's product with a DAS service activated on it


def _started(session_factory: SessionFactory, today: dt.date) -> tuple[str, str]:
    """The demo's activated service, started ten days before `today`: (model, service)."""
    with session_factory.begin() as session:
        service = session.scalars(select(ActivatedService)).one()
        service.starts_on = today - dt.timedelta(days=10)
        service.ends_on = today + dt.timedelta(days=300)
        return service.product.model, service.service


def _promise(session_factory: SessionFactory, tmp_path: Path, model: str, hours: str) -> None:
    """Re-import the demo catalogue with a response time for `model`'s services."""
    path = tmp_path / "catalog.csv"
    lines = ["model,name,serial_pattern,das_services,das_first_response_hours"]
    for m in MODELS:
        services = ";".join(m.das_services)
        promise = ";".join(f"{s}={hours}" for s in m.das_services) if m.model == model else ""
        lines.append(f'{m.model},{m.name},"{m.serial_pattern}","{services}","{promise}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with session_factory.begin() as session:
        catalog.import_catalog(session, path)


def _file(session: Any, serial: str = SERIAL, now: dt.datetime = NOW) -> Incident:
    return incidents.create_incident(
        session,
        accounts.get_account(session, DEMO),
        product=serial,
        summary="Ports flapping",
        description="Ports 3 and 4 go up and down.",
        actor=DEMO,
        now=now,
    )


@pytest.fixture
def seeded(session_factory: SessionFactory) -> SessionFactory:
    seed_demo(session_factory)
    return session_factory


def test_an_incident_on_a_product_promises_no_time_unless_the_catalogue_does(
    seeded: SessionFactory, tmp_path: Path
) -> None:
    model, service = _started(seeded, NOW.date())
    with seeded.begin() as session:
        incident = _file(session)
        assert (incident.product.serial, incident.activated_service.service) == (SERIAL, service)
        assert incident.subscription is None and incident.first_response_due is None
        assert incident.service_name == service
        assert [e.kind for e in incident.events] == ["created"]
    with seeded() as session:  # no deadline: never warned about
        assert incidents.due_soon(session, within=dt.timedelta(days=365), now=NOW) == []

    _promise(seeded, tmp_path, model, "4")
    with seeded.begin() as session:
        incident = _file(session)
        assert incident.first_response_due == NOW + dt.timedelta(hours=4)


def test_help_on_a_product_needs_an_active_service_and_its_own_product(
    seeded: SessionFactory,
) -> None:
    with seeded.begin() as session:  # activated when seeded: it starts two days later
        with pytest.raises(DasServiceNotStarted):
            _file(session)
        other = next(m.example_serial for m in MODELS if m.example_serial != SERIAL)
        with pytest.raises(NoActiveDasService):
            _file(session, serial=other)
        with pytest.raises(ProductNotFound):
            _file(session, serial="NOTMINE123")


@pytest.fixture
def assistant(seeded: SessionFactory, settings: Settings, tmp_path_factory: Any) -> Assistant:
    return Assistant(seeded, settings, shared_kb(tmp_path_factory))


def test_in_conversation_the_product_is_offered_and_filed_on(
    assistant: Assistant, seeded: SessionFactory
) -> None:
    model, service = _started(seeded, NOW.date())
    chat = Chat(assistant, user("U-demo", lang="en"))
    out = chat.say("report an incident")
    assert "Which subscription or product is the incident about?" in text_of(out)
    label = f"{model} {SERIAL} (DAS: {service})"
    assert (f"product:{SERIAL}", label) in choices_of(out)
    assert chat.say(label).waiting_for == "summary"
    assert chat.say("Ports flapping").waiting_for == "description"
    out = chat.say("Ports 3 and 4 go up and down since the update.")
    said = text_of(out)
    assert f"Product: {model} {SERIAL}" in said and f"DAS service: {service}" in said
    assert "No response time is promised for this service" in said
    out = chat.say("yes")
    said = text_of(out)
    assert f"Your incident INC-000001 on your {model} {SERIAL} is filed" in said
    assert "No response time is promised" in said
    out = chat.say("where is INC-000001?")
    said = text_of(out)
    assert f"Product: {model} {SERIAL}" in said
    assert "as soon as possible (no response time is promised for this service)" in said


def test_in_french_with_a_promise_from_the_catalogue(
    assistant: Assistant, seeded: SessionFactory, tmp_path: Path
) -> None:
    model, _service = _started(seeded, NOW.date())
    _promise(seeded, tmp_path, model, "8")
    chat = Chat(assistant, user("U-demo", lang="fr"))
    chat.say("signaler un incident")
    chat.says(SERIAL, "Ports instables", "Les ports 3 et 4 tombent.")
    out = chat.say("oui")
    said = text_of(out)
    assert f"Votre incident INC-000001 sur votre {model} {SERIAL} est enregistré" in said
    assert "première réponse sous 8\u00a0heures" in said


def test_the_incident_form_offers_the_product(slack: RunningApp) -> None:  # noqa: F811
    _started(slack.session_factory, utcnow().date())
    assert slack.sender.command(CUSTOMER, "incident").status == 200
    view = slack.fake.wait_for("views.update")[-1].args["view"]
    view = {**view, "id": slack.fake.calls_to("views.update")[-1].args["view_id"]}
    select_ = view["blocks"][0]["element"]
    offered = [o["value"] for o in select_.get("options", [])]
    assert f"product:{SERIAL}" in offered
    values = {
        "subscription": {
            "type": "static_select",
            "selected_option": {"value": f"product:{SERIAL}"},
        },
        "summary": {"type": "plain_text_input", "value": "Ports flapping"},
        "description": {"type": "plain_text_input", "value": "Ports 3 and 4 go up and down."},
    }
    assert slack.sender.view_submission(CUSTOMER, view, values).status == 200
    dm = slack.fake.wait_for("chat.postMessage")[0].args
    assert "INC-000001" in dm["text"] and SERIAL in dm["text"]
    time.sleep(0.2)
    with slack.session_factory() as session:
        incident = incidents.get_incident(session, "INC-000001")
        assert incident.product is not None and incident.product.serial == SERIAL
        service = incident.service_name
    home = str(slack.fake.wait_for("views.publish")[-1].args["view"])
    assert "INC-000001" in home and "first response due" not in home  # none promised
    shown = CliRunner().invoke(cli, ["incidents", "show", "INC-000001", "--json"])
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert (data["product"], data["first_response_due"]) == (SERIAL, None)
    assert data["service"] == service


def test_asking_for_a_person_offers_help_on_the_product(
    assistant: Assistant, seeded: SessionFactory
) -> None:
    model, service = _started(seeded, NOW.date())
    said = text_of(Chat(assistant, user("U-demo", lang="en")).say("I want to talk to someone"))
    assert (
        f"{model} {SERIAL} (DAS: {service}): no response time is promised for this service" in said
    )


def test_assistance_for_a_named_product_starts_on_it(
    assistant: Assistant, seeded: SessionFactory
) -> None:
    model, service = _started(seeded, NOW.date())
    chat = Chat(assistant, user("U-demo", lang="en"))
    out = chat.say(f"I need assistance with my {model}")
    assert out.waiting_for == "summary"  # the product is the one under the DAS service
    out = chat.says("Ports flapping", "Ports 3 and 4 go up and down.")
    assert out.waiting_for == "confirm"
    assert f"Product: {model} {SERIAL}" in text_of(out) and f"DAS service: {service}" in text_of(
        out
    )
    out = Chat(assistant, user("U-demo2", lang="en")).say("request assistance for my product")
    assert out.waiting_for == "subscription"
    assert f"product:{SERIAL}" in [value for value, _ in choices_of(out)]
