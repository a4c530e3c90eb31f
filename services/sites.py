"""Site addresses: the physical places where an account's products are installed.

A DAS service is tied to the address where the product really is, so a customer with
products on several sites keeps one site address per site.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts import required, validate_country
from services.clock import utcnow
from services.errors import SiteNotFound
from storage.models import Account, SiteAddress


def add_site(
    session: Session,
    account: Account,
    *,
    street: str,
    postal_code: str,
    city: str,
    country: str,
    now: dt.datetime | None = None,
) -> SiteAddress:
    site = SiteAddress(
        account_id=account.id,
        street=required(street, "street", 300),
        postal_code=required(postal_code, "postal code", 20),
        city=required(city, "city", 120),
        country=validate_country(required(country, "country")),
        created_at=now or utcnow(),
    )
    session.add(site)
    session.flush()
    return site


def list_sites(session: Session, account: Account) -> list[SiteAddress]:
    return list(
        session.scalars(select(SiteAddress).where(SiteAddress.account_id == account.id).order_by(SiteAddress.id))
    )


def get_site(session: Session, account: Account, site_id: int) -> SiteAddress:
    """The account's site `site_id`; another account's site is refused as if it did not exist."""
    site = session.get(SiteAddress, site_id)
    if site is None or site.account_id != account.id:
        raise SiteNotFound(site_id=site_id)
    return site
