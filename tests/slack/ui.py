"""Reading what the bot posted, and clicking it, the way a person in Slack would."""

from __future__ import annotations

import time
from typing import Any

from tests.slack.fake_api import FakeSlack
from tests.slack.harness import RunningApp
from tests.slack.sender import Response


def shown_text(blocks: list[dict[str, Any]]) -> str:
    """Every mrkdwn text of the blocks (sections, fields, context), as Slack gets them."""
    parts: list[str] = []
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for item in block.get("fields", []):
            parts.append(item["text"])
        if block["type"] == "context":
            parts += [e.get("text", "") for e in block.get("elements", [])]
    return "\n".join(parts)


def controls(blocks: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(b, e) for b in blocks if b["type"] == "actions" for e in b["elements"]]


def feedback_buttons(
    blocks: list[dict[str, Any]],
) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Slack's helpful / not helpful buttons: (block, element, button) for each button."""
    return [
        (b, e, e[side])
        for b in blocks
        if b["type"] == "context_actions"
        for e in b["elements"]
        if e["type"] == "feedback_buttons"
        for side in ("positive_button", "negative_button")
    ]


def feedback_labels(blocks: list[dict[str, Any]]) -> list[str]:
    return [button["text"]["text"] for _, _, button in feedback_buttons(blocks)]


class Screen:
    """One user's view of the conversation: what the bot posted since they last looked."""

    def __init__(self, running: RunningApp, user: str, channel: str | None = None) -> None:
        self.running = running
        self.fake: FakeSlack = running.fake
        self.user = user
        self.channel = channel or f"D{user}"
        self.seen = 0
        self.last: list[dict[str, Any]] = []

    def _mine(self) -> list[dict[str, Any]]:
        return [a for a in self.fake.posted() if a.get("channel") == self.channel]

    def wait(self, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The messages posted for this answer (waits until they stop arriving)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self._mine()) <= self.seen:
            time.sleep(0.01)
        count = -1
        while count != len(self._mine()):  # a turn may post several messages
            count = len(self._mine())
            time.sleep(0.15)
        new = self._mine()[self.seen :]
        assert new, f"no reply for {self.user} in {self.channel}"
        self.seen = len(self._mine())
        self.last = [block for message in new for block in message["blocks"]]
        return new

    @property
    def text(self) -> str:
        return shown_text(self.last)

    def say(self, text: str, **options: Any) -> str:
        response = self.running.sender.dm(self.user, text, channel=self.channel, **options)
        assert response.status == 200
        self.wait()
        return self.text

    def element(
        self, *, label: str | None = None, kind: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        for block, element in controls(self.last):
            if kind and element["type"] != kind:
                continue
            if label is None or (element.get("text") or {}).get("text") == label:
                return block, element
        raise AssertionError(f"no control {label or kind} in {controls(self.last)}")

    def click(self, label: str, *, wait: bool = True) -> Response:
        block, element = self.element(label=label, kind="button")
        response = self.running.sender.block_action(self.user, block, element, channel=self.channel)
        assert response.status == 200
        if wait:
            self.wait()
        return response

    def vote(
        self, label: str, *, on: list[dict[str, Any]] | None = None, wait: bool = True
    ) -> Response:
        """A click on one of Slack's feedback buttons under an answer: the last one shown,
        or the one whose blocks are `on` (an earlier message)."""
        for block, element, button in feedback_buttons(self.last if on is None else on):
            if button["text"]["text"] == label:
                response = self.running.sender.block_action(
                    self.user, block, element, channel=self.channel, value=button
                )
                assert response.status == 200
                if wait:
                    self.wait()
                return response
        raise AssertionError(f"no feedback button {label} in {self.last}")

    def options(self, query: str) -> list[dict[str, Any]]:
        """What the searchable select of the last messages offers for `query`."""
        block, element = self.element(kind="external_select")
        response = self.running.sender.options_load(
            self.user, None, block["block_id"], element["action_id"], query, channel=self.channel
        )
        assert response.status == 200
        options: list[dict[str, Any]] = response.json()["options"]
        return options

    def select(self, label: str) -> str:
        """Pick `label` in the select, as a person would: from the list, or typed into a
        searchable select and picked among what it offers."""
        selects = [e for _, e in controls(self.last) if e["type"].endswith("_select")]
        assert selects, f"no select in {controls(self.last)}"
        if selects[0]["type"] == "external_select":
            block, element = self.element(kind="external_select")
            offered = self.options(label)
        else:
            block, element = self.element(kind="static_select")
            offered = element["options"]
        option = next(o for o in offered if o["text"]["text"] == label)
        response = self.running.sender.block_action(
            self.user, block, element, channel=self.channel, value=option
        )
        assert response.status == 200
        self.wait()
        return self.text

    def pick_date(self, iso: str) -> str:
        block, element = self.element(kind="datepicker")
        response = self.running.sender.block_action(
            self.user, block, element, channel=self.channel, value=iso
        )
        assert response.status == 200
        self.wait()
        return self.text
