"""Publishing the KB: the version lives in the database, every process follows it.

Two Slack app instances, each with its own KnowledgeBase and index directory, share one
database: an editor's `/helpdesk kb reindex` on one is answered by the other within its
check interval; a broken article publishes nothing; a customer cannot publish.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import kb_publishing
from bot.handlers.common import Deps
from bot.settings import Settings
from bot.slack.scheduler import Scheduler, serve_jobs
from kb.knowledge import KnowledgeBase
from services import kb_versions
from storage.db import SessionFactory
from tests.kb_replicas import add_password_article, copy_articles, replica_kb, warm_cache
from tests.slack.fake_api import FakeSlack
from tests.slack.fixtures import CLIENT_FR, CUSTOMER, add_people
from tests.slack.harness import RunningApp, running_app
from tests.slack.ui import Screen

EDITOR = "UEDIT"
QUESTION = "How do I reset my support portal password?"


@dataclasses.dataclass
class Pair:
    articles: Path
    kb_a: KnowledgeBase
    kb_b: KnowledgeBase
    a: RunningApp
    b: RunningApp


@pytest.fixture
def pair(
    settings: Settings,
    session_factory: SessionFactory,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    warm = warm_cache(tmp_path_factory)
    articles = copy_articles(tmp_path / "articles")
    settings = dataclasses.replace(
        settings, articles_dir=articles, editor_users=frozenset({EDITOR})
    )
    kb_a = replica_kb(articles, tmp_path / "index-a", warm)
    kb_b = replica_kb(articles, tmp_path / "index-b", warm)
    # One Slack for both processes: they share the database's inbox, so either may
    # handle a delivery, as replicas do.
    fake = FakeSlack().start()
    add_people(fake)
    fake.add_user(EDITOR, locale="en-US", name="Eddie Editor")
    with (
        running_app(settings, session_factory, kb_a, fake=fake) as a,
        running_app(settings, session_factory, kb_b, fake=fake) as b,
    ):
        # Slack's event ids are unique across the app: the two senders must not reuse them.
        b.sender._ids = itertools.count(1_000_000)
        yield Pair(articles, kb_a, kb_b, a, b)
    fake.stop()
    kb_a.close()
    kb_b.close()


def _dm(running: RunningApp, user: str) -> str:
    """The bot's last message in the user's DM (waiting for one)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        mine = [a for a in running.fake.posted() if a.get("channel") == f"D{user}"]
        if mine:
            return str(mine[-1]["text"])
        time.sleep(0.05)
    raise AssertionError(f"no message to D{user}")


def test_a_reindex_on_one_process_is_served_by_the_other_within_its_check(
    pair: Pair, session_factory: SessionFactory
) -> None:
    customer_b = Screen(pair.b, CUSTOMER)
    assert "I have no answer" in customer_b.say(QUESTION)
    # B follows the published version the way `helpdesk serve` does: the scheduler's job.
    deps_b = Deps(
        settings=Settings.from_env(),
        session_factory=session_factory,
        bridge=None,  # type: ignore[arg-type]  (the KB job needs only the KB and the database)
        profiles=None,  # type: ignore[arg-type]
        kb=pair.kb_b,
    )
    follow = [job for job in serve_jobs() if job.name == "follow the published KB"]
    scheduler = Scheduler(deps_b, client=None, jobs=follow).start()  # type: ignore[arg-type]
    try:
        add_password_article(pair.articles)
        response = pair.a.sender.command(EDITOR, "kb reindex")
        assert response.status == 200 and "Rebuilding the knowledge base" in response.body
        published = _dm(pair.a, EDITOR)
        assert "Knowledge base version 1" in published and "published" in published
        assert "4 articles in English, 4 in French" in published
        with session_factory() as session:
            version = kb_versions.latest(session)
        assert version is not None and version.published_by == f"slack:T1:{EDITOR}"
        assert pair.kb_a.version == version.digest  # A switched as it published
        # B follows within its check interval plus its (incremental) build; then whichever
        # process handles the question answers it.
        started = time.monotonic()
        while pair.kb_b.version != version.digest and time.monotonic() - started < 30:
            time.sleep(0.1)
        assert pair.kb_b.version == version.digest
        assert time.monotonic() - started < 2.0 + 10.0  # interval + build, never a restart
        answer = customer_b.say(QUESTION)
        assert "Forgot password?" in answer, answer
        claire = Screen(pair.b, CLIENT_FR)
        assert "Mot de passe oublié" in claire.say(
            "Comment réinitialiser le mot de passe du portail de support ?"
        )
    finally:
        scheduler.stop()


def test_a_broken_article_publishes_nothing_and_the_previous_version_stays(
    pair: Pair, session_factory: SessionFactory
) -> None:
    first = kb_publishing.publish(pair.kb_a, session_factory, pair.articles, by="test")
    assert first.published and first.new
    (pair.articles / "broken.en.md").write_text("---\nslug: broken\nlang: en\n---\n", "utf-8")
    add_password_article(pair.articles)
    pair.a.sender.command(EDITOR, "kb reindex")
    refused = _dm(pair.a, EDITOR)
    assert "not published: 5 problems to fix first" in refused
    assert "broken.en.md:1: missing field 'title'" in refused
    assert "keeps serving the version published before" in refused
    assert pair.kb_a.version == first.version.digest  # type: ignore[union-attr]
    with session_factory() as session:
        assert kb_versions.latest(session) == first.version
    assert "I have no answer" in Screen(pair.a, CUSTOMER).say(QUESTION)


def test_publishing_the_same_articles_twice_changes_nothing(
    pair: Pair, session_factory: SessionFactory
) -> None:
    first = kb_publishing.publish(pair.kb_a, session_factory, pair.articles, by="test")
    pair.a.sender.command(EDITOR, "kb reindex")
    assert "Nothing changed since version 1" in _dm(pair.a, EDITOR)
    with session_factory() as session:
        assert kb_versions.latest(session) == first.version
    assert kb_publishing.follow(pair.kb_b, session_factory) is False  # same digest already


def test_a_customer_cannot_reindex(pair: Pair, session_factory: SessionFactory) -> None:
    add_password_article(pair.articles)
    response = pair.a.sender.command(CUSTOMER, "kb reindex")
    assert response.status == 200
    assert "only the knowledge base editors" in response.body
    french = pair.a.sender.command(CLIENT_FR, "kb reindex")
    assert "seuls les rédacteurs de la base de connaissances" in french.body
    time.sleep(0.3)
    assert pair.a.fake.posted() == []
    with session_factory() as session:
        assert kb_versions.latest(session) is None
    assert "I have no answer" in Screen(pair.a, CUSTOMER).say(QUESTION)


def test_nothing_published_keeps_serving_the_articles_on_disk(
    pair: Pair, session_factory: SessionFactory
) -> None:
    version = pair.kb_b.version
    assert kb_publishing.follow(pair.kb_b, session_factory) is False
    assert pair.kb_b.version == version


def test_a_restarted_process_serves_the_published_files_not_later_edits(
    pair: Pair,
    session_factory: SessionFactory,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    add_password_article(pair.articles)
    result = kb_publishing.publish(pair.kb_a, session_factory, pair.articles, by="test")
    (pair.articles / "portal-password.en.md").unlink()  # an edit nobody published
    restarted = replica_kb(pair.articles, tmp_path / "index-c", warm_cache(tmp_path_factory))
    try:
        assert restarted.article("portal-password", "en") is None
        assert kb_publishing.follow(restarted, session_factory) is True
        assert restarted.version == result.version.digest  # type: ignore[union-attr]
        assert restarted.ask(QUESTION).article.slug == "portal-password"  # type: ignore[union-attr]
    finally:
        restarted.close()


def test_questions_asked_during_a_switch_are_answered_from_one_whole_index(
    pair: Pair, session_factory: SessionFactory
) -> None:
    add_password_article(pair.articles)
    kb_publishing.publish(pair.kb_a, session_factory, pair.articles, by="test")
    answers: list[str | None] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def keep_asking() -> None:
        while not done.is_set():
            try:
                answer = pair.kb_b.ask(QUESTION)
                answers.append(answer.article.slug if answer.article else None)
            except BaseException as err:
                errors.append(err)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        time.sleep(0.2)
        assert kb_publishing.follow(pair.kb_b, session_factory) is True
        time.sleep(0.2)
    finally:
        done.set()
        asker.join()
    assert errors == []
    # Before the switch no answer, after it the new article; never anything in between.
    assert set(answers) == {None, "portal-password"}
    first_new = answers.index("portal-password")
    assert all(slug == "portal-password" for slug in answers[first_new:])
