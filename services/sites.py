"""Site addresses: the physical places where an account's products are installed.

A DAS service is tied to the address where the product really is, so a customer with
products on several sites keeps one site address per site.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts import required, validate_country
from services.clock import utcnow
from services.errors import InvalidPostalCode, SiteNotFound
from storage.models import Account, SiteAddress

# Postal codes differ by country, but every one is a short run of letters and digits with
# at least one digit (69002, H2X 1Y4, SW1A 1AA, 1010-123): a sentence typed at that
# question is not one.
_WORDS = re.compile(r"[a-z0-9]+")
_POSTAL_CODE = re.compile(r"^(?=.*[0-9])[A-Z0-9][A-Z0-9 -]{1,11}$")


def validate_postal_code(postal_code: str) -> str:
    normalized = " ".join(required(postal_code, "postal code").upper().split())
    if not _POSTAL_CODE.match(normalized):
        raise InvalidPostalCode(postal_code=postal_code.strip()[:40])
    return normalized


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
    """A new site address, or the account's site at that address already ("12 rue de la
    Republique, 69002 lyon" is "12 rue de la République, 69002 Lyon"): one site per place."""
    site = SiteAddress(
        account_id=account.id,
        street=required(street, "street", 300),
        postal_code=validate_postal_code(postal_code),
        city=required(city, "city", 120),
        country=validate_country(required(country, "country")),
        created_at=now or utcnow(),
    )
    same = [known for known in list_sites(session, account) if _place(known) == _place(site)]
    if same:
        return same[0]
    session.add(site)
    session.flush()
    return site


def _place(site: SiteAddress) -> tuple[str, ...]:
    """What makes two addresses one place: their words, whatever the case, accents and
    punctuation."""
    return tuple(
        " ".join(_WORDS.findall(_unaccented(part.casefold())))
        for part in (site.street, site.postal_code, site.city, site.country)
    )


def _unaccented(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def list_sites(session: Session, account: Account) -> list[SiteAddress]:
    return list(
        session.scalars(
            select(SiteAddress).where(SiteAddress.account_id == account.id).order_by(SiteAddress.id)
        )
    )


def get_site(session: Session, account: Account, site_id: int) -> SiteAddress:
    """The account's site `site_id`; another account's site is refused as if it did not exist."""
    site = session.get(SiteAddress, site_id)
    if site is None or site.account_id != account.id:
        raise SiteNotFound(site_id=site_id)
    return site
