"""The typed replies of the bot (see `bot.boundary` for how a channel uses them).

Every reply keeps its whole `text` (neutral markup, user values marked; `bot.media`), so a
text-only channel needs nothing else; the subclasses add what a rich channel lays out.
`to_json` is the JSONL shape: `text` (plain) and `choices` always, `type` and the
structured fields besides.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bot.media import to_plain

# The kinds of a prompt: what the user is asked to give.
TEXT = "text"
CHOICE = "choice"
YESNO = "yesno"
DATE = "date"
CONFIRM = "confirm"
KINDS = (TEXT, CHOICE, YESNO, DATE, CONFIRM)

# Widgets a slot asks for when its kind alone does not say (None: the kind's usual one).
MULTILINE = "multiline"  # a text of several lines (a description)
CHECKBOX = "checkbox"  # a yes/no that is an agreement (terms and conditions)
WIDGETS = (MULTILINE, CHECKBOX)

# Slack's limit for a button's or an option's text; every label fits it.
LABEL_MAX = 75

# The `action_slot` of choices shown outside a flow (the menu, a list's follow-ups, an
# answer's follow-ups): their values are commands.
COMMAND = "command"


def fit_label(label: str, limit: int = LABEL_MAX) -> str:
    label = " ".join(label.split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Choice:
    """Something the user may pick: an opaque `value` to send back, a plain-text `label`."""

    value: str
    label: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", fit_label(self.label))

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "label": self.label}


@dataclass(frozen=True)
class ChatUser:
    """Who is talking, as a channel sees them (Slack profile, console options)."""

    workspace_id: str
    user_id: str
    thread_key: str
    email: str | None = None
    name: str | None = None
    tz: str | None = None
    locale: str | None = None
    # The workspace whose accounts this user sees ("": the default one of the console, the
    # command line and single-token Slack; in OAuth mode the user's Slack team).
    tenant: str = ""


def _json(value: Any) -> Any:
    if isinstance(value, Choice):
        return value.to_json()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


@dataclass
class Reply:
    """A plain message; the base of every reply."""

    text: str
    choices: list[Choice] = field(default_factory=list)
    # The slot an Action for these choices names (set by the engine when there are any).
    action_slot: str | None = None

    type: ClassVar[str] = "message"
    _plain_fields: ClassVar[tuple[str, ...]] = ("text", "choices", "action_slot")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "text": to_plain(self.text),
            "choices": [c.to_json() for c in self.choices],
        }
        if self.action_slot:
            out["action_slot"] = self.action_slot
        for f in dataclasses.fields(self):
            if f.name not in self._plain_fields:
                out[f.name] = _json(getattr(self, f.name))
        return out


@dataclass
class Prompt(Reply):
    """A question for one slot of a flow run; its options are its `choices`."""

    slot: str = ""
    kind: str = TEXT
    run_id: str = ""
    max_date: dt.date | None = None
    min_date: dt.date | None = None
    initial: str | None = None
    secret: bool = False
    search: bool = False
    numbered: bool = True
    widget: str | None = None  # MULTILINE, CHECKBOX, or None

    type: ClassVar[str] = "prompt"

    @property
    def options(self) -> list[Choice]:
        return self.choices


@dataclass(frozen=True)
class Field:
    """One line of a confirmation summary: a translated label, the value as given."""

    label: str
    value: str


@dataclass
class Confirmation(Prompt):
    """The last question of a flow: the summary to check, then yes or no."""

    fields: list[Field] = field(default_factory=list)

    type: ClassVar[str] = "confirmation"


@dataclass
class ArticleAnswer(Reply):
    """A knowledge-base answer: the short answer, or the whole article when asked."""

    title: str = ""
    summary: str = ""  # Markdown
    body: str = ""  # Markdown; empty unless the whole article was asked for
    slug: str = ""
    lang: str = ""
    link: Choice | None = None  # opens the whole article
    related: list[Choice] = field(default_factory=list)
    feedback: list[Choice] = field(default_factory=list)
    question_id: int | None = None  # the logged question it answers (votes point to it)

    type: ClassVar[str] = "article"


@dataclass(frozen=True)
class ProductItem:
    model: str
    name: str
    serial: str
    purchase_date: dt.date
    site: str  # the site's address, "" when none


@dataclass(frozen=True)
class ServiceItem:
    service: str
    model: str
    serial: str
    starts_on: dt.date
    ends_on: dt.date
    state: str  # upcoming | active | ended


@dataclass(frozen=True)
class IncidentItem:
    number: str
    summary: str
    service: str
    status: str  # the status code (new, acknowledged, …)
    status_label: str  # the status in the user's language
    created: dt.date  # in the user's time zone


@dataclass
class ItemList(Reply):
    """A list of the user's things; `of` says which."""

    of: str = ""  # products | services | incidents
    items: list[Any] = field(default_factory=list)

    type: ClassVar[str] = "list"


@dataclass
class Refused(Reply):
    """An answer or a request the bot cannot accept; `reason` names the rule."""

    reason: str = ""

    type: ClassVar[str] = "refusal"
