"""The catalogue and product registration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

import services.products as products_module
from services.accounts import create_account, get_account
from services.catalog import (
    applicable_services,
    get_model,
    import_catalog,
    list_models,
    normalize_serial,
)
from services.errors import (
    ImportFailed,
    InvalidSerial,
    ModelNotFound,
    ProductAlreadyRegistered,
    ProductNotFound,
    PurchaseDateInFuture,
    SerialTaken,
    SiteNotFound,
)
from services.products import (
    find_products,
    get_product,
    list_products,
    register_product,
    serial_registered,
)
from services.sites import add_site
from storage.db import SessionFactory
from storage.models import RegisteredProduct

TODAY = dt.date(2026, 11, 23)

CATALOG = """model,name,serial_pattern,das_services
DGS-1100-08,8-Port Gigabit Smart Managed Switch,[A-Z0-9]{13},DAS-NBD;DAS-4H
DAP-2610,Wireless AC1300 Access Point,DAP[0-9]{9},DAS-NBD
"""


@pytest.fixture
def catalog(session_factory: SessionFactory, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG, encoding="utf-8")
    with session_factory.begin() as session:
        import_catalog(session, path)
        create_account(session, email="alice@example.com", name="Alice", company="Alice SARL")
        create_account(session, email="bob@example.com", name="Bob")


def register(session_factory: SessionFactory, email: str, **fields: object) -> RegisteredProduct:
    values: dict[str, object] = {
        "model": "DGS-1100-08",
        "purchase_date": dt.date(2026, 3, 1),
        "today": TODAY,
    }
    values.update(fields)
    with session_factory.begin() as session:
        return register_product(session, get_account(session, email), **values)  # type: ignore[arg-type]


def test_serials_are_normalised() -> None:
    assert normalize_serial(" qb1-234 5678\t90ab ") == "QB1234567890AB"
    assert normalize_serial("--") == ""
    assert (
        normalize_serial("qb1\u2013234\u00a05678") == "QB12345678"
    )  # en dash and no-break space from an e-mail


def test_models_are_found_case_insensitively_with_their_services(
    session_factory: SessionFactory, catalog: None
) -> None:
    with session_factory() as session:
        assert get_model(session, " dgs-1100-08 ").model == "DGS-1100-08"
        assert applicable_services(session, "dap-2610") == ["DAS-NBD"]
        assert applicable_services(session, "DGS-1100-08") == ["DAS-4H", "DAS-NBD"]
        assert [m.model for m in list_models(session)] == ["DAP-2610", "DGS-1100-08"]
        with pytest.raises(ModelNotFound, match="DGS-9999"):
            get_model(session, "DGS-9999")


def test_a_product_is_registered_with_its_normalised_serial(
    session_factory: SessionFactory, catalog: None
) -> None:
    product = register(
        session_factory, "alice@example.com", model="dgs-1100-08", serial="ab12-cd34 ef56g"
    )
    assert (product.model, product.serial) == ("DGS-1100-08", "AB12CD34EF56G")
    with session_factory() as session:
        alice = get_account(session, "alice@example.com")
        assert [p.serial for p in list_products(session, alice)] == ["AB12CD34EF56G"]
        assert get_product(session, alice, "ab12-cd34-ef56-g").purchase_date == dt.date(2026, 3, 1)


@pytest.mark.parametrize("serial", ["AB12CD34EF56", "AB12CD34EF56GH", "AB12CD34EF5_G", "", " - "])
def test_a_serial_must_match_the_whole_pattern_of_its_model(
    session_factory: SessionFactory, catalog: None, serial: str
) -> None:
    with pytest.raises(InvalidSerial) as refused:
        register(session_factory, "alice@example.com", serial=serial)
    assert "DGS-1100-08" in str(refused.value)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(RegisteredProduct)) == 0


@pytest.mark.parametrize(
    ("pattern", "typed", "matches"),
    [
        (r"DL-[0-9]{4}-[A-Z]{2}", "dl-1234-ab", True),  # written as on the label, with dashes
        (r"DL-[0-9]{4}-[A-Z]{2}", "DL 1234 AB", True),
        (r"DL-[0-9]{4}-[A-Z]{2}", "DL1234ABC", False),
        (r"DL\s?[0-9]{4}", "DL 1234", True),
        (r"[A-Z0-9-]{6}", "AB-CD-EF", True),  # a dash inside a class stays what it was
        (r"er[0-9]{6}", "ER123456", True),  # written in lower case
        (r"^QB\d{4}$", "qb-1234", True),
        (r"^QB\d{4}$", "QB12345", False),
    ],
)
def test_serial_patterns_written_with_separators_or_lower_case_still_apply(
    session_factory: SessionFactory, tmp_path: Path, pattern: str, typed: str, matches: bool
) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(
        f'model,name,serial_pattern,das_services\nDL-1,Label switch,"{pattern}",\n',
        encoding="utf-8",
    )
    with session_factory.begin() as session:
        import_catalog(session, path)
        create_account(session, email="carol@example.com", name="Carol")
    if matches:
        product = register(session_factory, "carol@example.com", model="dl-1", serial=typed)
        assert product.serial == normalize_serial(typed)
    else:
        with pytest.raises(InvalidSerial):
            register(session_factory, "carol@example.com", model="dl-1", serial=typed)


def test_the_serial_pattern_is_the_models_own(
    session_factory: SessionFactory, catalog: None
) -> None:
    register(session_factory, "alice@example.com", model="DAP-2610", serial="dap-123-456-789")
    with pytest.raises(InvalidSerial):
        register(session_factory, "alice@example.com", model="DAP-2610", serial="AB12CD34EF56G")


def test_an_unknown_model_is_refused(session_factory: SessionFactory, catalog: None) -> None:
    with pytest.raises(ModelNotFound):
        register(session_factory, "alice@example.com", model="DIR-842", serial="AB12CD34EF56G")


def test_a_purchase_date_in_the_future_is_refused_today_is_fine(
    session_factory: SessionFactory, catalog: None
) -> None:
    with pytest.raises(PurchaseDateInFuture, match="2026-11-24"):
        register(
            session_factory,
            "alice@example.com",
            serial="AB12CD34EF56G",
            purchase_date=dt.date(2026, 11, 24),
        )
    assert (
        register(
            session_factory, "alice@example.com", serial="AB12CD34EF56G", purchase_date=TODAY
        ).purchase_date
        == TODAY
    )


def test_a_serial_of_another_account_is_refused_without_saying_whose(
    session_factory: SessionFactory, catalog: None
) -> None:
    register(session_factory, "alice@example.com", serial="AB12CD34EF56G")
    with pytest.raises(SerialTaken) as refused:
        register(session_factory, "bob@example.com", serial="ab12 cd34 ef56 g")
    message = str(refused.value)
    assert "another account" in message and "contact support" in message
    for secret in ("alice", "Alice", "SARL"):
        assert secret not in message
    with session_factory() as session:
        bob = get_account(session, "bob@example.com")
        assert list_products(session, bob) == []
        with pytest.raises(ProductNotFound):
            get_product(session, bob, "AB12CD34EF56G")  # Alice's product is invisible to Bob
        assert serial_registered(session, "ab12-cd34-ef56-g") is True
        assert serial_registered(session, "ZZ12CD34EF56G") is False


def test_registering_the_same_product_twice_says_it_is_already_yours(
    session_factory: SessionFactory, catalog: None
) -> None:
    register(session_factory, "alice@example.com", serial="AB12CD34EF56G")
    with pytest.raises(ProductAlreadyRegistered):
        register(session_factory, "alice@example.com", serial="AB12CD34EF56G")


def test_losing_a_race_on_the_unique_serial_is_a_refusal_not_a_crash(
    session_factory: SessionFactory, catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check passes, then the insert hits the unique constraint: SerialTaken, and the
    caller's transaction stays usable (the insert ran in a savepoint)."""
    register(session_factory, "alice@example.com", serial="AB12CD34EF56G")
    real_check = products_module.check_serial_available
    calls: list[str] = []

    def check_that_misses_the_first_time(session, account, serial):  # type: ignore[no-untyped-def]
        calls.append(serial)
        if len(calls) > 1:
            real_check(session, account, serial)

    monkeypatch.setattr(products_module, "check_serial_available", check_that_misses_the_first_time)
    with session_factory.begin() as session:
        bob = get_account(session, "bob@example.com")
        with pytest.raises(SerialTaken):
            register_product(
                session,
                bob,
                model="DGS-1100-08",
                serial="AB12CD34EF56G",
                purchase_date=TODAY,
                today=TODAY,
            )
        site = add_site(
            session, bob, street="5 Main St", postal_code="10001", city="New York", country="US"
        )
    assert len(calls) == 2
    with session_factory() as session:
        assert (
            session.get(type(site), site.id) is not None
        )  # Bob's transaction went on and committed


def test_the_site_of_a_product_must_be_one_of_the_accounts_sites(
    session_factory: SessionFactory, catalog: None
) -> None:
    with session_factory.begin() as session:
        alice = get_account(session, "alice@example.com")
        bob = get_account(session, "bob@example.com")
        alices = add_site(
            session, alice, street="1 rue", postal_code="75001", city="Paris", country="FR"
        )
        bobs = add_site(
            session, bob, street="5 Main St", postal_code="10001", city="New York", country="US"
        )
    with pytest.raises(SiteNotFound):
        register(session_factory, "alice@example.com", serial="AB12CD34EF56G", site_id=bobs.id)
    assert (
        register(
            session_factory, "alice@example.com", serial="AB12CD34EF56G", site_id=alices.id
        ).site_id
        == alices.id
    )


def test_the_same_place_typed_again_is_the_same_site(
    session_factory: SessionFactory, catalog: None
) -> None:
    with session_factory.begin() as session:
        alice = get_account(session, "alice@example.com")
        bob = get_account(session, "bob@example.com")
        first = add_site(
            session,
            alice,
            street="12 rue de la République",
            postal_code="69002",
            city="Lyon",
            country="FR",
        )
        again = add_site(
            session,
            alice,
            street="12, rue de la Republique",
            postal_code="69002",
            city="LYON",
            country="fr",
        )
        other = add_site(
            session,
            alice,
            street="14 rue de la République",
            postal_code="69002",
            city="Lyon",
            country="FR",
        )
        bobs = add_site(
            session,
            bob,
            street="12 rue de la République",
            postal_code="69002",
            city="Lyon",
            country="FR",
        )
        assert again.id == first.id
        assert len({first.id, other.id, bobs.id}) == 3  # another street, another account


def test_find_products_searches_serial_fragment_model_and_name(
    session_factory: SessionFactory, catalog: None
) -> None:
    register(session_factory, "alice@example.com", serial="AB12CD34EF56G")
    register(session_factory, "alice@example.com", model="DAP-2610", serial="DAP123456789")
    register(session_factory, "bob@example.com", serial="ZZ12CD34EF56G")
    with session_factory() as session:
        alice = get_account(session, "alice@example.com")

        def found(query: str) -> list[str]:
            return [p.serial for p in find_products(session, alice, query)]

        assert found("cd34-ef") == ["AB12CD34EF56G"]
        assert found("dgs 1100") == ["AB12CD34EF56G"]
        assert found("DGS1100") == ["AB12CD34EF56G"]
        assert found("access point") == ["DAP123456789"]
        assert found("") == ["AB12CD34EF56G", "DAP123456789"]
        assert found("ZZ12") == []  # Bob's product is never found for Alice
        assert found("router") == []


def test_a_catalogue_pattern_that_backtracks_cannot_stall_a_registration(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    import signal

    (tmp_path / "catalog.csv").write_text(
        "model,name,serial_pattern,das_services\nEVIL-1,Evil,(a|aa)+$,DAS-NBD\n"
    )
    with session_factory.begin() as session:
        import_catalog(session, tmp_path / "catalog.csv")
        alice = create_account(session, email="alice@example.com", name="Alice")

    def too_slow(*_: object) -> None:
        raise TimeoutError("the serial pattern took more than 10 s to match")

    # Python's own engine takes minutes on this serial; RE2 answers at once.
    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    try:
        with session_factory.begin() as session, pytest.raises(InvalidSerial):
            register_product(
                session,
                get_account(session, "alice@example.com"),
                model="EVIL-1",
                serial="A" * 40 + "B",
                purchase_date=dt.date(2026, 1, 1),
            )
        with session_factory.begin() as session:
            register_product(
                session, alice, model="EVIL-1", serial="AAAA", purchase_date=dt.date(2026, 1, 1)
            )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_pattern_only_a_backtracking_engine_can_run_is_refused_at_import(
    session_factory: SessionFactory, tmp_path: Path
) -> None:
    (tmp_path / "catalog.csv").write_text(
        "model,name,serial_pattern,das_services\nBAD-1,Bad,(AB)\\1[0-9]{4},DAS-NBD\n"
        "BAD-2,Bad,(?=A)[A-Z]{8},DAS-NBD\n"
    )
    with pytest.raises(ImportFailed) as failed, session_factory.begin() as session:
        import_catalog(session, tmp_path / "catalog.csv")
    assert [line for line, _ in failed.value.errors] == [2, 3]
    assert all("back-references or look-arounds" in message for _, message in failed.value.errors)
