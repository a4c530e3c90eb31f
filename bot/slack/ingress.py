"""The ack path of /slack/events: verify the signature, store the delivery in the inbox,
answer 200 — one cheap write and nothing else, so the ack never waits behind the
conversations (they run in the inbox workers, bot.slack.worker).

Requests that must be answered by their listener (bot.handlers.answers_at_once) go to
bolt directly, as before. A bad signature or a stale timestamp is refused with 401; a
database that cannot store the delivery gets a 500, and Slack delivers it again.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.handlers import answers_at_once
from bot.logs import REQUEST_ID, new_request_id
from bot.slack import inbox

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; anything bigger is not Slack


def delivery_of(body: str, headers: dict[str, str]) -> inbox.Delivery | None:
    """The delivery to store for a verified request; None when it must be answered at once."""
    payload = parse_body(body, headers.get("content-type", ""))
    if not isinstance(payload, dict) or answers_at_once(payload):
        return None
    kept = {name: headers[name] for name in inbox.KEPT_HEADERS if name in headers}
    if payload.get("type") == "event_callback":
        if not payload.get("event_id"):
            return None  # not a delivery Slack retries: bolt answers it as it is
        event = payload.get("event") or {}
        team = str(payload.get("team_id") or "")
        user = event.get("user") or (event.get("assistant_thread") or {}).get("user_id")
        key = f"event:{payload.get('event_id')}"
        lane = f"{team}:{user}" if isinstance(user, str) else key
    elif payload.get("type") == "block_actions":
        who = payload.get("user") or {}
        team = str(who.get("team_id") or (payload.get("team") or {}).get("id") or "")
        action = (payload.get("actions") or [{}])[0]
        # action_ts is unique to one click: a second click is a second delivery, which
        # the conversation refuses politely (the question is no longer open).
        key = f"action:{team}:{who.get('id')}:{action.get('action_ts')}:{action.get('action_id')}"
        lane = f"{team}:{who.get('id')}"
    else:  # a slash command: its trigger id is unique to one invocation
        key = f"command:{payload.get('trigger_id')}"
        lane = f"{payload.get('team_id')}:{payload.get('user_id')}"
    return inbox.Delivery(key, lane, body, kept)


class Ingress:
    """The WSGI handler of POST /slack/events in front of bolt's own (`fallback`)."""

    def __init__(
        self,
        engine: Engine,
        signing_secret: str,
        *,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.verifier = SignatureVerifier(signing_secret)
        self.on_stored = on_stored

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse, fallback: WsgiApp
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return fallback(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return _answer(start_response, "413 Content Too Large")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        body = raw.decode("utf-8", errors="replace")
        headers = {
            "content-type": str(environ.get("CONTENT_TYPE") or ""),
            "x-slack-retry-num": str(environ.get("HTTP_X_SLACK_RETRY_NUM") or ""),
            "x-slack-retry-reason": str(environ.get("HTTP_X_SLACK_RETRY_REASON") or ""),
            inbox.REQUEST_ID_HEADER: REQUEST_ID.get() or new_request_id(),
        }
        headers = {name: value for name, value in headers.items() if value}
        if not self.verifier.is_valid(
            body=body,
            timestamp=str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""),
            signature=str(environ.get("HTTP_X_SLACK_SIGNATURE") or ""),
        ):
            return _answer(start_response, "401 Unauthorized")
        try:
            delivery = delivery_of(body, headers)
        except (ValueError, json.JSONDecodeError):
            return _answer(start_response, "400 Bad Request")
        if delivery is None:
            environ["wsgi.input"] = io.BytesIO(raw)
            return fallback(environ, start_response)
        try:
            new = inbox.store(self.engine, delivery)
        except (SQLAlchemyError, sqlite3.Error):
            log.exception("could not store a Slack delivery; Slack will send it again")
            return _answer(start_response, "500 Internal Server Error")
        if new and self.on_stored is not None:
            self.on_stored()
        return _answer(start_response, "200 OK")


def _answer(start_response: StartResponse, status: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]
