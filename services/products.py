"""Product registration: a product is registered on one account before any service.

A serial number is registered at most once across all accounts (a unique constraint);
when another account holds it the refusal never says which one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from services.catalog import get_model, normalize_serial, serial_matches
from services.clock import utcnow
from services.errors import (
    InvalidSerial,
    ProductAlreadyRegistered,
    ProductNotFound,
    PurchaseDateInFuture,
    SerialTaken,
)
from services.sites import get_site
from storage.models import Account, RegisteredProduct


def register_product(
    session: Session,
    account: Account,
    *,
    model: str,
    serial: str,
    purchase_date: dt.date,
    site_id: int | None = None,
    today: dt.date | None = None,
) -> RegisteredProduct:
    """Register a product on `account`.

    `today` defaults to the UTC date; a caller that knows the user's time zone passes the
    user's local date so that a purchase made "today" over there is not in the future.
    """
    catalog_model = get_model(session, model)
    normalized = normalize_serial(serial)
    if not normalized or len(normalized) > 64 or not serial_matches(catalog_model, normalized):
        raise InvalidSerial(serial=serial.strip(), model=catalog_model.model)
    if purchase_date > (today or utcnow().date()):
        raise PurchaseDateInFuture(date=purchase_date)
    if site_id is not None:
        get_site(session, account, site_id)
    check_serial_available(session, account, normalized)

    product = RegisteredProduct(
        account_id=account.id,
        model=catalog_model.model,
        serial=normalized,
        purchase_date=purchase_date,
        site_id=site_id,
        registered_at=utcnow(),
    )
    try:
        # A savepoint, so that losing a race keeps the caller's transaction usable.
        with session.begin_nested():
            session.add(product)
    except IntegrityError:
        # Another transaction registered the same serial between our check and our
        # insert (PostgreSQL waits for it to commit before reporting the violation).
        check_serial_available(session, account, normalized)
        raise SerialTaken(serial=normalized) from None
    return product


def check_serial_available(session: Session, account: Account | None, serial: str) -> None:
    """Refuse a normalised serial that is registered already, without saying by whom.

    The conversation asks this at the serial step, before anything is written; `account`
    is None for a customer whose account will only be created at confirmation.
    """
    holder = session.scalars(
        select(RegisteredProduct.account_id).where(RegisteredProduct.serial == serial)
    ).first()
    if holder is None:
        return
    if account is not None and holder == account.id:
        raise ProductAlreadyRegistered(serial=serial)
    raise SerialTaken(serial=serial)


def list_products(session: Session, account: Account) -> list[RegisteredProduct]:
    return list(
        session.scalars(
            select(RegisteredProduct)
            .options(joinedload(RegisteredProduct.product_model))
            .where(RegisteredProduct.account_id == account.id)
            .order_by(RegisteredProduct.registered_at, RegisteredProduct.id)
        )
    )


def get_product(session: Session, account: Account, serial: str) -> RegisteredProduct:
    """One of the account's products by serial (normalised); never another account's."""
    normalized = normalize_serial(serial)
    product = session.scalars(
        select(RegisteredProduct).where(
            RegisteredProduct.account_id == account.id, RegisteredProduct.serial == normalized
        )
    ).first()
    if product is None:
        raise ProductNotFound(serial=normalized or serial.strip())
    return product


def find_products(session: Session, account: Account, query: str) -> list[RegisteredProduct]:
    """The account's products matching `query`, for "my product is not in the list".

    Every word of the query must appear in the serial, the model or the model's name;
    case, spaces and dashes do not matter ("dgs 1100" finds a DGS-1100-08). An empty
    query gives all the account's products.
    """
    words = [normalize_serial(word) for word in (query or "").split()]
    matches = []
    for product in list_products(session, account):
        haystack = " ".join(
            normalize_serial(text)
            for text in (product.serial, product.model, product.product_model.name)
        )
        if all(word in haystack for word in words):
            matches.append(product)
    return matches


def serial_registered(session: Session, serial: str) -> bool:
    """Is this serial registered at all, by anyone? Says nothing about who holds it."""
    normalized = normalize_serial(serial)
    if not normalized:
        return False
    found = session.scalars(
        select(RegisteredProduct.id).where(RegisteredProduct.serial == normalized)
    ).first()
    return found is not None


def check_purchase_date(purchase_date: dt.date, *, today: dt.date | None = None) -> dt.date:
    """The purchase-date rule of `register_product`, for a caller that checks it early
    (the conversation asks the date before it registers anything)."""
    if purchase_date > (today or utcnow().date()):
        raise PurchaseDateInFuture(date=purchase_date)
    return purchase_date
