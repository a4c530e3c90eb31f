"""CSV imports that validate the whole file and import all of it or nothing.

Files are streamed: rows are read, checked and written chunk by chunk in the caller's
transaction; any error stops the writing, the rest of the file is still checked so that
the report lists every bad row, and the caller's rollback undoes what was written.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Generic, TypeVar

from services.errors import ImportFailed, Refusal

T = TypeVar("T")

Progress = Callable[[int], None]  # called with the number of rows just processed


@dataclass(frozen=True)
class Row:
    line: int  # line number in the file, header = 1
    values: dict[str, str]
    problem: str | None = None  # the row cannot be read as the header says (field count)

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    details: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class Parsed(Generic[T]):
    row: Row
    value: T


def read_rows(path: Path | str, columns: Sequence[str]) -> Iterator[Row]:
    """Rows keyed by column name, read one at a time (a file of any size takes no more
    memory than a line); refuses a missing file or a header without `columns`.

    A row with more or fewer fields than the header is yielded with its `problem` set:
    its values would sit under the wrong columns.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            delimiter = _delimiter(handle.readline(), columns)
            handle.seek(0)
            reader = csv.DictReader(handle, delimiter=delimiter)
            # "Email", " SERVICE ": headers are matched whatever their case and spacing.
            header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ImportFailed(
                    [(1, f"missing column(s): {', '.join(missing)}; expected {','.join(columns)}")]
                )
            reader.fieldnames = header
            for values in reader:
                if not any(_text(v) for v in values.values()):
                    continue  # blank line
                yield Row(
                    line=reader.line_num,
                    values={k: v or "" for k, v in values.items() if isinstance(k, str) and k},
                    problem=_field_count_problem(values, len(header)),
                )
    except FileNotFoundError:
        raise ImportFailed([(0, f"file not found: {path}")]) from None
    except IsADirectoryError:
        raise ImportFailed([(0, f"not a file: {path}")]) from None
    except UnicodeDecodeError:
        raise ImportFailed([(0, "the file is not UTF-8 text")]) from None
    except csv.Error as err:
        raise ImportFailed([(0, f"not a valid CSV file: {err}")]) from None


def _text(value: object) -> str:
    if isinstance(value, list):  # the fields beyond the header
        return "".join(str(v) for v in value).strip()
    return str(value or "").strip()


def _field_count_problem(values: dict[str | None, object], expected: int) -> str | None:
    extra = values.get(None)
    if isinstance(extra, list) and extra:
        return f"{expected + len(extra)} fields where the header has {expected}"
    given = sum(1 for k, v in values.items() if k is not None and v is not None)
    if given < expected:
        return f"{given} fields where the header has {expected}"
    return None


# Spreadsheets set to French (and most European) locales save CSV with ';'.
_DELIMITERS = (",", ";", "\t")


def _delimiter(header_line: str, columns: Sequence[str]) -> str:
    """The delimiter with which the header line holds every expected column (',' if none does)."""
    for delimiter in _DELIMITERS:
        names = next(csv.reader([header_line], delimiter=delimiter), [])
        if set(columns) <= {name.strip().lower() for name in names}:
            return delimiter
    return ","


def parse_all(
    rows: Iterable[Row], parse: Callable[[Row], T], key: Callable[[T], object] | None = None
) -> list[Parsed[T]]:
    """Parse every row; collect every Refusal/ValueError with its line, then fail or return.

    With `key`, two rows of the file that share a key are an error too.
    """
    parsed, errors = parse_rows(rows, parse, key)
    if errors:
        raise ImportFailed(errors)
    return parsed


def parse_rows(
    rows: Iterable[Row], parse: Callable[[Row], T], key: Callable[[T], object] | None = None
) -> tuple[list[Parsed[T]], list[tuple[int, str]]]:
    """The rows that parse, and (line, message) for every one that does not, for an import
    that has further checks to make before it reports the whole file's errors at once."""
    errors: list[tuple[int, str]] = []
    parsed = list(parse_stream(rows, parse, errors, key))
    return parsed, errors


def parse_stream(
    rows: Iterable[Row],
    parse: Callable[[Row], T],
    errors: list[tuple[int, str]],
    key: Callable[[T], object] | None = None,
) -> Iterator[Parsed[T]]:
    """The rows that parse, one at a time; (line, message) of the others go to `errors`.

    With `key`, a row whose key an earlier row had is an error too. Only a digest of each
    key is kept, so a file of a million rows is checked in a few tens of megabytes.
    """
    seen: dict[int, int] = {}
    for row in rows:
        if row.problem is not None:
            errors.append((row.line, row.problem))
            continue
        try:
            value = parse(row)
        except (Refusal, ValueError) as err:
            errors.append((row.line, str(err)))
            continue
        if key is not None:
            digest = _digest(key(value))
            if digest in seen:
                errors.append((row.line, f"duplicate of line {seen[digest]}"))
                continue
            seen[digest] = row.line
        yield Parsed(row, value)


def _digest(key: object) -> int:
    # 128 bits: two different keys of one file never share a digest in practice.
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=16).digest(), "big")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
