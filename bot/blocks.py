"""Pure Block Kit builders: rendered texts and choices in, Slack JSON out.

Every text a user may have influenced is escaped here, once (see bot.slack.mrkdwn), and
every object respects Block Kit's limits so Slack never rejects a message: 3,000
characters per section text, 10 fields of 2,000, 75 per button or option label, 150 per
option value, 100 options per static select, 50 blocks per message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.flows.engine import CHOICE, DATE, YESNO, Choice
from bot.slack.mrkdwn import escape

Block = dict[str, Any]

SECTION_CHARS = 3000
FIELD_CHARS = 2000
FIELDS_PER_SECTION = 10
LABEL_CHARS = 75
OPTION_VALUE_CHARS = 150
BUTTON_VALUE_CHARS = 2000
OPTIONS_PER_SELECT = 100
BLOCKS_PER_MESSAGE = 50
MAX_BUTTONS = 5  # more answers to a question than this read better as a select
MENU_BUTTONS = 10  # a menu of commands stays a row of buttons up to this many
HEADER_CHARS = 150

CHOICE_ACTION = "hd_choice"
SELECT_ACTION = "hd_select"
EXTERNAL_ACTION = "hd_external"
DATE_ACTION = "hd_date"
FEEDBACK_ACTION = "hd_feedback"
OPEN_FORM_ACTION = "hd_open_form"


@dataclass(frozen=True)
class Binding:
    """Where a reply's controls send their answer: the conversation (thread key) and, for
    a question, the conversation's version when it was asked: a click on an older
    question is refused. `version` None: free commands (a menu), valid any time."""

    thread_key: str
    version: int | None = None

    def block_id(self, index: int) -> str:
        data: dict[str, Any] = {"t": self.thread_key, "i": index}
        if self.version is not None:
            data["v"] = self.version
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_block_id(cls, block_id: str) -> Binding | None:
        try:
            data = json.loads(block_id)
            version = data.get("v")
            return cls(str(data["t"]), int(version) if version is not None else None)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


@dataclass(frozen=True)
class Labels:
    """The few words the builders add themselves, already translated."""

    pick: str  # placeholder of a select
    pick_date: str
    search: str  # placeholder of a select with search


def plain(text: str, limit: int = LABEL_CHARS) -> dict[str, Any]:
    """A plain_text object: Slack does not parse it, so it needs no escaping; only a length."""
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": False}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Escaped text cut into pieces of at most `limit` characters, at paragraph, line or
    word boundaries when there are some, never inside an entity (`&amp;`)."""
    pieces: list[str] = []
    rest = text.strip("\n")
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit))
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
            amp = rest.rfind("&", cut - 5, cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip():
        pieces.append(rest)
    return pieces


def build_text_blocks(text: str) -> list[Block]:
    """Any text (escaped here) as sections within the limits."""
    return [{"type": "section", "text": mrkdwn(piece)} for piece in split_text(escape(text))]


def build_confirmation_blocks(text: str) -> list[Block]:
    """A summary ("• Model: DGS-1210-28" lines between an intro and a question) as fields."""
    before: list[str] = []
    fields: list[str] = []
    after: list[str] = []
    for line in text.splitlines():
        label, sep, value = line.removeprefix("• ").partition(":")
        if line.startswith("• ") and sep and not after:
            fields.append(f"*{escape(label.strip())}*\n{escape(value.strip())}")
        elif fields:
            after.append(line)
        else:
            before.append(line)
    if not fields:
        return build_text_blocks(text)
    blocks = build_text_blocks("\n".join(before))
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        chunk = fields[start : start + FIELDS_PER_SECTION]
        blocks.append({"type": "section", "fields": [mrkdwn(clip(f, FIELD_CHARS)) for f in chunk]})
    return blocks + build_text_blocks("\n".join(after))


def _option(choice: Choice) -> dict[str, Any]:
    return {"text": plain(choice.label), "value": choice.value}


def build_choice_elements(
    choices: list[Choice], *, kind: str | None, labels: Labels, external: bool = False
) -> list[dict[str, Any]]:
    """Buttons for yes/no and a few short choices; a select for more; an external select
    (options loaded on search) when there are more than one select can hold."""
    short = all(len(c.label) <= LABEL_CHARS for c in choices)
    fit = all(len(c.value) <= OPTION_VALUE_CHARS for c in choices)
    most = MAX_BUTTONS if kind == CHOICE else MENU_BUTTONS
    if kind == YESNO or (len(choices) <= most and short) or not fit:
        return [
            {
                "type": "button",
                "action_id": f"{CHOICE_ACTION}:{n}",
                "text": plain(choice.label),
                "value": choice.value[:BUTTON_VALUE_CHARS],
                **({"style": "primary"} if kind == YESNO and choice.value == "yes" else {}),
            }
            for n, choice in enumerate(choices)
        ]
    if len(choices) > OPTIONS_PER_SELECT and external:
        return [
            {
                "type": "external_select",
                "action_id": EXTERNAL_ACTION,
                "placeholder": plain(labels.search),
                "min_query_length": 0,
            }
        ]
    return [
        {
            "type": "static_select",
            "action_id": SELECT_ACTION,
            "placeholder": plain(labels.pick),
            "options": [_option(c) for c in choices[:OPTIONS_PER_SELECT]],
        }
    ]


def build_options(choices: list[Choice], query: str) -> list[dict[str, Any]]:
    """An external select's options: those whose label holds what the user typed."""
    wanted = query.strip().lower()
    found = [c for c in choices if wanted in c.label.lower() or wanted in c.value.lower()]
    return [_option(c) for c in found[:OPTIONS_PER_SELECT]]


def build_reply_blocks(
    text: str,
    choices: list[Choice],
    *,
    binding: Binding,
    index: int,
    kind: str | None,
    slot: str | None,
    labels: Labels,
    today: dt.date | None = None,
) -> list[Block]:
    """One reply of the bot: its text, then the controls that answer it."""
    confirm = slot == "confirm"
    blocks = build_confirmation_blocks(text) if confirm else build_text_blocks(text)
    elements: list[dict[str, Any]] = []
    if kind == DATE and not choices:
        element: dict[str, Any] = {
            "type": "datepicker",
            "action_id": DATE_ACTION,
            "placeholder": plain(labels.pick_date),
        }
        if today is not None:
            element["initial_date"] = today.isoformat()
        elements.append(element)
    if choices:
        kind_for_controls = kind if kind in (CHOICE, YESNO) else None
        elements += build_choice_elements(choices, kind=kind_for_controls, labels=labels)
    if elements:
        blocks.append(
            {"type": "actions", "block_id": binding.block_id(index), "elements": elements}
        )
    return blocks


def build_feedback_blocks(
    text: str, choices: list[Choice], *, binding: Binding, index: int, labels: Labels
) -> list[Block]:
    """A KB answer: the article's text; its links (whole article, related articles) as
    buttons; "helpful / not helpful" as a row of its own."""
    votes = [c for c in choices if c.value in ("yes", "no")]
    links = [c for c in choices if c.value not in ("yes", "no")]
    blocks = build_text_blocks(text)
    if links:
        elements = [
            {
                "type": "button",
                "action_id": f"{CHOICE_ACTION}:{n}",
                "text": plain(c.label),
                "value": c.value[:BUTTON_VALUE_CHARS],
            }
            for n, c in enumerate(links[:25])
        ]
        blocks.append(
            {"type": "actions", "block_id": binding.block_id(index), "elements": elements}
        )
    if votes:
        blocks.append(
            {
                "type": "actions",
                "block_id": binding.block_id(index + 1000),
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{FEEDBACK_ACTION}:{c.value}",
                        "text": plain(c.label),
                        "value": c.value,
                        **({"style": "primary"} if c.value == "yes" else {}),
                    }
                    for c in votes
                ],
            }
        )
    return blocks


def build_notice_blocks(text: str) -> list[Block]:
    """A short note under the conversation (a stale click, a choice made)."""
    return [{"type": "context", "elements": [mrkdwn(clip(escape(text), SECTION_CHARS))]}]


def messages_of(blocks: list[Block]) -> Iterator[list[Block]]:
    """Blocks cut into messages Slack accepts (50 blocks each)."""
    for start in range(0, len(blocks), BLOCKS_PER_MESSAGE):
        yield blocks[start : start + BLOCKS_PER_MESSAGE]


def fallback_text(text: str, limit: int = 3000) -> str:
    """The message's `text`: shown in notifications, escaped like the rest."""
    return escape(clip(text, limit // 2)) or " "


HOME_BLOCKS = 100
MODAL_BLOCKS = 100


@dataclass(frozen=True)
class HomeSection:
    title: str
    lines: list[str]
    empty: str  # what to say when there is nothing


def build_home_view(
    greeting: str, sections: list[HomeSection], forms: list[tuple[str, str]]
) -> dict[str, Any]:
    """The Home tab: a greeting, a button per form (flow name, label), then the user's
    things. Every line is escaped; a long list is cut to what the tab can hold."""
    blocks: list[Block] = build_text_blocks(greeting)
    if forms:
        blocks.append(
            {
                "type": "actions",
                "block_id": "home_forms",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{OPEN_FORM_ACTION}:{flow}",
                        "text": plain(label),
                        "value": flow,
                    }
                    for flow, label in forms
                ],
            }
        )
    for section in sections:
        blocks.append({"type": "divider"})
        body = "\n".join(f"• {line}" for line in section.lines) or section.empty
        title = f"*{escape(section.title)}*\n"
        pieces = split_text(escape(body), SECTION_CHARS - len(title))
        for n, piece in enumerate(pieces):
            blocks.append({"type": "section", "text": mrkdwn(title + piece if n == 0 else piece)})
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}


def build_open_form_button(flow: str, label: str, block_id: str) -> Block:
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            {
                "type": "button",
                "action_id": f"{OPEN_FORM_ACTION}:{flow}",
                "text": plain(label),
                "value": flow,
            }
        ],
    }
