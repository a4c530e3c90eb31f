"""Dates inside a sentence, read like a person would: "bought 12/11/2026", "acheté le 5
janvier", "hier", "tomorrow", "le 12 novembre" (no year).

Spans that can be dates are found first with a few patterns (numbers with separators,
a day next to a month name, relative words), so the library is only asked about text
that looks like a date — `dateparser` on a whole sentence finds dates in "on", "a" or
"2 hours". Each span is then read by `dateparser`: French and English month names, with
or without accents, day first (23/11/2026 is 23 November, as in bot.dates; 11/23/2026
has only one reading). A date given without a year is the latest such day not after
`today`: the dates people give the bot are purchase dates, which lie in the past.
Relative words keep their meaning ("demain" is tomorrow).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

_MONTH_NAMES = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|janvier|fevrier|février|mars|avril|mai|juin|juillet|aout|août|septembre|octobre|novembre"
    "|decembre|décembre|janv|jan|feb|fev|fév|fevr|févr|mar|apr|avr|jun|jul|juil|aug|sept|sep"
    "|oct|nov|dec|déc"
)
_DAY = r"\d{1,2}(?:er|st|nd|rd|th|e|ème)?"
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_ANY_DAY = f"{'|'.join(_JOURS)}|{_WEEKDAYS}"  # Monday first, in each language
_NUMBER_WORDS = (
    r"\d{1,3}|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|a|an|one|two|three|four"
    r"|five|six|seven|eight|nine|ten"
)
_YEAR = r"\d{4}"
# The words that introduce a day and a month given alone ("acheté le 05/12").
_DATE_LEAD = r"(?:le|on|du|au|the|since|depuis|from|dated|date)"
_PATTERNS = (
    re.compile(r"(?<![\w-])\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?![\w-])"),
    re.compile(r"(?<![\w-])\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?![\w-])"),
    re.compile(
        rf"(?<!\w)(?:le\s+|the\s+)?{_DAY}\s+(?:of\s+|de\s+)?(?:{_MONTH_NAMES})\.?(?:,?\s+{_YEAR})?(?!\w)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<!\w)(?:{_MONTH_NAMES})\.?\s+{_DAY}(?:,?\s+{_YEAR})?(?!\w)",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?<!\w)(?:aujourd'hui|aujourd’hui|aujourdhui|today|yesterday|the day before yesterday"
        r"|avant[- ]hier|hier|tomorrow|demain|après[- ]demain|apres[- ]demain)(?!\w)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<!\w)(?:il y a\s+(?:{_NUMBER_WORDS})\s+(?:jours?|semaines?|mois|ans?)"
        rf"|(?:{_NUMBER_WORDS})\s+(?:days?|weeks?|months?|years?)\s+ago)(?!\w)",
        re.IGNORECASE,
    ),
    # A day of the week that is a date: "lundi dernier", "since Saturday", or alone as the
    # whole answer ("samedi"); not "open monday to friday".
    re.compile(rf"(?<!\w)(?:{'|'.join(_JOURS)})\s+(?:dernier|pass[eé])(?!\w)", re.IGNORECASE),
    re.compile(
        rf"(?<!\w)(?:(?:depuis|since|last|on|ce)\s+)(?:{_ANY_DAY})(?!\w)|^\s*(?:{_ANY_DAY})\s*$",
        re.IGNORECASE,
    ),
    # A day and a month alone ("acheté le 05/12"), only after a word that introduces a
    # date: "24/7" or "2/3" in a sentence is no date.
    re.compile(rf"(?<!\w){_DATE_LEAD}\s+\d{{1,2}}[/.]\d{{1,2}}(?![/.\w])", re.IGNORECASE),
    re.compile(
        rf"(?<!\w)(?:last\s+(?:week|month|year|{_WEEKDAYS})"
        r"|(?:la\s+)?semaine\s+(?:derni[eè]re|pass[eé]e)|(?:le\s+)?mois\s+(?:dernier|pass[eé])"
        r"|l['’]ann[eé]e\s+(?:derni[eè]re|pass[eé]e))(?!\w)",
        re.IGNORECASE,
    ),
)
_WEEKDAY = re.compile(
    rf"^(?:(?:last|on|le|ce|depuis|since)\s+)?({_ANY_DAY})(\s+(?:dernier|pass[eé]))?$"
)
# "passé" is "dernier" to the library, which only knows the latter.
_PAST = ((re.compile(r"\bpass[eé]e\b"), "dernière"), (re.compile(r"\bpass[eé]\b"), "dernier"))
DAY_MONTH = re.compile(rf"^(?:{_DATE_LEAD}\s+)?(\d{{1,2}})[/.](\d{{1,2}})$")
_HAS_YEAR = re.compile(r"\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}")
_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")


@dataclass(frozen=True)
class DateMention:
    text: str  # as the user wrote it
    value: dt.date
    start: int  # where it is in the message (so the caller can tell which date is which)


def dates_in(text: str, today: dt.date) -> tuple[DateMention, ...]:
    """Every date the message names, in order of appearance."""
    spans: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for found in pattern.finditer(text):
            if not any(found.start() < end and start < found.end() for start, end in spans):
                spans.append((found.start(), found.end()))
    mentions = []
    for start, end in sorted(spans):
        raw = text[start:end]
        value = read_date(raw, today)
        if value is not None:
            mentions.append(DateMention(raw, value, start))
    return tuple(mentions)


def read_date(raw: str, today: dt.date) -> dt.date | None:
    """One date as typed; None when it is no date ("31/02/2026")."""
    return _read(raw.strip().casefold(), today)


@lru_cache(maxsize=2048)
def _read(raw: str, today: dt.date) -> dt.date | None:
    weekday = _WEEKDAY.match(raw)
    if weekday:
        # "mardi dernier", "last Tuesday": the last Tuesday before today; "samedi" alone,
        # that of this week (today if it is one): the dates asked for are in the past.
        name = weekday.group(1)
        day = _ANY_DAY.split("|").index(name) % 7
        back = (today.weekday() - day) % 7
        if not back and (weekday.group(2) or raw.startswith("last")):
            back = 7
        return today - dt.timedelta(days=back)
    for past, last in _PAST:
        raw = past.sub(last, raw)
    short = DAY_MONTH.match(raw)
    if short:  # day first, the latest such day: the dates people give are past purchases
        day, month = int(short.group(1)), int(short.group(2))
        try:
            found = dt.date(today.year, month, day)
            return found if found <= today else dt.date(today.year - 1, month, day)
        except ValueError:
            return None
    numeric = _NUMERIC.match(raw)
    if numeric:
        first, second = int(numeric.group(1)), int(numeric.group(2))
        year = int(numeric.group(3))
        year = 2000 + year if year < 100 else year
        day, month = (second, first) if second > 12 >= first else (first, second)
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    import dateparser  # imported on first use: it takes a tenth of a second to load

    base = dt.datetime.combine(today, dt.time(12))
    settings = {
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "past",
        # Spans are already dates or relative words: the timestamp and no-space parsers
        # would only cost time (a third of it).
        "PARSERS": ["relative-time", "absolute-time"],
    }
    parsed = dateparser.parse(raw, languages=["fr", "en"], settings=settings)
    if parsed is None:
        return None
    value = parsed.date()
    if not _HAS_YEAR.search(raw) and value > today and _named_day(raw):
        # "le 12 décembre" said on 29 November: last year's, the bot asks for purchase dates.
        try:
            value = value.replace(year=value.year - 1)
        except ValueError:  # 29 February
            value = value.replace(year=value.year - 1, day=28)
    return value


def _named_day(raw: str) -> bool:
    """A day and a month, not a relative word ("demain" stays tomorrow)."""
    return bool(re.search(r"\d", raw))
