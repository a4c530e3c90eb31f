"""Periodic work in every `helpdesk serve` process: deadline warnings, the Slack side of
incident events, surveys, clean-ups.

Every process runs every job: a job must claim its work in the database (a row marked
done, locked with SKIP LOCKED) so that with several processes each thing happens exactly
once, and after a restart nothing is missed (the database, not memory, says what is left).
A job that fails is logged and tried again at its next turn; it never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.handlers import deadlines, satisfaction

if TYPE_CHECKING:
    from bot.handlers.common import Deps

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds between two runs in one process
    run: Callable[[Deps, WebClient], object]


def _follow_published_kb(deps: Deps, client: WebClient) -> object:
    from bot.handlers.editors import follow_published

    return follow_published(deps, client)


# Each capability adds its jobs here (one line each).
JOBS: list[Job] = [
    Job("deadline notices", deadlines.JOB_SECONDS, deadlines.post_deadline_notices),
    Job("satisfaction surveys", satisfaction.JOB_SECONDS, satisfaction.send_surveys),
]
JOBS.append(Job("kb_follow_published", 2.0, _follow_published_kb))


class Scheduler:
    def __init__(self, deps: Deps, client: WebClient, jobs: Sequence[Job] | None = None) -> None:
        self.deps = deps
        self.client = client
        self.jobs = list(JOBS if jobs is None else jobs)
        self._next = {job.name: 0.0 for job in self.jobs}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self, *, now: float | None = None) -> list[str]:
        """Run every job whose turn has come; the names of those that ran."""
        moment = time.monotonic() if now is None else now
        ran = []
        for job in self.jobs:
            if moment < self._next[job.name]:
                continue
            self._next[job.name] = moment + job.every
            try:
                job.run(self.deps, self.client)
            except Exception:
                log.exception("periodic job %s failed; it runs again at its next turn", job.name)
            ran.append(job.name)
        return ran

    def start(self) -> Scheduler:
        if self.jobs and self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="helpdesk-scheduler", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self.run_due()


def forget_old_deliveries(deps: Deps, client: WebClient) -> object:
    """The inbox keeps a delivery's key a day after it is done (Slack's retries stop
    within the hour), then drops it."""
    from bot.slack import inbox
    from services.clock import utcnow

    return inbox.forget_before(deps.session_factory.kw["bind"], utcnow() - inbox.KEEP_KEYS)


JOBS.append(Job("forget old Slack deliveries", 3600.0, forget_old_deliveries))
