"""Subscription services held by accounts: type 1, 2 or 3, tier free or paid.

Staff import them from CSV (email,service,type,tier). Each row is upserted by e-mail and
service (the service name compared case-insensitively). Subscriptions come from billing
and accounts are created by their owners (the bot creates one on first need), so a row
for an e-mail with no account yet is kept as a PendingSubscription and becomes the
account's subscription when the account is created (services.accounts.create_account).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from services.accounts import PENDING_LOCK, validate_email
from services.csvimport import ImportResult, Progress, Row, chunks, parse_stream, read_rows
from services.errors import ImportFailed, Refusal, SubscriptionNotFound
from storage.db import among, prefer_indexes, serialize
from storage.models import Account, PendingSubscription, Subscription

SUBSCRIPTION_COLUMNS = ("email", "service", "type", "tier")
PENDING = "waiting for an account with their e-mail"  # ImportResult.details key
TYPES = (1, 2, 3)
TIERS = ("free", "paid")
IMPORT_CHUNK = 500


def list_subscriptions(session: Session, account: Account) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account.id)
            .order_by(func.lower(Subscription.service), Subscription.service)
        )
    )


def get_subscription(session: Session, account: Account, service: str) -> Subscription:
    """The account's subscription to `service`, case-insensitively."""
    wanted = (service or "").strip()
    found = session.scalars(
        select(Subscription).where(
            Subscription.account_id == account.id,
            func.upper(Subscription.service) == wanted.upper(),
        )
    ).first()
    if found is None:
        raise SubscriptionNotFound(service=wanted)
    return found


@dataclass(frozen=True)
class SubscriptionEntry:
    email: str
    service: str
    type: int
    tier: str


def _parse_row(row: Row) -> SubscriptionEntry:
    problems: list[str] = []
    email = ""
    try:
        email = validate_email(row.get("email"))
    except Refusal as err:
        problems.append(str(err))
    service = row.get("service")
    if not service:
        problems.append("service is empty")
    elif len(service) > 100:
        problems.append("service is longer than 100 characters")
    type_text = row.get("type")
    if type_text not in {str(t) for t in TYPES}:
        problems.append(f"type {type_text!r} must be 1, 2 or 3")
    tier = row.get("tier").lower()
    if tier not in TIERS:
        problems.append(f"tier {row.get('tier')!r} must be free or paid")
    if problems:
        raise ValueError("; ".join(problems))
    return SubscriptionEntry(email, service, int(type_text), tier)


def import_subscriptions(
    session: Session, path: Path | str, progress: Progress | None = None
) -> ImportResult:
    """Upsert every row of the file, or none: on the account of its e-mail, or as a
    pending subscription when no account uses that e-mail yet.

    The file is streamed and written with bulk statements, chunk by chunk. The import
    holds PENDING_LOCK: an account created meanwhile waits for it and then claims what
    it imported (or, created first, is seen by it), and a second import of the same file
    waits and finds every row unchanged.
    """
    serialize(session, PENDING_LOCK)
    prefer_indexes(session)
    errors: list[tuple[int, str]] = []
    entries = parse_stream(
        read_rows(path, SUBSCRIPTION_COLUMNS),
        _parse_row,
        errors,
        key=lambda e: (e.email, e.service.upper()),
    )
    result = ImportResult()
    for chunk in chunks(entries, IMPORT_CHUNK):
        if errors:
            continue  # nothing more is written; the rest of the file is still checked
        _import_chunk(session, [parsed.value for parsed in chunk], result)
        if progress is not None:
            progress(len(chunk))
    if errors:
        raise ImportFailed(errors)
    return result


def _import_chunk(session: Session, chunk: list[SubscriptionEntry], result: ImportResult) -> None:
    # An e-mail with accounts in several workspaces: the oldest account takes it, as the
    # first account created takes a pending one (billing knows e-mails, not workspaces).
    accounts: dict[str, int] = {
        email: account_id
        for account_id, email in session.execute(
            select(Account.id, Account.email)
            .where(among(session, Account.email, {e.email for e in chunk}))
            .order_by(Account.id.desc())
        )
    }
    stored: dict[tuple[object, str], Any] = {
        (row.account_id, row.service.upper()): row
        for row in session.execute(
            select(
                Subscription.id,
                Subscription.account_id,
                Subscription.service,
                Subscription.type,
                Subscription.tier,
            ).where(among(session, Subscription.account_id, set(accounts.values())))
        )
    }
    stored.update(
        ((row.email, row.service.upper()), row)
        for row in session.execute(
            select(
                PendingSubscription.id,
                PendingSubscription.email,
                PendingSubscription.service,
                PendingSubscription.type,
                PendingSubscription.tier,
            ).where(
                among(
                    session, PendingSubscription.email, {e.email for e in chunk} - accounts.keys()
                )
            )
        )
    )
    writes: dict[tuple[type, str], list[dict[str, Any]]] = {}
    for entry in chunk:
        account_id = accounts.get(entry.email)
        model: type = Subscription if account_id is not None else PendingSubscription
        owner: dict[str, Any] = (
            {"account_id": account_id} if account_id is not None else {"email": entry.email}
        )
        values = {"service": entry.service, "type": entry.type, "tier": entry.tier}
        current = stored.get((next(iter(owner.values())), entry.service.upper()))
        if current is None:
            writes.setdefault((model, "insert"), []).append({**owner, **values})
            result.created += 1
        elif (current.service, current.type, current.tier) != (
            entry.service,
            entry.type,
            entry.tier,
        ):
            writes.setdefault((model, "update"), []).append({"id": current.id, **values})
            result.updated += 1
        else:
            result.unchanged += 1
        if account_id is None:
            result.details[PENDING] = result.details.get(PENDING, 0) + 1
    for (model, kind), rows in writes.items():
        session.execute(insert(model) if kind == "insert" else update(model), rows)
