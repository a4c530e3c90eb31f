"""Every Prometheus metric the app exposes at /metrics, defined here once.

Under `helpdesk serve` with several gunicorn workers, prometheus_client's multiprocess
mode sums the workers: `helpdesk serve` points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before any worker starts (prometheus_client reads it at import), and /metrics
collects every worker's files. Alone (tests, Socket Mode), the process's own registry.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus_client chose how to keep values when it was imported: read them the same way.
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))

REQUESTS = Counter(
    "helpdesk_slack_requests_total", "Requests received from Slack, by kind", ["kind"]
)
ACKS = Counter(
    "helpdesk_slack_acks_total",
    "Requests from Slack answered (acknowledged), by kind and HTTP status",
    ["kind", "status"],
)
ACK_SECONDS = Histogram(
    "helpdesk_slack_ack_seconds",
    "Time from a Slack request's arrival to its acknowledgement, by kind",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
)
REPLIES = Counter("helpdesk_slack_replies_total", "Messages the bot posted in Slack")
SLACK_API_ERRORS = Counter(
    "helpdesk_slack_api_errors_total",
    "Slack Web API calls that failed (an error answer, an HTTP error or no answer)",
    ["method", "error"],
)
SLACK_API_RETRIES = Counter(
    "helpdesk_slack_api_retries_total",
    "Slack Web API calls tried again, by reason (rate_limited, connection)",
    ["reason"],
)
KB_QUESTIONS = Counter(
    "helpdesk_kb_questions_total",
    "Questions put to the knowledge base, by outcome (answered, unanswered, clarified)",
    ["outcome"],
)
FLOWS_STARTED = Counter("helpdesk_flows_started_total", "Flows started, by flow", ["flow"])
FLOWS_COMPLETED = Counter(
    "helpdesk_flows_completed_total", "Flows carried through to the end, by flow", ["flow"]
)
INCIDENTS_FILED = Counter("helpdesk_incidents_filed_total", "Incidents filed (any channel)")
SLA_WARNINGS = Counter(
    "helpdesk_sla_warnings_total", "First-response deadline warnings sent to the staff"
)


def exposition() -> tuple[bytes, str]:
    """The text /metrics answers, and its content type."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def request_kind(body: bytes, content_type: str) -> str:
    """What a Slack request is, in a few words: `event:message`, `block_actions`,
    `view_submission`, `block_suggestion`, `command`, `url_verification`, or `other`."""
    try:
        if "json" in content_type:
            data: dict[str, Any] = json.loads(body or b"{}")
            if data.get("type") == "event_callback":
                return f"event:{(data.get('event') or {}).get('type', 'unknown')}"
            return str(data.get("type") or "other")
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        if "payload" in form:
            return str(json.loads(form["payload"]).get("type") or "other")
        if "command" in form:
            return "command"
    except (ValueError, AttributeError):
        pass
    return "other"


def _method(request: HttpRequest) -> str:
    return urllib.parse.urlsplit(request.url).path.rsplit("/", 1)[-1] or "unknown"


class ErrorCounter(RetryHandler):
    """Sees every Web API answer (slack_sdk shows each to its retry handlers first) and
    counts the failures; never asks for a retry itself."""

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = _method(request)
        if response is not None and response.status_code >= 400:
            SLACK_API_ERRORS.labels(method, f"http_{response.status_code}").inc()
        elif response is not None and isinstance(response.body, dict):
            if response.body.get("ok") is False:
                SLACK_API_ERRORS.labels(method, str(response.body.get("error", "unknown"))).inc()
        elif error is not None:
            SLACK_API_ERRORS.labels(method, type(error).__name__).inc()
        return False


class CountedRateLimitRetries(RateLimitErrorRetryHandler):
    def prepare_for_next_attempt(self, **kwargs: Any) -> None:
        SLACK_API_RETRIES.labels("rate_limited").inc()
        super().prepare_for_next_attempt(**kwargs)


class CountedConnectionRetries(ConnectionErrorRetryHandler):
    def prepare_for_next_attempt(self, **kwargs: Any) -> None:
        SLACK_API_RETRIES.labels("connection").inc()
        super().prepare_for_next_attempt(**kwargs)
