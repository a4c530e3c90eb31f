"""DAS activation codes: every rule of docs/design.md "DAS service contracts and activation codes"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from services import das
from services.accounts import create_account, get_account
from services.catalog import import_catalog
from services.codes import hash_code
from services.errors import (
    CodeAlreadyUsed,
    CodeExpired,
    CodeUnknown,
    CodeWrongModel,
    ProductNotFound,
    ServiceAlreadyActive,
    ServiceNotForModel,
    ServicePurchaseDateInFuture,
    ServicePurchaseDateMismatch,
    ServicePurchaseDateRequired,
    SiteNotFound,
    TermsNotAccepted,
    TooManyCodeAttempts,
)
from services.products import get_product, register_product
from services.sites import add_site
from storage.db import SessionFactory
from storage.models import ActivatedService, ActivationCode, CodeAttempt, RegisteredProduct

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

CATALOG = """model,name,serial_pattern,das_services
DGS-1100-08,8-Port Gigabit Smart Managed Switch,[A-Z0-9]{13},DAS-NBD;DAS-4H
DGS-3630-28TC,28-Port Stackable Managed Switch,QB[0-9A-Z]{11},DAS-NBD;DAS-4H
DAP-2610,Wireless AC1300 Access Point,DAP[0-9]{9},DAS-NBD;DAS-4H
"""

CODES = """code,service,models,purchase_date,duration_months
AB12-CD34-7F3A,DAS-NBD,DGS-1100-08,2026-10-01,12
NODATE-0001,DAS-NBD,DGS-1100-08;DAP-2610,,12
NODATE-0002,DAS-NBD,DGS-1100-08,,24
WRONG-MODEL-01,DAS-NBD,DGS-3630-28TC,2026-10-01,12
LATE-0091,DAS-NBD,DGS-1100-08,2026-08-24,12
EDGE-0090,DAS-NBD,DGS-1100-08,2026-08-25,12
FOURH-0001,DAS-4H,DGS-1100-08;DAP-2610,2026-11-01,6
"""

SERIAL = "AB12CD34EF56G"


@pytest.fixture
def world(session_factory: SessionFactory, tmp_path: Path) -> dict[str, int]:
    """Alice with a site, a switch and an access point; Bob with a site and a switch."""
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "codes.csv").write_text(CODES, encoding="utf-8")
    with session_factory.begin() as session:
        import_catalog(session, tmp_path / "catalog.csv")
        das.import_codes(session, tmp_path / "codes.csv", now=NOW)
        alice = create_account(session, email="alice@example.com", name="Alice")
        bob = create_account(session, email="bob@example.com", name="Bob")
        alice_site = add_site(
            session, alice, street="1 rue", postal_code="75001", city="Paris", country="FR"
        )
        bob_site = add_site(
            session, bob, street="5 Main St", postal_code="10001", city="New York", country="US"
        )
        for account, model, serial in (
            (alice, "DGS-1100-08", SERIAL),
            (alice, "DAP-2610", "DAP123456789"),
            (bob, "DGS-1100-08", "BOB1234567890"),
        ):
            register_product(
                session,
                account,
                model=model,
                serial=serial,
                purchase_date=dt.date(2026, 1, 5),
                today=TODAY,
            )
    return {"alice_site": alice_site.id, "bob_site": bob_site.id}


def activate(
    session_factory: SessionFactory,
    world: dict[str, int],
    *,
    email: str = "alice@example.com",
    **overrides: Any,
) -> ActivatedService:
    values: dict[str, Any] = {
        "serial": SERIAL,
        "code": "AB12-CD34-7F3A",
        "service_purchase_date": None,
        "site_id": world["alice_site"] if email.startswith("alice") else world["bob_site"],
        "accept_terms": True,
        "now": NOW,
    }
    values.update(overrides)
    with session_factory.begin() as session:
        return das.activate(session, get_account(session, email), **values)


def count(session_factory: SessionFactory, model: type[Any]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- codes and dates -------------------------------------------------------------------


def test_codes_are_normalised_and_masked_never_shown_whole() -> None:
    assert das.normalize_code(" ab12-cd34 7f3a ") == "AB12CD347F3A"
    assert das.mask_code("ab12-cd34-7f3a") == "****-****-7F3A"
    assert das.mask_code("XY9") == "****-****-9"
    assert das.mask_code("AB") == "****-****"
    for code in ("AB12CD347F3A", "NODATE-0001", "XY9", "1234"):
        assert das.normalize_code(code) not in das.mask_code(code)


def test_a_code_copied_from_an_e_mail_with_typographic_dashes_is_the_same_code(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    assert (
        das.normalize_code("ab12\u2013cd34\u00a07f3a") == "AB12CD347F3A"
    )  # en dash, no-break space
    assert activate(session_factory, world, code="AB12\u2011CD34\u20147F3A").service == "DAS-NBD"


@pytest.mark.parametrize(
    ("activated_on", "months", "starts_on", "ends_on"),
    [
        (dt.date(2026, 3, 1), 12, dt.date(2026, 3, 3), dt.date(2027, 3, 3)),
        (dt.date(2026, 12, 30), 1, dt.date(2027, 1, 1), dt.date(2027, 2, 1)),
        (
            dt.date(2026, 1, 29),
            1,
            dt.date(2026, 1, 31),
            dt.date(2026, 2, 28),
        ),  # no 31 Feb: the month's last day
        (dt.date(2027, 12, 30), 2, dt.date(2028, 1, 1), dt.date(2028, 3, 1)),
        (dt.date(2027, 12, 29), 2, dt.date(2027, 12, 31), dt.date(2028, 2, 29)),  # leap year
    ],
)
def test_a_service_starts_two_days_after_activation_and_covers_calendar_months(
    activated_on: dt.date, months: int, starts_on: dt.date, ends_on: dt.date
) -> None:
    assert das.service_period(activated_on, months) == (starts_on, ends_on)


# --- activation ------------------------------------------------------------------------


def test_a_valid_code_activates_the_service(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    activated = activate(
        session_factory, world, code="ab12 cd34 7f3a", service_purchase_date=dt.date(2026, 10, 1)
    )
    assert activated.service == "DAS-NBD"
    assert activated.service_purchase_date == dt.date(2026, 10, 1)
    assert (activated.activated_on, activated.starts_on, activated.ends_on) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 25),
        dt.date(2027, 11, 25),
    )
    assert activated.terms_accepted_at == NOW
    with session_factory() as session:
        code = session.scalars(
            select(ActivationCode).where(
                ActivationCode.code_hash == hash_code(session, "AB12CD347F3A")
            )
        ).one()
        assert code.used_at == NOW
        alice = get_account(session, "alice@example.com")
        assert code.used_by_account_id == alice.id
        listed = das.list_services(session, alice)
        assert [(s.product.serial, s.service, s.site_id) for s in listed] == [
            (SERIAL, "DAS-NBD", world["alice_site"])
        ]
        assert [s.service for s in das.services_on_product(session, alice, "ab12-cd34-ef56-g")] == [
            "DAS-NBD"
        ]
        assert das.services_on_product(session, alice, "DAP123456789") == []
        # The activation tells where a product without a site is installed.
        assert get_product(session, alice, SERIAL).site_id == world["alice_site"]


def test_the_product_is_where_its_latest_service_was_activated(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with session_factory.begin() as session:
        alice = get_account(session, "alice@example.com")
        lyon = add_site(
            session, alice, street="2 quai", postal_code="69002", city="Lyon", country="FR"
        ).id
        get_product(session, alice, SERIAL).site_id = world["alice_site"]
    activated = activate(session_factory, world, site_id=lyon)
    assert activated.site_id == lyon
    with session_factory() as session:
        # Not left at the old site: the service and the product agree on where it is installed.
        assert (
            get_product(session, get_account(session, "alice@example.com"), SERIAL).site_id == lyon
        )


def test_the_terms_must_be_accepted(session_factory: SessionFactory, world: dict[str, int]) -> None:
    with pytest.raises(TermsNotAccepted):
        activate(session_factory, world, accept_terms=False)
    assert count(session_factory, ActivatedService) == 0


def test_the_product_must_be_registered_on_the_account(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with pytest.raises(ProductNotFound):
        activate(session_factory, world, serial="NOTREGISTERED")
    with pytest.raises(ProductNotFound):
        activate(session_factory, world, serial="BOB1234567890")  # Bob's product


def test_the_site_must_be_one_of_the_accounts_sites(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with pytest.raises(SiteNotFound):
        activate(session_factory, world, site_id=world["bob_site"])
    assert count(session_factory, ActivatedService) == 0


def test_an_unknown_code_is_refused(session_factory: SessionFactory, world: dict[str, int]) -> None:
    with pytest.raises(CodeUnknown):
        activate(session_factory, world, code="AB12-CD34-7F3B")


def test_a_used_code_is_refused_and_the_refusal_masks_it(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    activate(session_factory, world)
    with pytest.raises(CodeAlreadyUsed) as refused:
        activate(
            session_factory,
            world,
            email="bob@example.com",
            serial="BOB1234567890",
            code="ab12cd347f3a",
        )
    message = str(refused.value)
    assert "****-****-7F3A" in message
    assert "AB12CD347F3A" not in message and "AB12-CD34" not in message
    assert count(session_factory, ActivatedService) == 1


def test_a_code_for_another_model_names_both_models(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with pytest.raises(CodeWrongModel) as refused:
        activate(session_factory, world, code="WRONG-MODEL-01")
    assert "This code is for DGS-3630-28TC models, not DGS-1100-08" in str(refused.value)


def test_the_catalogue_must_give_the_codes_service_to_the_model(
    session_factory: SessionFactory, world: dict[str, int], tmp_path: Path
) -> None:
    # The code lists DAP-2610, but the catalogue no longer offers DAS-4H on that model.
    (tmp_path / "catalog.csv").write_text(CATALOG.replace("{9},DAS-NBD;DAS-4H", "{9},DAS-NBD"))
    with session_factory.begin() as session:
        import_catalog(session, tmp_path / "catalog.csv")
    with pytest.raises(ServiceNotForModel, match="DAS-4H does not apply to DAP-2610"):
        activate(session_factory, world, serial="DAP123456789", code="FOURH-0001")
    assert activate(session_factory, world, code="FOURH-0001").service == "DAS-4H"


def test_a_code_must_be_used_within_90_days_of_the_service_purchase(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with pytest.raises(CodeExpired) as refused:
        activate(session_factory, world, code="LATE-0091")  # bought 2026-08-24: 91 days ago
    assert "had to be used by 2026-11-22" in str(refused.value)
    assert "2026-08-24" in str(refused.value)
    assert activate(session_factory, world, code="EDGE-0090").service_purchase_date == dt.date(
        2026, 8, 25
    )


def test_a_code_past_its_recorded_90_days_is_expired_whatever_date_is_typed(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    # LATE-0091 was bought 2026-08-24: a customer typing a recent date is told it expired,
    # not that the date does not match.
    for typed in (TODAY, dt.date(2026, 11, 1), dt.date(2026, 8, 24), None):
        with pytest.raises(CodeExpired, match="had to be used by 2026-11-22"):
            activate(session_factory, world, code="LATE-0091", service_purchase_date=typed)


def test_the_customers_date_counts_when_the_code_has_none(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with pytest.raises(ServicePurchaseDateRequired):
        activate(session_factory, world, code="NODATE-0001")
    with pytest.raises(ServicePurchaseDateInFuture):
        activate(
            session_factory, world, code="NODATE-0001", service_purchase_date=dt.date(2026, 11, 24)
        )
    with pytest.raises(CodeExpired, match="2026-11-21"):
        activate(
            session_factory, world, code="NODATE-0001", service_purchase_date=dt.date(2026, 8, 23)
        )
    activated = activate(
        session_factory, world, code="NODATE-0001", service_purchase_date=dt.date(2026, 9, 1)
    )
    assert activated.service_purchase_date == dt.date(2026, 9, 1)


def test_the_date_recorded_with_the_code_wins_over_another(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with pytest.raises(ServicePurchaseDateMismatch, match="2026-10-02"):
        activate(session_factory, world, service_purchase_date=dt.date(2026, 10, 2))
    assert activate(
        session_factory, world, service_purchase_date=None
    ).service_purchase_date == dt.date(2026, 10, 1)


def test_a_typed_date_in_the_future_is_refused_as_such_even_when_the_code_has_one(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with pytest.raises(ServicePurchaseDateInFuture, match="2026-11-24"):
        activate(session_factory, world, service_purchase_date=dt.date(2026, 11, 24))


def test_a_service_already_active_on_the_product_is_not_activated_again(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    first = activate(session_factory, world)
    with pytest.raises(ServiceAlreadyActive) as refused:
        activate(
            session_factory, world, code="NODATE-0002", service_purchase_date=dt.date(2026, 11, 1)
        )
    assert f"DAS-NBD is already active on {SERIAL} until {first.ends_on.isoformat()}" in str(
        refused.value
    )
    # Another product, or the same product once the first service has ended, is fine.
    activate(
        session_factory,
        world,
        serial="DAP123456789",
        code="NODATE-0001",
        service_purchase_date=dt.date(2026, 11, 1),
    )
    later = first.ends_on + dt.timedelta(days=1)
    renewed = activate(
        session_factory,
        world,
        code="NODATE-0002",
        service_purchase_date=later,
        now=dt.datetime.combine(later, dt.time(9), tzinfo=dt.UTC),
    )
    assert renewed.starts_on == later + dt.timedelta(days=2)


def test_check_code_validates_without_activating(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with session_factory.begin() as session:
        alice = get_account(session, "alice@example.com")
        product = get_product(session, alice, SERIAL)
        code = das.check_code(session, alice, product, "ab12-cd34-7f3a", None, now=NOW)
        assert code.service == "DAS-NBD"
        with pytest.raises(CodeWrongModel):
            das.check_code(session, alice, product, "WRONG-MODEL-01", None, now=NOW)
        with pytest.raises(CodeUnknown):
            das.check_code(session, alice, product, "NOPE-0077", None, now=NOW)
    assert count(session_factory, ActivatedService) == 0
    assert count(session_factory, CodeAttempt) == 1  # the unknown code, written once at commit


# --- nothing half-written --------------------------------------------------------------


def _state(session_factory: SessionFactory) -> tuple[int, Any, Any]:
    with session_factory() as session:
        code = session.scalars(
            select(ActivationCode).where(
                ActivationCode.code_hash == hash_code(session, "AB12CD347F3A")
            )
        ).one()
        product = session.scalars(
            select(RegisteredProduct).where(RegisteredProduct.serial == SERIAL)
        ).one()
        activated = session.scalar(select(func.count()).select_from(ActivatedService))
        return activated or 0, code.used_at, product.site_id


def test_a_failure_while_marking_the_code_leaves_nothing_written(
    session_factory: SessionFactory, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _state(session_factory)

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(das, "_mark_used", broken)
    with pytest.raises(RuntimeError):
        activate(session_factory, world)
    assert _state(session_factory) == before == (0, None, None)


def test_a_failure_after_the_rows_reached_the_database_leaves_nothing_written(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    def fail_after_insert(session: Session, _context: object) -> None:
        if any(isinstance(obj, ActivatedService) for obj in session.new):  # just INSERTed
            raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError), session_factory.begin() as session:
        event.listen(session, "after_flush", fail_after_insert)
        das.activate(
            session,
            get_account(session, "alice@example.com"),
            serial=SERIAL,
            code="AB12-CD34-7F3A",
            service_purchase_date=None,
            site_id=world["alice_site"],
            accept_terms=True,
            now=NOW,
        )
    assert _state(session_factory) == (0, None, None)
    assert activate(session_factory, world).service == "DAS-NBD"  # and the code still works


# --- the rate limit --------------------------------------------------------------------


def test_wrong_codes_are_rate_limited_and_the_refusal_says_when_to_retry(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    first = NOW
    # Codes that exist but do not fit (another model, past 90 days) are not guesses: a
    # customer trying them is not locked out of the code that does fit.
    for code in ["WRONG-MODEL-01", "LATE-0091"]:
        with pytest.raises((CodeWrongModel, CodeExpired)):
            activate(session_factory, world, code=code, now=first)
    assert count(session_factory, CodeAttempt) == 0
    wrong_codes = ["NOPE-1", "AB12-CD34-7F3B", "NOPE-3", "NOPE-4", "NOPE-2"]
    for minute, code in enumerate(wrong_codes):
        with pytest.raises(CodeUnknown):
            activate(
                session_factory, world, code=code, now=first + dt.timedelta(minutes=10 * minute)
            )
    # Recorded although every refused activation was rolled back.
    assert count(session_factory, CodeAttempt) == 5

    at = first + dt.timedelta(minutes=45)
    with pytest.raises(TooManyCodeAttempts) as refused:
        activate(session_factory, world, now=at)  # even the right code, for now
    assert refused.value.params["retry_at"] == first + dt.timedelta(hours=1)
    assert "try again after 2026-11-23T11:00" in str(refused.value)
    assert count(session_factory, CodeAttempt) == 5  # a refused attempt does not extend the wait

    # Another account is not limited.
    assert (
        activate(
            session_factory,
            world,
            email="bob@example.com",
            serial="BOB1234567890",
            code="NODATE-0002",
            service_purchase_date=TODAY,
            now=at,
        ).service
        == "DAS-NBD"
    )
    # An hour after the oldest failure, one more attempt is allowed.
    assert activate(session_factory, world, now=first + dt.timedelta(hours=1)).service == "DAS-NBD"


def test_the_retry_time_is_rounded_up_to_the_minute_it_names(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    first = NOW + dt.timedelta(seconds=30)
    for second in range(5):
        with pytest.raises(CodeUnknown):
            activate(session_factory, world, code="NOPE", now=first + dt.timedelta(seconds=second))
    with pytest.raises(TooManyCodeAttempts) as refused:
        activate(session_factory, world, now=first + dt.timedelta(minutes=5))
    # The first failure was at 10:00:30; "after 11:00" would send the customer back too early.
    assert refused.value.params["retry_at"] == NOW + dt.timedelta(hours=1, minutes=1)
    assert "try again after 2026-11-23T11:01" in str(refused.value)
    assert (
        activate(session_factory, world, now=refused.value.params["retry_at"]).service == "DAS-NBD"
    )


def test_the_rate_limit_counts_only_failures_of_the_last_hour(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    for minutes in (0, 1, 2, 3):
        with pytest.raises(CodeUnknown):
            activate(session_factory, world, code="NOPE", now=NOW + dt.timedelta(minutes=minutes))
    with pytest.raises(CodeUnknown):
        activate(session_factory, world, code="NOPE", now=NOW + dt.timedelta(minutes=70))
    # 4 of the 5 failures are more than an hour old at 01:10; only one counts.
    assert activate(session_factory, world, now=NOW + dt.timedelta(minutes=71)).service == "DAS-NBD"


def test_a_wrong_date_is_not_a_wrong_code(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    for _ in range(3):
        with pytest.raises(ServicePurchaseDateMismatch):
            activate(session_factory, world, service_purchase_date=dt.date(2026, 9, 30))
    with pytest.raises(TermsNotAccepted):
        activate(session_factory, world, accept_terms=False)
    assert count(session_factory, CodeAttempt) == 0


def test_max_failures_is_the_callers_setting(
    session_factory: SessionFactory, world: dict[str, int]
) -> None:
    with pytest.raises(CodeUnknown):
        activate(session_factory, world, code="NOPE", max_failures=1)
    with pytest.raises(TooManyCodeAttempts):
        activate(session_factory, world, max_failures=1)
    with pytest.raises(TooManyCodeAttempts), session_factory() as session:
        alice = get_account(session, "alice@example.com")
        das.check_code(
            session,
            alice,
            get_product(session, alice, SERIAL),
            "AB12CD347F3A",
            None,
            now=NOW,
            max_failures=1,
        )
