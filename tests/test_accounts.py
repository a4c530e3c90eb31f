"""Accounts and their site addresses."""

from __future__ import annotations

import pytest

from services.accounts import (
    account_for_slack_user,
    create_account,
    find_account,
    get_account,
    link_slack_user,
)
from services.errors import (
    AccountExists,
    AccountNotFound,
    FieldTooLong,
    InvalidCountry,
    InvalidEmail,
    InvalidPostalCode,
    MissingField,
    SiteNotFound,
)
from services.sites import add_site, get_site, list_sites
from storage.db import SessionFactory


def test_an_account_is_found_by_its_email_whatever_the_case(
    session_factory: SessionFactory,
) -> None:
    with session_factory.begin() as session:
        created = create_account(session, email=" Jane.Doe@Example.COM ", name="Jane", country="fr")
        assert created.email == "jane.doe@example.com"
        assert created.country == "FR"
    with session_factory() as session:
        assert get_account(session, "JANE.DOE@example.com").id == created.id
        assert find_account(session, "nobody@example.com") is None
        with pytest.raises(AccountNotFound, match=r"nobody@example\.com"):
            get_account(session, "nobody@example.com")


def test_account_creation_refuses_bad_input_and_duplicates(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        with pytest.raises(InvalidEmail):
            create_account(session, email="not-an-email", name="X")
        with pytest.raises(InvalidCountry):
            create_account(session, email="x@example.com", name="X", country="France")
        with pytest.raises(MissingField, match="name"):
            create_account(session, email="x@example.com", name="  ")
        with pytest.raises(FieldTooLong, match="at most 200"):
            create_account(session, email="x@example.com", name="X", company="C" * 201)
        with pytest.raises(InvalidEmail):
            create_account(session, email="x" * 250 + "@example.com", name="X")
        create_account(session, email="x@example.com", name="X")
        with pytest.raises(AccountExists):
            create_account(session, email="X@EXAMPLE.com", name="Other")


def test_a_slack_user_has_exactly_one_account_per_workspace(
    session_factory: SessionFactory,
) -> None:
    with session_factory.begin() as session:
        first = create_account(session, email="a@example.com", name="A")
        second = create_account(session, email="b@example.com", name="B")
        link_slack_user(session, "T1", "U1", first)
        link_slack_user(session, "T1", "U1", second)  # relinking moves the user
        link_slack_user(session, "T2", "U1", first)  # another workspace is another link
    with session_factory() as session:
        assert account_for_slack_user(session, "T1", "U1").email == "b@example.com"  # type: ignore[union-attr]
        assert account_for_slack_user(session, "T2", "U1").email == "a@example.com"  # type: ignore[union-attr]
        assert account_for_slack_user(session, "T1", "U2") is None


def test_an_account_has_several_sites_and_sees_only_its_own(
    session_factory: SessionFactory,
) -> None:
    with session_factory.begin() as session:
        alice = create_account(session, email="alice@example.com", name="Alice")
        bob = create_account(session, email="bob@example.com", name="Bob")
        paris = add_site(
            session,
            alice,
            street="1 rue de Rivoli",
            postal_code="75001",
            city="Paris",
            country="fr",
        )
        lyon = add_site(
            session, alice, street="2 quai Perrache", postal_code="69002", city="Lyon", country="FR"
        )
        bobs = add_site(
            session, bob, street="5 Main St", postal_code="10001", city="New York", country="US"
        )
    with session_factory() as session:
        alice = get_account(session, "alice@example.com")
        assert [s.city for s in list_sites(session, alice)] == ["Paris", "Lyon"]
        assert get_site(session, alice, lyon.id).street == "2 quai Perrache"
        assert paris.country == "FR"
        with pytest.raises(SiteNotFound):
            get_site(session, alice, bobs.id)  # exists, but is Bob's
        with pytest.raises(SiteNotFound):
            get_site(session, alice, 999_999)


@pytest.mark.parametrize(
    ("field", "values", "error"),
    [
        ("street", {"street": " "}, MissingField),
        ("postal code", {"postal_code": ""}, MissingField),
        ("city", {"city": ""}, MissingField),
        ("country", {"country": "FRA"}, InvalidCountry),
        ("street", {"street": "x" * 301}, FieldTooLong),
        ("postal code", {"postal_code": "7" * 21}, InvalidPostalCode),
        ("postal code", {"postal_code": "my products"}, InvalidPostalCode),
        ("postal code", {"postal_code": "??"}, InvalidPostalCode),
        ("city", {"city": "x" * 121}, FieldTooLong),
    ],
)
def test_a_site_needs_every_part_of_its_address(
    session_factory: SessionFactory, field: str, values: dict[str, str], error: type[Exception]
) -> None:
    address = {"street": "1 rue", "postal_code": "75001", "city": "Paris", "country": "FR"} | values
    with session_factory() as session:
        account = create_account(session, email="a@example.com", name="A")
        with pytest.raises(error):
            add_site(session, account, **address)
        assert list_sites(session, account) == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("69002", "69002"),
        (" h2x  1y4 ", "H2X 1Y4"),
        ("sw1a 1aa", "SW1A 1AA"),
        ("1010-123", "1010-123"),
    ],
)
def test_postal_codes_of_every_shape_are_kept_tidy(
    session_factory: SessionFactory, typed: str, stored: str
) -> None:
    with session_factory() as session:
        account = create_account(session, email="a@example.com", name="A")
        site = add_site(session, account, street="1 rue", postal_code=typed, city="X", country="FR")
        assert site.postal_code == stored


def test_an_account_created_meanwhile_by_another_process_is_a_refusal(
    session_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The existence check passes, then the unique e-mail stops the insert: AccountExists,
    and the caller's transaction is still usable."""
    import services.accounts as accounts_module

    with session_factory.begin() as session:
        create_account(session, email="race@example.com", name="First")
    monkeypatch.setattr(accounts_module, "find_account", lambda session, email, **scope: None)
    with session_factory.begin() as session:
        with pytest.raises(AccountExists):
            create_account(session, email="race@example.com", name="Second")
        create_account(session, email="other@example.com", name="Other")
    monkeypatch.undo()
    with session_factory() as session:
        assert get_account(session, "other@example.com").name == "Other"
