"""Which language the bot answers in (the language policy).

The remembered preference; else the profile locale; else the language of the message;
else the default. Writing a message long enough to be sure of its language
(`kb.detect_language` is None for short texts) in the other language switches; inside a
flow only a question or another request can, never an answer ("ok", a serial, a date, a
name, an incident description). Saying so ("in English please", "en français") switches.
So does a greeting outside a flow ("bonjour"), unless the profile's language contradicts
it; and a command in the profile's own language ("aide" from a French profile) brings it
back. A language asked for in so many words stays until the user asks for another,
whatever language their later messages are in.
"""

from __future__ import annotations

from bot.flows.engine import IDENTIFIER, OPEN, Slot
from bot.i18n import normalize_lang
from bot.nlu import Intent, identifier_in, is_sentence, looks_like_question
from bot.understanding import Reading

# Commands whose words tell their language ("bonjour", "aide", "annuler", "merci").
COMMANDS = frozenset({Intent.GREETING, Intent.HELP, Intent.CANCEL, Intent.BACK, Intent.THANKS})


def choose_language(
    *,
    remembered: str | None,
    profile_locale: str | None,
    default: str,
    reading: Reading,
    slot: Slot | None,
    in_flow: bool,
    chosen: bool = False,
) -> str:
    """The language of this turn's answer, from the message's one reading. `slot`: the
    question pending in a flow; `chosen`: the remembered language was asked for in so
    many words, so it stays."""
    if chosen and remembered:
        return remembered
    profile = normalize_lang(profile_locale)
    current = remembered or profile
    detected = reading.lang if may_switch(reading, slot, in_flow=in_flow) else None
    command = reading.intent if reading.kind == "command" else None
    if detected is None and remembered and command in COMMANDS:
        # "bonjour", "aide" are too short to detect, but said in one language: the
        # profile's language comes back with them anywhere; without a profile, only a
        # greeting outside a flow switches ("help" is everybody's word).
        greeting_anywhere = profile is None and not in_flow and command is Intent.GREETING
        if reading.hint is not None and (reading.hint == profile or greeting_anywhere):
            detected = reading.hint
    if current is None:
        hint = reading.hint if not in_flow else None
        return detected or hint or normalize_lang(default) or "en"
    return detected or current


def may_switch(reading: Reading, slot: Slot | None, *, in_flow: bool) -> bool:
    """Inside a flow, an answer (a date, "oui", a serial, a description) keeps the
    language; a question or another request in the other language switches it."""
    if not in_flow:
        return True
    if slot is not None and slot.answer == OPEN:
        return False
    text = reading.text
    if (
        slot is not None
        and slot.answer == IDENTIFIER
        and is_sentence(text)
        and identifier_in(text) is None
    ):
        return True  # no serial or code is a sentence: a question, answered as such
    return reading.asking or looks_like_question(text) or reading.kind in ("request", "command")
