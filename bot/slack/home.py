"""What the Home tab shows a user: their products, activated services with validity
dates, subscriptions and incidents with status and first-response deadline — read from
the services in one read-only session, formatted in the user's language and time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.flows.check_incident import STATUS_LABELS
from bot.flows.engine import ChatUser
from bot.i18n import Texts
from services import accounts, das, incidents, products, subscriptions
from services.errors import N_
from storage.db import SessionFactory
from storage.models import Account


@dataclass
class HomeData:
    name: str | None
    products: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)


def _account(session: object, user: ChatUser) -> Account | None:
    account = accounts.account_for_slack_user(
        session,  # type: ignore[arg-type]
        user.workspace_id,
        user.user_id,
        tenant=user.tenant,
    )
    if account is None and user.email:
        account = accounts.find_account(session, user.email, workspace=user.tenant)  # type: ignore[arg-type]
    return account


def home_data(
    session_factory: SessionFactory, user: ChatUser, texts: Texts, now: dt.datetime
) -> HomeData:
    _ = texts.gettext
    with session_factory() as session:
        account = _account(session, user)
        data = HomeData(name=(user.name or (account.name if account else "") or None))
        if account is None:
            return data
        for p in products.list_products(session, account):
            data.products.append(
                _("{model} ({name}), serial {serial}, bought {date}").format(
                    model=p.model,
                    name=p.product_model.name,
                    serial=p.serial,
                    date=texts.date(p.purchase_date),
                )
            )
        for s in das.list_services(session, account):
            data.services.append(
                _("{service} on {model} {serial}: from {start} to {end}").format(
                    service=s.service,
                    model=s.product.model,
                    serial=s.product.serial,
                    start=texts.date(s.starts_on),
                    end=texts.date(s.ends_on),
                )
            )
        for sub in subscriptions.list_subscriptions(session, account):
            tier = _(N_("paid")) if sub.tier == "paid" else _(N_("free"))
            data.subscriptions.append(
                _("{service} (type {type}, {tier})").format(
                    service=sub.service, type=sub.type, tier=tier
                )
            )
        for i in reversed(incidents.list_incidents(session, account=account)):
            status = _(STATUS_LABELS.get(i.status, i.status))
            if i.first_response_due is None:  # on a product whose service promises no time
                line = _("{number} {summary}: {status}").format(
                    number=i.number, summary=i.summary, status=status
                )
            else:
                line = _("{number} {summary}: {status}, first response due {due}").format(
                    number=i.number,
                    summary=i.summary,
                    status=status,
                    due=texts.datetime(i.first_response_due),
                )
            data.incidents.append(line)
        return data
