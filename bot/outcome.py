"""What one call to the assistant returns (`Outcome`), and the structured input (`Action`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.replies import Choice, Prompt, Reply


@dataclass(frozen=True)
class Action:
    """A click on a choice (a button, a select, a date picker) bound to the run that showed it.

    `run_id` is the `Outcome.run_id` the choice came with, `slot` the reply's `action_slot`,
    `value` the choice's value (or the picked date, ISO), and `idempotency_key` is unique
    to this click: the same key twice changes nothing the second time.
    """

    run_id: str
    slot: str
    value: str
    idempotency_key: str


@dataclass
class Outcome:
    replies: list[Reply]
    waiting_for: str | None
    lang: str
    run_id: str | None = None  # the run the replies' choices are bound to

    @property
    def prompt(self) -> Prompt | None:
        """The question the bot waits an answer to, when it asks one."""
        prompts = [r for r in self.replies if isinstance(r, Prompt)]
        return prompts[-1] if prompts and self.waiting_for else None

    @property
    def numbered(self) -> list[Choice]:
        """The choices a number typed next picks, in order (the same rule as the engine's):
        a question's options (when they are numbered), else every choice shown."""
        prompt = self.prompt
        if prompt is not None:
            return list(prompt.choices) if prompt.numbered else []
        return [choice for reply in self.replies for choice in reply.choices]

    def to_json(self) -> dict[str, Any]:
        return {
            "replies": [r.to_json() for r in self.replies],
            "waiting_for": self.waiting_for,
            "run_id": self.run_id,
            "lang": self.lang,
        }
