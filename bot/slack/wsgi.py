"""The WSGI application a server (gunicorn) runs: Slack's endpoint, the OAuth install
pages (OAuth mode), and the operator's endpoints: /healthz (alive), /readyz (database
reachable, index loaded) and /metrics (Prometheus).

Every Slack request gets a request id (carried into its logs, also after the ack) and is
counted by kind, with the time until it is acknowledged."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import metrics
from bot.logs import REQUEST_ID, new_request_id
from bot.slack.health import check_of
from bot.slack.ingress import Ingress
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
OAUTH_PATHS = (INSTALL_PATH, REDIRECT_PATH)  # OAuth mode only
# Slack's requests are small; anything larger is not one (and is not read into memory).
MAX_BODY = 1 << 20

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def make_wsgi(app: App, ingress: Ingress | None = None) -> WsgiApp:
    """`ingress`: deliveries stored in the inbox and acknowledged (bot.slack.ingress);
    without it bolt handles every request itself."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    ready = check_of(app)

    def counted(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return _plain(start_response, "413 Payload Too Large", "too large\n")
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # bolt reads it again
        kind = metrics.request_kind(body, environ.get("CONTENT_TYPE", ""))
        metrics.REQUESTS.labels(kind).inc()
        status_seen: list[str] = []

        def recorded(status: str, headers: list[Any], *args: Any) -> Any:
            status_seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, *args)

        token = REQUEST_ID.set(new_request_id())
        try:
            if ingress is not None:  # stored in the inbox, then acknowledged
                answer = ingress(environ, recorded, slack)
            else:
                answer = slack(environ, recorded)
        finally:
            REQUEST_ID.reset(token)
        # bolt answers once the listener acked (events: before any work): this is the ack.
        metrics.ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)
        metrics.ACKS.labels(kind, status_seen[0] if status_seen else "none").inc()
        return answer

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            return _plain(start_response, "200 OK", "ok\n")
        if path == READY_PATH:
            reason = ready() if ready is not None else "no readiness check"
            if reason is None:
                return _plain(start_response, "200 OK", "ready\n")
            return _plain(start_response, "503 Service Unavailable", f"not ready: {reason}\n")
        if path == METRICS_PATH:
            payload, content_type = metrics.exposition()
            start_response(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
            )
            return [payload]
        if path == EVENTS_PATH:
            return counted(environ, start_response)
        if app.oauth_flow is not None and path in OAUTH_PATHS:
            return slack(environ, start_response)
        return _plain(start_response, "404 Not Found", "not found\n")

    return application
