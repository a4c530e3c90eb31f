"""The WSGI application a server (gunicorn) runs: Slack's endpoint and a health check."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.ingress import Ingress

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


def make_wsgi(
    app: App, ingress: Ingress | None = None
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """`ingress`: deliveries stored in the inbox and acknowledged (bot.slack.ingress);
    without it bolt handles every request itself."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        if path == EVENTS_PATH:
            if ingress is not None:
                return ingress(environ, start_response, slack)
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return [b"not found\n"]

    return application
