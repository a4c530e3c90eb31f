"""A long list in a message: a searchable (external) select bound to its flow run, its
options loaded through signed options loads as the user types, the pick an action like
any other, and a stale pick refused."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.blocks import LABEL_CHARS, OPTIONS_PER_SELECT, Labels, build_choice_elements
from bot.blocks import build_options as options_for
from bot.boundary import CHOICE, Choice
from services import accounts, products
from services.clock import utcnow
from storage.models import Conversation
from tests.slack.fixtures import CUSTOMER, DEMO_EMAIL, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp
from tests.slack.ui import Screen, controls

MODEL = "DXS-1210-12SC"
MANY = 160  # more than a static select's 100 options


def _serial(n: int) -> str:
    return f"XS12C{n:08d}"


def _label(n: int) -> str:
    return f"{MODEL} — {_serial(n)}"


def _register_many(running: RunningApp) -> None:
    """The demo customer's products number more than a static select can hold."""
    with running.session_factory.begin() as session:
        account = accounts.find_account(session, DEMO_EMAIL)
        assert account is not None
        for n in range(1, MANY + 1):
            products.register_product(
                session,
                account,
                model=MODEL,
                serial=_serial(n),
                purchase_date=utcnow().date() - dt.timedelta(days=30),
            )


def _waiting(running: RunningApp, user: str) -> tuple[str | None, str | None]:
    """The slot the user's conversation waits for, and the product it has chosen."""
    with running.session_factory() as session:
        row = session.scalars(select(Conversation).where(Conversation.user_id == user)).one()
        return row.step, (row.slots or {}).get("values", {}).get("product")


def _activation_product_prompt(running: RunningApp) -> Screen:
    _register_many(running)
    me = Screen(running, CUSTOMER)
    me.say("activate a service")
    me.click("Yes")  # the terms
    return me


def test_a_long_product_list_is_searched_and_product_150_picked(slack: RunningApp) -> None:  # noqa: F811
    me = _activation_product_prompt(slack)
    assert not [e for _, e in controls(me.last) if e["type"] == "static_select"]
    block, element = me.element(kind="external_select")
    assert "options" not in element

    found = [o["text"]["text"] for o in me.options("xs12c0000015")]
    assert sorted(found) == [_label(n) for n in range(150, 160)]
    assert len(me.options("")) == OPTIONS_PER_SELECT
    assert me.options("no such product") == []

    option = next(o for o in me.options(_serial(150)) if o["text"]["text"] == _label(150))
    response = slack.sender.block_action(CUSTOMER, block, element, channel=me.channel, value=option)
    assert response.status == 200
    me.wait()
    assert "activation code" in me.text.lower()
    assert _waiting(slack, CUSTOMER) == ("code", _serial(150))

    # The same select picked again (an old message): refused politely, nothing changes.
    other = {"text": {"type": "plain_text", "text": _label(3)}, "value": _serial(3)}
    response = slack.sender.block_action(CUSTOMER, block, element, channel=me.channel, value=other)
    assert response.status == 200
    me.wait()
    assert "no longer open" in me.text
    assert _waiting(slack, CUSTOMER) == ("code", _serial(150))
    # ...and the closed question offers nothing more to pick.
    stale = slack.sender.options_load(
        CUSTOMER, None, block["block_id"], element["action_id"], "", channel=me.channel
    )
    assert stale.status == 200 and stale.json()["options"] == []


def test_a_pick_from_a_cancelled_run_is_refused(slack: RunningApp) -> None:  # noqa: F811
    me = _activation_product_prompt(slack)
    block, element = me.element(kind="external_select")
    option = me.options(_serial(120))[0]
    me.say("cancel")
    me.say("activate a service")
    response = slack.sender.block_action(CUSTOMER, block, element, channel=me.channel, value=option)
    assert response.status == 200
    me.wait()
    assert "no longer open" in me.text
    assert _waiting(slack, CUSTOMER) == ("terms", None)


def test_a_static_select_cannot_hold_more_than_100_options() -> None:
    labels = Labels(pick="Choose…", pick_date="Pick a date")
    few = [Choice(f"v{n}", f"Option {n}") for n in range(30)]
    many = [Choice(f"v{n}", f"Option {n}") for n in range(OPTIONS_PER_SELECT + 1)]
    assert build_choice_elements(few, kind=CHOICE, labels=labels)[0]["type"] == "static_select"
    assert build_choice_elements(many, kind=CHOICE, labels=labels)[0]["type"] == "external_select"
    searched = build_choice_elements(few, kind=CHOICE, labels=labels, search=True)
    assert searched[0]["type"] == "external_select"
    # A few answers stay buttons, searchable or not.
    buttons = build_choice_elements(few[:3], kind=CHOICE, labels=labels, search=True)
    assert {e["type"] for e in buttons} == {"button"}


def test_options_match_every_word_whatever_the_accents_and_case() -> None:
    choices = [
        Choice("1", "Caméra d’entrée — Hôtel Crémieux"),
        Choice("2", "Switch étage 2 <!channel> & co"),
        Choice("3", "Routeur " + "x" * 120),
    ]
    assert [o["value"] for o in options_for(choices, "HOTEL camera")] == ["1"]
    assert [o["value"] for o in options_for(choices, "etage")] == ["2"]
    assert [o["value"] for o in options_for(choices, "  ")] == ["1", "2", "3"]
    shown = options_for(choices, "")
    # plain_text: shown as typed, never parsed; at most 75 characters.
    assert shown[1]["text"] == {
        "type": "plain_text",
        "text": "Switch étage 2 <!channel> & co",
        "emoji": False,
    }
    assert all(len(o["text"]["text"]) <= LABEL_CHARS for o in shown)
    many = [Choice(str(n), f"Product {n}") for n in range(500)]
    assert len(options_for(many, "product")) == OPTIONS_PER_SELECT
