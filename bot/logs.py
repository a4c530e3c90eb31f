"""JSON logs for `helpdesk serve`: one object per line, with the request id of the Slack
request being handled, and never a secret.

Every line goes through `redact`: Slack tokens (`xoxb-…`, `xoxp-…`, `xoxe-…`, `xapp-…`),
the configured secrets (signing secret, client secret, code secret) and anything shaped
like an activation code (services.codes) are masked, in the message, its arguments and a
traceback alike. The request id follows the work from the WSGI request to the thread that
handles it after the ack (`ContextExecutor`).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from services.codes import mask_code_shapes

T = TypeVar("T")

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "helpdesk_request_id", default=None
)
_TOKEN = re.compile(r"\b(xox[a-z](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]+")
_MASK = "[redacted]"


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Short values would mask ordinary words: only real secrets are listed.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, _MASK)
        text = _TOKEN.sub(lambda m: f"{m.group(1)}-{_MASK}", text)
        return mask_code_shapes(text)


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        if record.exc_info:
            line["error"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def configure(secrets: Iterable[str] = (), level: int = logging.INFO) -> logging.Handler:
    """The root logger writes JSON lines on stderr (replacing its handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(Redactor(secrets)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in the context of whoever submitted them: the work
    bolt does after the ack keeps the request id of the request it answers."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)
