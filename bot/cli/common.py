"""What every CLI command shares: the runtime, JSON output, ISO dates, and errors.

Exit codes (README, admin CLI): 0 success; 1 a domain rule refused (the reason on
stderr); 2 usage error (a bad option or value); 3 an operational failure (the database is
unreachable or not migrated, the configuration is wrong). Every error is one line on
stderr, and no control character a user typed (escape codes, newlines in a summary) is
ever printed raw: it is shown escaped ("\\x1b").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from zoneinfo import ZoneInfoNotFoundError

import click
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from bot.runtime import Runtime
from services.errors import ImportFailed, Refusal
from storage.db import DatabaseNotReady, check_schema

F = TypeVar("F", bound=Callable[..., Any])

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_OPERATIONAL = 3

# C0 and C1 controls and DEL: a terminal acts on them (colours, cursor moves, new lines).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """`text` with every control character escaped: one table cell stays one line."""
    pattern = _CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL
    return pattern.sub(_escape, str(text))


def echo(message: object = "", *, err: bool = False) -> None:
    """Print text that may hold what users typed: line breaks kept, other controls escaped."""
    click.echo(printable(message, keep_newlines=True), err=err)


def fail(message: str, code: int) -> None:
    """One line on stderr, then exit with `code`."""
    click.echo(f"error: {printable(message)}", err=True)
    sys.exit(code)


class OneLineUsageError(click.UsageError):
    """A usage error as one line (click prints the usage and a hint besides)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {printable(self.format_message())}", err=True)


class HelpdeskGroup(click.Group):
    """The `helpdesk` group: every command's errors become one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            if isinstance(err, OneLineUsageError):
                raise
            raise OneLineUsageError(err.format_message(), err.ctx) from None
        except click.ClickException:
            raise
        except (Refusal, DBAPIError, DatabaseNotReady, ZoneInfoNotFoundError) as err:
            _exit_for(err)


def runtime() -> Runtime:
    obj = click.get_current_context().find_object(Runtime)
    if obj is None:  # a command invoked outside the `helpdesk` group (tests)
        obj = Runtime()
    return obj


def refusals_exit_1(func: F) -> F:
    """A domain refusal prints its reason on stderr and exits 1; a database that cannot be
    used, or a wrong setting, exits 3 (see the module's docstring)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (Refusal, DBAPIError, DatabaseNotReady, ZoneInfoNotFoundError) as err:
            _exit_for(err)

    return wrapper  # type: ignore[return-value]


def _exit_for(err: Exception) -> None:
    if isinstance(err, ImportFailed):
        for line, message in err.errors:
            # Line 0 is the file as a whole (not found, not UTF-8, not CSV).
            text = f"line {line}: {message}" if line else f"error: {message}"
            click.echo(printable(text), err=True)
        if any(line for line, _ in err.errors):
            click.echo(printable(err), err=True)
        sys.exit(EXIT_REFUSED)
    if isinstance(err, Refusal):
        fail(str(err), EXIT_REFUSED)
    if isinstance(err, ZoneInfoNotFoundError):
        fail(
            f"HELPDESK_SUPPORT_TZ is not a known time zone ({err.args[0] if err.args else ''})",
            EXIT_OPERATIONAL,
        )
    if isinstance(err, DatabaseNotReady):
        fail(str(err), EXIT_OPERATIONAL)
    if isinstance(err, DBAPIError):
        if _unreachable():
            fail(f"the database cannot be reached: {_first_line(err.orig)}", EXIT_OPERATIONAL)
        if _schema_missing():
            fail(
                "the database has no tables yet: run `helpdesk db upgrade` first", EXIT_OPERATIONAL
            )
        lag = _schema_behind()
        if lag:
            fail(lag, EXIT_OPERATIONAL)
    # Any other database failure: its first line only, never the statement or its
    # parameters (they may hold what a customer typed).
    fail(f"the database failed: {_first_line(getattr(err, 'orig', err))}", EXIT_OPERATIONAL)


def _first_line(err: object) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _unreachable() -> bool:
    try:
        with runtime().engine.connect():
            return False
    except DBAPIError:
        return True


def _schema_behind() -> str | None:
    rt = runtime()
    try:
        check_schema(rt.engine, rt.settings.database_url)
    except DatabaseNotReady as err:
        return str(err)
    except DBAPIError:
        return None
    return None


def _schema_missing() -> bool:
    """Is the database reachable but without the tables `helpdesk db upgrade` creates?"""
    try:
        return not inspect(runtime().engine).has_table("accounts")
    except (OperationalError, ProgrammingError):
        return False  # unreachable: the original error says more than we could


class ProgressBar:
    """A rich progress bar on stderr, fed either by increments or by (done, total)."""

    def __init__(self, bar: Any, task: Any) -> None:
        self._bar = bar
        self._task = task

    def advance(self, count: int) -> None:
        self._bar.advance(self._task, count)

    def update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)


def on_terminal() -> bool:
    return sys.stdout.isatty() and sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(label: str, total: int | None = None) -> Iterator[ProgressBar | None]:
    """A bar only for a person watching a terminal; None in pipes, logs, CI and tests."""
    if not on_terminal():
        yield None
        return
    # Imported here: rich is slow to import, and only a person at a terminal sees the bar.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        yield ProgressBar(bar, bar.add_task(label, total=total))


def _default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def echo_json(data: Any) -> None:
    text = json.dumps(data, default=_default, ensure_ascii=False, indent=None)
    # json escapes C0 controls but not DEL, C1 controls or line separators.
    click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            parsed = dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            self.fail(f"{value!r} is outside the years {MIN_YEAR} to {MAX_YEAR}", param, ctx)
        return parsed


class IsoDateTime(click.ParamType):
    """ISO 8601 with an offset: a deadline is meaningless without knowing the zone."""

    name = "ISO_DATETIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date and time", param, ctx)
        if parsed.tzinfo is None:
            self.fail(f"{value!r} has no UTC offset (e.g. 2026-11-25T23:00:00-05:00)", param, ctx)
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            self.fail(f"{value!r} is outside the years {MIN_YEAR} to {MAX_YEAR}", param, ctx)
        return parsed


# Years a calendar computation can reach from either side without leaving Python's dates.
MIN_YEAR, MAX_YEAR = 1900, 9998


class Actor(click.ParamType):
    """A staff member's name for the audit trail, checked as the services check it."""

    name = "NAME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from services.incidents import validate_actor

        try:
            return validate_actor(str(value))
        except Refusal as err:
            self.fail(str(err), param, ctx)


ISO_DATE = IsoDate()
ISO_DATETIME = IsoDateTime()
# A database id: anything beyond a 32-bit integer is no id of ours.
ROW_ID = click.IntRange(1, 2**31 - 1)
YEAR = click.IntRange(MIN_YEAR, MAX_YEAR)
ACTOR = Actor()
