"""Filing an incident: subscription (or product), summary, description, confirm.

Free tiers are refused kindly, with the self-help resources. A registered product with an
active DAS service is offered beside the subscriptions ("request assistance for my
product", services.product_support): the incident hangs on the product and its service,
and a response time is promised only when the catalogue gives one for that service. The incident is filed with
an idempotency key unique to this flow run, so a confirm delivered twice (a retry, a
double click, two processes) files one incident.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.flows.engine import (
    CHOICE,
    CONFIRM,
    MULTILINE,
    OPEN,
    Choice,
    Field,
    Flow,
    FlowContext,
    Invalid,
    Refused,
    Reply,
    Slot,
)
from bot.i18n import shorten
from bot.metrics import INCIDENTS_FILED
from bot.nlu import parse_yes_no
from services import incidents, sla, subscriptions
from services.errors import N_, FreeTierNoIncidents, SubscriptionNotFound
from services.product_support import ProductSupport, product_support, supported_products
from storage.models import Subscription

# The slot's value for a product: "product:<serial>" (a subscription's is its name).
PRODUCT = "product:"

SUMMARY_MAX = incidents.SUMMARY_MAX
DESCRIPTION_SHOWN = 600

_CHANNELS = {
    "phone": N_("phone"),
    "email": N_("e-mail"),
    "web": N_("web"),
    "self-service": N_("online self-service"),
}


def _subscriptions(ctx: FlowContext) -> list[Subscription]:
    if ctx.account is None:
        return []
    return subscriptions.list_subscriptions(ctx.session, ctx.account)


def _products(ctx: FlowContext) -> list[ProductSupport]:
    if ctx.account is None:
        return []
    return supported_products(ctx.session, ctx.account, today=ctx.today)


def on_start(ctx: FlowContext) -> list[Reply] | None:
    held = _subscriptions(ctx)
    if _products(ctx):
        return None  # help on a product is open whatever the subscriptions
    if not held:
        return [Reply(ctx.texts.render("flows/file_incident/no_subscription.j2"))]
    if all(s.tier != "paid" for s in held):
        self_help = ctx.texts.render("flows/file_incident/self_help.j2")
        free = _all_free(ctx, [s.service for s in held])
        return [Refused(free, reason=FreeTierNoIncidents.__name__), Reply(self_help)]
    return None


def _all_free(ctx: FlowContext, services: list[str]) -> str:
    if len(services) == 1:
        return ctx.texts.refusal(FreeTierNoIncidents(service=services[0]))
    # The domain refusal names one subscription; several need their own (plural) sentence.
    return ctx._(
        N_(
            "Your subscriptions {services} are all free: free subscribers get self-help "
            "(knowledge base, forums, documentation, white papers, best-practice guides) but "
            "cannot file incidents. A paid subscription includes premium support."
        )
    ).format(services=ctx.texts.join(services))


def tier_label(ctx: FlowContext, subscription: Subscription) -> str:
    if subscription.tier == "paid":
        return ctx._(N_("type {type}, paid")).format(type=subscription.type)
    return ctx._(N_("type {type}, free")).format(type=subscription.type)


def product_label(ctx: FlowContext, support: ProductSupport) -> str:
    return ctx._(N_("{model} {serial} (DAS: {service})")).format(
        model=support.product.model, serial=support.product.serial, service=support.service.service
    )


def choices_subscription(ctx: FlowContext) -> list[Choice]:
    # Paid first: those are the ones an incident can be filed on; then the products under
    # an active DAS service; the free subscriptions last (picked, they are refused kindly).
    ordered = sorted(_subscriptions(ctx), key=lambda s: (s.tier != "paid", s.service.casefold()))
    paid = [
        Choice(s.service, f"{s.service} ({tier_label(ctx, s)})")
        for s in ordered
        if s.tier == "paid"
    ]
    products = [Choice(PRODUCT + p.product.serial, product_label(ctx, p)) for p in _products(ctx)]
    free = [
        Choice(s.service, f"{s.service} ({tier_label(ctx, s)})")
        for s in ordered
        if s.tier != "paid"
    ]
    return [*paid, *products, *free]


def _support(ctx: FlowContext) -> ProductSupport | None:
    """The product the incident is on, when it is on one."""
    value = ctx.values.get("subscription", "")
    if ctx.account is None or not value.startswith(PRODUCT):
        return None
    return product_support(ctx.session, ctx.account, value[len(PRODUCT) :], today=ctx.today)


def validate_subscription(ctx: FlowContext, value: str) -> str:
    assert ctx.account is not None
    if value.startswith(PRODUCT):
        serial = value[len(PRODUCT) :]
        return (
            PRODUCT
            + product_support(ctx.session, ctx.account, serial, today=ctx.today).product.serial
        )
    try:
        subscription = subscriptions.get_subscription(ctx.session, ctx.account, value)
    except SubscriptionNotFound:
        # A product's serial or model typed instead of picked from the list.
        wanted = value.strip().upper().replace(" ", "").replace("-", "")
        for p in _products(ctx):
            if wanted in (p.product.serial, p.product.model.upper().replace("-", "")):
                return PRODUCT + p.product.serial
        raise
    if subscription.tier != "paid":
        raise FreeTierNoIncidents(service=subscription.service)
    return subscription.service


def validate_description(ctx: FlowContext, value: str) -> str:
    """A problem told in words: "oui" or "ok" typed where it is asked is no description."""
    if parse_yes_no(value) is not None and len(value.split()) <= 2:
        raise Invalid(N_("Please describe the problem in a few words."))
    return value


def validate_summary(ctx: FlowContext, value: str) -> str:
    validate_description(ctx, value)
    if len(value) > SUMMARY_MAX:
        raise Invalid(N_("That is too long: at most {limit} characters."), limit=SUMMARY_MAX)
    return value


def channels_text(ctx: FlowContext, subscription: Subscription) -> str:
    names = sla.support_channels(subscription.type, subscription.tier)
    return ctx.texts.join([ctx._(_CHANNELS.get(name, name)) for name in names])


def _subscription(ctx: FlowContext) -> Subscription:
    assert ctx.account is not None
    return subscriptions.get_subscription(ctx.session, ctx.account, ctx.values["subscription"])


def _on(ctx: FlowContext) -> list[Field]:
    support = _support(ctx)
    if support is None:
        return [Field(ctx._(N_("Subscription:")), _subscription(ctx).service)]
    return [
        Field(ctx._(N_("Product:")), f"{support.product.model} {support.product.serial}"),
        Field(ctx._(N_("DAS service:")), support.service.service),
    ]


def summary_confirm(ctx: FlowContext) -> list[Field]:
    return [
        *_on(ctx),
        Field(ctx._(N_("Summary:")), ctx.values["summary"]),
        # The whole description is filed; the summary to check shows its beginning.
        Field(ctx._(N_("Description:")), shorten(ctx.values["description"], DESCRIPTION_SHOWN)),
    ]


def prompt_confirm(ctx: FlowContext) -> dict[str, Any]:
    support = _support(ctx)
    if support is not None:
        hours = support.hours
        return {"target": ctx.texts.duration(dt.timedelta(hours=hours)) if hours else None}
    subscription = _subscription(ctx)
    hours = sla.first_response_hours(subscription.type, subscription.tier) or 0
    return {"target": ctx.texts.duration(dt.timedelta(hours=hours))}


def on_confirm(ctx: FlowContext) -> list[Reply]:
    assert ctx.account is not None
    support = _support(ctx)
    if support is not None:
        return _on_product(ctx, support)
    subscription = _subscription(ctx)
    incident = incidents.create_incident(
        ctx.session,
        ctx.account,
        service=subscription.service,
        summary=ctx.values["summary"],
        description=ctx.values["description"],
        actor=ctx.account.email,
        lang=ctx.texts.lang,
        idempotency_key=ctx.run_id,
        now=ctx.now,
        calendar=sla.SupportCalendar(ctx.settings.support_tz),
    )
    if incident.created_at == ctx.now:  # not the one a repeated submission found again
        INCIDENTS_FILED.inc()
    hours = sla.first_response_hours(subscription.type, subscription.tier) or 0
    assert incident.first_response_due is not None  # a subscription always promises one
    text = ctx.texts.render(
        "flows/file_incident/done.j2",
        number=incident.number,
        due=ctx.texts.datetime(incident.first_response_due),
        target=ctx.texts.duration(dt.timedelta(hours=hours)),
        channels=channels_text(ctx, subscription),
        english_note=ctx.texts.lang != "en",
    )
    return [Reply(text, [Choice("list:incidents", ctx._(N_("My incidents")))])]


def _on_product(ctx: FlowContext, support: ProductSupport) -> list[Reply]:
    assert ctx.account is not None
    incident = incidents.create_incident(
        ctx.session,
        ctx.account,
        product=support.product.serial,
        summary=ctx.values["summary"],
        description=ctx.values["description"],
        actor=ctx.account.email,
        lang=ctx.texts.lang,
        idempotency_key=ctx.run_id,
        now=ctx.now,
        calendar=sla.SupportCalendar(ctx.settings.support_tz),
    )
    due = incident.first_response_due
    text = ctx.texts.render(
        "flows/file_incident/done_product.j2",
        number=incident.number,
        product=f"{support.product.model} {support.product.serial}",
        service=support.service.service,
        due=ctx.texts.datetime(due) if due else None,
        target=ctx.texts.duration(dt.timedelta(hours=support.hours)) if support.hours else None,
        english_note=ctx.texts.lang != "en",
    )
    return [Reply(text, [Choice("list:incidents", ctx._(N_("My incidents")))])]


FLOW = Flow(
    name="file_incident",
    title=N_("reporting an incident"),
    label=N_("Report an incident"),
    slots=(
        Slot(
            "subscription",
            CHOICE,
            label=N_("Subscription"),
            choices=choices_subscription,
            validate=validate_subscription,
            prompt=lambda ctx: {"products": bool(_products(ctx))},
        ),
        Slot("summary", label=N_("Summary"), validate=validate_summary, answer=OPEN),
        Slot(
            "description",
            label=N_("Description"),
            validate=validate_description,
            answer=OPEN,
            widget=MULTILINE,
        ),
        Slot("confirm", CONFIRM, summary=summary_confirm, prompt=prompt_confirm),
    ),
    on_start=on_start,
    on_confirm=on_confirm,
)
