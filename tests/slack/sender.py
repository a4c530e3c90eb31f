"""Correctly signed requests to the running app, as Slack sends them: events (with
their retry headers), interactions (block_actions, view_submission), options loads
(block_suggestion) and slash commands."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import SignatureVerifier

from tests.slack.fake_api import TEAM_ID


@dataclass
class Response:
    status: int
    body: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.verifier = SignatureVerifier(signing_secret)
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)

    # --- transport ----------------------------------------------------------------------

    def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Response:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature
            or self.verifier.generate_signature(timestamp=stamp, body=body),
            **(headers or {}),
        }
        request = urllib.request.Request(self.url, body.encode(), sent, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return Response(
                    answer.status, answer.read().decode(), time.perf_counter() - started
                )
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read().decode(), time.perf_counter() - started)

    # --- what Slack sends ---------------------------------------------------------------

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        team: str = TEAM_ID,
        **options: Any,
    ) -> Response:
        envelope = {
            "token": "unused",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(envelope), "application/json", headers=headers, **options)

    def dm(self, user: str, text: str, *, channel: str | None = None, **options: Any) -> Response:
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": channel or f"D{user}",
            "user": user,
            "text": text,
            "ts": self.next_ts(),
        }
        if "thread_ts" in options:
            event["thread_ts"] = options.pop("thread_ts")
        return self.event(event, **options)

    def mention(
        self,
        user: str,
        text: str,
        *,
        channel: str = "C1",
        thread_ts: str | None = None,
        user_team: str | None = None,
        **options: Any,
    ) -> Response:
        event: dict[str, Any] = {
            "type": "app_mention",
            "channel": channel,
            "user": user,
            "text": f"<@UBOT> {text}",
            "ts": self.next_ts(),
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if user_team:
            event["user_team"] = user_team
        return self.event(event, **options)

    def _form(self, payload: dict[str, Any], **options: Any) -> Response:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", **options)

    def block_action(
        self,
        user: str,
        block: dict[str, Any],
        element: dict[str, Any],
        *,
        channel: str | None = None,
        team: str = TEAM_ID,
        value: Any = None,
        **options: Any,
    ) -> Response:
        """A click on `element` of `block` (as the bot posted them)."""
        action: dict[str, Any] = {
            "type": element["type"],
            "action_id": element["action_id"],
            "block_id": block.get("block_id", ""),
            "action_ts": self.next_ts(),
        }
        if element["type"] == "button":
            action["value"] = element.get("value")
            action["text"] = element.get("text")
        elif element["type"] in ("static_select", "external_select"):
            action["selected_option"] = value
        elif element["type"] == "datepicker":
            action["selected_date"] = value
        elif element["type"] == "feedback_buttons":  # `value`: the button clicked
            action["value"] = value["value"]
            action["text"] = value["text"]
        payload = {
            "type": "block_actions",
            "team": {"id": team},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{next(self._ids)}",
            "container": {"type": "message", "channel_id": channel or f"D{user}"},
            "channel": {"id": channel or f"D{user}"},
            "actions": [action],
        }
        return self._form(payload, **options)

    def home_action(self, user: str, element: dict[str, Any], team: str = TEAM_ID) -> Response:
        payload = {
            "type": "block_actions",
            "team": {"id": team},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{next(self._ids)}",
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME", "type": "home"},
            "actions": [
                {
                    "type": "button",
                    "action_id": element["action_id"],
                    "block_id": "home_forms",
                    "value": element.get("value"),
                    "action_ts": self.next_ts(),
                }
            ],
        }
        return self._form(payload)

    def view_submission(
        self,
        user: str,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        team: str = TEAM_ID,
        **options: Any,
    ) -> Response:
        """`values`: block_id → the element's state (as Slack sends it)."""
        state = {block: {"value": element} for block, element in values.items()}
        payload = {
            "type": "view_submission",
            "team": {"id": team},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A1",
            "trigger_id": f"trigger-{next(self._ids)}",
            "view": {**view, "state": {"values": state}},
        }
        return self._form(payload, **options)

    def options_load(
        self,
        user: str,
        view: dict[str, Any] | None,
        block_id: str,
        action_id: str,
        query: str,
        team: str = TEAM_ID,
        *,
        channel: str | None = None,
    ) -> Response:
        """What Slack asks when a user types in an external select: of a modal (`view`)
        or of a message in `channel`."""
        payload: dict[str, Any] = {
            "type": "block_suggestion",
            "team": {"id": team},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A1",
            "block_id": block_id,
            "action_id": action_id,
            "value": query,
        }
        if view is not None:
            payload["view"] = view
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        elif channel is not None:
            payload["channel"] = {"id": channel}
            payload["container"] = {"type": "message", "channel_id": channel}
        return self._form(payload)

    def command(
        self, user: str, text: str, *, team: str = TEAM_ID, channel: str = "C1"
    ) -> Response:
        body = urllib.parse.urlencode(
            {
                "token": "unused",
                "team_id": team,
                "channel_id": channel,
                "user_id": user,
                "command": "/helpdesk",
                "text": text,
                "trigger_id": f"trigger-{next(self._ids)}",
                "response_url": "http://127.0.0.1:9/unused",
                "api_app_id": "A1",
            }
        )
        return self.post(body, "application/x-www-form-urlencoded")
