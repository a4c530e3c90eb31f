"""The scheduler runs each job at its interval, and one failing job stops no other."""

from __future__ import annotations

from typing import Any

from bot.slack.scheduler import Job, Scheduler


def test_jobs_run_at_their_interval_and_a_failure_stops_no_other() -> None:
    ran: list[str] = []

    def broken(deps: Any, client: Any) -> None:
        ran.append("broken")
        raise RuntimeError("boom")

    jobs = [
        Job("broken", 10.0, broken),
        Job("often", 1.0, lambda deps, client: ran.append("often")),
    ]
    scheduler = Scheduler(deps=None, client=None, jobs=jobs)  # type: ignore[arg-type]
    assert scheduler.run_due(now=100.0) == ["broken", "often"]
    assert scheduler.run_due(now=100.5) == []
    assert scheduler.run_due(now=101.0) == ["often"]
    assert scheduler.run_due(now=110.0) == ["broken", "often"]
    assert ran == ["broken", "often", "often", "broken", "often"]
