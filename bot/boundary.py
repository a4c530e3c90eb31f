"""The boundary between the conversation engine and a channel (Slack, terminal, JSONL).

Read this module to build a channel (the design behind it: docs/design.md, "Architecture"). Everything a channel needs is here; nothing here
knows Slack, and nothing below it knows how a channel lays things out.

Entry points (`bot.conversation.Assistant`, one transaction per call, safe from several
processes; every call returns an `Outcome` or a `FormResult` in the user's language):

    assistant.handle(user, text)                  # a message the user typed
    assistant.act(user, Action(run_id, slot, value, idempotency_key))
                                                  # a button, a select, a date picker
    assistant.choices(user, run_id, slot)         # read-only: the choices of that open
                                                  #   question (a type-ahead loading its
                                                  #   options), [] once it is closed
    assistant.forms(user)                         # the flows a form (modal) can fill,
    assistant.form(user, "register_product")      #   with their fields: a `FormSpec`
    assistant.submit_form(user, "register_product", {"model": ..., "serial": ...},
                          idempotency_key=...)    # a whole form at once: a `FormResult`

`user` is a `ChatUser`: (workspace, user, thread) plus what the profile says (e-mail,
name, time zone, locale). A conversation is keyed by (workspace, user, thread).

Out: typed replies
------------------
`Outcome.replies` is a list of `Reply`. Every reply has `text`: the whole message in the
neutral markup below, enough for a text-only channel; its subclass says what it is, with
the structured fields a rich channel lays out instead:

  - `Reply`         a plain message (`type == "message"`);
  - `Prompt`        a question for one slot of a flow run (or "Do you mean … or …?",
                    slot "which_article": two articles and "neither"): `slot`, `kind` (text, choice,
                    yesno, date, confirm), `options` (= `choices`), `max_date`/`min_date`,
                    `initial`, `secret` (never echo, never keep in a history), `search`
                    (a long list: offer a type-ahead), `numbered` (a number typed picks
                    an option by position), `widget` ("multiline" text, a
                    "checkbox" for an agreement, or None: the kind's usual one);
  - `Confirmation`  a `Prompt` of kind confirm with the summary to check: `fields`, a
                    list of `Field(label, value)`;
  - `ArticleAnswer` a knowledge-base answer: `title`, `summary` (Markdown), `body`
                    (Markdown, the whole article when asked for), `slug`, `lang`, `link`
                    (the choice that opens the whole article), `related`, `feedback`;
  - `ItemList`      a list of typed items: `of` is "products", "services" or
                    "incidents" and `items` are `ProductItem`, `ServiceItem`,
                    `IncidentItem` with their fields;
  - `Refused`       an answer or a request the bot cannot accept, with why (`reason`).

`Reply.choices` are what the user may pick next: `Choice(value, label)`. A label is plain
text of at most `LABEL_MAX` (75) characters, Slack's limit for a button or an option; put
it in a `plain_text` object. A value is an opaque token: send it back unchanged in an
`Action` (never show it, never translate it).

Every reply that offers choices belongs to the run shown in `Outcome.run_id` and has an
`action_slot` (the slot an `Action` for its choices names). `Outcome.waiting_for` names the
slot the bot expects next, or None.

In: text or an action
---------------------
A button click is `Action(run_id, slot, value, idempotency_key)`: the outcome's `run_id`,
the reply's `action_slot`, the choice's `value`, and a key unique to the click (Slack's
`action_ts` with the message's ts, for instance). A date picker sends the ISO date as the
value; a free-text slot accepts any value. An action for a run that is no longer current
(an old button), or for a question already answered, is refused politely and changes
nothing; the same action sent twice (a retry, a double click) changes nothing the second
time.

Forms
-----
`Assistant.form(user, flow)` describes a flow's fields in slot order (`FormField`: slot,
kind, label, options, bounds, initial value, `optional`, `requires` — the slots whose
value this one is checked against, e.g. the serial needs the model — and `shown_when`,
a (slot, value) pair: the field matters only when that slot has that value, e.g. the new
site's street when the site is "new"). `submit_form` validates the fields in slot order
with the conversation's own validators and returns `FormResult.errors` (slot → message in
the user's language) or, when every field is valid, runs the flow's action once and
returns its replies (their choices bound to `FormResult.run_id`, like an outcome's). A
refused form writes nothing; the same idempotency key submitted again runs nothing.

Text and media
--------------
`Reply.text` and the labels of `Field`s are written in a neutral markup: `**bold**`,
lines starting with "• ", and `[label](url)` links; article Markdown is the same family.
Values that came from a user (or from any data) are wrapped in invisible markers where
they were interpolated, so each medium escapes them for itself:

  - `to_mrkdwn(text)` — Slack mrkdwn: `&`, `<`, `>` escaped (and only those), markup
    converted (`*bold*`, `<url|label>`), user values never turned into markup;
  - `to_terminal(text)` — `rich` console markup: user values shown as typed;
  - `to_plain(text)` — plain text (JSONL, logs, tests);
  - `escape_mrkdwn(value)` — for a raw value (an item's field, a `Field.value`) that a
    channel puts into mrkdwn itself.

`reply_mrkdwn(reply)` renders a whole reply, structured fields included, as mrkdwn.
"""

from __future__ import annotations

from bot.forms import FormField, FormResult, FormSpec
from bot.media import escape_mrkdwn, reply_mrkdwn, to_mrkdwn, to_plain, to_terminal
from bot.outcome import Action, Outcome
from bot.replies import (
    CHECKBOX,
    CHOICE,
    CONFIRM,
    DATE,
    KINDS,
    LABEL_MAX,
    MULTILINE,
    TEXT,
    YESNO,
    ArticleAnswer,
    ChatUser,
    Choice,
    Confirmation,
    Field,
    IncidentItem,
    ItemList,
    ProductItem,
    Prompt,
    Refused,
    Reply,
    ServiceItem,
)

__all__ = [
    "CHECKBOX",
    "CHOICE",
    "CONFIRM",
    "DATE",
    "KINDS",
    "LABEL_MAX",
    "MULTILINE",
    "TEXT",
    "YESNO",
    "Action",
    "ArticleAnswer",
    "ChatUser",
    "Choice",
    "Confirmation",
    "Field",
    "FormField",
    "FormResult",
    "FormSpec",
    "IncidentItem",
    "ItemList",
    "Outcome",
    "ProductItem",
    "Prompt",
    "Refused",
    "Reply",
    "ServiceItem",
    "escape_mrkdwn",
    "reply_mrkdwn",
    "to_mrkdwn",
    "to_plain",
    "to_terminal",
]
