"""Pure Block Kit builders: the engine's typed replies in, Slack JSON out.

Texts are rendered for mrkdwn by `bot.media` (user values escaped, only & < >); labels go
into plain_text objects, which Slack never parses. Every object respects Block Kit's
limits so Slack never rejects a message: 3,000 characters per section text, 10 fields of
2,000, 75 per button or option label, 150 per option value, 100 options per static
select, 50 blocks per message, 100 per view.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.boundary import (
    CHOICE,
    CONFIRM,
    DATE,
    MULTILINE,
    YESNO,
    ArticleAnswer,
    Choice,
    Confirmation,
    FormField,
    FormSpec,
    Prompt,
    Reply,
    escape_mrkdwn,
    to_mrkdwn,
)
from kb.analysis import fold

Block = dict[str, Any]

SECTION_CHARS = 3000
FIELD_CHARS = 2000
FIELDS_PER_SECTION = 10
LABEL_CHARS = 75
OPTION_VALUE_CHARS = 150
BUTTON_VALUE_CHARS = 2000
OPTIONS_PER_SELECT = 100
BLOCKS_PER_MESSAGE = 50
VIEW_BLOCKS = 100
MODAL_TITLE_CHARS = 24
INPUT_LABEL_CHARS = 2000
MAX_BUTTONS = 5  # more answers to a question than this read better as a select
MENU_BUTTONS = 10  # a menu of commands stays a row of buttons up to this many

CHOICE_ACTION = "hd_choice"
SELECT_ACTION = "hd_select"
DATE_ACTION = "hd_date"
FEEDBACK_ACTION = "hd_feedback"
OPEN_FORM_ACTION = "hd_open_form"
FORM_CALLBACK = "hd_form"
KB_DRAFT_ACTION = "hd_kb_draft"
FIELD_ACTION = "value"


@dataclass(frozen=True)
class Binding:
    """What a control answers: the conversation (thread key), the run and the slot its
    choices were offered for (the engine refuses a click on anything no longer open)."""

    thread_key: str
    run_id: str
    slot: str

    def block_id(self, index: int) -> str:
        data = {"t": self.thread_key, "r": self.run_id, "s": self.slot, "i": index}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_block_id(cls, block_id: str) -> Binding | None:
        try:
            data = json.loads(block_id)
            return cls(str(data["t"]), str(data["r"]), str(data["s"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Labels:
    """The few words the builders add themselves, already translated."""

    pick: str  # placeholder of a select
    pick_date: str
    submit: str = ""
    cancel: str = ""
    accept: str = ""  # the tick box of a yes/no field in a form


def plain(text: str, limit: int = LABEL_CHARS) -> dict[str, Any]:
    """A plain_text object: Slack does not parse it, so it needs no escaping; only a length."""
    return {
        "type": "plain_text",
        "text": clip(" ".join(text.split()), limit) or " ",
        "emoji": False,
    }


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Rendered mrkdwn cut into pieces of at most `limit` characters, at paragraph, line or
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


def build_sections(rendered: str) -> list[Block]:
    """Rendered mrkdwn as sections within the limits."""
    return [{"type": "section", "text": mrkdwn(piece)} for piece in split_text(rendered)]


def build_text_blocks(text: str) -> list[Block]:
    """A text of the engine (neutral markup, user values marked) as sections."""
    return build_sections(to_mrkdwn(text))


def build_confirmation_blocks(reply: Confirmation) -> list[Block]:
    """The summary to check as fields, between its introduction and its question."""
    lines = reply.text.splitlines()
    bullets = [n for n, line in enumerate(lines) if line.startswith("• ")]
    if not reply.fields or not bullets:
        return build_text_blocks(reply.text)
    before = "\n".join(lines[: bullets[0]])
    after = "\n".join(lines[bullets[-1] + 1 :])
    cells = [
        clip(
            f"*{escape_mrkdwn(f.label).rstrip(':').strip()}*\n{escape_mrkdwn(f.value)}", FIELD_CHARS
        )
        for f in reply.fields
    ]
    blocks = build_text_blocks(before)
    for start in range(0, len(cells), FIELDS_PER_SECTION):
        chunk = cells[start : start + FIELDS_PER_SECTION]
        blocks.append({"type": "section", "fields": [mrkdwn(cell) for cell in chunk]})
    return blocks + build_text_blocks(after)


def _option(choice: Choice) -> dict[str, Any]:
    return {"text": plain(choice.label), "value": choice.value}


def _buttons(choices: list[Choice], action: str, *, primary: str | None = None) -> list[Block]:
    return [
        {
            "type": "button",
            "action_id": f"{action}:{n}",
            "text": plain(choice.label),
            "value": choice.value[:BUTTON_VALUE_CHARS],
            **({"style": "primary"} if primary is not None and choice.value == primary else {}),
        }
        for n, choice in enumerate(choices)
    ]


# The flows that are also forms: a button that starts one opens its modal.
FORM_FLOWS = frozenset({"register_product", "activate_service", "file_incident"})
FLOW_COMMAND = "flow:"


def _opens_form(choice: Choice) -> str | None:
    flow = choice.value.removeprefix(FLOW_COMMAND)
    return flow if choice.value.startswith(FLOW_COMMAND) and flow in FORM_FLOWS else None


def build_choice_elements(
    choices: list[Choice], *, kind: str | None, labels: Labels, search: bool = False
) -> list[dict[str, Any]]:
    """Buttons for yes/no and a few short choices; a select for more: a searchable one
    (options loaded as the user types, `build_options`) when the engine says the list is
    long or it passes a static select's 100 options. A command that starts a flow that
    is also a form is a button that opens the form."""
    if kind is None and any(_opens_form(c) for c in choices) and len(choices) <= 25:
        return [
            {
                "type": "button",
                "action_id": f"{OPEN_FORM_ACTION}:{flow}",
                "text": plain(choice.label),
                "value": flow,
            }
            if (flow := _opens_form(choice))
            else _buttons([choice], CHOICE_ACTION)[0] | {"action_id": f"{CHOICE_ACTION}:{n}"}
            for n, choice in enumerate(choices)
        ]
    fit = all(len(c.value) <= OPTION_VALUE_CHARS for c in choices)
    most = MAX_BUTTONS if kind == CHOICE else MENU_BUTTONS
    if kind in (YESNO, CONFIRM) or len(choices) <= most or not fit:
        return _buttons(choices[:25], CHOICE_ACTION, primary="yes")
    if search or len(choices) > OPTIONS_PER_SELECT:
        return [_external_select(SELECT_ACTION, labels)]
    return [
        {
            "type": "static_select",
            "action_id": SELECT_ACTION,
            "placeholder": plain(labels.pick),
            "options": [_option(c) for c in choices[:OPTIONS_PER_SELECT]],
        }
    ]


def _external_select(action_id: str, labels: Labels) -> dict[str, Any]:
    """A select whose options Slack asks for as the user types (an options load)."""
    return {
        "type": "external_select",
        "action_id": action_id,
        "placeholder": plain(labels.pick),
        "min_query_length": 0,
    }


def build_reply_blocks(
    reply: Reply,
    *,
    thread_key: str,
    run_id: str | None,
    index: int,
    labels: Labels,
    today: dt.date,
    native_feedback: bool = True,
) -> list[Block]:
    """One reply of the bot: its text, then the controls that answer it (bound to the
    prompt's run, else to the run of the outcome the reply came in)."""
    if isinstance(reply, Prompt) and reply.run_id:
        run_id = reply.run_id
    slot = reply.action_slot or (reply.slot if isinstance(reply, Prompt) else "")
    binding = Binding(thread_key, run_id or "", slot)
    if isinstance(reply, Confirmation):
        blocks = build_confirmation_blocks(reply)
    else:
        blocks = build_text_blocks(reply.text)
    if isinstance(reply, ArticleAnswer):
        return blocks + _article_controls(reply, binding, index, native_feedback=native_feedback)
    elements: list[dict[str, Any]] = []
    if isinstance(reply, Prompt) and reply.kind == DATE:
        element: dict[str, Any] = {
            "type": "datepicker",
            "action_id": DATE_ACTION,
            "placeholder": plain(labels.pick_date),
            "initial_date": _initial_date(reply, today),
        }
        elements.append(element)
    if reply.choices:
        kind = reply.kind if isinstance(reply, Prompt) else None
        search = isinstance(reply, Prompt) and reply.search
        elements += build_choice_elements(reply.choices, kind=kind, labels=labels, search=search)
    if elements:
        blocks.append(
            {"type": "actions", "block_id": binding.block_id(index), "elements": elements}
        )
    return blocks


def _initial_date(prompt: Prompt, today: dt.date) -> str:
    """The picker opens on the prompt's initial date, else today, inside its bounds."""
    initial = dt.date.fromisoformat(prompt.initial) if prompt.initial else today
    if prompt.max_date is not None and initial > prompt.max_date:
        initial = prompt.max_date
    if prompt.min_date is not None and initial < prompt.min_date:
        initial = prompt.min_date
    return initial.isoformat()


@dataclass(frozen=True)
class Vote:
    """A click on an answer's helpful / not helpful: which article, which logged question.
    Carried in the control's value, so a vote on any answer, however old, counts (the
    latest of a person's votes on an article replaces the others)."""

    helpful: bool
    slug: str
    lang: str
    question_id: int | None = None

    def value(self) -> str:
        data = {"v": "yes" if self.helpful else "no", "s": self.slug, "l": self.lang}
        if self.question_id is not None:
            data["q"] = str(self.question_id)
        return json.dumps(data, separators=(",", ":"))[:BUTTON_VALUE_CHARS]

    @classmethod
    def parse(cls, value: str) -> Vote | None:
        try:
            data = json.loads(value)
            question = data.get("q")
            return cls(
                data["v"] == "yes",
                str(data["s"]),
                str(data["l"]),
                int(question) if question is not None else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _votes(reply: ArticleAnswer) -> list[tuple[Choice, Vote]]:
    return [
        (choice, Vote(choice.value == "yes", reply.slug, reply.lang, reply.question_id))
        for choice in reply.feedback
    ]


def _feedback_block(reply: ArticleAnswer, block_id: str, *, native: bool) -> Block:
    """Helpful / not helpful: Slack's own feedback buttons (a context_actions block) when
    `native`, else two buttons."""
    votes = _votes(reply)
    if native and sorted(c.value for c, _ in votes) == ["no", "yes"]:
        buttons = {
            ("positive_button" if vote.helpful else "negative_button"): {
                "text": plain(choice.label),
                "accessibility_label": clip(choice.label, LABEL_CHARS),
                "value": vote.value(),
            }
            for choice, vote in votes
        }
        return {
            "type": "context_actions",
            "block_id": block_id,
            "elements": [
                {"type": "feedback_buttons", "action_id": f"{FEEDBACK_ACTION}:0", **buttons}
            ],
        }
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            {
                "type": "button",
                "action_id": f"{FEEDBACK_ACTION}:{n}",
                "text": plain(choice.label),
                "value": vote.value(),
                **({"style": "primary"} if vote.helpful else {}),
            }
            for n, (choice, vote) in enumerate(votes)
        ],
    }


def _article_controls(
    reply: ArticleAnswer, binding: Binding, index: int, *, native_feedback: bool
) -> list[Block]:
    """ "Read the whole article" and related articles as buttons; helpful / not helpful as
    a row of its own."""
    links = [*([reply.link] if reply.link else []), *reply.related]
    blocks: list[Block] = []
    if links:
        blocks.append(
            {
                "type": "actions",
                "block_id": binding.block_id(index),
                "elements": _buttons(links[:25], CHOICE_ACTION),
            }
        )
    if reply.feedback:
        blocks.append(
            _feedback_block(reply, binding.block_id(index + 1000), native=native_feedback)
        )
    return blocks


def build_notice_blocks(text: str) -> list[Block]:
    """A short note under the conversation (a form's result, a refusal)."""
    return [{"type": "context", "elements": [mrkdwn(clip(to_mrkdwn(text), SECTION_CHARS))]}]


def messages_of(blocks: list[Block]) -> Iterator[list[Block]]:
    """Blocks cut into messages Slack accepts (50 blocks each)."""
    for start in range(0, len(blocks), BLOCKS_PER_MESSAGE):
        yield blocks[start : start + BLOCKS_PER_MESSAGE]


def fallback_text(texts: list[str], limit: int = 3000) -> str:
    """The message's `text` (notifications), rendered and escaped like the rest."""
    joined = "\n\n".join(to_mrkdwn(text) for text in texts)
    return clip(joined, limit) or " "


# --- the Home tab -------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeSection:
    title: str
    lines: list[str]  # plain text (user values in it): escaped here
    empty: str


def build_open_form_buttons(forms: list[tuple[str, str]], block_id: str) -> Block:
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
            for flow, label in forms
        ],
    }


def build_home_view(
    greeting: str, sections: list[HomeSection], forms: list[tuple[str, str]]
) -> dict[str, Any]:
    """The Home tab: a greeting, a button per form (flow, label), then the user's things.
    Every line is escaped; a long list is cut to what the tab can hold."""
    blocks: list[Block] = build_sections(escape_mrkdwn(greeting))
    if forms:
        blocks.append(build_open_form_buttons(forms, "home_forms"))
    for section in sections:
        blocks.append({"type": "divider"})
        body = "\n".join(f"• {escape_mrkdwn(line)}" for line in section.lines)
        title = f"*{escape_mrkdwn(section.title)}*\n"
        pieces = split_text(body or escape_mrkdwn(section.empty), SECTION_CHARS - len(title))
        for n, piece in enumerate(pieces):
            blocks.append({"type": "section", "text": mrkdwn(title + piece if n == 0 else piece)})
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS]}


@dataclass(frozen=True)
class EditorHome:
    """The KB part of an editor's Home tab, every text translated (values marked)."""

    title: str
    version: str
    unanswered_title: str
    groups: list[tuple[str, str]]  # (question id of the example, line)
    no_groups: str
    draft_label: str
    votes_title: str
    votes: list[str]
    no_votes: str


def build_editor_home_blocks(home: EditorHome) -> list[Block]:
    """The published version, one section per group of unanswered questions with a
    button that drafts an article from it, then the votes per article."""
    blocks: list[Block] = [
        {"type": "divider"},
        {"type": "header", "text": plain(home.title, 150)},
        *build_text_blocks(home.version),
        *build_text_blocks(f"**{home.unanswered_title}**"),
    ]
    for question_id, line in home.groups:
        blocks.append(
            {
                "type": "section",
                "block_id": f"kb_group:{question_id}",
                "text": mrkdwn(clip(to_mrkdwn(line), SECTION_CHARS)),
                "accessory": {
                    "type": "button",
                    "action_id": KB_DRAFT_ACTION,
                    "text": plain(home.draft_label),
                    "value": question_id,
                },
            }
        )
    if not home.groups:
        blocks += build_text_blocks(home.no_groups)
    votes = "\n".join(f"• {line}" for line in home.votes) or home.no_votes
    blocks += build_text_blocks(f"**{home.votes_title}**\n{votes}")
    return blocks


def with_blocks(view: dict[str, Any], extra: list[Block]) -> dict[str, Any]:
    """A view with `extra` blocks added at its end, the first ones cut if need be so the
    whole stays within a view's 100 blocks."""
    extra = extra[:VIEW_BLOCKS]
    kept = view["blocks"][: VIEW_BLOCKS - len(extra)]
    return {**view, "blocks": kept + extra}


# --- forms (modals) -----------------------------------------------------------------------


def _field_element(field: FormField, labels: Labels, today: dt.date) -> dict[str, Any]:
    if field.kind == DATE:
        element: dict[str, Any] = {"type": "datepicker", "action_id": FIELD_ACTION}
        initial = dt.date.fromisoformat(field.initial) if field.initial else None
        if initial is None and field.max_date is not None:
            initial = min(today, field.max_date)
        if initial is not None:
            element["initial_date"] = initial.isoformat()
        element["placeholder"] = plain(labels.pick_date)
        return element
    if field.kind == CHOICE and field.options:
        options = [_option(c) for c in field.options if len(c.value) <= OPTION_VALUE_CHARS]
        element = {
            "type": "static_select",
            "action_id": FIELD_ACTION,
            "placeholder": plain(labels.pick),
            "options": options[:OPTIONS_PER_SELECT],
        }
        if field.search or len(options) > OPTIONS_PER_SELECT:
            element = _external_select(FIELD_ACTION, labels)
        chosen = next((o for o in options if o["value"] == field.initial), None)
        if chosen is not None and element["type"] == "static_select":
            element["initial_option"] = chosen
        return element
    if field.kind == YESNO:
        element = {
            "type": "checkboxes",
            "action_id": FIELD_ACTION,
            "options": [{"text": plain(labels.accept), "value": "yes"}],
        }
        return element
    multiline = field.widget == MULTILINE
    element = {"type": "plain_text_input", "action_id": FIELD_ACTION, "multiline": multiline}
    if field.initial:
        element["initial_value"] = field.initial
    return element


def build_form_view(
    form: FormSpec, *, labels: Labels, today: dt.date, metadata: str
) -> dict[str, Any]:
    """A flow's form as a modal: one input per field, block id = the field's slot."""
    blocks: list[Block] = []
    for field in form.fields:
        blocks.append(
            {
                "type": "input",
                "block_id": field.slot,
                "optional": field.optional or field.shown_when is not None,
                "label": plain(field.label, INPUT_LABEL_CHARS),
                "element": _field_element(field, labels, today),
            }
        )
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": metadata,
        "title": plain(form.title, MODAL_TITLE_CHARS),
        "submit": plain(labels.submit, MODAL_TITLE_CHARS),
        "close": plain(labels.cancel, MODAL_TITLE_CHARS),
        "blocks": blocks[:VIEW_BLOCKS],
    }


def build_message_view(
    title: str, texts: list[str], *, close: str, metadata: str = ""
) -> dict[str, Any]:
    """A modal that only says something (loading, a form not available, a result)."""
    blocks: list[Block] = []
    for text in texts:
        blocks += build_text_blocks(text)
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": metadata,
        "title": plain(title, MODAL_TITLE_CHARS),
        "close": plain(close, MODAL_TITLE_CHARS),
        "blocks": blocks[:VIEW_BLOCKS] or build_sections(" "),
    }


def build_options(choices: list[Choice], query: str) -> list[dict[str, Any]]:
    """An external select's options (a form's or a message's): those whose label or value
    holds every word the user typed, accents and case aside; at most a select's 100."""
    words = fold(query.casefold()).split()
    found = (
        c
        for c in choices
        if len(c.value) <= OPTION_VALUE_CHARS
        and all(word in fold(f"{c.label} {c.value}".casefold()) for word in words)
    )
    return [_option(c) for c in itertools.islice(found, OPTIONS_PER_SELECT)]
