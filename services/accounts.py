"""Support-portal accounts and the Slack users linked to them."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.clock import utcnow
from services.errors import (
    AccountExists,
    AccountNotFound,
    FieldTooLong,
    InvalidCountry,
    InvalidEmail,
    MissingField,
)
from storage.db import serialize
from storage.models import Account, PendingSubscription, SlackLink, Subscription

# Held by a subscriptions import (alone) and by account creations (together): an account
# created during an import claims every pending subscription the import wrote.
PENDING_LOCK = "pending_subscriptions"

# Deliberately loose: one "@", a dot in the domain, no spaces. Real validation is the mail.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_email(email: str) -> str:
    normalized = normalize_email(email)
    if len(normalized) > 254 or not _EMAIL.match(
        normalized
    ):  # 254: the longest address SMTP allows
        raise InvalidEmail(email=email.strip())
    return normalized


def validate_country(country: str) -> str:
    code = country.strip().upper()
    if not _COUNTRY.match(code):
        raise InvalidCountry(country=country.strip())
    return code


def required(value: str | None, field: str, limit: int | None = None) -> str:
    """`value` stripped; refused when empty, or longer than the column can hold (`limit`)."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise MissingField(field=field)
    if limit is not None and len(cleaned) > limit:
        raise FieldTooLong(field=field, limit=limit)
    return cleaned


def find_account(session: Session, email: str) -> Account | None:
    return session.scalars(select(Account).where(Account.email == normalize_email(email))).first()


def get_account(session: Session, email: str) -> Account:
    account = find_account(session, email)
    if account is None:
        raise AccountNotFound(email=email.strip())
    return account


def create_account(
    session: Session,
    *,
    email: str,
    name: str,
    company: str | None = None,
    country: str | None = None,
    now: dt.datetime | None = None,
) -> Account:
    normalized = validate_email(email)
    account = Account(
        email=normalized,
        name=required(name, "name", 200),
        company=required(company, "company", 200) if company and company.strip() else None,
        country=validate_country(country) if country and country.strip() else None,
        created_at=now or utcnow(),
    )
    serialize(session, PENDING_LOCK, shared=True)
    if find_account(session, normalized) is not None:
        raise AccountExists(email=normalized)
    try:
        # A savepoint: another process creating the same account at the same moment makes
        # the unique e-mail fail here, and the caller's transaction must stay usable.
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        raise AccountExists(email=normalized) from None
    _claim_pending_subscriptions(session, account)
    return account


def _claim_pending_subscriptions(session: Session, account: Account) -> None:
    """Subscriptions imported for this e-mail before the account existed become its own."""
    pending = session.scalars(
        select(PendingSubscription).where(PendingSubscription.email == account.email)
    ).all()
    for row in pending:
        session.add(
            Subscription(account_id=account.id, service=row.service, type=row.type, tier=row.tier)
        )
        session.delete(row)
    session.flush()


def account_for_slack_user(session: Session, workspace_id: str, user_id: str) -> Account | None:
    return session.scalars(
        select(Account)
        .join(SlackLink)
        .where(SlackLink.workspace_id == workspace_id, SlackLink.slack_user_id == user_id)
    ).first()


def link_slack_user(
    session: Session,
    workspace_id: str,
    user_id: str,
    account: Account,
    now: dt.datetime | None = None,
) -> SlackLink:
    """Link a Slack user to `account`; a user has exactly one account per workspace."""
    link = session.scalars(
        select(SlackLink).where(
            SlackLink.workspace_id == workspace_id, SlackLink.slack_user_id == user_id
        )
    ).first()
    if link is None:
        link = SlackLink(
            workspace_id=workspace_id,
            slack_user_id=user_id,
            account_id=account.id,
            created_at=now or utcnow(),
        )
        session.add(link)
    else:
        link.account_id = account.id
    session.flush()
    return link
