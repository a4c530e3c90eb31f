"""Subscription services held by accounts: type 1, 2 or 3, tier free or paid.

Staff import them from CSV (email,service,type,tier). Each row is upserted by e-mail and
service (the service name compared case-insensitively). Subscriptions come from billing
and accounts are created by their owners (the bot creates one on first need), so a row
for an e-mail with no account yet is kept as a PendingSubscription and becomes the
account's subscription when the account is created (services.accounts.create_account).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.accounts import normalize_email, validate_email
from services.csvimport import ImportResult, Progress, Row, parse_all, read_rows
from services.errors import Refusal, SubscriptionNotFound
from storage.models import Account, PendingSubscription, Subscription

SUBSCRIPTION_COLUMNS = ("email", "service", "type", "tier")
PENDING = "waiting for an account with their e-mail"  # ImportResult.details key
TYPES = (1, 2, 3)
TIERS = ("free", "paid")
IMPORT_CHUNK = 500

T = TypeVar("T")


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


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _accounts_by_email(session: Session, rows: list[Row]) -> dict[str, Account]:
    emails = sorted({normalize_email(row.get("email")) for row in rows})
    accounts: dict[str, Account] = {}
    for chunk in _chunks(emails, IMPORT_CHUNK):
        accounts.update(
            (account.email, account)
            for account in session.scalars(select(Account).where(Account.email.in_(chunk)))
        )
    return accounts


def import_subscriptions(
    session: Session, path: Path | str, progress: Progress | None = None
) -> ImportResult:
    """Validate the whole file, then upsert every row: on the account of its e-mail, or as
    a pending subscription when no account uses that e-mail yet."""
    rows = read_rows(path, SUBSCRIPTION_COLUMNS)
    entries = parse_all(rows, _parse_row, key=lambda e: (e.email, e.service.upper()))
    accounts = _accounts_by_email(session, rows)

    result = ImportResult()
    for chunk in _chunks(entries, IMPORT_CHUNK):
        account_ids = {accounts[p.value.email].id for p in chunk if p.value.email in accounts}
        emails = {p.value.email for p in chunk if p.value.email not in accounts}
        stored: dict[tuple[object, str], Subscription | PendingSubscription] = {
            (sub.account_id, sub.service.upper()): sub
            for sub in session.scalars(
                select(Subscription).where(Subscription.account_id.in_(account_ids))
            )
        }
        stored.update(
            ((pending.email, pending.service.upper()), pending)
            for pending in session.scalars(
                select(PendingSubscription).where(PendingSubscription.email.in_(emails))
            )
        )
        for parsed in chunk:
            entry = parsed.value
            account = accounts.get(entry.email)
            owner: object = account.id if account is not None else entry.email
            current = stored.get((owner, entry.service.upper()))
            if current is None:
                if account is not None:
                    current = Subscription(
                        account_id=account.id,
                        service=entry.service,
                        type=entry.type,
                        tier=entry.tier,
                    )
                else:
                    current = PendingSubscription(
                        email=entry.email, service=entry.service, type=entry.type, tier=entry.tier
                    )
                session.add(current)
                stored[(owner, entry.service.upper())] = current
                result.created += 1
            elif (current.service, current.type, current.tier) != (
                entry.service,
                entry.type,
                entry.tier,
            ):
                current.service, current.type, current.tier = entry.service, entry.type, entry.tier
                result.updated += 1
            else:
                result.unchanged += 1
            if account is None:
                result.details[PENDING] = result.details.get(PENDING, 0) + 1
        session.flush()
        if progress is not None:
            progress(len(chunk))
    return result
