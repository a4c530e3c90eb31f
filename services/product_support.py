"""Help on a registered product ("request assistance for my product"): a customer whose
product has an active DAS service may file an incident on it.

The incident hangs on the product and on that service. No first-response time is promised
unless the catalogue gives one for that DAS service on the product's model; when it does,
the deadline counts support hours like any other (services.sla).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from services.catalog import promised_response_hours
from services.errors import DasServiceNotStarted, NoActiveDasService
from services.products import get_product
from storage.models import Account, ActivatedService, RegisteredProduct


@dataclass(frozen=True)
class ProductSupport:
    product: RegisteredProduct
    service: ActivatedService
    hours: int | None  # the catalogue's first-response time for the service, if any


def _services(session: Session, product: RegisteredProduct) -> list[ActivatedService]:
    return list(
        session.scalars(
            select(ActivatedService)
            .options(joinedload(ActivatedService.product))
            .where(ActivatedService.product_id == product.id)
            .order_by(ActivatedService.ends_on.desc(), ActivatedService.id)
        )
    )


def _active(services: list[ActivatedService], today: dt.date) -> list[ActivatedService]:
    return [s for s in services if s.starts_on <= today < s.ends_on]


def _support(session: Session, service: ActivatedService) -> ProductSupport:
    hours = promised_response_hours(session, service.product.model, service.service)
    return ProductSupport(service.product, service, hours)


def product_support(
    session: Session, account: Account, serial: str, *, today: dt.date
) -> ProductSupport:
    """The account's product and the active DAS service help on it comes under.

    With several active services, the one promising the fastest first response wins
    (then the one lasting longest). Refuses an unknown product (ProductNotFound), a
    product with no active service (NoActiveDasService) and one whose service has not
    started yet (DasServiceNotStarted).
    """
    product = get_product(session, account, serial)
    services = _services(session, product)
    active = _active(services, today)
    if not active:
        upcoming = [s for s in services if s.starts_on > today]
        if upcoming:
            first = min(upcoming, key=lambda s: s.starts_on)
            raise DasServiceNotStarted(
                service=first.service, serial=product.serial, starts_on=first.starts_on
            )
        raise NoActiveDasService(serial=product.serial)
    supports = [_support(session, s) for s in active]
    return min(supports, key=lambda s: s.hours if s.hours is not None else 10**6)


def supported_products(
    session: Session, account: Account, *, today: dt.date
) -> list[ProductSupport]:
    """The account's products with an active DAS service, in registration order."""
    found = []
    for product in session.scalars(
        select(RegisteredProduct)
        .where(RegisteredProduct.account_id == account.id)
        .order_by(RegisteredProduct.registered_at, RegisteredProduct.id)
    ):
        if _active(_services(session, product), today):
            found.append(product_support(session, account, product.serial, today=today))
    return found
