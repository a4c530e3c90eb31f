"""One neutral markup for every text the bot writes, rendered per medium.

Templates and flows write `**bold**`, "• " bullets and `[label](url)` links; article
Markdown adds headings, `*italic*`, `` `code` `` and tables. Every value interpolated into
a text (`Texts.render` and `Texts.refusal` do it) is wrapped in two private-use characters,
`mark(value)`, so a renderer knows which parts are data: those are escaped for the medium
and never read as markup. A user who types `<!channel>` or `[click](https://evil)` sees
exactly that, and so does everyone else in the channel.

Slack mrkdwn escapes only `&`, `<` and `>` (its documented rule); the terminal renders
with `rich`, whose markup is escaped; plain text drops the markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.markup import escape as rich_escape

if TYPE_CHECKING:
    from bot.replies import Reply

OPEN = "\ue000"
CLOSE = "\ue001"
MARKERS = re.compile(f"[{OPEN}{CLOSE}]")
# The markers and the renderers' own slots: characters no input may bring in.
RESERVED = re.compile("[\ue000-\ue003]")
_SLOT = "\ue002{}\ue003"
_SLOT_RE = re.compile("\ue002(\\d+)\ue003")


def mark(value: object) -> str:
    """A value as data inside a text: escaped by every medium, never markup."""
    return f"{OPEN}{value}{CLOSE}"


def unmark(text: str) -> str:
    return MARKERS.sub("", text)


def _split(text: str) -> tuple[str, list[str]]:
    """The markup with each marked value replaced by a numbered slot; the values."""
    values: list[str] = []
    out: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == OPEN:
            if depth == 0:
                current = []
            depth += 1
        elif ch == CLOSE and depth:
            depth -= 1
            if depth == 0:
                out.append(_SLOT.format(len(values)))
                values.append("".join(current))
        elif depth:
            current.append(ch)
        else:
            out.append(ch)
    if depth:  # an unclosed marker (a value cut short): what follows is data
        out.append(_SLOT.format(len(values)))
        values.append("".join(current))
    return "".join(out), values


def _render(
    text: str,
    escape: Callable[[str], str],
    convert: Callable[[str], str],
) -> str:
    markup, values = _split(text)
    converted = convert(escape(markup))
    return _SLOT_RE.sub(lambda m: escape(unmark(values[int(m.group(1))])), converted)


# --- Slack mrkdwn -------------------------------------------------------------------------


def escape_mrkdwn(value: str) -> str:
    """Slack's rule: `&`, `<`, `>` are control characters, nothing else is escaped."""
    return unmark(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![*\w])")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_TABLE = re.compile(r"(?:^\|.*\|[ \t]*(?:\n|$))+", re.MULTILINE)


def _tables_as_code(text: str, fence: str) -> str:
    return _TABLE.sub(lambda m: f"{fence}\n{m.group(0).rstrip()}\n{fence}\n", text)


def _mrkdwn_markup(text: str) -> str:
    text = _tables_as_code(text, "```")
    text = _HEADING.sub(lambda m: f"**{m.group(1)}**", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _ITALIC.sub(lambda m: f"_{m.group(1)}_", text)
    text = _BOLD.sub(lambda m: f"*{m.group(1)}*", text)
    # The URL's own & was escaped with the rest; Slack reads it back.
    return _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)


def to_mrkdwn(text: str) -> str:
    """A text as Slack mrkdwn: data escaped, markup converted."""
    return _render(text, escape_mrkdwn, _mrkdwn_markup)


# --- terminal (rich) ----------------------------------------------------------------------


def _rich_markup(text: str) -> str:
    text = _HEADING.sub(lambda m: f"**{m.group(1)}**", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _BOLD.sub(lambda m: f"[bold]{m.group(1)}[/bold]", text)
    text = _ITALIC.sub(lambda m: f"[italic]{m.group(1)}[/italic]", text)
    return _LINK.sub(lambda m: f"[underline]{m.group(1)}[/underline] ({m.group(2)})", text)


def _rich_escape(value: str) -> str:
    return rich_escape(unmark(value))


def to_terminal(text: str) -> str:
    """A text as `rich` console markup: user values exactly as typed."""
    return _render(text, _rich_escape, _rich_markup)


# --- plain text ---------------------------------------------------------------------------


def _plain_markup(text: str) -> str:
    text = _HEADING.sub(lambda m: m.group(1), text)
    text = _BOLD.sub(lambda m: m.group(1), text)
    return _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)


def to_plain(text: str) -> str:
    """A text with no markup: JSONL, logs."""
    return _render(text, unmark, _plain_markup)


# --- whole replies ------------------------------------------------------------------------


def reply_mrkdwn(reply: Reply) -> str:
    """A whole reply as mrkdwn: its text, then the structured fields a channel may lay out
    (a confirmation's fields, a list's items), each value escaped."""
    from bot.replies import Confirmation, ItemList

    parts = [to_mrkdwn(reply.text)]
    if isinstance(reply, Confirmation):
        parts += [f"*{escape_mrkdwn(f.label)}* {escape_mrkdwn(f.value)}" for f in reply.fields]
    if isinstance(reply, ItemList):
        for item in reply.items:
            values = (str(getattr(item, name)) for name in item.__dataclass_fields__)
            parts.append(" — ".join(escape_mrkdwn(v) for v in values))
    parts += [escape_mrkdwn(c.label) for c in reply.choices]
    return "\n".join(parts)
