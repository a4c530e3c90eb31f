"""The editors' report: the questions that found no answer, grouped by meaning, and the
votes on each article.

Grouping: each unanswered question is embedded by the KB's sentence encoder (passed in
as `embed`, so this module needs no KB) and joins the group of the most similar question
placed before it, if that similarity reaches GROUP_THRESHOLD, else starts a group
(nearest-neighbour threshold clustering; a group's centre would not do: the centre of
a few support questions is close to every other support question). The encoder
is multilingual: "mot de passe oublié" and "I forgot my password" fall together, and a
group tells which languages it was asked in. Groups are listed most frequent first.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from services import questions
from services.kb_versions import Published
from storage.models import QuestionLog

Embed = Callable[[list[str]], npt.NDArray[np.float32]]

# With the shipped encoder (multilingual e5), paraphrases score 0.87-0.96, across the two
# languages too, and different support questions 0.75-0.86 (looked at on sample
# questions, tests/test_kb_report.py): the threshold sits in that gap.
GROUP_THRESHOLD = 0.865
QUESTIONS_READ = 2000  # the most recent unanswered questions considered
EXAMPLES = 5  # questions listed per group besides its example


@dataclass
class Group:
    """Unanswered questions that ask the same thing."""

    members: list[QuestionLog] = field(default_factory=list)
    vectors: list[npt.NDArray[np.float32]] = field(default_factory=list)

    @property
    def centre(self) -> npt.NDArray[np.float32]:
        mean = np.mean(np.stack(self.vectors), axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm else mean

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def example(self) -> QuestionLog:
        """The member closest to the group's centre: the most typical phrasing."""
        sims = np.stack(self.vectors) @ self.centre
        return self.members[int(np.argmax(sims))]

    @property
    def langs(self) -> dict[str, int]:
        return dict(Counter(m.lang for m in self.members).most_common())

    @property
    def lang(self) -> str:
        """The language it is asked in most (ties: the language of the example)."""
        counts = self.langs
        top = max(counts.values())
        example = self.example.lang
        return example if counts.get(example) == top else next(iter(counts))

    @property
    def last_asked(self) -> dt.datetime:
        return max(m.at for m in self.members)

    def to_dict(self) -> dict[str, Any]:
        example = self.example
        newest = sorted(self.members, key=lambda m: (m.at, m.id), reverse=True)
        return {
            "count": self.count,
            "lang": self.lang,
            "langs": self.langs,
            "example": {"id": example.id, "text": example.question, "lang": example.lang},
            "last_asked_at": self.last_asked.isoformat(),
            "questions": [
                {"id": m.id, "text": m.question, "lang": m.lang, "at": m.at.isoformat()}
                for m in newest[:EXAMPLES]
            ],
        }


def group_questions(
    logged: Sequence[QuestionLog], embed: Embed, threshold: float = GROUP_THRESHOLD
) -> list[Group]:
    """Questions grouped by meaning, the largest group first (ties: most recent first)."""
    ordered = sorted(logged, key=lambda q: (q.at, q.id))
    if not ordered:
        return []
    vectors = embed([q.question for q in ordered])
    groups: list[Group] = []
    owner: list[int] = []  # the group of each question placed so far
    for n, (entry, vector) in enumerate(zip(ordered, vectors, strict=True)):
        sims = vectors[:n] @ vector
        nearest = int(np.argmax(sims)) if n else -1
        if nearest >= 0 and float(sims[nearest]) >= threshold:
            index = owner[nearest]
        else:
            index = len(groups)
            groups.append(Group())
        groups[index].members.append(entry)
        groups[index].vectors.append(vector)
        owner.append(index)
    return sorted(groups, key=lambda g: (-g.count, -g.last_asked.timestamp()))


@dataclass(frozen=True)
class Report:
    generated_at: dt.datetime
    since: dt.datetime | None
    version: Published | None
    unanswered: int
    groups: list[Group]
    votes: list[questions.FeedbackTally]

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "version": self.version.to_dict() if self.version else None,
            "unanswered": {
                "questions": self.unanswered,
                "groups": [group.to_dict() for group in self.groups],
            },
            "articles": [
                {"slug": v.slug, "lang": v.lang, "helpful": v.helpful, "unhelpful": v.unhelpful}
                for v in self.votes
            ],
        }


def build_report(
    session: Any,
    embed: Embed,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
    version: Published | None = None,
    limit: int = QUESTIONS_READ,
) -> Report:
    logged = questions.unanswered_questions(session, since=since, limit=limit)
    return Report(
        generated_at=now,
        since=since,
        version=version,
        unanswered=len(logged),
        groups=group_questions(logged, embed),
        votes=questions.feedback_tally(session),
    )
