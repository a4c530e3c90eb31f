"""What the conversation tests share: the KB built once, the demo data, a chat driver.

The KB is built from the shipped articles into a temporary index once per test session
(building it is the slow part); each test gets its own database from tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.boundary import Action, ChatUser, Outcome, to_plain
from bot.conversation import Assistant
from bot.settings import REPO_ROOT, Settings
from kb.answer import Answer
from kb.articles import Article, ArticleRef
from kb.knowledge import KnowledgeBase
from services import demo
from storage.db import SessionFactory

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # a Monday
ARTICLES = REPO_ROOT / "kb" / "articles"
DEMO_EMAIL = demo.DEMO_EMAIL

_kb: KnowledgeBase | None = None


def shared_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    global _kb
    if _kb is None:
        _kb = KnowledgeBase.open(ARTICLES, Path(tmp_path_factory.mktemp("kb-index")))
    return _kb


def seed_demo(session_factory: SessionFactory, today: dt.date | None = None) -> None:
    with session_factory.begin() as session:
        demo.seed(session, today=today or NOW.date())


def user(
    user_id: str = "U1",
    *,
    email: str | None = DEMO_EMAIL,
    name: str | None = "Demo Customer",
    lang: str | None = None,
    tz: str | None = "Europe/Paris",
    thread: str = "D1",
) -> ChatUser:
    return ChatUser("T1", user_id, thread, email=email, name=name, tz=tz, locale=lang)


class Chat:
    """A customer talking to the bot; `now` moves on by a minute per message."""

    def __init__(self, assistant: Assistant, who: ChatUser, now: dt.datetime = NOW) -> None:
        self.assistant = assistant
        self.who = who
        self.now = now
        self.last: Outcome | None = None

    def say(self, text: str) -> Outcome:
        self.now += dt.timedelta(minutes=1)
        self.last = self.assistant.handle(self.who, text, now=self.now)
        json.dumps(self.last.to_json())  # what the console prints must always serialise
        return self.last

    def act(self, action: Action) -> Outcome:
        self.now += dt.timedelta(minutes=1)
        self.last = self.assistant.act(self.who, action, now=self.now)
        json.dumps(self.last.to_json())
        return self.last

    def says(self, *texts: str) -> Outcome:
        for text in texts:
            self.say(text)
        assert self.last is not None
        return self.last


def text_of(outcome: Outcome) -> str:
    """What a user reads, as plain text."""
    return "\n".join(to_plain(reply.text) for reply in outcome.replies)


def choices_of(outcome: Outcome) -> list[tuple[str, str]]:
    return [(c.value, c.label) for reply in outcome.replies for c in reply.choices]


def make_assistant(
    session_factory: SessionFactory, settings: Settings, kb: KnowledgeBase | None
) -> Assistant:
    return Assistant(session_factory, settings, kb)


class ClarifyingKB:
    """The shipped KB, except that each question of `pairs` gets the KB's "ask which of
    these two articles" decision (a `KnowledgeBaseLike`): tests of what the bot does with
    that decision do not depend on how the decision is calibrated."""

    def __init__(self, kb: KnowledgeBase, pairs: dict[str, tuple[str, str]]) -> None:
        self.kb = kb
        self.pairs = pairs
        self.asked: list[str] = []

    def ask(self, question: str, lang: str | None = None) -> Answer:
        self.asked.append(question)
        if question not in self.pairs:
            return self.kb.ask(question, lang)
        answer_lang = lang or "en"
        pair = []
        for slug in self.pairs[question]:
            article = self.kb.article(slug, answer_lang)
            assert article is not None, slug
            pair.append(ArticleRef(slug, answer_lang, article.title))
        return Answer(answer_lang, False, None, 0.6, alternatives=pair, clarify=pair)

    def article(self, slug: str, lang: str) -> Article | None:
        return self.kb.article(slug, lang)
