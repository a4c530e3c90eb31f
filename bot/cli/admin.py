"""Staff/admin commands: catalogue, codes and subscriptions imports, accounts, sites,
product registration and DAS activation.

Every command opens one transaction; a refusal rolls it back and exits 1 with the reason
on stderr (bot.cli.common.refusals_exit_1). Activation codes are printed masked only.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from bot.cli.common import (
    ACTOR,
    ISO_DATE,
    ROW_ID,
    echo,
    echo_json,
    on_terminal,
    printable,
    progress_bar,
    refusals_exit_1,
    runtime,
)
from services import catalog, das, products, sites, subscriptions
from services.accounts import create_account, get_account
from services.csvimport import ImportResult
from services.personal_data import AmbiguousAccount, erase_person, export_person, find_person
from storage.models import Account, ActivatedService, RegisteredProduct, SiteAddress

ImportFunction = Callable[..., ImportResult]


# --- helpers ---------------------------------------------------------------------------


def _count_rows(path: Path) -> int | None:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return max(
                sum(1 for row in csv.reader(handle) if any(cell.strip() for cell in row)) - 1, 0
            )
    except (OSError, UnicodeDecodeError, csv.Error):
        return None  # the import itself reports what is wrong with the file


def _run_import(function: ImportFunction, path: Path, label: str) -> None:
    total = _count_rows(path) if on_terminal() else None
    with progress_bar(label, total) as bar, runtime().session_factory.begin() as session:
        result = function(session, path, bar.advance if bar else None)
    details = "".join(f"; {count} {what}" for what, count in result.details.items() if count)
    echo(
        f"{label}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged{details}"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    # One cell, one line: a newline or an escape code a user typed is shown escaped.
    cells = [[printable(v) if v is not None else "-" for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        echo("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "email": account.email,
        "name": account.name,
        "company": account.company,
        "country": account.country,
    }


def site_json(site: SiteAddress) -> dict[str, Any]:
    return {
        "id": site.id,
        "street": site.street,
        "postal_code": site.postal_code,
        "city": site.city,
        "country": site.country,
    }


def product_json(product: RegisteredProduct) -> dict[str, Any]:
    return {
        "serial": product.serial,
        "model": product.model,
        "purchase_date": product.purchase_date,
        "site_id": product.site_id,
    }


def service_json(service: ActivatedService) -> dict[str, Any]:
    return {
        "serial": service.product.serial,
        "model": service.product.model,
        "service": service.service,
        "activated_on": service.activated_on,
        "starts_on": service.starts_on,
        "ends_on": service.ends_on,
        "site_id": service.site_id,
    }


def _service_row(service: ActivatedService) -> list[Any]:
    return [
        service.product.serial,
        service.product.model,
        service.service,
        das.masked(service.code),
        service.activated_on,
        service.starts_on,
        service.ends_on,
        service.site_id,
    ]


SERVICE_HEADERS = ("serial", "model", "service", "code", "activated", "starts", "ends", "site")

FILE = click.Path(path_type=Path, dir_okay=False)
json_flag = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
email_option = click.option("--email", required=True, help="The account's e-mail address.")


# --- catalogue, codes, subscriptions ---------------------------------------------------


@click.group("catalog")
def catalog_group() -> None:
    """The product catalogue: models, serial patterns, DAS services."""


@catalog_group.command("import")
@click.argument("file", type=FILE)
@refusals_exit_1
def catalog_import(file: Path) -> None:
    """Import FILE (CSV: model,name,serial_pattern,das_services; services ';'-separated)."""
    _run_import(catalog.import_catalog, file, "catalog")


@catalog_group.command("list")
@json_flag
def catalog_list(as_json: bool) -> None:
    """The models of the catalogue."""
    with runtime().read_session_factory() as session:
        models = catalog.list_models(session)
        rows = [
            {
                "model": m.model,
                "name": m.name,
                "serial_pattern": m.serial_pattern,
                "das_services": [link.service for link in m.das_services],
            }
            for m in models
        ]
    if as_json:
        echo_json(rows)
    else:
        _table(
            ("model", "name", "serial pattern", "DAS services"),
            [
                (r["model"], r["name"], r["serial_pattern"], ";".join(r["das_services"]))
                for r in rows
            ],
        )


@click.group("das")
def das_group() -> None:
    """DAS activation codes and activation."""


@das_group.command("import-codes")
@click.argument("file", type=FILE)
@refusals_exit_1
def das_import_codes(file: Path) -> None:
    """Import FILE (CSV: code,service,models,purchase_date,duration_months; models ';'-separated)."""
    _run_import(das.import_codes, file, "activation codes")


@das_group.command("activate")
@email_option
@click.option(
    "--serial", required=True, help="Serial number of a product registered on the account."
)
@click.option(
    "--code",
    default=None,
    help="The activation code, or '-' to read it from standard input (a code given here "
    "is visible to other users of the machine in the process list; prefer '-' or --code-env).",
)
@click.option(
    "--code-env",
    "code_env",
    default=None,
    metavar="NAME",
    help="Read the activation code from the environment variable NAME.",
)
@click.option(
    "--purchase-date", "purchase_date", required=True, type=ISO_DATE, help="Service purchase date."
)
@click.option(
    "--site",
    "site_id",
    required=True,
    type=ROW_ID,
    help="Site address id where the product is installed.",
)
@click.option(
    "--accept-terms",
    is_flag=True,
    help="The customer accepts the D-Link Assist terms and conditions.",
)
@json_flag
@refusals_exit_1
def das_activate(
    email: str,
    serial: str,
    code: str | None,
    code_env: str | None,
    purchase_date: dt.date,
    site_id: int,
    accept_terms: bool,
    as_json: bool,
) -> None:
    """Activate the DAS service of an activation code on a registered product."""
    code = _read_code(code, code_env)
    rt = runtime()
    with rt.session_factory.begin() as session:
        service = das.activate(
            session,
            get_account(session, email),
            serial=serial,
            code=code,
            service_purchase_date=purchase_date,
            site_id=site_id,
            accept_terms=accept_terms,
            max_failures=rt.settings.code_failures_per_hour,
        )
        data = service_json(service)
        masked = das.masked(service.code)
    if as_json:
        echo_json(data)
    else:
        echo(
            f"{data['service']} activated on {data['serial']} ({data['model']}) with code {masked}: "
            f"covered from {data['starts_on'].isoformat()} to {data['ends_on'].isoformat()}"
        )


def _read_code(code: str | None, code_env: str | None) -> str:
    """The code from --code, standard input (--code -) or the environment (--code-env)."""
    if (code is None) == (code_env is None):
        raise click.UsageError("give the code with exactly one of --code or --code-env")
    if code_env is not None:
        value = os.environ.get(code_env)
        if value is None:
            raise click.UsageError(f"the environment variable {code_env} is not set")
        return value.strip()
    if code == "-":
        return sys.stdin.readline().strip()
    return code or ""


@click.group("subscriptions")
def subscriptions_group() -> None:
    """Subscription services (type 1|2|3, tier free|paid)."""


@subscriptions_group.command("import")
@click.argument("file", type=FILE)
@refusals_exit_1
def subscriptions_import(file: Path) -> None:
    """Import FILE (CSV: email,service,type,tier)."""
    _run_import(subscriptions.import_subscriptions, file, "subscriptions")


@subscriptions_group.command("list")
@email_option
@json_flag
@refusals_exit_1
def subscriptions_list(email: str, as_json: bool) -> None:
    """An account's subscriptions."""
    with runtime().read_session_factory() as session:
        rows = [
            {"service": s.service, "type": s.type, "tier": s.tier}
            for s in subscriptions.list_subscriptions(session, get_account(session, email))
        ]
    if as_json:
        echo_json(rows)
    else:
        _table(("service", "type", "tier"), [(r["service"], r["type"], r["tier"]) for r in rows])


# --- accounts, sites, products, services -----------------------------------------------


@click.group("accounts")
def accounts_group() -> None:
    """Support-portal accounts."""


@accounts_group.command("create")
@email_option
@click.option("--name", required=True, help="The customer's name.")
@click.option("--company", default=None, help="Company name.")
@click.option("--country", default=None, help="Two-letter country code, e.g. FR.")
@json_flag
@refusals_exit_1
def accounts_create(
    email: str, name: str, company: str | None, country: str | None, as_json: bool
) -> None:
    """Create an account."""
    with runtime().session_factory.begin() as session:
        data = account_json(
            create_account(session, email=email, name=name, company=company, country=country)
        )
    if as_json:
        echo_json(data)
    else:
        echo(f"account {data['id']} created for {data['email']}")


def _person(session: Any, email: str, workspace: str | None) -> Account:
    """The one account meant; several workspaces' and no --workspace: a usage error (2)."""
    try:
        return find_person(session, email, workspace)
    except AmbiguousAccount as err:
        raise click.UsageError(str(err)) from None


workspace_option = click.option(
    "--workspace",
    default=None,
    help="The account's workspace (Slack team id; '' the default one), when the e-mail "
    "has accounts in several.",
)
actor_option = click.option(
    "--actor", required=True, type=ACTOR, help="Who asks for it (staff name), for the audit record."
)


@accounts_group.command("export")
@email_option
@workspace_option
@actor_option
@refusals_exit_1
def accounts_export(email: str, workspace: str | None, actor: str) -> None:
    """Print everything held about a person, as JSON (the export is recorded)."""
    with runtime().session_factory.begin() as session:
        data = export_person(session, _person(session, email, workspace), actor=actor)
    echo_json(data)


@accounts_group.command("erase")
@email_option
@workspace_option
@actor_option
@json_flag
@refusals_exit_1
def accounts_erase(email: str, workspace: str | None, actor: str, as_json: bool) -> None:
    """Erase a person's data: identity removed, records others rely on pseudonymised."""
    with runtime().session_factory.begin() as session:
        account = _person(session, email, workspace)
        done = erase_person(session, account, actor=actor)
        result = {"account_id": account.id, "workspace": account.workspace_id, "erased": done}
    if as_json:
        echo_json(result)
    else:
        counts = ", ".join(f"{key.replace('_', ' ')}: {n}" for key, n in done.items() if n)
        echo(f"account {account.id} erased" + (f" ({counts})" if counts else ""))


@click.group("sites")
def sites_group() -> None:
    """Site addresses, where products are installed."""


@sites_group.command("add")
@email_option
@click.option("--street", required=True)
@click.option("--postal-code", "postal_code", required=True)
@click.option("--city", required=True)
@click.option("--country", required=True, help="Two-letter country code, e.g. FR.")
@json_flag
@refusals_exit_1
def sites_add(
    email: str, street: str, postal_code: str, city: str, country: str, as_json: bool
) -> None:
    """Add a site address to an account; prints its id."""
    with runtime().session_factory.begin() as session:
        site = sites.add_site(
            session,
            get_account(session, email),
            street=street,
            postal_code=postal_code,
            city=city,
            country=country,
        )
        data = site_json(site)
    if as_json:
        echo_json({"id": data["id"]})
    else:
        echo(data["id"])  # the id alone, like `incidents create` prints the number: scripts read it


@sites_group.command("list")
@email_option
@json_flag
@refusals_exit_1
def sites_list(email: str, as_json: bool) -> None:
    """An account's site addresses."""
    with runtime().read_session_factory() as session:
        rows = [site_json(site) for site in sites.list_sites(session, get_account(session, email))]
    if as_json:
        echo_json(rows)
    else:
        _table(("id", "street", "postal code", "city", "country"), [list(r.values()) for r in rows])


@click.group("products")
def products_group() -> None:
    """Registered products."""


@products_group.command("register")
@email_option
@click.option("--model", required=True, help="Catalogue model, e.g. DGS-1100-08.")
@click.option("--serial", required=True, help="Serial number (spaces and dashes do not matter).")
@click.option("--purchase-date", "purchase_date", required=True, type=ISO_DATE)
@click.option(
    "--site", "site_id", type=ROW_ID, default=None, help="Site address id where it is installed."
)
@json_flag
@refusals_exit_1
def products_register(
    email: str, model: str, serial: str, purchase_date: dt.date, site_id: int | None, as_json: bool
) -> None:
    """Register a product on an account."""
    with runtime().session_factory.begin() as session:
        product = products.register_product(
            session,
            get_account(session, email),
            model=model,
            serial=serial,
            purchase_date=purchase_date,
            site_id=site_id,
        )
        data = product_json(product)
    if as_json:
        echo_json(data)
    else:
        echo(f"{data['model']} {data['serial']} registered")


@products_group.command("list")
@email_option
@json_flag
@refusals_exit_1
def products_list(email: str, as_json: bool) -> None:
    """An account's registered products."""
    with runtime().read_session_factory() as session:
        rows = [
            product_json(p) for p in products.list_products(session, get_account(session, email))
        ]
    if as_json:
        echo_json(rows)
    else:
        _table(("serial", "model", "purchase date", "site"), [list(r.values()) for r in rows])


@click.group("services")
def services_group() -> None:
    """Activated DAS services."""


@services_group.command("list")
@email_option
@json_flag
@refusals_exit_1
def services_list(email: str, as_json: bool) -> None:
    """An account's activated services and their validity dates (codes masked)."""
    with runtime().read_session_factory() as session:
        activated = das.list_services(session, get_account(session, email))
        rows = [service_json(s) for s in activated]
        table = [_service_row(s) for s in activated]
    if as_json:
        echo_json(rows)
    else:
        _table(SERVICE_HEADERS, table)


def register(cli: click.Group) -> None:
    for group in (
        catalog_group,
        das_group,
        subscriptions_group,
        accounts_group,
        sites_group,
        products_group,
        services_group,
    ):
        cli.add_command(group)
