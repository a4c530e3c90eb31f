"""Dates as people type them, in French or English.

Accepted: ISO (2026-11-23, also 2026/11/23), day first with slashes, dots or dashes
(23/11/2026, 23.11.26 — the US month-first order only when it cannot be read day first:
11/23/2026), month names in either language with or without accents and abbreviated
("23 novembre 2026", "1er fevrier 2026", "23 Nov 2026", "Nov 23, 2026", "November 23rd
2026", "the 23rd of November 2026", "23 de novembre 2026"), and "today"/"aujourd'hui",
"yesterday"/"hier"; an answer of a day and a month alone (05/12) is day first, the latest
such day.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.nlu import normalize
from bot.understanding.when import DAY_MONTH, dates_in, read_date
from services.clock import utcnow

_MONTHS = {
    "january": 1,
    "jan": 1,
    "janvier": 1,
    "janv": 1,
    "february": 2,
    "feb": 2,
    "fevrier": 2,
    "fev": 2,
    "fevr": 2,
    "march": 3,
    "mar": 3,
    "mars": 3,
    "april": 4,
    "apr": 4,
    "avril": 4,
    "avr": 4,
    "may": 5,
    "mai": 5,
    "june": 6,
    "jun": 6,
    "juin": 6,
    "july": 7,
    "jul": 7,
    "juillet": 7,
    "juil": 7,
    "august": 8,
    "aug": 8,
    "aout": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "septembre": 9,
    "october": 10,
    "oct": 10,
    "octobre": 10,
    "november": 11,
    "nov": 11,
    "novembre": 11,
    "december": 12,
    "dec": 12,
    "decembre": 12,
}
_RELATIVE = {"today": 0, "aujourd hui": 0, "yesterday": 1, "hier": 1}
_WEEKDAYS = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi"
    r"|vendredi|samedi|dimanche|mon|tue|wed|thu|fri|sat|sun)\b"
)
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_DAY = r"(\d{1,2})(?:er|st|nd|rd|th|e)?"
_DAY_MONTH_YEAR = re.compile(rf"^(?:le |the )?{_DAY} (?:of |de )?([a-z]+) (\d{{4}})$")
_MONTH_DAY_YEAR = re.compile(rf"^([a-z]+) {_DAY} (\d{{4}})$")


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if year < 100 else year


def _build(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str, today: dt.date | None = None) -> dt.date | None:
    raw = text.strip()
    iso = _ISO.match(raw)
    if iso:
        return _build(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    numeric = _NUMERIC.match(raw)
    if numeric:
        first, second, year = int(numeric.group(1)), int(numeric.group(2)), _year(numeric.group(3))
        if second > 12 >= first:  # 11/23/2026 has only one reading: month first
            return _build(year, first, second)
        return _build(year, second, first)
    if DAY_MONTH.match(raw):  # "05/12" answering "when did you buy it?"
        return read_date(raw, today or utcnow().date())
    norm = normalize(raw).replace("?", "").strip()
    if norm in _RELATIVE:
        base = today or utcnow().date()
        return base - dt.timedelta(days=_RELATIVE[norm])
    norm = re.sub(r"\s+", " ", _WEEKDAYS.sub(" ", norm)).strip()
    dmy = _DAY_MONTH_YEAR.match(norm)
    if dmy and dmy.group(2) in _MONTHS:
        return _build(int(dmy.group(3)), _MONTHS[dmy.group(2)], int(dmy.group(1)))
    mdy = _MONTH_DAY_YEAR.match(norm)
    if mdy and mdy.group(1) in _MONTHS:
        return _build(int(mdy.group(3)), _MONTHS[mdy.group(1)], int(mdy.group(2)))
    # "demain", "le 12 novembre", "bought it last week": as the message reader reads them.
    mentions = dates_in(raw, today or utcnow().date())
    return mentions[0].value if len(mentions) == 1 else None
