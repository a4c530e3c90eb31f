"""Inbox workers: threads that lease the deliveries acknowledged by the ack path
(bot.slack.inbox), hand each to a bolt App as the request Slack sent, and mark it done.

The App is built by `create_app(..., worker=True)`: its listeners run to completion
inside `dispatch` (process-before-response) and it does not verify signatures again (the
ack path did; a lease taken over minutes later would fail the timestamp check). So the
listeners, middleware and bolt's authorization work unchanged.

Workers wake when a delivery is stored: in the same process through `wake()`; on
PostgreSQL through LISTEN/NOTIFY; otherwise a short poll. `stop()` drains: the workers
keep going until nothing acknowledged is left (or a deadline passes), then return.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
import uuid

from slack_bolt import App, BoltRequest
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.logs import REQUEST_ID
from bot.slack import inbox

log = logging.getLogger(__name__)

# The context flag of a request dispatched from the inbox (the ack path stored it).
FROM_INBOX = "helpdesk_from_inbox"
THREADS = 4
POLL_SECONDS = 0.1  # without LISTEN/NOTIFY (SQLite): how often an idle worker looks
LISTEN_POLL_SECONDS = 1.0  # with it: a safety net only
# A delivery whose handling failed this many times (the process died each time, or the
# database failed) is given up, logged, so one poisoned delivery cannot block its lane.
MAX_ATTEMPTS = 5
# On stop, requests already in the ack server may still be stored for this long.
SETTLE_SECONDS = 1.0


class InboxWorker:
    def __init__(
        self,
        app: App,
        engine: Engine,
        *,
        threads: int = THREADS,
        lease: dt.timedelta = inbox.LEASE,
        owner: str | None = None,
    ) -> None:
        self.app = app
        self.engine = engine
        self.threads = threads
        self.lease = lease
        self.owner = owner or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # One signal per delivery stored wakes one thread, not all of them: the others'
        # claims would find nothing and cost the database a transaction each.
        self._wake = threading.Condition()
        self._signals = 0
        self._stopping = threading.Event()
        self._stop_deadline = 0.0
        self._settle_until = 0.0
        self._running: list[threading.Thread] = []
        self._in_hand: set[str] = set()
        self._lock = threading.Lock()
        self.handled = 0

    # --- life ---------------------------------------------------------------------------

    def start(self) -> InboxWorker:
        for number in range(self.threads):
            thread = threading.Thread(target=self._work, name=f"inbox-{number}", daemon=True)
            thread.start()
            self._running.append(thread)
        helpers = [self._keep_leases]
        if self.engine.dialect.name == "postgresql":
            helpers.append(self._listen)
        for helper in helpers:
            thread = threading.Thread(target=helper, name=f"inbox-{helper.__name__}", daemon=True)
            thread.start()
        return self

    def wake(self) -> None:
        with self._wake:
            # A thread that finishes a delivery looks for the next before it waits, so
            # signals may outnumber what is left: never more than one per thread.
            self._signals = min(self._signals + 1, self.threads)
            self._wake.notify()

    def _wait(self, seconds: float) -> None:
        with self._wake:
            if not self._signals:
                self._wake.wait(seconds)
            self._signals = max(0, self._signals - 1)

    def stop(self, timeout: float = 30.0) -> bool:
        """Finish what is acknowledged, then stop; False when the deadline came first
        (what is left stays in the inbox for the next worker)."""
        now = time.monotonic()
        self._settle_until = now + SETTLE_SECONDS
        self._stop_deadline = now + timeout
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._running:
            thread.join(max(0.0, self._stop_deadline - time.monotonic()) + 1.0)
        return not any(thread.is_alive() for thread in self._running)

    # --- the work -----------------------------------------------------------------------

    def _work(self) -> None:
        idle = POLL_SECONDS if self.engine.dialect.name != "postgresql" else LISTEN_POLL_SECONDS
        while True:
            if self._stopping.is_set() and time.monotonic() > self._stop_deadline:
                return
            try:
                leased = inbox.claim(self.engine, self.owner, lease=self.lease)
            except SQLAlchemyError:
                log.exception("could not lease a delivery from the inbox")
                leased = None
                time.sleep(idle)
            if leased is not None:
                self.run(leased)
                continue
            if self._stopping.is_set():
                if time.monotonic() > self._settle_until:
                    return
                time.sleep(0.05)
                continue
            self._wait(idle)

    def run(self, leased: inbox.Leased) -> None:
        """Handle one leased delivery and mark it done."""
        with self._lock:
            self._in_hand.add(leased.key)
        try:
            if leased.attempts > MAX_ATTEMPTS:
                log.error("giving up delivery %s after %d attempts", leased.key, leased.attempts)
            else:
                request = BoltRequest(
                    body=leased.body,
                    headers=dict(leased.headers),
                    context={FROM_INBOX: True},
                    mode="http",
                )
                # Listener errors end in the app's error handler (an apology to the user);
                # they are done with, not retried. Logs carry the id the ack path gave.
                token = REQUEST_ID.set(leased.headers.get(inbox.REQUEST_ID_HEADER))
                try:
                    self.app.dispatch(request)
                finally:
                    REQUEST_ID.reset(token)
            inbox.finish(self.engine, leased.key, self.owner)
            self.handled += 1
        except Exception:
            # The database failed: the lease runs out and the delivery is tried again.
            log.exception("handling delivery %s failed; it will be tried again", leased.key)
        finally:
            with self._lock:
                self._in_hand.discard(leased.key)

    def _keep_leases(self) -> None:
        every = self.lease.total_seconds() / 3
        while True:
            if self._stopping.is_set():
                if not any(thread.is_alive() for thread in self._running):
                    return
                time.sleep(min(every, 0.5))
            else:
                self._stopping.wait(every)
            with self._lock:
                keys = list(self._in_hand)
            try:
                inbox.renew(self.engine, self.owner, keys, lease=self.lease)
            except SQLAlchemyError:
                log.warning("could not renew the inbox leases", exc_info=True)

    def _listen(self) -> None:
        """PostgreSQL: wake the workers when the ack path announces a delivery."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    url.render_as_string(hide_password=False), autocommit=True
                ) as connection:
                    connection.execute(f"LISTEN {inbox.CHANNEL}")
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=LISTEN_POLL_SECONDS, stop_after=1):
                            self.wake()
            except psycopg.Error:
                log.warning("lost the inbox notifications; polling until back", exc_info=True)
                self._stopping.wait(LISTEN_POLL_SECONDS)
