"""Product registration: model, serial number, purchase date, optional site, confirm."""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Any

from bot.flows.common import (
    account_slots,
    account_summary,
    ensure_account,
    prompt_site_country,
    resolve_site,
    site_choices,
    site_slots,
    site_summary,
    validate_city,
    validate_company,
    validate_country,
    validate_email,
    validate_name,
    validate_postal_code,
    validate_site_country,
    validate_site_value,
    validate_street,
)
from bot.flows.engine import CHOICE, DATE, YESNO, Choice, Flow, FlowContext, Reply, Slot
from services import catalog, products
from services.errors import N_, InvalidSerial, PurchaseDateInFuture

# The engine finds a slot's hooks on the flow's module: the shared ones are imported here.
__all__ = [
    "prompt_site_country",
    "validate_city",
    "validate_company",
    "validate_country",
    "validate_email",
    "validate_name",
    "validate_postal_code",
    "validate_site_country",
    "validate_street",
]


def choices_model(ctx: FlowContext) -> list[Choice]:
    return [Choice(m.model, f"{m.model} — {m.name}") for m in catalog.list_models(ctx.session)]


def validate_model(ctx: FlowContext, value: str) -> str:
    return catalog.get_model(ctx.session, value).model


def prompt_serial(ctx: FlowContext) -> dict[str, Any]:
    return {"model": ctx.values["model"]}


# What is printed before the serial on a label, copied with it: "S/N: QBQE160012345".
_SERIAL_LABEL = re.compile(
    r"^\s*(?:s\s*/\s*n|(?:sn|serial(?:\s+number)?|n°\s*de\s*s[ée]rie|num[ée]ro\s+de\s+s[ée]rie)"
    r"(?=[\s:#.]))\s*[:#.]?\s*",
    re.IGNORECASE,
)


def validate_serial(ctx: FlowContext, value: str) -> str:
    model = catalog.get_model(ctx.session, ctx.values["model"])
    # As typed first (a serial may itself start with "SN"), then without the label's words.
    candidates = [catalog.normalize_serial(text) for text in (value, _SERIAL_LABEL.sub("", value))]
    serial = next((c for c in candidates if c and catalog.serial_matches(model, c)), "")
    if not serial:
        raise InvalidSerial(serial=value, model=model.model)
    products.check_serial_available(ctx.session, ctx.account, serial)
    return serial


def validate_purchase_date(ctx: FlowContext, value: dt.date) -> dt.date:
    if value > ctx.today:
        raise PurchaseDateInFuture(date=value)
    return value


def choices_site(ctx: FlowContext) -> list[Choice]:
    return site_choices(ctx, optional=True)


def validate_site(ctx: FlowContext, value: str) -> str:
    return validate_site_value(ctx, value, optional=True)


def prompt_confirm(ctx: FlowContext) -> dict[str, Any]:
    model = catalog.get_model(ctx.session, ctx.values["model"])
    return {
        "account": account_summary(ctx),
        "model": model.model,
        "model_name": model.name,
        "serial": ctx.values["serial"],
        "purchase_date": ctx.texts.date(ctx.date("purchase_date") or ctx.today),
        "site": site_summary(ctx),
    }


def on_confirm(ctx: FlowContext) -> list[Reply]:
    account = ensure_account(ctx)
    product = products.register_product(
        ctx.session,
        account,
        model=ctx.values["model"],
        serial=ctx.values["serial"],
        purchase_date=ctx.date("purchase_date") or ctx.today,
        site_id=resolve_site(ctx, account),
        today=ctx.today,
    )
    text = ctx.texts.render(
        "flows/register_product/done.j2", model=product.model, serial=product.serial
    )
    return [
        Reply(text, [Choice(ctx._(N_("activate a service")), ctx._(N_("Activate a DAS service")))])
    ]


FLOW = Flow(
    name="register_product",
    title=N_("registering a product"),
    slots=(
        *account_slots(),
        Slot("model", CHOICE),
        Slot("serial"),
        Slot("purchase_date", DATE),
        *site_slots(),
        Slot("confirm", YESNO),
    ),
    module=sys.modules[__name__],
)
