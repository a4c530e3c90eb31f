"""The read-only answers: my products, my services (with validity dates), my subscriptions,
my incidents.

Each is an `ItemList` of typed items, so a channel can lay them out as a table; its text
is the same list in words.
"""

from __future__ import annotations

from bot.flows.check_incident import report_choice, status_label
from bot.flows.common import site_label
from bot.flows.engine import (
    Choice,
    FlowContext,
    IncidentItem,
    ItemList,
    ProductItem,
    Reply,
    ServiceItem,
)
from services import das, incidents, products, subscriptions
from services.errors import N_

UPCOMING = "upcoming"
ACTIVE = "active"
ENDED = "ended"
# A list offers to open at most this many of its incidents.
OPENED_FROM_LIST = 10


def my_products(ctx: FlowContext) -> list[Reply]:
    found = products.list_products(ctx.session, ctx.account) if ctx.account else []
    if not found:
        register = [Choice("flow:register_product", ctx._(N_("Register a product")))]
        return [Reply(ctx._(N_("You have no registered product yet.")), register)]
    items = [
        ProductItem(
            model=p.model,
            name=p.product_model.name,
            serial=p.serial,
            purchase_date=p.purchase_date,
            site=site_label(ctx, p.site) if p.site else "",
        )
        for p in found
    ]
    text = ctx.texts.render("lists/products.j2", items=items, count=len(items))
    return [ItemList(text, of="products", items=items)]


def my_services(ctx: FlowContext) -> list[Reply]:
    found = das.list_services(ctx.session, ctx.account) if ctx.account else []
    if not found:
        activate = [Choice("flow:activate_service", ctx._(N_("Activate a DAS service")))]
        return [Reply(ctx._(N_("You have no activated DAS service yet.")), activate)]
    today = ctx.today
    items = [
        ServiceItem(
            service=s.service,
            model=s.product.model,
            serial=s.product.serial,
            starts_on=s.starts_on,
            ends_on=s.ends_on,
            state=UPCOMING if s.starts_on > today else (ACTIVE if s.ends_on > today else ENDED),
        )
        for s in found
    ]
    text = ctx.texts.render("lists/services.j2", items=items, count=len(items))
    return [ItemList(text, of="services", items=items)]


def my_subscriptions(ctx: FlowContext) -> list[Reply]:
    found = subscriptions.list_subscriptions(ctx.session, ctx.account) if ctx.account else []
    if not found:
        return [Reply(ctx._(N_("You have no subscription service.")))]
    text = ctx.texts.render("lists/subscriptions.j2", items=found, count=len(found))
    paid = any(sub.tier == "paid" for sub in found)
    return [Reply(text, report_choice(ctx) if paid else [])]


def my_incidents(ctx: FlowContext) -> list[Reply]:
    found = incidents.list_incidents(ctx.session, account=ctx.account) if ctx.account else []
    if not found:
        return [Reply(ctx._(N_("You have not reported any incident yet.")), report_choice(ctx))]
    items = [
        IncidentItem(
            number=i.number or "",
            summary=i.summary,
            service=i.service_name,
            status=i.status,
            status_label=status_label(ctx, i.status),
            created=i.created_at.astimezone(ctx.texts.zone).date(),
        )
        for i in reversed(found)
    ]
    text = ctx.texts.render("lists/incidents.j2", items=items, count=len(items))
    choices = [Choice(f"incident:{i.number}", i.number) for i in items[:OPENED_FROM_LIST]]
    return [ItemList(text, choices, of="incidents", items=items)]
