"""Posting what a periodic job claimed in the database, without ever losing an item."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

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

    When a post fails the rest go back (`release`) to be posted at the next turn, by this
    process or another, and the failure goes on to the scheduler, which logs it. An item
    is recorded only once posted: a failure never loses one.
    """
    pending = list(claimed)
    try:
        while pending:
            post(pending[0])
            with session_factory.begin() as session:
                settle(session, pending[0])
            pending.pop(0)
    finally:
        if pending:
            log.warning("%d claimed item(s) not posted; retried next turn", len(pending))
            with session_factory.begin() as session:
                for item in pending:
                    release(session, item)
    return len(claimed) - len(pending)
