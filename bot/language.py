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
from bot.nlu import Intent, identifier_in, is_sentence, language_hint, looks_like_question
from bot.nlu import understand as understand_text
from kb.lang import detect_language

# Commands whose words tell their language ("bonjour", "aide", "annuler", "merci").
COMMANDS = frozenset({Intent.GREETING, Intent.HELP, Intent.CANCEL, Intent.BACK, Intent.THANKS})


def choose_language(
    *,
    remembered: str | None,
    profile_locale: str | None,
    default: str,
    text: str,
    slot: Slot | None,
    in_flow: bool,
    chosen: bool = False,
) -> str:
    """The language of this turn's answer. `slot`: the question pending in a flow;
    `chosen`: the remembered language was asked for in so many words, so it stays."""
    if chosen and remembered:
        return remembered
    profile = normalize_lang(profile_locale)
    current = remembered or profile
    detected = detect_language(text) if may_switch(text, slot, in_flow=in_flow) else None
    intent = understand_text(text).intent if detected is None and remembered else None
    if intent in COMMANDS:
        # "bonjour", "aide" are too short to detect, but said in one language: the
        # profile's language comes back with them anywhere; without a profile, only a
        # greeting outside a flow switches ("help" is everybody's word).
        hint = language_hint(text)
        greeting_anywhere = profile is None and not in_flow and intent is Intent.GREETING
        if hint is not None and (hint == profile or greeting_anywhere):
            detected = hint
    if current is None:
        hint = language_hint(text) if not in_flow else None
        return detected or hint or normalize_lang(default) or "en"
    return detected or current


def may_switch(text: str, slot: Slot | None, *, in_flow: bool) -> bool:
    """Inside a flow, an answer (a date, "oui", a serial, a description) keeps the
    language; a question or another request in the other language switches it."""
    if not in_flow:
        return True
    if slot is not None and slot.answer == OPEN:
        return False
    if (
        slot is not None
        and slot.answer == IDENTIFIER
        and is_sentence(text)
        and identifier_in(text) is None
    ):
        return True  # no serial or code is a sentence: a question, answered as such
    return looks_like_question(text) or understand_text(text).intent is not Intent.QUESTION
