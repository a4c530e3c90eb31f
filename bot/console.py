"""The terminal adapter: the same conversations as in Slack, with no Slack workspace.

Two modes over one `Assistant`:
- interactive (a terminal): colours (rich), numbered choices — typing the number or the
  label works —, line editing and history (readline, kept in the data directory);
- `--jsonl` (automation): one user message per input line, exactly one JSON line per
  message, flushed: {"replies": [{"text": …, "choices": [{"value": …, "label": …}]}],
  "waiting_for": <slot or null>}. Every line is a message, a blank one too (it gets the
  question asked again): a driver that writes a line and reads the answer never waits forever.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.markup import escape

from bot.conversation import Assistant, Outcome, apology
from bot.flows.engine import ChatUser, Choice
from bot.i18n import texts_for
from services.errors import N_

log = logging.getLogger(__name__)

WORKSPACE = "console"
THREAD = "console"


def console_user(
    *, user_id: str | None, email: str | None, name: str | None, lang: str | None, tz: str | None
) -> ChatUser:
    return ChatUser(
        workspace_id=WORKSPACE,
        user_id=user_id or (email or "console-user").strip().lower(),
        thread_key=THREAD,
        email=email,
        name=name,
        tz=tz,
        locale=lang,
    )


def run_jsonl(assistant: Assistant, user: ChatUser, stdin: IO[str], stdout: IO[str]) -> int:
    count = 0
    for line in stdin:
        message = line.rstrip("\r\n")
        outcome = _handle(assistant, user, message)
        stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False) + "\n")
        stdout.flush()
        count += 1
    return count


def _handle(assistant: Assistant, user: ChatUser, message: str) -> Outcome:
    """The console's one error handler: a bug is logged (stderr) and the user gets an
    apology instead of a dead session; domain refusals never get here, flows answer them."""
    try:
        return assistant.handle(user, message)
    except Exception:
        log.exception("handling %r failed", message)
        return apology(user)


def _history(path: Path) -> Callable[[], None]:
    """Load the line history (readline); return what saves it when the session ends."""
    try:
        import readline
    except ImportError:  # not on every platform; the console works without it
        return lambda: None
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
        except OSError:
            pass  # a history that cannot be kept is no reason to fail

    return save


def _show(console: Console, outcome: Outcome) -> list[Choice]:
    """Print the replies; return the choices the user can now pick by number."""
    offered: list[Choice] = []
    for reply in outcome.replies:
        console.print(f"[bold cyan]bot ›[/] {escape(reply.text)}")
        for choice in reply.choices:
            offered.append(choice)
            console.print(f"   [yellow]{len(offered)}.[/] {escape(choice.label)}")
    return offered


def run_interactive(
    assistant: Assistant, user: ChatUser, history: Path, console: Console | None = None
) -> None:
    console = console or Console(highlight=False)
    save_history = _history(history)
    try:
        _converse(assistant, user, console)
    finally:
        save_history()


def _converse(assistant: Assistant, user: ChatUser, console: Console) -> None:
    texts = texts_for(user.locale)
    banner = texts.gettext(N_("Type your message and press Enter; Ctrl-D to quit."))
    console.print(f"[dim]{escape(banner)}[/]")
    offered: list[Choice] = []
    while True:
        try:
            message = console.input("[bold green]you ›[/] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not message.strip():
            continue
        raw = message.strip()
        # A number picks among the choices just shown, wherever they came from.
        if raw.isdigit() and 1 <= int(raw) <= len(offered):
            message = offered[int(raw) - 1].value
        offered = _show(console, _handle(assistant, user, message))
