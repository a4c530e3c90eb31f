"""Demo data: a catalogue, a demo customer with products, subscriptions and DAS codes.

`seed` goes through the same services staff use (catalogue, subscription and code imports,
sites, product registration, DAS activation), so the demo obeys every domain rule. It is
idempotent: running it twice on the same day changes nothing. Dates are computed from
`today`, so the codes are in the same state whatever day the demo is seeded; running it
again on a later day moves the unused codes' purchase dates along with it (a code that has
been used is never touched).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import catalog, das, products, sites, subscriptions
from services.accounts import create_account, find_account
from services.clock import utcnow
from services.codes import hash_code
from services.sla import first_response_hours, support_channels
from storage.models import Account, ActivatedService, ActivationCode, SiteAddress

DEMO_EMAIL = "demo@example.com"
DEMO_NAME = "Demo Customer"
DEMO_COMPANY = "Démo Réseaux SARL"
DEMO_COUNTRY = "FR"
DEMO_SITE = {
    "street": "12 rue de la République",
    "postal_code": "69002",
    "city": "Lyon",
    "country": "FR",
}


@dataclass(frozen=True)
class DemoModel:
    model: str
    name: str
    serial_pattern: str
    das_services: tuple[str, ...]
    example_serial: str  # follows the pattern; used for the products below or as a hint


# D-Link-style serials: two letters for the family, three characters for the hardware
# revision and plant, eight digits; 13 characters as printed on the label.
MODELS: tuple[DemoModel, ...] = (
    DemoModel(
        "DGS-1210-28",
        "28-port Gigabit Smart Managed Switch",
        r"QB[0-9A-Z]{3}[0-9]{8}",
        ("DAS-8x5", "DAS-NBD"),
        "QBQE160012345",
    ),
    DemoModel(
        "DGS-3630-28TC",
        "28-port Layer 3 Stackable Managed Switch",
        r"S3[0-9A-Z]{3}[0-9]{8}",
        ("DAS-4H", "DAS-NBD"),
        "S3TC270004512",
    ),
    DemoModel(
        "DXS-1210-12SC",
        "12-port 10 Gigabit Smart Managed Switch",
        r"XS[0-9A-Z]{3}[0-9]{8}",
        ("DAS-4H", "DAS-NBD"),
        "XS12C19000877",
    ),
    DemoModel(
        "DIR-X5460",
        "AX5400 Wi-Fi 6 Router",
        r"RX[0-9A-Z]{3}[0-9]{8}",
        ("DAS-8x5",),
        "RX1M240003418",
    ),
    DemoModel(
        "DSR-1000AC",
        "Wireless AC Unified Services VPN Router",
        r"VR[0-9A-Z]{3}[0-9]{8}",
        ("DAS-8x5", "DAS-NBD"),
        "VR1KA30000788",
    ),
    DemoModel(
        "DAP-2662",
        "Wireless AC1200 Wave 2 Indoor PoE Access Point",
        r"AP[0-9A-Z]{3}[0-9]{8}",
        ("DAS-8x5",),
        "AP26G81002107",
    ),
    DemoModel(
        "DAP-X2850",
        "AX3600 Wi-Fi 6 Dual-Band PoE Access Point",
        r"AX[0-9A-Z]{3}[0-9]{8}",
        ("DAS-8x5", "DAS-NBD"),
        "AX28A52000934",
    ),
    DemoModel(
        "DNS-340L",
        "4-Bay Cloud Network Storage Enclosure (NAS)",
        r"NS[0-9A-Z]{3}[0-9]{8}",
        ("DAS-8x5", "DAS-NBD"),
        "NS34L11000562",
    ),
)

# The demo customer's products: (model, days since purchase). Serials are the examples above.
PRODUCTS: tuple[tuple[str, int], ...] = (
    ("DGS-1210-28", 200),
    ("DXS-1210-12SC", 150),
    ("DIR-X5460", 400),
    ("DAP-2662", 90),
    ("DNS-340L", 60),
)

# (service, type, tier): every type in both tiers.
SUBSCRIPTIONS: tuple[tuple[str, int, str], ...] = (
    ("Nuclias Cloud Basic", 1, "free"),
    ("Nuclias Cloud Pro", 1, "paid"),
    ("Link-Live Cloud", 2, "free"),
    ("OneTouch AT.com", 2, "paid"),
    ("LinkRunner Cloud Basic", 3, "free"),
    ("LinkSprinter.com", 3, "paid"),
)


@dataclass(frozen=True)
class DemoCode:
    code: str
    service: str
    models: tuple[str, ...]
    purchase_days_ago: int | None  # None: the customer gives the service purchase date
    duration_months: int
    hint: str
    # Valid as such, but for a model the demo customer does not own: shown as such.
    for_another_model: bool = False

    def purchase_date(self, today: dt.date) -> dt.date | None:
        return (
            None
            if self.purchase_days_ago is None
            else today - dt.timedelta(days=self.purchase_days_ago)
        )


# The code the seed activates itself (on the router), so that "already used" can be tried.
USED_CODE = "USED-E2R6-K8NC"
USED_CODE_SERIAL = "RX1M240003418"

CODES: tuple[DemoCode, ...] = (
    DemoCode(
        "NBD3-7KQ2-A9XM", "DAS-NBD", ("DGS-1210-28",), 10, 36, "activate it on the DGS-1210-28"
    ),
    DemoCode(
        "4HRS-B8M3-Q1ZT",
        "DAS-4H",
        ("DXS-1210-12SC", "DGS-3630-28TC"),
        None,
        12,
        "activate it on the DXS-1210-12SC; give any service purchase date of the last 90 days",
    ),
    DemoCode(
        "8X5N-C9P4-W7LD",
        "DAS-8x5",
        ("DNS-340L", "DAP-2662"),
        30,
        12,
        "activate it on the DNS-340L or the DAP-2662",
    ),
    DemoCode(
        "EXPD-D1Q5-H3VB",
        "DAS-NBD",
        ("DGS-1210-28",),
        120,
        12,
        "bought 120 days before the seed: refused as expired (try it on the DGS-1210-28)",
    ),
    DemoCode(
        USED_CODE,
        "DAS-8x5",
        ("DIR-X5460",),
        45,
        12,
        "the seed activated it on the DIR-X5460: refused as already used",
    ),
    DemoCode(
        "3630-F3S7-M5TJ",
        "DAS-4H",
        ("DGS-3630-28TC",),
        5,
        36,
        "only for DGS-3630-28TC: refused on the DGS-1210-28",
        for_another_model=True,
    ),
)


# --- the summary -------------------------------------------------------------------------


@dataclass
class DemoSummary:
    """What the demo contains after seeding, and what this run had to add or change."""

    email: str
    name: str
    company: str | None
    country: str | None
    site: dict[str, Any]
    models: list[dict[str, Any]]
    products: list[dict[str, Any]]
    subscriptions: list[dict[str, Any]]
    codes: list[dict[str, Any]]
    services: list[dict[str, Any]]
    changes: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.changes.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "account": {
                "email": self.email,
                "name": self.name,
                "company": self.company,
                "country": self.country,
            },
            "site": self.site,
            "models": self.models,
            "products": self.products,
            "subscriptions": self.subscriptions,
            "codes": self.codes,
            "services": self.services,
            "changes": self.changes,
        }

    def render_text(self) -> str:
        lines = [
            f"Demo customer: {self.name} <{self.email}>, {self.company}, {self.country}",
            f"Site {self.site['id']}: {self.site['street']}, {self.site['postal_code']} {self.site['city']}, {self.site['country']}",
            "",
            "Catalogue (model, name, example serial, DAS services):",
        ]
        lines += _columns(
            [
                (m["model"], m["name"], m["example_serial"], ", ".join(m["das_services"]))
                for m in self.models
            ]
        )
        lines += ["", "Registered products (serial, model, purchase date, site):"]
        lines += _columns(
            [(p["serial"], p["model"], p["purchase_date"], p["site_id"]) for p in self.products]
        )
        lines += ["", "Subscriptions (service, type, tier, first response, channels):"]
        lines += _columns(
            [
                (
                    s["service"],
                    f"type {s['type']}",
                    s["tier"],
                    _hours(s["first_response_hours"]),
                    ", ".join(s["channels"]),
                )
                for s in self.subscriptions
            ]
        )
        lines += [
            "",
            "Activation codes (code, service, models, service purchase date, months, state):",
        ]
        lines += _columns(
            [
                (
                    c["code"],
                    c["service"],
                    "; ".join(c["models"]),
                    c["purchase_date"] or "(customer gives it)",
                    c["duration_months"],
                    c["state"],
                )
                for c in self.codes
            ]
        )
        lines += ["", "How to try the codes:"]
        lines += [f"  {c['code']}: {c['hint']}" for c in self.codes]
        lines += ["", "Activated services (serial, service, starts, ends):"]
        lines += _columns(
            [(s["serial"], s["service"], s["starts_on"], s["ends_on"]) for s in self.services]
        )
        done = ", ".join(f"{n} {what}" for what, n in self.changes.items() if n)
        lines += [
            "",
            f"This run: {done}." if done else "This run changed nothing (already seeded).",
        ]
        return "\n".join(lines)

    def render_markdown(self) -> str:
        out = [
            f"Demo customer: **{self.name}** `{self.email}` ({self.company}, {self.country}), "
            f"site {self.site['id']}: {self.site['street']}, {self.site['postal_code']} {self.site['city']}.",
            "",
            "| model | name | example serial | DAS services |",
            "| --- | --- | --- | --- |",
        ]
        out += [
            f"| {m['model']} | {m['name']} | `{m['example_serial']}` | {', '.join(m['das_services'])} |"
            for m in self.models
        ]
        out += ["", "| registered product | model | purchase date |", "| --- | --- | --- |"]
        out += [f"| `{p['serial']}` | {p['model']} | {p['purchase_date']} |" for p in self.products]
        out += [
            "",
            "| subscription | type | tier | first response | channels |",
            "| --- | --- | --- | --- | --- |",
        ]
        out += [
            f"| {s['service']} | {s['type']} | {s['tier']} | {_hours(s['first_response_hours'])} | {', '.join(s['channels'])} |"
            for s in self.subscriptions
        ]
        out += [
            "",
            "| activation code | service | for models | state | try |",
            "| --- | --- | --- | --- | --- |",
        ]
        out += [
            f"| `{c['code']}` | {c['service']} | {', '.join(c['models'])} | {c['state']} | {c['hint']} |"
            for c in self.codes
        ]
        return "\n".join(out)


def _hours(hours: int | None) -> str:
    return "none (self-help only)" if hours is None else f"{hours} h"


def _columns(rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[str(v) if v is not None else "-" for v in row] for row in rows]
    if not cells:
        return ["  (none)"]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]


# --- seeding -------------------------------------------------------------------------------


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _stored_codes(session: Session) -> dict[str, ActivationCode]:
    """The demo's codes as stored, by their normalised value (the database has only hashes)."""
    by_hash = {hash_code(session, c.code): das.normalize_code(c.code) for c in CODES}
    return {
        by_hash[c.code_hash]: c
        for c in session.scalars(
            select(ActivationCode).where(ActivationCode.code_hash.in_(by_hash))
        )
    }


def _site(session: Session, account: Account, now: dt.datetime) -> tuple[SiteAddress, int]:
    for site in sites.list_sites(session, account):
        if (site.street, site.postal_code, site.city) == (
            DEMO_SITE["street"],
            DEMO_SITE["postal_code"],
            DEMO_SITE["city"],
        ):
            return site, 0
    return sites.add_site(session, account, now=now, **DEMO_SITE), 1


def seed(session: Session, *, today: dt.date | None = None) -> DemoSummary:
    """Create or refresh the demo data in the caller's transaction; returns what it holds."""
    now = utcnow() if today is None else dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    today = now.date()
    changes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="helpdesk-demo-") as tmp:
        folder = Path(tmp)
        result = catalog.import_catalog(
            session,
            _write_csv(
                folder / "catalog.csv",
                catalog.CATALOG_COLUMNS,
                [(m.model, m.name, m.serial_pattern, ";".join(m.das_services)) for m in MODELS],
            ),
        )
        changes["catalogue models added or updated"] = result.created + result.updated

        account = find_account(session, DEMO_EMAIL)
        if account is None:
            account = create_account(
                session,
                email=DEMO_EMAIL,
                name=DEMO_NAME,
                company=DEMO_COMPANY,
                country=DEMO_COUNTRY,
                now=now,
            )
            changes["account created"] = 1
        site, added = _site(session, account, now)
        changes["site added"] = added

        owned = {p.serial for p in products.list_products(session, account)}
        serials = {m.model: m.example_serial for m in MODELS}
        added = 0
        for model, days_ago in PRODUCTS:
            if serials[model] not in owned:
                products.register_product(
                    session,
                    account,
                    model=model,
                    serial=serials[model],
                    purchase_date=today - dt.timedelta(days=days_ago),
                    site_id=site.id,
                    today=today,
                )
                added += 1
        changes["products registered"] = added

        result = subscriptions.import_subscriptions(
            session,
            _write_csv(
                folder / "subscriptions.csv",
                subscriptions.SUBSCRIPTION_COLUMNS,
                [(DEMO_EMAIL, service, type_, tier) for service, type_, tier in SUBSCRIPTIONS],
            ),
        )
        changes["subscriptions added or updated"] = result.created + result.updated

        # A used code keeps what it was activated with: leave it out of the import.
        stored = _stored_codes(session)
        fresh = [
            c
            for c in CODES
            if (s := stored.get(das.normalize_code(c.code))) is None or s.used_at is None
        ]
        result = das.import_codes(
            session,
            _write_csv(
                folder / "codes.csv",
                das.CODE_COLUMNS,
                [
                    (
                        c.code,
                        c.service,
                        ";".join(c.models),
                        c.purchase_date(today) or "",
                        c.duration_months,
                    )
                    for c in fresh
                ],
            ),
            now=now,
        )
        changes["activation codes added or refreshed"] = result.created + result.updated

    stored = _stored_codes(session)
    if stored[das.normalize_code(USED_CODE)].used_at is None:
        das.activate(
            session,
            account,
            serial=USED_CODE_SERIAL,
            code=USED_CODE,
            service_purchase_date=None,
            site_id=site.id,
            accept_terms=True,
            now=now,
        )
        changes["services activated"] = 1
        stored = _stored_codes(session)
    return _summary(session, account, site, stored, today, changes)


def code_state(code: ActivationCode, today: dt.date) -> str:
    if code.used_at is not None:
        return "already used"
    if code.purchase_date is not None and today > das.activation_deadline(code.purchase_date):
        return "past 90 days"
    return "valid"


def _summary(
    session: Session,
    account: Account,
    site: SiteAddress,
    stored: dict[str, ActivationCode],
    today: dt.date,
    changes: dict[str, int],
) -> DemoSummary:
    models = {m.model: m for m in catalog.list_models(session)}
    codes = []
    for demo in CODES:
        row = stored[das.normalize_code(demo.code)]
        state = code_state(row, today)
        if state == "valid" and demo.for_another_model:
            state = "for another model"
        codes.append(
            {
                # A used code is a spent secret: never printed in full (the README documents it).
                "code": das.masked(row) if row.used_at is not None else demo.code,
                "service": row.service,
                "models": list(row.models),
                "purchase_date": row.purchase_date,
                "duration_months": row.duration_months,
                "state": state,
                "hint": demo.hint,
            }
        )
    activated: list[ActivatedService] = das.list_services(session, account)
    return DemoSummary(
        email=account.email,
        name=account.name,
        company=account.company,
        country=account.country,
        site={"id": site.id, **DEMO_SITE},
        models=[
            {
                "model": m.model,
                "name": models[m.model].name,
                "example_serial": m.example_serial,
                "das_services": [link.service for link in models[m.model].das_services],
            }
            for m in MODELS
        ],
        products=[
            {
                "serial": p.serial,
                "model": p.model,
                "purchase_date": p.purchase_date,
                "site_id": p.site_id,
            }
            for p in products.list_products(session, account)
        ],
        subscriptions=[
            {
                "service": s.service,
                "type": s.type,
                "tier": s.tier,
                "first_response_hours": first_response_hours(s.type, s.tier),
                "channels": support_channels(s.type, s.tier),
            }
            for s in subscriptions.list_subscriptions(session, account)
        ],
        codes=codes,
        services=[
            {
                "serial": s.product.serial,
                "model": s.product.model,
                "service": s.service,
                "activated_on": s.activated_on,
                "starts_on": s.starts_on,
                "ends_on": s.ends_on,
            }
            for s in activated
        ],
        changes=changes,
    )
