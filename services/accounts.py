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
from storage.models import (
    DEFAULT_WORKSPACE,
    Account,
    PendingSubscription,
    SlackLink,
    Subscription,
)

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


def find_account(
    session: Session, email: str, *, workspace: str = DEFAULT_WORKSPACE
) -> Account | None:
    """The account with this e-mail in `workspace` (another workspace's is not seen)."""
    return session.scalars(
        select(Account).where(
            Account.workspace_id == workspace, Account.email == normalize_email(email)
        )
    ).first()


def accounts_with_email(session: Session, email: str) -> list[Account]:
    """Every workspace's account with this e-mail (operators' look-ups)."""
    return list(
        session.scalars(
            select(Account)
            .where(Account.email == normalize_email(email))
            .order_by(Account.workspace_id, Account.id)
        )
    )


def get_account(session: Session, email: str, *, workspace: str = DEFAULT_WORKSPACE) -> Account:
    account = find_account(session, email, workspace=workspace)
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
    workspace: str = DEFAULT_WORKSPACE,
) -> Account:
    normalized = validate_email(email)
    account = Account(
        workspace_id=workspace,
        email=normalized,
        name=required(name, "name", 200),
        company=required(company, "company", 200) if company and company.strip() else None,
        country=validate_country(country) if country and country.strip() else None,
        created_at=now or utcnow(),
    )
    serialize(session, PENDING_LOCK, shared=True)
    if find_account(session, normalized, workspace=workspace) is not None:
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
    """Subscriptions imported for this e-mail before the account existed become its own.

    Billing knows e-mails, not workspaces: the first account created with the e-mail, in
    whichever workspace, takes them."""
    pending = session.scalars(
        select(PendingSubscription).where(PendingSubscription.email == account.email)
    ).all()
    for row in pending:
        session.add(
            Subscription(account_id=account.id, service=row.service, type=row.type, tier=row.tier)
        )
        session.delete(row)
    session.flush()


def account_for_slack_user(
    session: Session, workspace_id: str, user_id: str, *, tenant: str | None = None
) -> Account | None:
    """The account linked to this Slack user; with `tenant`, only an account of that
    workspace (a link never crosses workspaces)."""
    query = (
        select(Account)
        .join(SlackLink)
        .where(SlackLink.workspace_id == workspace_id, SlackLink.slack_user_id == user_id)
    )
    if tenant is not None:
        query = query.where(Account.workspace_id == tenant)
    return session.scalars(query).first()


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
