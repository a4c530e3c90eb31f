"""Posting what a periodic job claimed in the database, without ever losing an item."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from storage.db import SessionFactory

log = logging.getLogger(__name__)

T = TypeVar("T")


def post_claimed(
    session_factory: SessionFactory,
    claimed: list[T],
    post: Callable[[T], object],
    settle: Callable[[Session, T], object],
    release: Callable[[Session, T], object],
) -> int:
    """Post each claimed item, recording each one posted (`settle`) in its own transaction
    right after its post; how many were posted.

    A post Slack refuses or that cannot reach Slack is released (`release`), to be posted
    at the next turn by this process or another, and the others go on: one item that
    fails (a customer who left the workspace) never holds the rest back. An item is
    recorded only once posted, so a failure never loses one. Anything else (the database
    gone) releases what is left and goes on to the scheduler, which logs it.
    """
    posted = 0
    pending = list(claimed)
    try:
        while pending:
            item = pending[0]
            try:
                post(item)
            except (SlackApiError, OSError):
                log.warning("a claimed item was not posted; retried next turn", exc_info=True)
                with session_factory.begin() as session:
                    release(session, item)
                pending.pop(0)
                continue
            pending.pop(0)
            with session_factory.begin() as session:
                settle(session, item)
            posted += 1
    finally:
        if pending:
            log.warning("%d claimed item(s) not posted; retried next turn", len(pending))
            with session_factory.begin() as session:
                for item in pending:
                    release(session, item)
    return posted
