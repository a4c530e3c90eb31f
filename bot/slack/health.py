"""Is this process ready to serve? The database answers and the knowledge base's index is
loaded. `/readyz` says so (200) or says why not (503), so that a load balancer sends no
traffic to a replica that would answer with apologies."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from storage.db import SessionFactory

# None: ready; otherwise the reason, in one line.
ReadyCheck = Callable[[], str | None]

_checks: weakref.WeakKeyDictionary[App, ReadyCheck] = weakref.WeakKeyDictionary()


def readiness(session_factory: SessionFactory, kb: Any) -> ReadyCheck:
    def check() -> str | None:
        try:
            with session_factory() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as err:
            return f"database unreachable: {type(err).__name__}"
        if kb is None:
            return "knowledge base not loaded"
        try:
            kb.version  # noqa: B018 (reading it is the check: it raises once closed)
        except RuntimeError as err:
            return f"knowledge base not loaded: {err}"
        return None

    return check


def register(app: App, check: ReadyCheck) -> None:
    _checks[app] = check


def check_of(app: App) -> ReadyCheck | None:
    return _checks.get(app)
