"""The boundary a channel builds on (`bot.boundary`): actions bound to runs, forms, media.

Driven as the Slack app drives it: a reply's choices become buttons carrying the outcome's
run id, the reply's action slot and the choice's value; forms are submitted whole.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.boundary import (
    Action,
    ArticleAnswer,
    Confirmation,
    IncidentItem,
    ItemList,
    Outcome,
    Prompt,
    Refused,
    reply_mrkdwn,
    to_mrkdwn,
    to_plain,
    to_terminal,
)
from bot.conversation import Assistant
from storage.db import SessionFactory
from storage.models import Conversation, Incident, RegisteredProduct
from tests.conversation_helpers import NOW, Chat, text_of, user

HOSTILE = "<!channel> <@U123> <https://evil.example|click>"


def _click(outcome: Outcome, value: str, key: str) -> Action:
    """The action a button of `outcome` sends: the reply that offers `value`."""
    for reply in outcome.replies:
        if any(choice.value == value for choice in reply.choices):
            assert outcome.run_id and reply.action_slot
            return Action(outcome.run_id, reply.action_slot, value, key)
    raise AssertionError(f"no choice {value!r} in {outcome}")


def _count(session_factory: SessionFactory, model: type) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _version(session_factory: SessionFactory) -> tuple[int, str | None, str | None]:
    with session_factory() as session:
        row = session.scalars(select(Conversation)).one()
        return row.version, row.flow, row.step


# --- actions ----------------------------------------------------------------------------


def test_an_old_confirm_button_does_not_confirm_the_new_flow(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    incident_confirm = chat.says(
        "report an incident", "OneTouch AT.com", "Cannot log in", "The portal says no."
    )
    assert isinstance(incident_confirm.prompt, Confirmation)
    old_yes = _click(incident_confirm, "yes", "click-1")

    chat.says("register a product", "DAP-X2850", "AX28A52000555", "2026-11-20", "none")
    assert chat.last is not None and chat.last.waiting_for == "confirm"
    before = _version(session_factory)
    products_before = _count(session_factory, RegisteredProduct)

    out = chat.act(old_yes)
    assert isinstance(out.replies[0], Refused)
    assert "no longer open" in text_of(out) and out.waiting_for == "confirm"
    assert _version(session_factory) == before  # nothing written, not even the row
    assert _count(session_factory, RegisteredProduct) == products_before
    assert _count(session_factory, Incident) == 0

    out = chat.act(_click(out, "yes", "click-2"))  # the current button does confirm
    assert "is registered" in text_of(out)
    assert _count(session_factory, RegisteredProduct) == products_before + 1


def test_the_same_action_twice_changes_nothing_the_second_time(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    asked = chat.say("register a product")
    pick = _click(asked, "DGS-3630-28TC", "click-model")
    assert chat.act(pick).waiting_for == "serial"
    state = _version(session_factory)
    again = chat.act(pick)  # a retried delivery
    assert again.waiting_for == "serial" and "already taken that into account" in text_of(again)
    assert _version(session_factory) == state

    confirm = chat.says("S3TC270004512", "2026-11-20", "none")
    yes = _click(confirm, "yes", "click-yes")
    done = chat.act(yes)
    assert "is registered" in text_of(done)
    count = _count(session_factory, RegisteredProduct)
    state = _version(session_factory)
    assert "already taken that into account" in text_of(chat.act(yes))
    assert _count(session_factory, RegisteredProduct) == count
    assert _version(session_factory) == state


def test_an_answered_question_button_is_refused(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    asked = chat.say("enregistrer un produit")
    chat.act(_click(asked, "DGS-3630-28TC", "k1"))
    state = _version(session_factory)
    out = chat.act(_click(asked, "DAP-X2850", "k2"))  # the same list, another model
    assert isinstance(out.replies[0], Refused) and "n’est plus en cours" in text_of(out)
    assert out.waiting_for == "serial" and _version(session_factory) == state


def test_the_choices_of_the_open_question_are_read_without_writing(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    asked = chat.say("register a product")
    prompt = asked.prompt
    assert prompt is not None and prompt.search and asked.run_id
    before = _version(session_factory)
    assert assistant.choices(chat.who, asked.run_id, prompt.slot, now=chat.now) == prompt.choices
    assert _version(session_factory) == before  # a read: nothing written
    assert assistant.choices(chat.who, "another-run", prompt.slot, now=chat.now) == []
    assert assistant.choices(chat.who, asked.run_id, "serial", now=chat.now) == []
    idle = chat.now + dt.timedelta(days=1)
    assert assistant.choices(chat.who, asked.run_id, prompt.slot, now=idle) == []
    chat.say("DGS-3630-28TC")  # answered: the question is closed
    assert assistant.choices(chat.who, asked.run_id, prompt.slot, now=chat.now) == []


def test_menu_buttons_are_commands_in_any_language(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="fr"))
    menu = chat.say("aide")
    out = chat.act(_click(menu, "list:products", "k1"))
    assert isinstance(out.replies[0], ItemList) and out.replies[0].of == "products"
    assert "Vous avez 5 produits enregistrés" in text_of(out)


def test_a_prompt_says_what_it_asks(assistant: Assistant) -> None:
    chat = Chat(assistant, user("U1", lang="en", tz="Pacific/Kiritimati"))
    chat.says("activate a service", "yes", "NS34L11000562")
    out = chat.last
    assert out is not None and isinstance(out.prompt, Prompt)
    assert out.prompt.slot == "code" and out.prompt.secret and out.prompt.kind == "text"
    dated = chat.say("8X5N-C9P4-W7LD")
    assert dated.prompt is not None and dated.prompt.kind == "date"
    # "not after today", in the user's zone (already the next day in Kiritimati)
    assert (
        dated.prompt.max_date == (chat.now.astimezone(dt.timezone(dt.timedelta(hours=14)))).date()
    )
    assert all(len(c.label) <= 75 for r in dated.replies for c in r.choices)


# --- forms ------------------------------------------------------------------------------


def test_a_registration_form_with_two_bad_fields_gets_both_errors_in_french(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    who = user("U-fr", lang="fr")
    tomorrow = (NOW + dt.timedelta(days=2)).date().isoformat()
    fields = {"model": "DGS-1210-28", "serial": "XYZ", "purchase_date": tomorrow, "site": "none"}
    result = assistant.submit_form(who, "register_product", fields, now=NOW)
    assert not result.ok and set(result.errors) == {"serial", "purchase_date"}
    assert "n’est pas un numéro de série valide" in result.errors["serial"]
    assert "dans le futur" in result.errors["purchase_date"]
    assert _count(session_factory, RegisteredProduct) == 5  # the demo's, nothing more


def test_a_valid_form_runs_its_action_once(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    who = user("U1", lang="en")
    fields = {"model": "DAP-X2850", "serial": "AX28A52000934", "purchase_date": "2026-11-01"}
    fields["site"] = "new"
    fields |= {"street": "1 Main St", "postal_code": "10001", "city": "New York"}
    fields["site_country"] = "US"
    result = assistant.submit_form(who, "register_product", fields, idempotency_key="v1", now=NOW)
    assert result.ok and result.errors == {}
    assert "is registered" in to_plain(result.replies[0].text)
    # The reply's button ("Activate a DAS service") works like any other.
    assert result.run_id and result.replies[0].action_slot == "command"
    button = Action(result.run_id, "command", "flow:activate_service", "after-form")
    assert Chat(assistant, who).act(button).waiting_for == "terms"
    again = assistant.submit_form(who, "register_product", fields, idempotency_key="v1", now=NOW)
    assert again.errors == {} and "already taken" in to_plain(again.replies[0].text)
    with session_factory() as session:
        found = session.scalars(
            select(RegisteredProduct).where(RegisteredProduct.serial == "AX28A52000934")
        ).all()
        assert len(found) == 1 and found[0].site is not None and found[0].site.city == "New York"


def test_a_wrong_model_hides_the_serial_check(assistant: Assistant) -> None:
    fields = {"model": "DWL-0000", "serial": "XYZ", "purchase_date": "2026-11-01", "site": "none"}
    result = assistant.submit_form(user("U1", lang="en"), "register_product", fields, now=NOW)
    assert set(result.errors) == {"model"}  # the serial needs the model: no noise about it


def test_form_specs_list_fields_with_kinds_options_and_bounds(assistant: Assistant) -> None:
    who = user("U1", lang="fr")
    specs = {spec.flow: spec for spec in assistant.forms(who, now=NOW)}
    assert set(specs) == {"register_product", "activate_service", "file_incident"}
    fields = {f.slot: f for f in specs["register_product"].fields}
    assert list(fields)[:4] == ["model", "serial", "purchase_date", "site"]  # account known
    assert fields["model"].kind == "choice" and fields["model"].label == "Modèle"
    assert fields["serial"].requires == ("model",)
    assert fields["purchase_date"].max_date == dt.date(2026, 11, 23)
    assert fields["street"].shown_when == ("site", "new")
    terms = specs["activate_service"].fields[0]
    assert terms.kind == "yesno" and terms.widget == "checkbox"
    description = {f.slot: f for f in specs["file_incident"].fields}["description"]
    assert description.widget == "multiline"
    assert specs["file_incident"].unavailable == []
    newcomer = assistant.form(user("U-new", email=None, name=None, lang="en"), "activate_service")
    assert newcomer.unavailable  # no product to activate a service on


# --- media ------------------------------------------------------------------------------


def test_a_hostile_summary_is_escaped_in_every_slack_rendering(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    chat = Chat(assistant, user("U1", lang="en"))
    outcomes = [
        chat.says("report an incident", "OneTouch AT.com", HOSTILE, f"See {HOSTILE} here."),
        chat.say("yes"),
        chat.say("my incidents"),
        chat.say("where is INC-000001?"),
    ]
    with session_factory() as session:
        assert session.scalars(select(Incident.summary)).one() == HOSTILE  # filed as typed
    confirm = outcomes[0].prompt
    assert isinstance(confirm, Confirmation)
    assert any(field.value == HOSTILE for field in confirm.fields)
    listed = [r for r in outcomes[2].replies if isinstance(r, ItemList)]
    assert isinstance(listed[0].items[0], IncidentItem) and listed[0].items[0].summary == HOSTILE
    for outcome in outcomes:
        for reply in outcome.replies:
            for rendered in (reply_mrkdwn(reply), to_mrkdwn(reply.text)):
                assert "<!channel>" not in rendered and "<@U123>" not in rendered
                assert "<https://evil.example" not in rendered
    shown = reply_mrkdwn(confirm)
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt;" in shown
    assert HOSTILE in to_terminal(confirm.text) and HOSTILE in to_plain(confirm.text)


def test_markup_is_converted_per_medium_and_user_markup_is_not() -> None:
    from bot.media import mark

    text = (
        f"**Title** with [a link](https://example.com/?a=1&b=2) and {mark('**not bold** [x](y)')}"
    )
    assert to_mrkdwn(text) == (
        "*Title* with <https://example.com/?a=1&amp;b=2|a link> and **not bold** [x](y)"
    )
    assert to_terminal(text).startswith("[bold]Title[/bold] with")
    assert to_terminal(text).endswith("**not bold** \\[x](y)")
    assert (
        to_plain(text) == "Title with a link (https://example.com/?a=1&b=2) and **not bold** [x](y)"
    )


def test_an_article_answer_is_typed(assistant: Assistant) -> None:
    out = Chat(assistant, user("U1", lang="en")).say("What is the Gold support programme?")
    answer = out.replies[0]
    assert isinstance(answer, ArticleAnswer) and answer.title and answer.summary
    assert answer.link is not None and answer.feedback
    assert out.to_json()["replies"][0]["type"] == "article"


def test_a_flow_is_checked_when_it_is_built() -> None:
    from bot.flows.engine import CHOICE, CONFIRM, Flow, Slot

    with pytest.raises(ValueError, match="unknown kind"):
        Slot("when", "calendar")
    with pytest.raises(ValueError, match="unknown widget"):
        Slot("when", widget="slider")
    with pytest.raises(ValueError, match="no choices"):
        Flow("f", "t", "T", (Slot("pick", CHOICE),), on_complete=lambda ctx: [])
    with pytest.raises(ValueError, match="confirm slot comes last"):
        Flow("f", "t", "T", (Slot("confirm", CONFIRM), Slot("x")), on_confirm=lambda ctx: [])
    with pytest.raises(ValueError, match="depends on a later slot"):
        Flow("f", "t", "T", (Slot("a", requires=("b",)), Slot("b")), on_complete=lambda ctx: [])


def test_jsonl_keeps_its_documented_fields(assistant: Assistant) -> None:
    line = Chat(assistant, user("U1", lang="en")).say("register a product").to_json()
    assert line["waiting_for"] == "model" and line["lang"] == "en" and line["run_id"]
    prompt = line["replies"][-1]
    assert prompt["type"] == "prompt" and prompt["slot"] == "model" and prompt["kind"] == "choice"
    assert prompt["text"].startswith("Which model") and prompt["choices"][0]["value"] == "DAP-2662"


def test_rows_saved_by_the_previous_version_continue(
    assistant: Assistant, session_factory: SessionFactory
) -> None:
    """Conversations saved before the state was typed: a flow, an answer, offered choices."""
    legacy = [
        (
            "U-flow",
            "register_product",
            "serial",
            {"values": {"model": "DGS-3630-28TC"}, "run_id": "r1"},
            ["model"],
        ),
        (
            "U-kb",
            "kb",
            "feedback",
            {
                "kb": {
                    "slug": "gold-support",
                    "lang": "en",
                    "question_id": None,
                    "choices": [{"value": "yes", "label": "Yes, it helped"}],
                    "awaiting": "feedback",
                }
            },
            [],
        ),
        ("U-menu", None, None, {"offered": [{"value": "my products", "label": "My products"}]}, []),
    ]
    with session_factory.begin() as session:
        for user_id, flow, step, slots, history in legacy:
            session.add(
                Conversation(
                    workspace_id="T1",
                    user_id=user_id,
                    thread_key="D1",
                    flow=flow,
                    step=step,
                    slots=slots,
                    history=history,
                    updated_at=NOW,
                )
            )
    assert (
        Chat(assistant, user("U-flow", lang="en")).say("S3TC270004512").waiting_for
        == "purchase_date"
    )
    assert "Thank you for your feedback" in text_of(
        Chat(assistant, user("U-kb", lang="en")).say("yes")
    )
    # An old menu's value was a phrase: picking it by its label still understands it.
    assert "registered products" in text_of(
        Chat(assistant, user("U-menu", lang="en")).say("My products")
    )
