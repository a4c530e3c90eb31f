"""First-response targets, support channels and the holiday calendar, DST and zones included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.errors import FreeTierNoResponseTarget
from services.sla import (
    SupportCalendar,
    first_response_due,
    first_response_hours,
    support_channels,
)

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
SYDNEY = ZoneInfo("Australia/Sydney")
SANTIAGO = ZoneInfo("America/Santiago")


def local(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)  # type: ignore[misc]


def due_local(
    type_: int, filed: dt.datetime, calendar: SupportCalendar | None = None
) -> dt.datetime:
    due = first_response_due(type_, "paid", filed, calendar)
    assert due.utcoffset() == dt.timedelta(0)
    return due.astimezone(filed.tzinfo)


# --- the holiday list ----------------------------------------------------------------------


def test_holidays_of_2026_are_the_ten_support_holidays_in_date_order() -> None:
    assert SupportCalendar().holidays(2026) == [
        (dt.date(2026, 1, 1), "new_years_day"),
        (dt.date(2026, 2, 16), "presidents_day"),
        (dt.date(2026, 5, 25), "memorial_day"),
        (dt.date(2026, 7, 4), "independence_day"),
        (dt.date(2026, 9, 7), "labor_day"),
        (dt.date(2026, 11, 26), "thanksgiving"),
        (dt.date(2026, 11, 27), "day_after_thanksgiving"),
        (dt.date(2026, 12, 24), "christmas_eve"),
        (dt.date(2026, 12, 25), "christmas_day"),
        (dt.date(2026, 12, 31), "new_years_eve"),
    ]


@pytest.mark.parametrize(
    ("year", "presidents", "memorial", "labor", "thanksgiving"),
    [
        (2027, (2, 15), (5, 31), (9, 6), (11, 25)),
        (2028, (2, 21), (5, 29), (9, 4), (11, 23)),
        (2030, (2, 18), (5, 27), (9, 2), (11, 28)),  # Feb 1st and Nov 1st on a Friday
    ],
)
def test_floating_holidays_follow_their_weekday_rules(
    year: int,
    presidents: tuple[int, int],
    memorial: tuple[int, int],
    labor: tuple[int, int],
    thanksgiving: tuple[int, int],
) -> None:
    days = {key: day for day, key in SupportCalendar().holidays(year)}
    assert days["presidents_day"] == dt.date(year, *presidents)
    assert days["memorial_day"] == dt.date(year, *memorial)
    assert days["labor_day"] == dt.date(year, *labor)
    assert days["thanksgiving"] == dt.date(year, *thanksgiving)
    assert days["day_after_thanksgiving"] == dt.date(year, *thanksgiving) + dt.timedelta(days=1)


def test_a_holiday_on_a_weekend_is_not_shifted() -> None:
    calendar = SupportCalendar()
    assert dt.date(2026, 7, 4).weekday() == 5  # a Saturday
    assert calendar.is_holiday(dt.date(2026, 7, 4))
    assert not calendar.is_holiday(dt.date(2026, 7, 3))
    assert not calendar.is_holiday(dt.date(2026, 7, 6))
    assert calendar.holiday_key(dt.date(2026, 7, 4)) == "independence_day"
    assert calendar.holiday_key(dt.date(2026, 7, 5)) is None


# --- targets and channels -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "tier", "hours", "channels"),
    [
        (1, "paid", 24, ["email", "web"]),
        (2, "paid", 2, ["phone", "email", "web"]),
        (3, "paid", 24, ["email", "web"]),
        (1, "free", None, ["self-service"]),
        (2, "free", None, ["self-service"]),
        (3, "free", None, ["self-service"]),
    ],
)
def test_targets_and_channels_by_type_and_tier(
    type_: int, tier: str, hours: int | None, channels: list[str]
) -> None:
    assert first_response_hours(type_, tier) == hours
    assert support_channels(type_, tier) == channels


def test_free_tier_has_no_deadline() -> None:
    with pytest.raises(FreeTierNoResponseTarget) as err:
        first_response_due(1, "free", local(NY, 2026, 11, 25, 23))
    assert "cannot file incidents" in str(err.value)


@pytest.mark.parametrize(("type_", "tier"), [(4, "paid"), (0, "free"), (1, "gold")])
def test_unknown_type_or_tier_is_a_programming_error(type_: int, tier: str) -> None:
    with pytest.raises(ValueError):
        first_response_hours(type_, tier)


def test_naive_filing_time_is_refused() -> None:
    with pytest.raises(ValueError):
        first_response_due(1, "paid", dt.datetime(2026, 11, 25, 23))


# --- deadlines in New York ------------------------------------------------------------------


def test_reference_example_thanksgiving_and_the_friday_after_are_skipped() -> None:
    assert due_local(1, local(NY, 2026, 11, 25, 23)) == local(NY, 2026, 11, 28, 23)


def test_ordinary_weekday_deadlines_are_plain_elapsed_hours() -> None:
    assert due_local(1, local(NY, 2026, 3, 18, 9, 15)) == local(NY, 2026, 3, 19, 9, 15)
    assert due_local(3, local(NY, 2026, 3, 18, 9, 15)) == local(NY, 2026, 3, 19, 9, 15)
    assert due_local(2, local(NY, 2026, 3, 18, 9, 15)) == local(NY, 2026, 3, 18, 11, 15)


def test_weekends_are_not_holidays() -> None:
    assert due_local(1, local(NY, 2026, 3, 21, 10)) == local(NY, 2026, 3, 22, 10)  # Sat -> Sun


def test_christmas_eve_and_christmas_in_a_row() -> None:
    assert due_local(2, local(NY, 2026, 12, 23, 23)) == local(NY, 2026, 12, 26, 1)
    assert due_local(1, local(NY, 2026, 12, 23, 18)) == local(NY, 2026, 12, 26, 18)


def test_new_years_eve_and_new_years_day_in_a_row_across_the_year_end() -> None:
    assert due_local(1, local(NY, 2026, 12, 30, 12)) == local(NY, 2027, 1, 2, 12)
    assert due_local(2, local(NY, 2026, 12, 30, 23, 30)) == local(NY, 2027, 1, 2, 1, 30)


def test_filing_inside_a_holiday_starts_the_clock_when_it_ends() -> None:
    assert due_local(2, local(NY, 2026, 12, 25, 10)) == local(NY, 2026, 12, 26, 2)
    assert due_local(2, local(NY, 2026, 12, 24, 0, 0)) == local(NY, 2026, 12, 26, 2)
    assert due_local(1, local(NY, 2026, 11, 26, 8)) == local(NY, 2026, 11, 29, 0)
    assert due_local(1, local(NY, 2026, 12, 31, 23, 59)) == local(NY, 2027, 1, 3, 0)


def test_two_hour_deadline_crossing_midnight_into_a_holiday() -> None:
    # 30 minutes on Friday 3 July, Saturday 4 July paused, 90 minutes on Sunday.
    assert due_local(2, local(NY, 2026, 7, 3, 23, 30)) == local(NY, 2026, 7, 5, 1, 30)


def test_deadline_ending_exactly_at_a_holiday_midnight() -> None:
    due = due_local(2, local(NY, 2026, 12, 23, 22))
    assert due == local(NY, 2026, 12, 24, 0)


def test_spring_forward_counts_real_hours() -> None:
    # 8 March 2026: 02:00 EST -> 03:00 EDT, Sunday has 23 hours.
    assert due_local(2, local(NY, 2026, 3, 8, 1, 30)) == local(NY, 2026, 3, 8, 4, 30)
    assert due_local(1, local(NY, 2026, 3, 7, 12)) == local(NY, 2026, 3, 8, 13)


def test_fall_back_counts_real_hours() -> None:
    # 1 November 2026: 02:00 EDT -> 01:00 EST, Sunday has 25 hours.
    assert due_local(1, local(NY, 2026, 10, 31, 12)) == local(NY, 2026, 11, 1, 11)
    assert due_local(1, local(NY, 2026, 10, 31, 23)) == local(NY, 2026, 11, 1, 22)
    filed = local(NY, 2026, 11, 1, 0, 30)
    assert first_response_due(2, "paid", filed) - filed == dt.timedelta(hours=2)


def test_the_deadline_is_the_same_whatever_zone_the_filing_time_is_given_in() -> None:
    in_ny = local(NY, 2026, 11, 25, 23)
    in_utc = in_ny.astimezone(dt.UTC)
    in_paris = in_ny.astimezone(PARIS)
    assert first_response_due(1, "paid", in_ny) == first_response_due(1, "paid", in_utc)
    assert first_response_due(1, "paid", in_paris) == first_response_due(1, "paid", in_ny)


# --- other support zones --------------------------------------------------------------------


def test_holidays_are_local_days_of_the_calendar_zone() -> None:
    filed = local(PARIS, 2026, 11, 26, 3)  # Thanksgiving in Paris, still the 25th in New York
    paris = SupportCalendar("Europe/Paris")
    assert due_local(1, filed, paris) == local(PARIS, 2026, 11, 29, 0)
    assert due_local(1, filed, SupportCalendar()).astimezone(NY) == local(NY, 2026, 11, 28, 21)


def test_southern_hemisphere_dst() -> None:
    sydney = SupportCalendar("Australia/Sydney")
    # 4 October 2026: 02:00 AEST -> 03:00 AEDT.
    assert due_local(1, local(SYDNEY, 2026, 10, 3, 12), sydney) == local(SYDNEY, 2026, 10, 4, 13)


def test_zone_whose_dst_jump_skips_midnight() -> None:
    santiago = SupportCalendar("America/Santiago")
    # Sunday 6 September 2026 starts at 01:00 (midnight is skipped); Monday 7 is Labor Day.
    assert santiago.day_start(dt.date(2026, 9, 6)) == dt.datetime(2026, 9, 6, 4, tzinfo=dt.UTC)
    assert due_local(1, local(SANTIAGO, 2026, 9, 5, 12), santiago) == local(
        SANTIAGO, 2026, 9, 6, 13
    )
    assert due_local(1, local(SANTIAGO, 2026, 9, 6, 12), santiago) == local(
        SANTIAGO, 2026, 9, 8, 12
    )


# --- a property over many zones and instants ------------------------------------------------

ZONES = [
    "America/New_York",
    "Europe/Paris",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
]


def _holiday_time_between(
    calendar: SupportCalendar, start: dt.datetime, end: dt.datetime
) -> dt.timedelta:
    """Real time of holidays overlapping [start, end), from local midnights."""
    total = dt.timedelta(0)
    day = calendar.local_date(start) - dt.timedelta(days=1)
    while calendar.day_start(day) < end:
        if calendar.is_holiday(day):
            lo = max(start, calendar.day_start(day))
            hi = min(end, calendar.day_start(day + dt.timedelta(days=1)))
            if hi > lo:
                total += hi - lo
        day += dt.timedelta(days=1)
    return total


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    type_=st.sampled_from([1, 2, 3]),
    filed=st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2030, 12, 31)),
)
def test_elapsed_time_is_the_target_plus_the_holidays_crossed(
    zone: str, type_: int, filed: dt.datetime
) -> None:
    calendar = SupportCalendar(zone)
    filed_utc = filed.replace(tzinfo=dt.UTC)
    due = first_response_due(type_, "paid", filed_utc, calendar)
    hours = dt.timedelta(hours=first_response_hours(type_, "paid") or 0)
    assert due - filed_utc == hours + _holiday_time_between(calendar, filed_utc, due)
    # The deadline never falls inside a holiday (its first instant, at most).
    assert not calendar.is_holiday(calendar.local_date(due - dt.timedelta(microseconds=1)))
