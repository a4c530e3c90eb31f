"""No user text can make the bot broadcast, mention or disguise a link — in messages,
the Home tab or forms — and Block Kit's limits never get a message rejected."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.blocks import (
    BLOCKS_PER_MESSAGE,
    LABEL_CHARS,
    SECTION_CHARS,
    Labels,
    build_reply_blocks,
    messages_of,
    split_text,
)
from bot.boundary import Choice, Reply
from bot.boundary import escape_mrkdwn as escape
from services import incidents
from storage.models import Account
from tests.slack.fixtures import CUSTOMER, slack  # noqa: F401 (a fixture)
from tests.slack.harness import RunningApp
from tests.slack.ui import Screen

HOSTILE = "<!channel> <!here> <@U0ADMIN> <!subteam^S1> <https://evil.example|your bank> &lt;"


def mrkdwn_texts(node: Any) -> list[str]:
    """Every string Slack parses as mrkdwn in a payload (plain_text is never parsed)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            found.append(node["text"])
        for key, value in node.items():
            if key == "text" and isinstance(value, str) and node.get("type") != "plain_text":
                found.append(value)
            else:
                found += mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            found += mrkdwn_texts(item)
    return found


def assert_inert(payload: Any) -> None:
    for text in mrkdwn_texts(payload):
        assert "<" not in text and ">" not in text, text
        assert "&lt;!channel&gt;" in text or "!channel" not in text


def test_escape_replaces_only_the_three_characters() -> None:
    assert escape('<!here> & "quotes" *bold*') == '&lt;!here&gt; &amp; "quotes" *bold*'


def test_hostile_text_is_inert_in_every_message(slack: RunningApp) -> None:  # noqa: F811
    me = Screen(slack, CUSTOMER)
    me.say(HOSTILE)  # not understood: the bot echoes nothing dangerous
    me.say("report an incident")
    me.select("Nuclias Cloud Pro (type 1, paid)")
    me.say(HOSTILE)
    me.say(f"It broke {HOSTILE}")
    assert "&lt;!channel&gt;" in me.text  # shown, as text
    me.click("Yes")
    for message in slack.fake.posted():
        assert_inert(message)


def test_a_hostile_profile_name_is_inert(slack: RunningApp) -> None:  # noqa: F811
    slack.fake.add_user("UEVIL", locale="en-US", name="<!everyone> Eve")
    Screen(slack, "UEVIL").say("hello")
    for message in slack.fake.posted():
        assert_inert(message)


def test_hostile_text_is_inert_in_the_home_tab(slack: RunningApp) -> None:  # noqa: F811
    with slack.session_factory.begin() as session:
        account = session.query(Account).filter_by(email="demo@example.com").one()
        incidents.create_incident(
            session,
            account,
            service="Nuclias Cloud Pro",
            summary=HOSTILE,
            description=HOSTILE,
            actor=account.email,
        )
    event = {"type": "app_home_opened", "user": CUSTOMER, "channel": "DHOME", "tab": "home"}
    assert slack.sender.event(event).status == 200
    view = slack.fake.wait_for("views.publish")[0].args["view"]
    assert "&lt;!channel&gt;" in json.dumps(view)
    assert_inert(view)


def test_long_texts_are_split_within_block_kit_limits() -> None:
    article = "\n\n".join(f"Paragraph {n}: " + "word " * 400 for n in range(60))
    pieces = split_text(escape(article))
    assert all(len(p) <= SECTION_CHARS for p in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == escape(article).replace(
        "\n", ""
    ).replace(" ", "")
    choices = [Choice(f"v{n}", "a label far too long for a button " * 5) for n in range(3)]
    blocks = build_reply_blocks(
        Reply(article, choices),
        thread_key="D1",
        run_id="r1",
        index=0,
        labels=Labels("Choose", "Pick a date"),
        today=dt.date(2026, 11, 29),
    )
    messages = list(messages_of(blocks))
    assert len(messages) > 1 and all(len(m) <= BLOCKS_PER_MESSAGE for m in messages)
    controls = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    labels = [e["text"]["text"] for e in controls]
    assert len(labels) == 3 and all(len(label) <= LABEL_CHARS for label in labels)


def test_an_entity_is_never_cut_in_half() -> None:
    text = ("&" * 2999) + "<"
    for piece in split_text(escape(text), 3000):
        assert not piece.endswith(("&", "&a", "&am", "&amp", "&l", "&lt"))
