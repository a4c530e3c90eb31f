"""What every CLI command shares: the runtime, JSON output, ISO dates, refusals → exit 1."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.runtime import Runtime
from services.errors import ImportFailed, Refusal

F = TypeVar("F", bound=Callable[..., Any])

EXIT_REFUSED = 1


def runtime() -> Runtime:
    obj = click.get_current_context().find_object(Runtime)
    if obj is None:  # a command invoked outside the `helpdesk` group (tests)
        obj = Runtime()
    return obj


def refusals_exit_1(func: F) -> F:
    """A domain refusal prints its reason on stderr and exits 1; nothing else is caught."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ImportFailed as err:
            for line, message in err.errors:
                # Line 0 is the file as a whole (not found, not UTF-8, not CSV).
                click.echo(f"line {line}: {message}" if line else f"error: {message}", err=True)
            if any(line for line, _ in err.errors):
                click.echo(str(err), err=True)
            sys.exit(EXIT_REFUSED)
        except Refusal as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(EXIT_REFUSED)
        except (OperationalError, ProgrammingError):
            if not _schema_missing():
                raise  # a real database failure: the traceback is what is needed
            click.echo(
                "error: the database has no tables yet: run `helpdesk db upgrade` first", err=True
            )
            sys.exit(EXIT_REFUSED)

    return wrapper  # type: ignore[return-value]


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
    click.echo(json.dumps(data, default=_default, ensure_ascii=False, indent=None))


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)


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
        return parsed


ISO_DATE = IsoDate()
ISO_DATETIME = IsoDateTime()
