"""Forms: all of a flow's fields at once (a Slack modal), with the conversation's rules.

`spec(flow, ctx)` describes the fields in slot order, for this user (the account's sites,
products and subscriptions as options; onboarding fields only for a user with no
account). `submit(flow, ctx, fields)` reads and validates each field exactly as the
conversation reads an answer (`engine.parse`: the slot's kind, then its validator), in
slot order so that a field is checked against those it `requires` (the serial against
the model); a field whose dependency is wrong is not checked (its own error would be
noise). Errors come back by slot, in the user's language; when there are none the flow's
action runs once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.flows.engine import (
    CONFIRM,
    YESNO,
    Choice,
    Flow,
    FlowContext,
    Invalid,
    Refused,
    Reply,
    choices_for,
    confirm,
    error_text,
    parse,
)
from bot.media import to_plain
from services.errors import N_, Refusal


@dataclass(frozen=True)
class FormField:
    slot: str  # the key a submitted value is given under
    kind: str  # text | choice | yesno | date
    label: str  # plain text, in the user's language
    options: list[Choice] = field(default_factory=list)
    optional: bool = False
    initial: str | None = None
    max_date: dt.date | None = None
    requires: tuple[str, ...] = ()
    shown_when: tuple[str, str] | None = None  # (slot, value): only then does it matter
    secret: bool = False
    search: bool = False
    widget: str | None = None  # multiline, checkbox, or the kind's usual one

    def to_json(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "kind": self.kind,
            "label": self.label,
            "options": [o.to_json() for o in self.options],
            "optional": self.optional,
            "initial": self.initial,
            "max_date": self.max_date.isoformat() if self.max_date else None,
            "requires": list(self.requires),
            "shown_when": list(self.shown_when) if self.shown_when else None,
            "secret": self.secret,
            "search": self.search,
            "widget": self.widget,
        }


@dataclass
class FormSpec:
    flow: str
    title: str  # plain text, in the user's language (fits a modal's 24 characters)
    fields: list[FormField]
    # When the flow cannot start for this user (no product to activate a service on,
    # only free subscriptions): why, and the form should not be offered.
    unavailable: list[Reply] = field(default_factory=list)


@dataclass
class FormResult:
    errors: dict[str, str]  # slot → plain text, in the user's language
    replies: list[Reply]  # the action's replies (or why it could not be done)
    lang: str
    done: bool = False  # the action ran (or had already run for this idempotency key)
    run_id: str | None = None  # the run the replies' choices are bound to, if any

    @property
    def ok(self) -> bool:
        return self.done and not self.errors


def spec(flow: Flow, ctx: FlowContext) -> FormSpec:
    stop = flow.on_start(ctx) if flow.on_start is not None else None
    fields = []
    for slot in flow.slots:
        if slot.kind == CONFIRM or (slot.needed is not None and not slot.needed(ctx)):
            continue
        fields.append(
            FormField(
                slot=slot.store,
                kind=slot.kind,
                label=ctx._(slot.label) if slot.label else slot.name,
                options=choices_for(ctx, slot) if not stop else [],
                optional=slot.optional,
                initial=slot.initial(ctx) if slot.initial is not None and not stop else None,
                max_date=ctx.today if slot.not_after_today else None,
                requires=slot.requires,
                shown_when=slot.shown_when,
                secret=slot.secret,
                search=slot.search,
                widget=slot.widget,
            )
        )
    return FormSpec(flow.name, ctx._(flow.label), fields, list(stop or []))


def submit(
    flow: Flow, ctx: FlowContext, fields: dict[str, str], *, run_id: str | None = None
) -> FormResult:
    # The run id is the action's idempotency key (an incident is filed once per key).
    ctx.run_id = run_id or uuid.uuid4().hex
    ctx.values = {}
    stop = flow.on_start(ctx) if flow.on_start is not None else None
    if stop:
        return FormResult({}, list(stop), ctx.texts.lang)
    errors: dict[str, str] = {}
    for slot in flow.slots:
        if slot.kind == CONFIRM or not slot.is_needed(ctx):
            continue
        if any(dep not in ctx.values for dep in slot.requires):
            continue  # checked against a field that is wrong: that field's error says it
        raw = (fields.get(slot.store) or "").strip()
        if not raw and slot.kind == YESNO:
            raw = "no"  # an unticked box
        if not raw:
            if slot.optional:
                ctx.values = {**ctx.values, slot.store: ""}
            else:
                errors[slot.store] = ctx._(N_("Please fill in this field."))
            continue
        try:
            ctx.values = {**ctx.values, slot.store: parse(ctx, slot, raw)}
        except (Invalid, Refusal) as err:
            errors[slot.store] = to_plain(error_text(ctx, err))
    if errors:
        return FormResult(errors, [], ctx.texts.lang)
    if flow.on_confirm is not None:
        replies = confirm(flow, ctx)
        done = not any(isinstance(reply, Refused) for reply in replies)
        return FormResult({}, replies, ctx.texts.lang, done=done)
    assert flow.on_complete is not None
    return FormResult({}, list(flow.on_complete(ctx)), ctx.texts.lang, done=True)
