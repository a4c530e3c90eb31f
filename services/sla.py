"""Support levels: first-response targets, support channels and the support calendar.

First-response deadlines count real elapsed hours (UTC arithmetic, so a DST change never
adds or removes an hour) and pause for support holidays. A holiday is a whole local day in
the support calendar's zone (default America/New_York): the clock stops at the local
midnight that starts it and resumes at the local midnight that ends it. Holidays are not
shifted when they fall on a weekend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.errors import N_, FreeTierNoResponseTarget

DEFAULT_SUPPORT_TZ = "America/New_York"

TIERS = ("free", "paid")
SUBSCRIPTION_TYPES = (1, 2, 3)

# Keys name each holiday for display; the N_() marks let the conversation layer translate them.
HOLIDAY_NAMES: dict[str, str] = {
    "new_years_eve": N_("New Year's Eve"),
    "new_years_day": N_("New Year's Day"),
    "presidents_day": N_("Presidents' Day (third Monday of February)"),
    "memorial_day": N_("Memorial Day (last Monday of May)"),
    "independence_day": N_("Independence Day"),
    "labor_day": N_("Labor Day (first Monday of September)"),
    "thanksgiving": N_("Thanksgiving (fourth Thursday of November)"),
    "day_after_thanksgiving": N_("Day after Thanksgiving"),
    "christmas_eve": N_("Christmas Eve"),
    "christmas_day": N_("Christmas Day"),
}

_MONDAY, _THURSDAY = 0, 3


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (0 = Monday) of the month, n counted from 1."""
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


@lru_cache(maxsize=64)
def _holidays(year: int) -> tuple[tuple[dt.date, str], ...]:
    thanksgiving = _nth_weekday(year, 11, _THURSDAY, 4)
    days = [
        (dt.date(year, 1, 1), "new_years_day"),
        (_nth_weekday(year, 2, _MONDAY, 3), "presidents_day"),
        (_last_weekday(year, 5, _MONDAY), "memorial_day"),
        (dt.date(year, 7, 4), "independence_day"),
        (_nth_weekday(year, 9, _MONDAY, 1), "labor_day"),
        (thanksgiving, "thanksgiving"),
        (thanksgiving + dt.timedelta(days=1), "day_after_thanksgiving"),
        (dt.date(year, 12, 24), "christmas_eve"),
        (dt.date(year, 12, 25), "christmas_day"),
        (dt.date(year, 12, 31), "new_years_eve"),
    ]
    return tuple(sorted(days))


@dataclass(frozen=True)
class SupportCalendar:
    """The support team's days off, as whole local days in `tz`."""

    tz: str = DEFAULT_SUPPORT_TZ
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # ZoneInfo raises ZoneInfoNotFoundError for an unknown name: a configuration bug.
        object.__setattr__(self, "zone", ZoneInfo(self.tz))

    def holidays(self, year: int) -> list[tuple[dt.date, str]]:
        """The year's holidays in date order, each with the key that names it."""
        return list(_holidays(year))

    def is_holiday(self, day: dt.date) -> bool:
        return any(date == day for date, _ in _holidays(day.year))

    def holiday_key(self, day: dt.date) -> str | None:
        return next((key for date, key in _holidays(day.year) if date == day), None)

    def day_start(self, day: dt.date) -> dt.datetime:
        """The instant (UTC) at which local `day` begins.

        zoneinfo resolves a local midnight skipped by a DST jump (fold=0) with the offset
        in force before the jump, which is exactly the instant of the jump: the day's start.
        """
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone).astimezone(dt.UTC)

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()

    def add_support_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """`start` plus `hours` of elapsed time, not counting holidays. Returns UTC."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        current = start.astimezone(dt.UTC)
        remaining = dt.timedelta(hours=hours)
        while True:
            day = self.local_date(current)
            next_day_start = self.day_start(day + dt.timedelta(days=1))
            if self.is_holiday(day):
                # Filed on (or counted into) a holiday: nothing runs until the day ends.
                current = next_day_start
                continue
            available = next_day_start - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = next_day_start


def _check(subscription_type: int, tier: str) -> None:
    if subscription_type not in SUBSCRIPTION_TYPES:
        raise ValueError(f"subscription type must be 1, 2 or 3, not {subscription_type!r}")
    if tier not in TIERS:
        raise ValueError(f"tier must be 'free' or 'paid', not {tier!r}")


def first_response_hours(subscription_type: int, tier: str) -> int | None:
    """The first-response target in hours; None for free tiers, which cannot file incidents."""
    _check(subscription_type, tier)
    if tier == "free":
        return None
    return 2 if subscription_type == 2 else 24


def first_response_due(
    subscription_type: int,
    tier: str,
    filed_at: dt.datetime,
    calendar: SupportCalendar | None = None,
) -> dt.datetime:
    """When the first response is due for an incident filed at `filed_at` (aware, UTC).

    Refuses free tiers with FreeTierNoResponseTarget: they have no incidents to answer.
    """
    hours = first_response_hours(subscription_type, tier)
    if hours is None:
        raise FreeTierNoResponseTarget(type=subscription_type)
    return (calendar or SupportCalendar()).add_support_hours(filed_at, hours)


def support_channels(subscription_type: int, tier: str) -> list[str]:
    """How a subscriber reaches support; every channel is open 24/7."""
    _check(subscription_type, tier)
    if tier == "free":
        return ["self-service"]
    if subscription_type == 2:
        return ["phone", "email", "web"]
    return ["email", "web"]
