"""A person when asked ("I want to talk to someone", "un conseiller svp"): what the
customer's subscriptions give them.

A paid subscription includes premium support, and a product with an active DAS service
may get help too: the customer is offered to file an incident for the engineers, or to
add a message to one of their open incidents (the answer_incident flow). Free
subscribers, and customers with neither, are told what help they have (self-help) and
where to find it.
"""

from __future__ import annotations

import datetime as dt

from bot.flows.answer_incident import COMMAND as ANSWER_COMMAND
from bot.flows.engine import Choice, FlowContext, Reply
from bot.flows.incident import channels_text
from services import incidents, sla, subscriptions
from services.errors import N_
from services.product_support import supported_products


def person(ctx: FlowContext) -> list[Reply]:
    held = (
        subscriptions.list_subscriptions(ctx.session, ctx.account)
        if ctx.account is not None
        else []
    )
    paid = [s for s in held if s.tier == "paid"]
    products = (
        supported_products(ctx.session, ctx.account, today=ctx.today)
        if ctx.account is not None
        else []
    )
    if not paid and not products:
        services = ctx.texts.join([s.service for s in held])
        return [Reply(ctx.texts.render("flows/person/free.j2", services=services))]
    assert ctx.account is not None
    open_incidents = [
        i
        for i in incidents.list_incidents(ctx.session, account=ctx.account)
        if i.status in incidents.OPEN_STATUSES
    ]
    offered: list[dict[str, str | None]] = [
        {
            "service": s.service,
            "target": ctx.texts.duration(
                dt.timedelta(hours=sla.first_response_hours(s.type, s.tier) or 0)
            ),
            "channels": channels_text(ctx, s),
        }
        for s in paid
    ]
    offered += [
        {
            "service": f"{p.product.model} {p.product.serial} (DAS: {p.service.service})",
            "target": ctx.texts.duration(dt.timedelta(hours=p.hours)) if p.hours else None,
            "channels": None,
        }
        for p in products
    ]
    text = ctx.texts.render(
        "flows/person/paid.j2",
        services=offered,
        open=bool(open_incidents),
        english_note=ctx.texts.lang != "en",
    )
    choices = [Choice("flow:file_incident", ctx._(N_("Report an incident")))]
    choices += [
        Choice(
            f"{ANSWER_COMMAND}{i.number}",
            ctx._(N_("Add to {number} — {summary}")).format(number=i.number, summary=i.summary),
        )
        for i in reversed(open_incidents)
    ]
    return [Reply(text, choices)]
