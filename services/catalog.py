"""The product catalogue: models, the pattern of their serial numbers, their DAS services.

Staff import it from CSV (model,name,serial_pattern,das_services with services separated
by ';'; an optional column das_first_response_hours, e.g. "DAS-4H=4; DAS-NBD=24", gives
the first-response time promised for help on a product under that service — a service
it does not name promises none). The file is the reference for the models it lists: re-importing it updates a
model's name, pattern and services, and importing the same file twice changes nothing.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import re2
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.csvimport import ImportResult, Progress, Row, parse_all, read_rows
from services.errors import ModelNotFound
from storage.db import serialize
from storage.models import ModelDasService, ProductModel

IMPORT_LOCK = "import:catalog"

CATALOG_COLUMNS = ("model", "name", "serial_pattern", "das_services")
RESPONSE_COLUMN = "das_first_response_hours"  # optional
MAX_RESPONSE_HOURS = 24 * 30

# Spaces and dashes, including the typographic ones (‐ ‑ ‒ – — ―, minus −) that e-mails and
# word processors put in place of "-" when a serial or a code is copied from them.
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_SERIAL_NOISE = SEPARATORS


def normalize_serial(serial: str) -> str:
    """Upper case, spaces and dashes removed: how serials are stored and compared."""
    return _SERIAL_NOISE.sub("", serial or "").upper()


def serial_matches(model: ProductModel, serial: str) -> bool:
    """Does the normalised `serial` follow the model's pattern, as a whole?

    Patterns are written by staff, often as the serial is printed on the label: case does
    not matter, and a pattern with dashes or spaces ("DL-[0-9]{4}") also matches the
    normalised serial ("DL1234"), which has none.
    """
    normalized = normalize_serial(serial)
    return any(pattern.fullmatch(normalized) for pattern in _pattern_forms(model.serial_pattern))


# A literal dash or space (or \s) outside a character class, with its quantifier if any.
_SEPARATOR_TOKEN = re.compile(r"(?:\\?-|\\?\x20|\\s)(?:[?*+]|\{\d*(?:,\d*)?\})?\??")


def compile_pattern(pattern: str) -> Any:
    """A catalogue serial pattern compiled for RE2, an engine whose matching time grows
    with the serial's length only: a pattern such as "(a|aa)+$" cannot make a
    registration take minutes while it holds the write lock. Raises re2.error for a
    pattern RE2 does not accept (back-references, look-arounds)."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the error is reported to whoever imports the catalogue
    return re2.compile(pattern, options)


@lru_cache(maxsize=256)
def _pattern_forms(pattern: str) -> tuple[Any, ...]:
    """The pattern as written and, if it has separators, without them."""
    try:
        forms = [compile_pattern(pattern)]
    except re2.error:
        return ()  # imported before patterns were checked: it matches nothing
    stripped = _strip_separators(pattern)
    if stripped != pattern:
        # An unusual pattern the stripping broke: the pattern as written still applies.
        with contextlib.suppress(re2.error):
            forms.append(compile_pattern(stripped))
    return tuple(forms)


def _strip_separators(pattern: str) -> str:
    """Remove literal separators outside character classes ("[A-Z-]" keeps its dash)."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] not in "- s":
            out.append(pattern[i : i + 2])  # any other escape, kept whole
            i += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            # "[]...]" and "[^]...]": a "]" right after the opening is a literal.
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                out.append("]")
                i += 1
            i += 1
            continue
        separator = _SEPARATOR_TOKEN.match(pattern, i)
        if separator is not None:
            i = separator.end()
            continue
        out.append(char)
        i += 1
    return "".join(out)


def get_model(session: Session, model: str) -> ProductModel:
    """A catalogue model by name, case-insensitively ("dgs-1100-08" finds "DGS-1100-08")."""
    wanted = (model or "").strip()
    found = session.scalars(
        select(ProductModel).where(func.upper(ProductModel.model) == wanted.upper())
    ).first()
    if found is None:
        raise ModelNotFound(model=wanted)
    return found


def list_models(session: Session) -> list[ProductModel]:
    return list(
        session.scalars(
            select(ProductModel)
            .options(selectinload(ProductModel.das_services))
            .order_by(ProductModel.model)
        )
    )


def offered_services(session: Session) -> dict[str, tuple[str, frozenset[str]]]:
    """{MODEL: (model as written, {SERVICE, ...})} for the whole catalogue, upper-cased keys."""
    offered: dict[str, tuple[str, frozenset[str]]] = {}
    for model in list_models(session):
        services = frozenset(link.service.upper() for link in model.das_services)
        offered[model.model.upper()] = (model.model, services)
    return offered


def applicable_services(session: Session, model: str) -> list[str]:
    """The DAS services the catalogue says apply to `model` (ModelNotFound if unknown)."""
    return [link.service for link in get_model(session, model).das_services]


@dataclass(frozen=True)
class CatalogEntry:
    model: str
    name: str
    serial_pattern: str
    das_services: tuple[str, ...]
    response_hours: tuple[tuple[str, int], ...] = ()  # (service, hours), for some services


_LIST_SEPARATOR = re.compile(r"[;,]")


def split_list(text: str) -> list[str]:
    """A list cell of a CSV file: 'A; B;' -> ['A', 'B']. The format says ';', but a quoted
    'A, B' means the same and is accepted (no model or service name has a comma)."""
    return [part.strip() for part in _LIST_SEPARATOR.split(text or "") if part.strip()]


def parse_services(text: str) -> tuple[str, ...]:
    """'DAS-NBD; DAS-4H;' -> ('DAS-4H', 'DAS-NBD'): trimmed, de-duplicated, sorted."""
    return tuple(sorted(set(split_list(text))))


def _parse_entry(row: Row) -> CatalogEntry:
    model = row.get("model")
    name = row.get("name")
    pattern = row.get("serial_pattern")
    problems = []
    if not model:
        problems.append("model is empty")
    elif len(model) > 64:
        problems.append("model is longer than 64 characters")
    if not name:
        problems.append("name is empty")
    elif len(name) > 200:
        problems.append("name is longer than 200 characters")
    services = parse_services(row.get("das_services"))
    problems += [
        f"DAS service {s!r} is longer than 100 characters" for s in services if len(s) > 100
    ]
    if not pattern:
        problems.append("serial_pattern is empty")
    elif len(pattern) > 200:
        problems.append("serial_pattern is longer than 200 characters")
    else:
        try:
            re.compile(pattern)
        except re.error as err:
            problems.append(f"serial_pattern {pattern!r} is not a valid regular expression ({err})")
        else:
            try:
                compile_pattern(pattern)
            except re2.error:
                problems.append(
                    f"serial_pattern {pattern!r} uses back-references or look-arounds, "
                    "which serial patterns cannot use (they could make matching take minutes)"
                )
    hours = _parse_hours(row.get(RESPONSE_COLUMN), services, problems)
    if problems:
        raise ValueError("; ".join(problems))
    return CatalogEntry(model, name, pattern, services, hours)


def _parse_hours(
    text: str | None, services: tuple[str, ...], problems: list[str]
) -> tuple[tuple[str, int], ...]:
    """'DAS-4H=4; DAS-NBD=24' → (('DAS-4H', 4), ('DAS-NBD', 24)); problems appended."""
    found: dict[str, int] = {}
    for item in split_list(text or ""):
        service, sep, value = item.partition("=")
        service = service.strip()
        if not sep or not value.strip().isdigit():
            problems.append(f"{RESPONSE_COLUMN}: {item!r} is not SERVICE=HOURS")
        elif service not in services:
            problems.append(f"{RESPONSE_COLUMN}: {service!r} is not one of this model's services")
        elif not 1 <= int(value) <= MAX_RESPONSE_HOURS:
            problems.append(f"{RESPONSE_COLUMN}: {service} hours must be 1 to {MAX_RESPONSE_HOURS}")
        else:
            found[service] = int(value)
    return tuple(sorted(found.items()))


def import_catalog(
    session: Session, path: Path | str, progress: Progress | None = None
) -> ImportResult:
    """Validate the whole file, then create or update every model in the caller's transaction."""
    serialize(session, IMPORT_LOCK)
    entries = parse_all(
        read_rows(path, CATALOG_COLUMNS), _parse_entry, key=lambda e: e.model.upper()
    )
    existing = {m.model.upper(): m for m in list_models(session)}
    result = ImportResult()
    for parsed in entries:
        entry = parsed.value
        current = existing.get(entry.model.upper())
        if current is None:
            session.add(
                ProductModel(
                    model=entry.model,
                    name=entry.name,
                    serial_pattern=entry.serial_pattern,
                    das_services=[
                        ModelDasService(
                            service=s, first_response_hours=dict(entry.response_hours).get(s)
                        )
                        for s in entry.das_services
                    ],
                )
            )
            result.created += 1
        elif _apply(current, entry):
            result.updated += 1
        else:
            result.unchanged += 1
        if progress is not None:
            progress(1)
    session.flush()
    return result


def _apply(current: ProductModel, entry: CatalogEntry) -> bool:
    """Bring a stored model in line with the file; True if anything changed."""
    changed = False
    if current.name != entry.name:
        current.name = entry.name
        changed = True
    if current.serial_pattern != entry.serial_pattern:
        current.serial_pattern = entry.serial_pattern
        changed = True
    stored = {link.service for link in current.das_services}
    if stored != set(entry.das_services):
        current.das_services = [
            link for link in current.das_services if link.service in entry.das_services
        ] + [ModelDasService(service=s) for s in entry.das_services if s not in stored]
        changed = True
    hours = dict(entry.response_hours)
    for link in current.das_services:
        if link.first_response_hours != hours.get(link.service):
            link.first_response_hours = hours.get(link.service)
            changed = True
    return changed


def promised_response_hours(session: Session, model: str, service: str) -> int | None:
    """The first-response time the catalogue promises for `service` on `model`, if any."""
    link = session.get(ModelDasService, (get_model(session, model).model, service))
    return link.first_response_hours if link is not None else None
