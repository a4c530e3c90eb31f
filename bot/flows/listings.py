"""The read-only answers: my products, my services (with validity dates), my incidents.

Each reply carries its rows as `items` too, so a channel can lay them out as a table.
"""

from __future__ import annotations

from bot.flows.check_incident import report_choice, status_label
from bot.flows.common import site_label
from bot.flows.engine import Choice, FlowContext, Reply
from services import das, incidents, products
from services.errors import N_


def _register_choice(ctx: FlowContext) -> list[Choice]:
    return [Choice(ctx._(N_("register a product")), ctx._(N_("Register a product")))]


def my_products(ctx: FlowContext) -> list[Reply]:
    found = products.list_products(ctx.session, ctx.account) if ctx.account else []
    if not found:
        return [Reply(ctx._(N_("You have no registered product yet.")), _register_choice(ctx))]
    items = [
        {
            "model": p.model,
            "name": p.product_model.name,
            "serial": p.serial,
            "purchase_date": ctx.texts.date(p.purchase_date),
            "site": site_label(ctx, p.site) if p.site else "",
        }
        for p in found
    ]
    text = ctx.texts.render("lists/products.j2", items=items, count=len(items))
    return [Reply(text, items=items)]


def my_services(ctx: FlowContext) -> list[Reply]:
    found = das.list_services(ctx.session, ctx.account) if ctx.account else []
    if not found:
        choice = [Choice(ctx._(N_("activate a service")), ctx._(N_("Activate a DAS service")))]
        return [Reply(ctx._(N_("You have no activated DAS service yet.")), choice)]
    today = ctx.today
    items = [
        {
            "service": s.service,
            "model": s.product.model,
            "serial": s.product.serial,
            "starts_on": ctx.texts.date(s.starts_on),
            "ends_on": ctx.texts.date(s.ends_on),
            "state": "upcoming"
            if s.starts_on > today
            else ("active" if s.ends_on > today else "ended"),
        }
        for s in found
    ]
    text = ctx.texts.render("lists/services.j2", items=items, count=len(items))
    return [Reply(text, items=items)]


def my_incidents(ctx: FlowContext) -> list[Reply]:
    found = incidents.list_incidents(ctx.session, account=ctx.account) if ctx.account else []
    if not found:
        return [Reply(ctx._(N_("You have not reported any incident yet.")), report_choice(ctx))]
    items = [
        {
            "number": i.number,
            "summary": i.summary,
            "service": i.subscription.service,
            "status": status_label(ctx, i.status),
            "created": ctx.texts.date(i.created_at.astimezone(ctx.texts.zone).date()),
        }
        for i in reversed(found)
    ]
    text = ctx.texts.render("lists/incidents.j2", items=items, count=len(items))
    choices = [
        Choice(ctx._(N_("incident {number}")).format(number=i["number"]), str(i["number"]))
        for i in items[:10]
    ]
    return [Reply(text, choices, items=items)]
