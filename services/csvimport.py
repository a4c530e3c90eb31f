"""CSV imports that validate the whole file first and import all of it or nothing."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from services.errors import ImportFailed, Refusal

T = TypeVar("T")

Progress = Callable[[int], None]  # called with the number of rows just processed


@dataclass(frozen=True)
class Row:
    line: int  # line number in the file, header = 1
    values: dict[str, str]

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


def read_rows(path: Path | str, columns: Sequence[str]) -> list[Row]:
    """Rows keyed by column name; refuses a missing file or a header without `columns`."""
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
            rows = []
            for values in reader:
                if not any((v or "").strip() for k, v in values.items() if k is not None):
                    continue  # blank line
                rows.append(
                    Row(line=reader.line_num, values={k: v or "" for k, v in values.items() if k})
                )
            return rows
    except FileNotFoundError:
        raise ImportFailed([(0, f"file not found: {path}")]) from None
    except UnicodeDecodeError:
        raise ImportFailed([(0, "the file is not UTF-8 text")]) from None
    except csv.Error as err:
        raise ImportFailed([(0, f"not a valid CSV file: {err}")]) from None


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
    parsed: list[Parsed[T]] = []
    seen: dict[object, int] = {}
    for row in rows:
        try:
            value = parse(row)
        except (Refusal, ValueError) as err:
            errors.append((row.line, str(err)))
            continue
        if key is not None:
            k = key(value)
            if k in seen:
                errors.append((row.line, f"duplicate of line {seen[k]}"))
                continue
            seen[k] = row.line
        parsed.append(Parsed(row, value))
    return parsed, errors
