"""The editors' report: unanswered questions grouped by meaning (the KB's encoder), most
frequent first, with their languages and an example; votes per article, a person's
latest vote only; `helpdesk kb report [--json]`, `helpdesk kb new --from-question`."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import cli
from kb.encoder import default_encoder
from kb.lint import lint
from services import questions
from services.kb_report import build_report
from storage.db import SessionFactory

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"

ASKED = [
    ("How do I reset my password?", "en"),
    ("I forgot my password", "en"),
    ("mot de passe oublié", "fr"),
    ("how to change my password", "en"),
    ("can I get a refund for my subscription", "en"),
    ("je veux être remboursé de mon abonnement", "fr"),
    ("what is the weather tomorrow", "en"),
]


def log_questions(session_factory: SessionFactory) -> list[int]:
    ids = []
    with session_factory.begin() as session:
        for n, (text, lang) in enumerate(ASKED):
            entry = questions.record_question(
                session,
                question=text,
                lang=lang,
                answered=False,
                score=0.2,
                now=NOW + dt.timedelta(minutes=n),
            )
            ids.append(entry.id)
        questions.record_question(
            session, question="How do I activate DAS?", lang="en", answered=True, now=NOW
        )
    return ids


def test_unanswered_questions_are_grouped_by_meaning_most_frequent_first(
    session_factory: SessionFactory,
) -> None:
    log_questions(session_factory)
    with session_factory() as session:
        report = build_report(session, default_encoder().embed_queries, now=NOW)
        data = report.to_dict()
    groups = data["unanswered"]["groups"]
    assert data["unanswered"]["questions"] == 7
    texts = [sorted(q["text"] for q in g["questions"]) for g in groups]
    assert texts == [
        sorted(
            [
                "How do I reset my password?",
                "I forgot my password",
                "mot de passe oublié",
                "how to change my password",
            ]
        ),
        sorted(
            ["can I get a refund for my subscription", "je veux être remboursé de mon abonnement"]
        ),
        ["what is the weather tomorrow"],
    ]
    password = groups[0]
    assert password["count"] == 4 and password["lang"] == "en"
    assert password["langs"] == {"en": 3, "fr": 1}
    assert password["example"]["text"] in texts[0]
    assert groups[1]["langs"] == {"en": 1, "fr": 1}


def test_only_a_persons_latest_vote_counts(session_factory: SessionFactory) -> None:
    with session_factory.begin() as session:
        for helpful in (True, False):  # a change of mind
            questions.record_feedback(
                session,
                slug="das-activate",
                lang="en",
                helpful=helpful,
                workspace_id="T1",
                user_id="U1",
                now=NOW,
            )
        questions.record_feedback(
            session,
            slug="das-activate",
            lang="en",
            helpful=True,
            workspace_id="T1",
            user_id="U2",
            now=NOW,
        )
    with session_factory() as session:
        [tally] = questions.feedback_tally(session)
    assert (tally.slug, tally.helpful, tally.unhelpful) == ("das-activate", 1, 1)


def test_kb_report_json_and_text(session_factory: SessionFactory) -> None:
    log_questions(session_factory)
    with session_factory.begin() as session:
        questions.record_feedback(
            session,
            slug="payment-security",
            lang="fr",
            helpful=False,
            workspace_id="T1",
            user_id="U1",
            now=NOW,
        )
    result = CliRunner().invoke(cli, ["kb", "report", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"generated_at", "since", "version", "unanswered", "articles"}
    assert data["version"] is None
    assert [g["count"] for g in data["unanswered"]["groups"]] == [4, 2, 1]
    first = data["unanswered"]["groups"][0]
    assert set(first) == {"count", "lang", "langs", "example", "last_asked_at", "questions"}
    assert set(first["example"]) == {"id", "text", "lang"}
    assert data["articles"] == [
        {"slug": "payment-security", "lang": "fr", "helpful": 0, "unhelpful": 1}
    ]
    text = CliRunner().invoke(cli, ["kb", "report"]).output
    assert "Questions without an answer: 7, in 3 group(s)" in text
    assert "0 / 1    payment-security (fr)" in text
    later = json.loads(
        CliRunner().invoke(cli, ["kb", "report", "--since", "2026-11-24", "--json"]).output
    )
    assert later["unanswered"]["questions"] == 0 and later["since"].startswith("2026-11-24")


def test_kb_new_from_a_logged_question(
    session_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(FIXTURE_KB, articles)
    monkeypatch.setenv("HELPDESK_KB_DIR", str(articles))
    ids = log_questions(session_factory)
    french = ids[2]  # "mot de passe oublié"
    result = CliRunner().invoke(
        cli,
        ["kb", "new", "mot-de-passe", "--from-question", str(french), "--phrasing", "mdp perdu"],
    )
    assert result.exit_code == 0, result.output
    path = articles / "mot-de-passe.fr.md"  # the question's language
    front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
    assert front["questions"] == ["mot de passe oublié", "mdp perdu"]
    assert front["lang"] == "fr" and front["slug"] == "mot-de-passe"
    english = CliRunner().invoke(cli, ["kb", "new", "mot-de-passe", "--lang", "en"])
    assert english.exit_code == 0
    assert lint(articles).ok  # the drafts are valid articles an editor completes
    missing = CliRunner().invoke(cli, ["kb", "new", "other", "--from-question", "9999"])
    assert missing.exit_code == 1 and "no logged question 9999" in missing.output
    no_lang = CliRunner().invoke(cli, ["kb", "new", "other"])
    assert no_lang.exit_code == 1 and "--lang" in no_lang.output


def test_kb_publish_cli(
    session_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(FIXTURE_KB, articles)
    monkeypatch.setenv("HELPDESK_KB_DIR", str(articles))
    first = CliRunner().invoke(cli, ["kb", "publish", "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["published"] and data["new"] and data["articles"] == {"fr": 3, "en": 3}
    assert data["version"]["id"] == 1 and data["errors"] == []
    again = CliRunner().invoke(cli, ["kb", "publish"])
    assert again.exit_code == 0 and "unchanged, still served" in again.output
    (articles / "broken.en.md").write_text("---\nslug: broken\n---\nText.\n", encoding="utf-8")
    refused = CliRunner().invoke(cli, ["kb", "publish"])
    assert refused.exit_code == 1
    assert "broken.en.md:1:" in refused.output and "Not published" in refused.output
    report = json.loads(CliRunner().invoke(cli, ["kb", "report", "--json"]).output)
    assert report["version"]["id"] == 1
