"""The demo seed: what a newcomer gets, that every code behaves as listed, idempotency."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from services import das, demo
from services.accounts import get_account
from services.codes import hash_code
from services.errors import CodeAlreadyUsed, CodeExpired, CodeWrongModel, FreeTierNoIncidents
from services.incidents import create_incident
from storage.db import SessionFactory
from storage.models import ActivationCode, Base

TODAY = dt.date(2026, 11, 23)


def seed(session_factory: SessionFactory, today: dt.date = TODAY) -> demo.DemoSummary:
    with session_factory.begin() as session:
        return demo.seed(session, today=today)


def snapshot(session_factory: SessionFactory) -> dict[str, list[tuple[Any, ...]]]:
    with session_factory() as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(15), tzinfo=dt.UTC)


def test_the_demo_has_a_catalogue_a_customer_products_subscriptions_and_codes(
    session_factory: SessionFactory,
) -> None:
    summary = seed(session_factory)
    assert (summary.email, summary.name, summary.country) == (
        "demo@example.com",
        "Demo Customer",
        "FR",
    )
    assert summary.company
    assert summary.site["city"] == "Lyon"
    assert len(summary.models) == 8
    assert all(m["das_services"] for m in summary.models)
    assert len(summary.products) == 5
    assert all(p["site_id"] == summary.site["id"] for p in summary.products)
    assert all(p["purchase_date"] <= TODAY for p in summary.products)
    assert {(s["type"], s["tier"]) for s in summary.subscriptions} == {
        (t, tier) for t in (1, 2, 3) for tier in ("free", "paid")
    }
    states = [c["state"] for c in summary.codes]
    assert states.count("valid") == 3
    assert {"past 90 days", "already used", "for another model"} <= set(states)
    valid_models = {m for c in summary.codes if c["state"] == "valid" for m in c["models"]}
    assert len(valid_models) >= 3  # valid codes for different models
    assert [(s["serial"], s["service"]) for s in summary.services] == [
        (demo.USED_CODE_SERIAL, "DAS-8x5")
    ]
    assert summary.changed


def test_the_used_code_is_never_printed_in_full(session_factory: SessionFactory) -> None:
    summary = seed(session_factory)
    used = next(c for c in summary.codes if c["state"] == "already used")
    assert used["code"] == "****-****-K8NC"
    for text in (summary.render_text(), summary.render_markdown(), repr(summary.as_json())):
        assert das.normalize_code(demo.USED_CODE) not in das.normalize_code(text)
        assert "NBD3-7KQ2-A9XM" in text


def test_every_listed_code_behaves_as_its_state_says(session_factory: SessionFactory) -> None:
    seed(session_factory)
    codes = {c.code: c for c in demo.CODES}
    with session_factory.begin() as session:
        account = get_account(session, demo.DEMO_EMAIL)
        site_id = account.sites[0].id

        def activate(code: str, serial: str, purchase: dt.date | None = None) -> Any:
            return das.activate(
                session,
                account,
                serial=serial,
                code=code,
                service_purchase_date=purchase,
                site_id=site_id,
                accept_terms=True,
                now=at(TODAY),
            )

        with pytest.raises(CodeExpired):
            activate("EXPD-D1Q5-H3VB", "QBQE160012345")
        with pytest.raises(CodeAlreadyUsed):
            activate(demo.USED_CODE, demo.USED_CODE_SERIAL)
        with pytest.raises(CodeWrongModel) as wrong:
            activate("3630-F3S7-M5TJ", "QBQE160012345")
        assert "DGS-3630-28TC" in str(wrong.value)
        assert activate("NBD3-7KQ2-A9XM", "QBQE160012345").service == "DAS-NBD"
        assert (
            activate("4HRS-B8M3-Q1ZT", "XS12C19000877", TODAY - dt.timedelta(days=20)).service
            == "DAS-4H"
        )
        assert activate("8X5N-C9P4-W7LD", "NS34L11000562").service == "DAS-8x5"
        assert set(codes) == {
            "EXPD-D1Q5-H3VB",
            demo.USED_CODE,
            "3630-F3S7-M5TJ",
            "NBD3-7KQ2-A9XM",
            "4HRS-B8M3-Q1ZT",
            "8X5N-C9P4-W7LD",
        }


def test_seeding_twice_changes_nothing(session_factory: SessionFactory) -> None:
    first = seed(session_factory)
    before = snapshot(session_factory)
    second = seed(session_factory)
    assert snapshot(session_factory) == before
    assert not second.changed
    assert "changed nothing" in second.render_text()
    assert first.as_json() | {"changes": None} == second.as_json() | {"changes": None}


def test_seeding_on_a_later_day_keeps_the_codes_in_their_states(
    session_factory: SessionFactory,
) -> None:
    seed(session_factory)
    with session_factory() as session:
        used_before = session.scalars(
            select(ActivationCode).where(
                ActivationCode.code_hash == hash_code(session, das.normalize_code(demo.USED_CODE))
            )
        ).one()
    later = TODAY + dt.timedelta(days=400)
    summary = seed(session_factory, later)
    assert sorted(c["state"] for c in summary.codes) == sorted(
        ["valid", "valid", "valid", "past 90 days", "already used", "for another model"]
    )
    with session_factory.begin() as session:
        used_after = session.scalars(
            select(ActivationCode).where(
                ActivationCode.code_hash == hash_code(session, das.normalize_code(demo.USED_CODE))
            )
        ).one()
        assert (used_after.used_at, used_after.purchase_date) == (
            used_before.used_at,
            used_before.purchase_date,
        )
        account = get_account(session, demo.DEMO_EMAIL)
        activated = das.activate(
            session,
            account,
            serial="QBQE160012345",
            code="NBD3-7KQ2-A9XM",
            service_purchase_date=None,
            site_id=account.sites[0].id,
            accept_terms=True,
            now=at(later),
        )
        assert activated.activated_on == later


def test_a_code_the_customer_used_is_left_alone_by_a_new_seed(
    session_factory: SessionFactory,
) -> None:
    seed(session_factory)
    with session_factory.begin() as session:
        account = get_account(session, demo.DEMO_EMAIL)
        das.activate(
            session,
            account,
            serial="QBQE160012345",
            code="NBD3-7KQ2-A9XM",
            service_purchase_date=None,
            site_id=account.sites[0].id,
            accept_terms=True,
            now=at(TODAY),
        )
    summary = seed(session_factory, TODAY + dt.timedelta(days=3))
    listed = dict(zip((c.code for c in demo.CODES), summary.codes))
    assert listed["NBD3-7KQ2-A9XM"]["state"] == "already used"
    assert listed["NBD3-7KQ2-A9XM"]["code"] == "****-****-A9XM"
    assert listed["NBD3-7KQ2-A9XM"]["purchase_date"] == TODAY - dt.timedelta(days=10)  # not moved
    assert listed["8X5N-C9P4-W7LD"]["purchase_date"] == TODAY + dt.timedelta(
        days=3 - 30
    )  # moved along


def test_the_demo_customer_can_file_on_paid_subscriptions_only(
    session_factory: SessionFactory,
) -> None:
    summary = seed(session_factory)
    with session_factory.begin() as session:
        account = get_account(session, demo.DEMO_EMAIL)
        for sub in summary.subscriptions:
            kwargs: dict[str, Any] = {
                "service": sub["service"],
                "summary": "Help",
                "description": "Details",
                "actor": "demo",
            }
            if sub["tier"] == "free":
                with pytest.raises(FreeTierNoIncidents):
                    create_incident(session, account, **kwargs)
            else:
                assert create_incident(session, account, **kwargs).subscription_type == sub["type"]


def test_markdown_lists_models_serials_and_codes(session_factory: SessionFactory) -> None:
    markdown = seed(session_factory).render_markdown()
    assert "| DAP-X2850 |" in markdown
    assert "`QBQE160012345`" in markdown
    assert "| `EXPD-D1Q5-H3VB` | DAS-NBD | DGS-1210-28 | past 90 days |" in markdown
