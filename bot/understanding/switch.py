"""A request to change the conversation's language, and what else the message says.

A switch is a clause made only of a language's name and the words people wrap it in
("in English please", "en français svp", "can we switch to english?", "parle-moi en
anglais", "english pls"). Such a clause may open or close a longer message, separated by
punctuation or not: "in English please, I want to register a product", "en français svp
comment activer mon code", "how do I activate my code? in french please". A language
named inside a sentence about something else is not a request to switch: "do your
technicians speak French?", "is support available in English?".
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from bot.nlu import normalize, requested_language

LANGUAGES = {
    "english": "en",
    "anglais": "en",
    "anglai": "en",
    "englsih": "en",
    "inglish": "en",
    "french": "fr",
    "francais": "fr",
    "franciais": "fr",
    "fr": "fr",
    "en": None,  # "en" is French for "in": no language by itself
}
# Words that wrap a language's name in a request to switch, in either language.
WRAPPERS = frozenset(
    [
        "in",
        "en",
        "to",
        "into",
        "please",
        "pls",
        "plz",
        "svp",
        "stp",
        "s",
        "il",
        "vous",
        "plait",
        "te",
        "plait",
        "merci",
        "can",
        "could",
        "we",
        "you",
        "switch",
        "change",
        "swap",
        "go",
        "move",
        "passer",
        "passons",
        "passe",
        "passez",
        "parler",
        "parlez",
        "parle",
        "parles",
        "speak",
        "talk",
        "answer",
        "reply",
        "respond",
        "write",
        "repondre",
        "repondez",
        "reponds",
        "ecrire",
        "ecrivez",
        "ecris",
        "continue",
        "continuer",
        "continuons",
        "let",
        "lets",
        "us",
        "me",
        "moi",
        "with",
        "avec",
        "the",
        "language",
        "langue",
        "la",
        "le",
        "l",
        "on",
        "peut",
        "est",
        "ce",
        "qu",
        "que",
        "pourrait",
        "pourriez",
        "pouvez",
        "peux",
        "je",
        "voudrais",
        "veux",
        "would",
        "like",
        "i",
        "d",
        "prefer",
        "prefere",
        "rather",
        "now",
        "maintenant",
        "back",
        "again",
        "mode",
        "version",
        "do",
        "ok",
        "okay",
        "hi",
        "hello",
        "bonjour",
        "sorry",
        "pardon",
        "desole",
        "only",
        "seulement",
        "from",
        "here",
        "thanks",
        "thank",
    ]
)
# A switch that opens or closes a longer sentence with no punctuation between says so
# plainly ("… in French please", "switch to English …"); "… le support parle anglais ?"
# is a question about the support.
POLITE = frozenset(
    [
        "please",
        "pls",
        "plz",
        "svp",
        "stp",
        "plait",
        "merci",
        "switch",
        "change",
        "swap",
        "passer",
        "passons",
        "passez",
    ]
)
_CLAUSE = re.compile(r"[^,;:.!?]+[,;:.!?]*")


def language_switch(text: str) -> tuple[str, str] | None:
    """(the language asked for, the rest of the message — the switch blanked out) or None
    when it asks none."""
    if not names_language(text):
        return None
    toks = normalize(text).replace("?", " ").split()
    refused = _REFUSED.search(" ".join(toks))
    if refused is not None:
        # "I don't speak French", "je ne comprends pas l'anglais": the other language.
        named = LANGUAGES.get(refused.group(1)) or LANGUAGES.get(refused.group(2) or "")
        if named is not None:
            return ("fr" if named == "en" else "en"), _blank_words(text, refused.group(0))
    short = requested_language(text) if len(toks) <= 6 else None
    if short is not None and _all_wrapped(text):
        return short, ""
    for clause in _CLAUSE.finditer(text):
        if not clause.group().strip(" ,;:.!?"):
            continue
        lang = _switch_clause(clause.group())
        if lang is not None:
            return lang, _blank(text, clause.start(), clause.end())
    # No punctuation: the switch opens or closes the message ("en français svp comment …").
    words = list(re.finditer(r"\S+", text))
    for size in range(min(6, len(words) - 1), 0, -1):
        split = words[size].start()
        lang = _switch_clause(text[:split], polite=True)
        if lang is not None:
            return lang, _blank(text, 0, split)
        split = words[-size].start()
        lang = _switch_clause(text[split:], polite=True)
        if lang is not None:
            return lang, _blank(text, split, len(text))
    return None


def names_language(text: str) -> bool:
    """Does `text` name a language ("my English isn't great", "do you speak French?")?
    Beside a switch, such a clause gives its reason: it asks nothing more."""
    toks = normalize(text).replace("?", " ").split()
    return any(LANGUAGES.get(t) or _misspelt_language(t) for t in toks)


_REFUSED = re.compile(
    r"\b(?:(?:i|we)\s+(?:don t|do not|dont|can t|cannot|cant)\s+(?:speak|understand|read)"
    r"\s+(english|french)"
    r"|(?:je|nous)\s+ne\s+(?:parle|parlons|comprends|comprenons|lis)\s+pas\s+(?:l\s+)?"
    r"(anglais|francais))\b"
)


def _blank_words(text: str, said: str) -> str:
    """`text` with the clause refusing a language blanked out, when it can be found as
    typed (its normalised words, apostrophes and accents aside)."""
    words = said.split()
    pattern = r"\W+".join(re.escape(w[:3]) + r"\w*" for w in words)
    found = re.search(pattern, text, re.IGNORECASE)
    return _blank(text, found.start(), found.end()) if found else ""


def _blank(text: str, start: int, end: int) -> str:
    """`text` with the switch blanked out: what is left keeps its positions, so values
    found in the whole message are found at the same place in it."""
    return text[:start] + " " * (end - start) + text[end:]


def _all_wrapped(text: str) -> bool:
    """Every word wraps the language's name, but for one: the name itself, misspelt."""
    toks = normalize(text).replace("?", " ").split()
    others = [t for t in toks if t not in WRAPPERS and t not in LANGUAGES]
    return not others or (len(others) == 1 and _misspelt_language(others[0]))


@lru_cache(maxsize=4096)
def _misspelt_language(word: str) -> bool:
    return (
        6 <= len(word) <= 10
        and word[0] in "aefi"
        and any(
            difflib.SequenceMatcher(None, word, name).ratio() >= 0.8
            for name in LANGUAGES
            if len(name) >= 6
        )
    )


def _switch_clause(clause: str, *, polite: bool = False) -> str | None:
    toks = normalize(clause).replace("?", " ").split()
    named = {LANGUAGES[t] for t in toks if LANGUAGES.get(t)}
    if len(named) != 1:
        return None
    if not all(t in WRAPPERS or LANGUAGES.get(t) for t in toks):
        return None
    if polite and not any(t in POLITE for t in toks):
        return None
    return named.pop()
