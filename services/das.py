"""DAS (D-Link Assist Service) activation codes and the services they activate.

Rules (docs/design.md "DAS service contracts and activation codes"):
- codes are compared after normalisation (case, spaces, dashes) and shown masked
  ("****-****-7F3A") in every refusal and listing: a code is a secret until it is used;
- a code activates one service, once, on a registered product of a model it is for, and
  the catalogue must give that service to the model;
- it must be used within 90 days of the service purchase date (the deadline day included);
  when the code came with a date, that date counts (a code past it is expired whatever
  the customer types, and a different typed date is refused as a mismatch);
- the service starts on activation date + 2 days (logistics) and covers `duration_months`
  calendar months: it ends `duration_months` after it starts, on `ends_on` (starts
  2026-03-03 for 12 months -> ends 2027-03-03), as contracts are quoted "from … to …";
- guessing is rate-limited per account: after `max_failures` codes that do not exist
  within the last hour, every attempt is refused until the oldest counted failure is an
  hour old. Codes that exist but do not fit (used, another model, expired) are not
  guesses and do not count, so trying them never locks a customer out of the right one.

Exactly once: `activated_services.code_id` is unique and activation locks the product and
the code rows (SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions begin IMMEDIATE,
which serialises writers), so two processes racing for one code get one activation and
one CodeAlreadyUsed, and two codes racing for one product's service one activation and
one ServiceAlreadyActive.

Dates ("today", the activation date) are UTC dates unless the caller passes `now`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Row as SqlRow
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, joinedload

from services.catalog import applicable_services, offered_services, split_list
from services.clock import utcnow
from services.codes import (
    MAX_CODE_LENGTH,
    code_secret,
    code_tail,
    find_code,
    hash_with,
    mask_code,
    mask_tail,
    normalize_code,
    redact_codes,
    seal_code,
)
from services.csvimport import ImportResult, Parsed, Progress, Row, chunks, parse_stream, read_rows
from services.errors import (
    CodeAlreadyUsed,
    CodeExpired,
    CodeUnknown,
    CodeWrongModel,
    ImportFailed,
    ServiceAlreadyActive,
    ServiceNotForModel,
    ServicePurchaseDateInFuture,
    ServicePurchaseDateMismatch,
    ServicePurchaseDateRequired,
    TermsNotAccepted,
    TooManyCodeAttempts,
)
from services.products import get_product
from services.sites import get_site
from storage.db import among, commit_at_once, prefer_indexes, serialize
from storage.models import (
    Account,
    ActivatedService,
    ActivationCode,
    CodeAttempt,
    RegisteredProduct,
)

__all__ = ["find_code", "mask_code", "mask_codes_in_text", "normalize_code", "seal_code"]

CODE_COLUMNS = ("code", "service", "models", "purchase_date", "duration_months")
ACTIVATION_WINDOW = dt.timedelta(days=90)
LOGISTICS_DELAY = dt.timedelta(days=2)
RATE_WINDOW = dt.timedelta(hours=1)
IMPORT_CHUNK = 500
# A hundred years: a typo beyond it would otherwise end a service after the year 9999.
MAX_DURATION_MONTHS = 1200

_PENDING_ATTEMPTS = "helpdesk.das.pending_code_attempts"
_LISTENING = "helpdesk.das.listening"
IMPORT_LOCK = "import:activation_codes"


# --- codes -----------------------------------------------------------------------------

# The rules of what a code looks like live in services.codes; these names are the ones
# the conversation and the CLI have always called.
mask_codes_in_text = redact_codes


def masked(code: ActivationCode) -> str:
    """How a stored code is shown: its mask, the only thing left of it."""
    return mask_tail(code.code_tail)


# --- dates -----------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later, or the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def service_period(activated_on: dt.date, duration_months: int) -> tuple[dt.date, dt.date]:
    """(starts_on, ends_on) of a service activated on `activated_on`: it ends on ends_on."""
    starts_on = activated_on + LOGISTICS_DELAY
    return starts_on, add_months(starts_on, duration_months)


def activation_deadline(service_purchase_date: dt.date) -> dt.date:
    """The last day a code bought on `service_purchase_date` can be used."""
    return service_purchase_date + ACTIVATION_WINDOW


# --- the rate limit on failed attempts -------------------------------------------------


def _record_failure(
    session: Session, account: Account, reason: str, now: dt.datetime, max_failures: int
) -> None:
    """Count a failed attempt, so that it survives the caller's rollback.

    The refusal that follows usually rolls the caller's transaction back. On PostgreSQL
    the attempt is counted and written at once in a transaction of its own, under a lock
    per account: of many wrong codes tried at the same moment, only `max_failures` are
    answered "does not exist", the others are refused as too many. On SQLite the caller's
    transaction holds the write lock, which serialises the attempts: the attempt is
    committed at once when that transaction has written nothing else yet. Otherwise
    (and when the account itself is not committed yet) it is kept on the session and
    written as soon as the caller's transaction ends, committed or rolled back.
    """
    attempt = {"account_id": account.id, "at": now, "reason": reason}
    engine = session.get_bind().engine
    if engine.dialect.name == "postgresql":
        try:
            with engine.begin() as connection:
                connection.execute(
                    select(func.pg_advisory_xact_lock(func.hashtext(f"code_attempts:{account.id}")))
                )
                failures = sorted(
                    connection.scalars(
                        select(CodeAttempt.at).where(
                            CodeAttempt.account_id == account.id, CodeAttempt.at > now - RATE_WINDOW
                        )
                    )
                )
                if len(failures) >= max_failures:
                    raise TooManyCodeAttempts(retry_at=_retry_at(failures, max_failures))
                connection.execute(insert(CodeAttempt), [attempt])
            return
        except IntegrityError:
            pass  # the caller's transaction created the account: count it when it ends
    elif commit_at_once(
        session, lambda connection: connection.execute(insert(CodeAttempt), [attempt])
    ):
        return  # SQLite: counted before the caller's transaction lets the write lock go
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING_ATTEMPTS, [])
    pending.append(attempt)
    if not session.info.get(_LISTENING):
        event.listen(session, "after_transaction_end", _write_pending_attempts)
        session.info[_LISTENING] = True


def _write_pending_attempts(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint ended, not the caller's transaction
        return
    pending = session.info.pop(_PENDING_ATTEMPTS, None)
    if not pending:
        return
    # By now the session has given its connection back, so this is a fresh transaction.
    with session.get_bind().engine.begin() as connection:
        connection.execute(insert(CodeAttempt), pending)


def _recent_failures(session: Session, account: Account, now: dt.datetime) -> list[dt.datetime]:
    since = now - RATE_WINDOW
    stored = session.scalars(
        select(CodeAttempt.at).where(CodeAttempt.account_id == account.id, CodeAttempt.at > since)
    ).all()
    pending = [
        attempt["at"]
        for attempt in session.info.get(_PENDING_ATTEMPTS, [])
        if attempt["account_id"] == account.id and attempt["at"] > since
    ]
    return sorted([*stored, *pending])


def refuse_if_locked(
    session: Session, account: Account, *, now: dt.datetime, max_failures: int
) -> None:
    """Refuse (TooManyCodeAttempts, with the time it ends) while the account may not try
    a code: checked before each code, and before an activation starts (not after its
    terms and product)."""
    failures = _recent_failures(session, account, now)
    if len(failures) >= max_failures:
        raise TooManyCodeAttempts(retry_at=_retry_at(failures, max_failures))


def _retry_at(failures: list[dt.datetime], max_failures: int) -> dt.datetime:
    # Attempts become possible again when fewer than max_failures remain in the window.
    return _next_minute(failures[len(failures) - max_failures] + RATE_WINDOW)


def _next_minute(instant: dt.datetime) -> dt.datetime:
    """`instant` rounded up to the minute: the refusal shows minutes, and a customer who
    retries at the minute it names must not be refused again."""
    whole = instant.replace(second=0, microsecond=0)
    return whole if whole == instant else whole + dt.timedelta(minutes=1)


# --- validation and activation ---------------------------------------------------------


def check_code(
    session: Session,
    account: Account,
    product: RegisteredProduct,
    code: str,
    service_purchase_date: dt.date | None,
    *,
    now: dt.datetime | None = None,
    max_failures: int = 5,
) -> ActivationCode:
    """Everything about `code` for `product`, without activating it.

    For the conversation's code step: it refuses right there, and records failed
    attempts (unknown, used, wrong model, expired) for the rate limit.
    """
    found, _ = _validate(
        session,
        account,
        product,
        code,
        service_purchase_date,
        now=now or utcnow(),
        max_failures=max_failures,
    )
    return found


def _validate(
    session: Session,
    account: Account,
    product: RegisteredProduct,
    code: str,
    service_purchase_date: dt.date | None,
    *,
    now: dt.datetime,
    max_failures: int,
    lock: bool = False,
) -> tuple[ActivationCode, dt.date]:
    """The code row and the service purchase date that applies, or a refusal."""
    refuse_if_locked(session, account, now=now, max_failures=max_failures)
    today = now.date()
    found = find_code(session, code, lock=lock)
    if found is None:
        _record_failure(session, account, "unknown", now, max_failures)
        raise CodeUnknown(code=mask_code(code))
    if found.used_at is not None:
        raise CodeAlreadyUsed(code=masked(found))
    if product.model.upper() not in {model.upper() for model in found.models}:
        raise CodeWrongModel(models=list(found.models), model=product.model)
    if found.service.upper() not in {
        s.upper() for s in applicable_services(session, product.model)
    }:
        raise ServiceNotForModel(service=found.service, model=product.model)
    if found.purchase_date is not None:
        # The date recorded with the code decides first: a code past its 90 days is
        # expired whatever purchase date the customer types.
        _refuse_if_expired(session, account, found.purchase_date, now)
    purchase_date = _service_purchase_date(found, service_purchase_date, today)
    _refuse_if_expired(session, account, purchase_date, now)
    _refuse_if_active(session, product, found.service, today)
    return found, purchase_date


def _refuse_if_expired(
    session: Session, account: Account, purchase_date: dt.date, now: dt.datetime
) -> None:
    deadline = activation_deadline(purchase_date)
    if now.date() > deadline:
        raise CodeExpired(deadline=deadline, purchase_date=purchase_date)


def _service_purchase_date(code: ActivationCode, given: dt.date | None, today: dt.date) -> dt.date:
    """The service purchase date the 90 days count from; a typed date in the future is
    refused as such, whether or not the code came with a date."""
    if given is not None and given > today:
        raise ServicePurchaseDateInFuture(date=given)
    if code.purchase_date is not None:
        if given is not None and given != code.purchase_date:
            raise ServicePurchaseDateMismatch(date=given)
        return code.purchase_date
    if given is None:
        raise ServicePurchaseDateRequired()
    return given


def _refuse_if_active(
    session: Session, product: RegisteredProduct, service: str, today: dt.date
) -> None:
    """A service still running (or about to start) on the product is not activated twice."""
    active = session.scalars(
        select(ActivatedService)
        .where(
            ActivatedService.product_id == product.id,
            func.upper(ActivatedService.service) == service.upper(),
            ActivatedService.ends_on > today,
        )
        .order_by(ActivatedService.ends_on.desc())
    ).first()
    if active is not None:
        raise ServiceAlreadyActive(
            service=active.service, serial=product.serial, ends_on=active.ends_on
        )


def activate(
    session: Session,
    account: Account,
    *,
    serial: str,
    code: str,
    service_purchase_date: dt.date | None,
    site_id: int,
    accept_terms: bool,
    now: dt.datetime | None = None,
    max_failures: int = 5,
) -> ActivatedService:
    """Activate the service of `code` on the account's product `serial`, at site `site_id`.

    All of it happens in the caller's transaction: a failure at any step leaves nothing
    written (apart from the failed-attempt record, which must survive).
    """
    if not accept_terms:
        raise TermsNotAccepted()
    now = now or utcnow()
    product = get_product(session, account, serial)
    # Lock the product row too (PostgreSQL; SQLite serialises writers anyway): two codes
    # for the same service activated on one product at once must not both pass the
    # "already active" check.
    session.execute(
        select(RegisteredProduct.id).where(RegisteredProduct.id == product.id).with_for_update()
    )
    site = get_site(session, account, site_id)
    found, purchase_date = _validate(
        session,
        account,
        product,
        code,
        service_purchase_date,
        now=now,
        max_failures=max_failures,
        lock=True,
    )
    starts_on, ends_on = service_period(now.date(), found.duration_months)
    activated = ActivatedService(
        account_id=account.id,
        product_id=product.id,
        code_id=found.id,
        site_id=site.id,
        service=found.service,
        service_purchase_date=purchase_date,
        terms_accepted_at=now,
        activated_on=now.date(),
        starts_on=starts_on,
        ends_on=ends_on,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(activated)
            _mark_used(found, account, now)
            # The service's address must be where the product is installed: the customer
            # just said where that is, so the product's site follows (it may have moved).
            product.site_id = site.id
    except IntegrityError:
        # Another transaction activated this code first: the unique code_id says so.
        raise CodeAlreadyUsed(code=masked(found)) from None
    return activated


def _mark_used(code: ActivationCode, account: Account, now: dt.datetime) -> None:
    code.used_at = now
    code.used_by_account_id = account.id


def list_services(session: Session, account: Account) -> list[ActivatedService]:
    return list(
        session.scalars(
            select(ActivatedService)
            .options(joinedload(ActivatedService.product), joinedload(ActivatedService.code))
            .where(ActivatedService.account_id == account.id)
            .order_by(ActivatedService.activated_on, ActivatedService.id)
        )
    )


def services_on_product(session: Session, account: Account, serial: str) -> list[ActivatedService]:
    """The services activated on one of the account's products (ProductNotFound otherwise)."""
    product = get_product(session, account, serial)
    return list(
        session.scalars(
            select(ActivatedService)
            .options(joinedload(ActivatedService.product), joinedload(ActivatedService.code))
            .where(ActivatedService.product_id == product.id)
            .order_by(ActivatedService.activated_on, ActivatedService.id)
        )
    )


# --- import ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeEntry:
    code: str
    service: str
    models: tuple[str, ...]
    purchase_date: dt.date | None
    duration_months: int

    def values(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "models": list(self.models),
            "purchase_date": self.purchase_date,
            "duration_months": self.duration_months,
        }


def _parse_code_row(
    row: Row, catalogue: dict[str, tuple[str, frozenset[str]]], today: dt.date
) -> CodeEntry:
    problems: list[str] = []
    code = normalize_code(row.get("code"))
    if not code:
        problems.append("code is empty")
    elif len(code) > MAX_CODE_LENGTH:
        problems.append(f"code is longer than {MAX_CODE_LENGTH} characters")
    service = row.get("service")
    if not service:
        problems.append("service is empty")
    elif len(service) > 100:
        problems.append("service is longer than 100 characters")
    names = split_list(row.get("models"))
    if not names:
        problems.append("models is empty")
    models: list[str] = []
    for name in names:
        known = catalogue.get(name.upper())
        if known is None:
            problems.append(f"unknown model {name!r} (not in the catalogue)")
        elif known[0] not in models:
            models.append(known[0])
    if service and len(service) <= 100:
        wanted = service.upper()
        if not any(wanted in offered for _, offered in catalogue.values()):
            problems.append(f"service {service!r} is not in the catalogue")
        else:
            problems += [
                f"service {service!r} is not offered for model {model!r} in the catalogue"
                for model in models
                if wanted not in catalogue[model.upper()][1]
            ]
    purchase_date: dt.date | None = None
    if row.get("purchase_date"):
        try:
            purchase_date = dt.date.fromisoformat(row.get("purchase_date"))
        except ValueError:
            problems.append(f"purchase_date {row.get('purchase_date')!r} is not a date YYYY-MM-DD")
        else:
            if purchase_date > today:
                problems.append(f"purchase_date {purchase_date.isoformat()} is in the future")
    duration_text = row.get("duration_months")
    duration = 0
    try:
        duration = int(duration_text)
    except ValueError:
        problems.append(f"duration_months {duration_text!r} is not a whole number of months")
    else:
        if duration < 1:
            problems.append(f"duration_months {duration} must be at least 1")
        elif duration > MAX_DURATION_MONTHS:
            problems.append(f"duration_months {duration} is more than {MAX_DURATION_MONTHS} months")
    if problems:
        raise ValueError("; ".join(problems))
    return CodeEntry(code, service, tuple(models), purchase_date, duration)


_STORED_COLUMNS = (
    ActivationCode.id,
    ActivationCode.code_hash,
    ActivationCode.service,
    ActivationCode.models,
    ActivationCode.purchase_date,
    ActivationCode.duration_months,
    ActivationCode.used_at,
)


def import_codes(
    session: Session,
    path: Path | str,
    progress: Progress | None = None,
    *,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Create or update every code of the file in the caller's transaction, or none.

    The file is streamed chunk by chunk. A code that was already used keeps what it was
    activated with: a row changing it is an error (the file is refused), and the stored
    rows are read locked, so an activation running meanwhile waits for the import (or the
    import for it) instead of having its code changed under it. Codes are matched by
    their hash; two identical imports at once run one after the other.
    """
    now = now or utcnow()
    serialize(session, IMPORT_LOCK)
    prefer_indexes(session)
    catalogue = offered_services(session)
    secret = code_secret(session)
    errors: list[tuple[int, str]] = []
    entries = parse_stream(
        read_rows(path, CODE_COLUMNS),
        lambda row: _parse_code_row(row, catalogue, now.date()),
        errors,
        key=lambda e: e.code,
    )
    result = ImportResult()
    for chunk in chunks(entries, IMPORT_CHUNK):
        hashes = {parsed.value.code: hash_with(secret, parsed.value.code) for parsed in chunk}
        # Plain rows, not entities: the bulk UPDATE below would leave entities stale.
        stored = {
            row.code_hash: row
            for row in session.execute(
                select(*_STORED_COLUMNS)
                .where(among(session, ActivationCode.code_hash, hashes.values()))
                .with_for_update()
            )
        }
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for parsed in chunk:
            digest = hashes[parsed.value.code]
            _plan(parsed, digest, stored.get(digest), creates, updates, errors, result)
        if errors:
            continue  # nothing more is written; the rest of the file is still checked
        if creates:
            session.execute(
                insert(ActivationCode), [{**row, "imported_at": now} for row in creates]
            )
        if updates:
            session.execute(update(ActivationCode), updates)
        if progress is not None:
            progress(len(chunk))
    if errors:
        raise ImportFailed(sorted(errors))
    return result


def _plan(
    parsed: Parsed[CodeEntry],
    digest: str,
    stored: SqlRow[Any] | Any,
    creates: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    errors: list[tuple[int, str]],
    result: ImportResult,
) -> None:
    entry = parsed.value
    if stored is None:
        creates.append({"code_hash": digest, "code_tail": code_tail(entry.code), **entry.values()})
        result.created += 1
        return
    current = {
        "service": stored.service,
        "models": list(stored.models),
        "purchase_date": stored.purchase_date,
        "duration_months": stored.duration_months,
    }
    if current == entry.values():
        result.unchanged += 1
    elif stored.used_at is not None:
        errors.append(
            (
                parsed.row.line,
                f"code {mask_code(entry.code)} was already used; it can no longer be changed",
            )
        )
    else:
        updates.append({"id": stored.id, **entry.values()})
        result.updated += 1
