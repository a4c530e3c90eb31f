"""Product registration: model, serial number, purchase date, optional site, confirm."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any

from bot.flows.common import (
    account_fields,
    account_slots,
    ensure_account,
    model_named,
    resolve_site,
    site_field,
    site_slots,
)
from bot.flows.engine import (
    CHOICE,
    CONFIRM,
    DATE,
    IDENTIFIER,
    Choice,
    Field,
    Flow,
    FlowContext,
    Invalid,
    Reply,
    Slot,
)
from services import catalog, products
from services.errors import N_, InvalidSerial, ModelNotFound


def choices_model(ctx: FlowContext) -> list[Choice]:
    return [Choice(m.model, f"{m.model} — {m.name}") for m in catalog.list_models(ctx.session)]


def validate_model(ctx: FlowContext, value: str) -> str:
    try:
        return catalog.get_model(ctx.session, value).model
    except ModelNotFound:
        named = model_named(ctx, value)
        if named is not None and named.model is not None:
            return named.model
        if named is not None and named.candidates:
            raise Invalid(
                N_("Several models match “{query}”: {models}. Which one is it?"),
                query=value,
                models=", ".join(named.candidates),
            ) from None
        close = _close_model(ctx, value)
        if close is not None:  # "DGS-1210-82": two digits swapped
            raise Invalid(
                N_("{model} is not in the product catalogue. Did you mean {close}?"),
                model=value.strip(),
                close=close,
            ) from None
        raise


def _close_model(ctx: FlowContext, value: str) -> str | None:
    """The one catalogue model spelled almost like `value`, if there is one."""
    key = re.sub(r"[^A-Z0-9]", "", value.upper())
    if len(key) < 5 or not any(ch.isdigit() for ch in key):
        return None
    models = {
        re.sub(r"[^A-Z0-9]", "", m.model.upper()): m.model for m in catalog.list_models(ctx.session)
    }
    close = difflib.get_close_matches(key, list(models), n=2, cutoff=0.8)
    return models[close[0]] if len(close) == 1 else None


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
    products.check_purchase_date(value, today=ctx.today)
    return value


def summary_confirm(ctx: FlowContext) -> list[Field]:
    model = catalog.get_model(ctx.session, ctx.values["model"])
    fields = [
        *account_fields(ctx),
        Field(ctx._(N_("Model:")), f"{model.model} ({model.name})"),
        Field(ctx._(N_("Serial number:")), ctx.values["serial"]),
        Field(
            ctx._(N_("Purchase date:")),
            ctx.texts.date(ctx.date("purchase_date") or ctx.today),
        ),
    ]
    site = site_field(ctx)
    return [*fields, site] if site.value else fields


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
    return [Reply(text, [Choice("flow:activate_service", ctx._(N_("Activate a DAS service")))])]


FLOW = Flow(
    name="register_product",
    title=N_("registering a product"),
    label=N_("Register a product"),
    slots=(
        *account_slots(),
        Slot(
            "model",
            CHOICE,
            label=N_("Model"),
            choices=choices_model,
            validate=validate_model,
            search=True,
        ),
        Slot(
            "serial",
            label=N_("Serial number"),
            requires=("model",),
            validate=validate_serial,
            prompt=prompt_serial,
            answer=IDENTIFIER,
        ),
        Slot(
            "purchase_date",
            DATE,
            label=N_("Purchase date"),
            validate=validate_purchase_date,
            not_after_today=True,
        ),
        *site_slots(optional=True),
        Slot("confirm", CONFIRM, summary=summary_confirm),
    ),
    on_confirm=on_confirm,
)
