"""DAS activation: terms, product, code, service purchase date, site, confirm.

The code is checked at its own step (so a wrong code is refused right away and counts
for the rate limit), checked again with the service purchase date, and the activation
itself re-checks everything under a lock at confirm time: a code is used once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from bot.flows.common import model_named, resolve_site, site_field, site_slots
from bot.flows.engine import (
    CHECKBOX,
    CHOICE,
    CONFIRM,
    DATE,
    IDENTIFIER,
    YESNO,
    Choice,
    Field,
    Flow,
    FlowContext,
    Invalid,
    Reply,
    Slot,
    refused,
)
from bot.nlu import content_words, parse_yes_no
from services import catalog, das, products
from services.codes import could_be_code
from services.errors import (
    N_,
    CodeWrongModel,
    ProductNotFound,
    Refusal,
    ServiceAlreadyActive,
    ServicePurchaseDateRequired,
    TermsNotAccepted,
    TooManyCodeAttempts,
)
from storage.models import ActivationCode, RegisteredProduct

# Shorter answers are never looked up as codes (nor counted as wrong ones).
MIN_CODE_LENGTH = 4


def on_start(ctx: FlowContext) -> list[Reply] | None:
    if ctx.account is None or not products.list_products(ctx.session, ctx.account):
        text = ctx.texts.render("flows/activate_service/no_product.j2")
        return [Reply(text, [Choice("flow:register_product", ctx._(N_("Register a product")))])]
    try:
        das.refuse_if_locked(
            ctx.session,
            ctx.account,
            now=ctx.now,
            max_failures=ctx.settings.code_failures_per_hour,
        )
    except TooManyCodeAttempts as err:
        return [refused(ctx, err)]
    return None


def validate_terms(ctx: FlowContext, value: bool) -> bool:
    if not value:
        raise TermsNotAccepted()
    return value


def choices_product(ctx: FlowContext) -> list[Choice]:
    assert ctx.account is not None  # on_start stops the flow without an account
    return [
        Choice(p.serial, f"{p.model} — {p.serial}")
        for p in products.list_products(ctx.session, ctx.account)
    ]


def product_label(ctx: FlowContext, serial: str) -> str:
    """A product as its choice reads: its model and serial."""
    labels = {choice.value: choice.label for choice in choices_product(ctx)}
    return labels.get(serial, serial)


def validate_product(ctx: FlowContext, value: str) -> str:
    """A serial of one of the user's products, or a search among them."""
    assert ctx.account is not None
    try:
        return products.get_product(ctx.session, ctx.account, value).serial
    except ProductNotFound:
        pass
    matches = products.find_products(
        ctx.session, ctx.account, " ".join(content_words(value)) or value
    )
    if len(matches) == 1:
        return matches[0].serial
    if len(matches) > 1:
        raise Invalid(
            N_("Several of your products match “{query}”: pick one in the list."), query=value
        )
    named = model_named(ctx, value)
    if named is not None and named.model is not None:  # a model, none of the user's
        raise Invalid(
            N_(
                "You have no {model} registered. Register it first (say “register a "
                "product”), then activate the service."
            ),
            model=named.model,
        )
    if not any(ch.isdigit() for ch in value):  # words, not a serial: a search found nothing
        raise Invalid(
            N_(
                "None of your products matches “{query}”: pick one in the list, or register "
                "it first (say “register a product”)."
            ),
            query=value,
        )
    serial = catalog.normalize_serial(value)
    if products.serial_registered(ctx.session, serial):
        raise ProductNotFound(serial=serial)
    raise Invalid(
        N_(
            "No product with serial number {serial} is registered. Register it first "
            "(say “register a product”), then activate the service."
        ),
        serial=serial,
    )


def _product(ctx: FlowContext) -> RegisteredProduct:
    assert ctx.account is not None
    return products.get_product(ctx.session, ctx.account, ctx.values["product"])


def _check(ctx: FlowContext, code: str, service_purchase_date: dt.date | None) -> ActivationCode:
    assert ctx.account is not None
    return das.check_code(
        ctx.session,
        ctx.account,
        _product(ctx),
        code,
        service_purchase_date,
        now=ctx.now,
        max_failures=ctx.settings.code_failures_per_hour,
    )


def prompt_code(ctx: FlowContext) -> dict[str, Any]:
    assert ctx.account is not None
    product = _product(ctx)
    active = [
        {"service": s.service, "ends_on": ctx.texts.date(s.ends_on)}
        for s in das.services_on_product(ctx.session, ctx.account, product.serial)
        if s.ends_on > ctx.today
    ]
    return {"model": product.model, "serial": product.serial, "active": active}


def validate_code(ctx: FlowContext, value: str) -> str:
    if any(star in value for star in "*•"):
        # A code as the bot or the admin CLI shows it once used: no look-up, no failure.
        raise Invalid(
            N_("That code is masked. Type the whole code, as it appears in your supplier's e-mail.")
        )
    if len(das.normalize_code(value)) < MIN_CODE_LENGTH or not could_be_code(value):
        # "oui", "2", "un instant svp": an answer to another question or conversation,
        # not a guess to count.
        raise Invalid(
            N_(
                "That does not look like an activation code. Copy it from your supplier's "
                "e-mail, e.g. ABCD-1234-EFGH."
            )
        )
    # The code is fine without its purchase date: that date is the next question.
    with contextlib.suppress(ServicePurchaseDateRequired):
        _check(ctx, value, None)
    return das.seal_code(ctx.session, value)


def hold_code(ctx: FlowContext, value: str) -> str:
    """A code named before its product is chosen waits for it sealed, as the step keeps it."""
    return das.seal_code(ctx.session, value)


def _recorded_purchase_date(ctx: FlowContext) -> dt.date | None:
    """The service purchase date the supplier gave with the code, when it is known."""
    try:
        return _check(ctx, ctx.values["code"], None).purchase_date
    except Refusal:  # no recorded date (or the code no longer fits: the next step says so)
        return None


def prompt_service_purchase_date(ctx: FlowContext) -> dict[str, Any]:
    recorded = _recorded_purchase_date(ctx)
    return {"recorded": ctx.texts.date(recorded) if recorded else None}


def initial_service_purchase_date(ctx: FlowContext) -> str | None:
    recorded = _recorded_purchase_date(ctx) if "code" in ctx.values else None
    return recorded.isoformat() if recorded else None


def prefer_service_purchase_date(ctx: FlowContext, text: str) -> dt.date | None:
    """ "Yes" takes the date recorded for the code (the question shows it)."""
    return _recorded_purchase_date(ctx) if parse_yes_no(text) else None


def validate_service_purchase_date(ctx: FlowContext, value: dt.date) -> dt.date:
    # The service's rules, in its order: a date in the future, one that differs from the
    # recorded date, one past the 90 days.
    _check(ctx, ctx.values["code"], value)
    return value


def _period(ctx: FlowContext) -> tuple[ActivationCode, dt.date, dt.date]:
    code = _check(ctx, ctx.values["code"], ctx.date("service_purchase_date"))
    starts_on, ends_on = das.service_period(ctx.now.date(), code.duration_months)
    return code, starts_on, ends_on


def summary_confirm(ctx: FlowContext) -> list[Field]:
    product = _product(ctx)
    code, _, _ = _period(ctx)
    fields = [
        Field(ctx._(N_("Service:")), code.service),
        Field(ctx._(N_("Product:")), f"{product.model} ({product.serial})"),
        Field(ctx._(N_("Activation code:")), das.mask_code(ctx.values["code"])),
        Field(
            ctx._(N_("Service purchase date:")),
            ctx.texts.date(ctx.date("service_purchase_date") or ctx.today),
        ),
    ]
    return [*fields, site_field(ctx)]


def prompt_confirm(ctx: FlowContext) -> dict[str, Any]:
    _, starts_on, ends_on = _period(ctx)
    return {"starts_on": ctx.texts.date(starts_on), "ends_on": ctx.texts.date(ends_on)}


def on_confirm(ctx: FlowContext) -> list[Reply]:
    assert ctx.account is not None
    activated = das.activate(
        ctx.session,
        ctx.account,
        serial=ctx.values["product"],
        code=ctx.values["code"],
        service_purchase_date=ctx.date("service_purchase_date"),
        site_id=resolve_site(ctx, ctx.account) or 0,
        accept_terms=bool(ctx.values.get("terms")),
        now=ctx.now,
        max_failures=ctx.settings.code_failures_per_hour,
    )
    text = ctx.texts.render(
        "flows/activate_service/done.j2",
        service=activated.service,
        serial=ctx.values["product"],
        starts_on=ctx.texts.date(activated.starts_on),
        ends_on=ctx.texts.date(activated.ends_on),
    )
    return [Reply(text, [Choice("list:services", ctx._(N_("My services")))])]


FLOW = Flow(
    name="activate_service",
    title=N_("activating a DAS service"),
    label=N_("Activate a DAS service"),
    slots=(
        Slot(
            "terms",
            YESNO,
            label=N_("I accept the D-Link Assist terms and conditions"),
            validate=validate_terms,
            widget=CHECKBOX,
            ends=(Refusal,),
        ),
        Slot(
            "product",
            CHOICE,
            label=N_("Product"),
            choices=choices_product,
            validate=validate_product,
            noted=product_label,
            search=True,
        ),
        Slot(
            "code",
            label=N_("Activation code"),
            requires=("product",),
            validate=validate_code,
            hold=hold_code,
            blames=(CodeWrongModel, ServiceAlreadyActive),
            ends=(TooManyCodeAttempts,),
            prompt=prompt_code,
            answer=IDENTIFIER,
            secret=True,
        ),
        Slot(
            "service_purchase_date",
            DATE,
            label=N_("Service purchase date"),
            requires=("code",),
            validate=validate_service_purchase_date,
            prompt=prompt_service_purchase_date,
            prefer=prefer_service_purchase_date,
            initial=initial_service_purchase_date,
            not_after_today=True,
        ),
        *site_slots(optional=False),
        Slot("confirm", CONFIRM, summary=summary_confirm, prompt=prompt_confirm),
    ),
    on_start=on_start,
    on_confirm=on_confirm,
)
