"""The terminal adapter: the same conversations as in Slack, with no Slack workspace.

Two modes over one `Assistant`:
- interactive (a terminal): the typed replies laid out with `rich` (lists as tables, the
  whole article as Markdown, refusals in colour), the choices a number picks numbered —
  the engine decides what a number picks, exactly as in `--jsonl` mode —, line editing
  and a history per user (readline) that never keeps what was typed at a secret prompt
  nor anything shaped like an activation code; `exit`, `quit`, `quitter` or Ctrl-D leave;
- `--jsonl` (automation): one user message per input line, exactly one JSON line per
  message, flushed: {"replies": [{"type": …, "text": …, "choices": [{"value": …,
  "label": …}], …}], "waiting_for": <slot or null>, "run_id": …, "lang": …}. Every line
  is a message, a blank one too (it gets the question asked again): a driver that writes
  a line and reads the answer never waits forever.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table

from bot.boundary import (
    ArticleAnswer,
    ChatUser,
    ItemList,
    Outcome,
    Refused,
    Reply,
    to_plain,
    to_terminal,
)
from bot.conversation import Assistant, apology
from bot.i18n import Texts, texts_for
from bot.nlu import normalize
from services import accounts, products, subscriptions
from services.errors import N_

log = logging.getLogger(__name__)

WORKSPACE = "console"
THREAD = "console"
# Words that leave the console (inside a flow, "cancel" / "annuler" stop the flow).
LEAVE = frozenset({"exit", "quit", "quitter", "sortir"})
# Three or more groups of four letters and digits: an activation code, wherever it is typed.
_CODE_SHAPED = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{4}(?:[\s-]*[A-Za-z0-9]{4}){2,}")


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
        log.exception("handling a message failed")
        return apology(user)


# --- history ------------------------------------------------------------------------------


def history_file(directory: Path, user: ChatUser) -> Path:
    """One history per console user: what one person typed is not offered to another."""
    digest = hashlib.sha256(f"{user.workspace_id}\0{user.user_id}".encode()).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", user.user_id)[:40]
    return directory / f"{readable}-{digest}"


def may_remember(line: str, outcome: Outcome | None) -> bool:
    """Whether a typed line may go into the history: never at a secret prompt (the
    activation code), never when it holds something shaped like a code."""
    prompt = outcome.prompt if outcome is not None else None
    if prompt is not None and prompt.secret:
        return False
    return _CODE_SHAPED.search(line) is None


class _History:
    """Line editing and history (readline), added to by hand: only lines that may be kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            import readline
        except ImportError:  # not on every platform; the console works without it
            self.readline: Any = None
            return
        self.readline = readline
        readline.clear_history()
        readline.set_auto_history(False)
        with contextlib.suppress(OSError):
            readline.read_history_file(path)
        readline.set_history_length(1000)

    def add(self, line: str) -> None:
        if self.readline is not None:
            # readline refuses a NUL ("embedded null character"); the bot cleans the rest.
            self.readline.add_history(line.replace("\x00", ""))

    def save(self) -> None:
        if self.readline is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.readline.write_history_file(self.path)
        except OSError:
            pass  # a history that cannot be kept is no reason to fail


# --- layout -------------------------------------------------------------------------------


def _table(texts: Texts, reply: ItemList) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    rows: list[list[str]] = []
    if reply.of == "products":
        headers = [N_("Model"), N_("Serial number"), N_("Purchase date"), N_("Site")]
        rows = [[i.model, i.serial, texts.date(i.purchase_date), i.site] for i in reply.items]
    elif reply.of == "services":
        headers = [N_("Service"), N_("Product"), N_("Starts on"), N_("Ends on")]
        rows = [
            [i.service, f"{i.model} ({i.serial})", texts.date(i.starts_on), texts.date(i.ends_on)]
            for i in reply.items
        ]
    else:
        headers = [N_("Incident"), N_("Summary"), N_("Subscription"), N_("Status"), N_("Filed on")]
        rows = [
            [i.number, i.summary, i.service, i.status_label, texts.date(i.created)]
            for i in reply.items
        ]
    for header in headers:
        table.add_column(texts.gettext(header))
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


def _show_reply(console: Console, texts: Texts, reply: Reply) -> None:
    style = "bold red" if isinstance(reply, Refused) else "bold cyan"
    if isinstance(reply, ItemList) and reply.items:
        first = to_plain(reply.text).split("\n", 1)[0]
        console.print(f"[{style}]bot ›[/] {escape(first)}")
        console.print(_table(texts, reply))
    elif isinstance(reply, ArticleAnswer) and reply.body:
        console.print(f"[{style}]bot ›[/] [bold]{escape(reply.title)}[/]")
        console.print(Markdown(reply.body))
    else:
        console.print(f"[{style}]bot ›[/] {to_terminal(reply.text)}")


def show(console: Console, texts: Texts, outcome: Outcome) -> None:
    """Print the replies: the choices a number picks are numbered, the others bulleted."""
    numbered = outcome.numbered
    for reply in outcome.replies:
        _show_reply(console, texts, reply)
        for choice in reply.choices:
            if choice in numbered:
                console.print(f"   [yellow]{numbered.index(choice) + 1}.[/] {escape(choice.label)}")
            else:
                console.print(f"   [yellow]•[/] {escape(choice.label)}")


def run_interactive(
    assistant: Assistant,
    user: ChatUser,
    history_dir: Path,
    console: Console | None = None,
    *,
    summary: bool = False,
) -> None:
    console = console or Console(highlight=False)
    history = _History(history_file(history_dir, user))
    try:
        _converse(assistant, user, console, history.add, summary=summary)
    finally:
        history.save()


def account_summary(assistant: Assistant, user: ChatUser, texts: Texts) -> list[str]:
    """Two lines: whose account the console speaks for and what it holds (`make chat`
    prints this instead of the demo's whole description)."""
    with assistant.session_factory() as session:
        account = (
            accounts.find_account(session, user.email, workspace=user.tenant)
            if user.email
            else None
        )
        if account is None:
            said = texts.gettext(N_("No support account uses this e-mail yet."))
        else:
            said = texts.gettext(
                N_(
                    "{name} ({email}): {products} registered products, {subscriptions} subscriptions."
                )
            ).format(
                name=account.name,
                email=account.email,
                products=len(products.list_products(session, account)),
                subscriptions=len(subscriptions.list_subscriptions(session, account)),
            )
    hint = texts.gettext(
        N_("Serials and activation codes to try: README.md (Demo data) or “helpdesk demo seed”.")
    )
    return [said, hint]


def _converse(
    assistant: Assistant,
    user: ChatUser,
    console: Console,
    remember: Callable[[str], None],
    *,
    summary: bool,
) -> None:
    texts = texts_for(assistant.language_of(user), user.tz)
    if summary:
        for line in account_summary(assistant, user, texts):
            console.print(escape(line), soft_wrap=True)
    banner = texts.gettext(N_("Type your message and press Enter; “exit” or Ctrl-D to quit."))
    console.print(f"[dim]{escape(banner)}[/]")
    last: Outcome | None = None
    while True:
        try:
            message = console.input("[bold green]you ›[/] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not message.strip():
            continue
        if normalize(message) in LEAVE:
            return
        if may_remember(message, last):
            remember(message)
        last = _handle(assistant, user, message)
        texts = texts_for(last.lang, user.tz)
        show(console, texts, last)
