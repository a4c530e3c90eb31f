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

if TYPE_CHECKING:
    from bot.handlers.common import Deps

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds between two runs in one process
    run: Callable[[Deps, WebClient], object]


def serve_jobs() -> list[Job]:
    """Every periodic job of `helpdesk serve`, in one list (imported here, when a process
    starts its jobs, so that no capability imports the scheduler)."""
    from bot.handlers import deadlines, editors, satisfaction
    from bot.slack import inbox, triage_sync

    return [
        Job("triage cards", triage_sync.SYNC_EVERY_SECONDS, triage_sync.job),
        Job("deadline notices", deadlines.JOB_SECONDS, deadlines.post_deadline_notices),
        Job("satisfaction surveys", satisfaction.JOB_SECONDS, satisfaction.send_surveys),
        Job("follow the published KB", editors.FOLLOW_SECONDS, editors.follow_published),
        Job("forget old Slack deliveries", 3600.0, inbox.forget_old_deliveries),
    ]


class Scheduler:
    def __init__(self, deps: Deps, client: WebClient, jobs: Sequence[Job] | None = None) -> None:
        self.deps = deps
        self.client = client
        self.jobs = list(serve_jobs() if jobs is None else jobs)
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
