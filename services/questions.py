"""What editors learn from the bot: every question put to the KB, and "was this helpful?".

The conversation layer records each question with what it answered (or that it found
nothing), and each yes/no vote on an answer. A question the bot answered with "do you
mean … or …?" is recorded as unanswered until the user picks one of the two articles. Editors read the unanswered questions and
the articles voted unhelpful.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.clock import utcnow
from services.codes import redact_codes
from storage.models import ArticleFeedback, QuestionLog

QUESTION_MAX = 2000  # a pasted log is not a question; keep what an editor can read


def record_question(
    session: Session,
    *,
    question: str,
    lang: str,
    answered: bool,
    slug: str | None = None,
    score: float | None = None,
    workspace_id: str | None = None,
    user_id: str | None = None,
    now: dt.datetime | None = None,
) -> QuestionLog:
    entry = QuestionLog(
        at=now or utcnow(),
        workspace_id=workspace_id,
        user_id=user_id,
        # A customer asking why their code fails pastes the code: editors never see it.
        question=redact_codes(session, question.strip())[:QUESTION_MAX],
        lang=lang,
        answered=answered,
        slug=slug,
        score=score,
    )
    session.add(entry)
    session.flush()
    return entry


def record_pick(session: Session, question_id: int, *, slug: str) -> None:
    """The user picked `slug` among the articles the bot asked them to choose from: their
    question was answered after all, and editors no longer see it as unanswered."""
    entry = session.get(QuestionLog, question_id)
    if entry is not None:
        entry.answered = True
        entry.slug = slug
        session.flush()


def record_feedback(
    session: Session,
    *,
    slug: str,
    lang: str,
    helpful: bool,
    question_id: int | None = None,
    workspace_id: str | None = None,
    user_id: str | None = None,
    now: dt.datetime | None = None,
) -> ArticleFeedback:
    """A vote on an article. Only a person's latest vote on an article counts: a second
    vote (a change of mind, the other button) replaces the first."""
    if user_id:
        previous = session.scalars(
            select(ArticleFeedback)
            .where(
                ArticleFeedback.workspace_id == workspace_id,
                ArticleFeedback.user_id == user_id,
                ArticleFeedback.slug == slug,
            )
            .order_by(ArticleFeedback.id.desc())
            .with_for_update()
        ).first()
        if previous is not None:
            previous.at = now or utcnow()
            previous.lang = lang
            previous.helpful = helpful
            previous.question_id = question_id
            session.flush()
            return previous
    vote = ArticleFeedback(
        at=now or utcnow(),
        workspace_id=workspace_id,
        user_id=user_id,
        question_id=question_id,
        slug=slug,
        lang=lang,
        helpful=helpful,
    )
    session.add(vote)
    session.flush()
    return vote


def unanswered_questions(
    session: Session, *, since: dt.datetime | None = None, limit: int = 100
) -> list[QuestionLog]:
    """The questions the KB could not answer, newest first."""
    query = select(QuestionLog).where(QuestionLog.answered.is_(False))
    if since is not None:
        query = query.where(QuestionLog.at >= since)
    return list(
        session.scalars(query.order_by(QuestionLog.at.desc(), QuestionLog.id.desc()).limit(limit))
    )


@dataclass(frozen=True)
class FeedbackTally:
    slug: str
    lang: str
    helpful: int
    unhelpful: int


def feedback_tally(session: Session) -> list[FeedbackTally]:
    """Votes per article and language, the most voted unhelpful first."""
    unhelpful = func.sum(case((ArticleFeedback.helpful.is_(False), 1), else_=0))
    helpful = func.sum(case((ArticleFeedback.helpful.is_(True), 1), else_=0))
    rows: Sequence[Any] = session.execute(
        select(ArticleFeedback.slug, ArticleFeedback.lang, helpful, unhelpful)
        .group_by(ArticleFeedback.slug, ArticleFeedback.lang)
        .order_by(unhelpful.desc(), ArticleFeedback.slug, ArticleFeedback.lang)
    ).all()
    return [FeedbackTally(slug, lang, int(h or 0), int(u or 0)) for slug, lang, h, u in rows]
