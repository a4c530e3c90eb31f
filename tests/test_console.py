"""`helpdesk chat`: the JSONL machine mode end to end, the interactive mode, a bad database.

The results of a JSONL session are checked with the admin CLI, as staff would see them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from babel.dates import format_date
from click.testing import CliRunner
from rich.console import Console

from bot.boundary import ChatUser
from bot.cli import cli
from bot.console import console_user, history_file, run_interactive
from bot.conversation import Assistant
from bot.settings import Settings
from services.clock import utcnow
from storage.db import SessionFactory
from tests.conversation_helpers import ClarifyingKB, seed_demo, shared_kb


@pytest.fixture
def seeded(
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # `helpdesk chat` runs on the real clock: the demo is seeded for today, whatever day it is.
    seed_demo(session_factory, today=utcnow().date())
    # The index built once for the session is current: the console opens it, never rebuilds.
    monkeypatch.setenv("HELPDESK_INDEX_DIR", str(shared_kb(tmp_path_factory).index_dir))


def chat_jsonl(*lines: str, args: tuple[str, ...] = ()) -> list[dict]:
    result = CliRunner().invoke(cli, ["chat", "--jsonl", *args], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def admin(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_one_json_line_per_input_line(seeded: None) -> None:
    out = chat_jsonl(
        "hello",
        "my products",
        "register a product",
        "",
        "   ",
        "DGS-1210-28",
        args=("--email", "demo@example.com", "--lang", "en"),
    )
    assert len(out) == 6  # blank lines are messages too: a driver reading each answer never hangs
    for line in out:
        # The documented shape; later fields (the run, the language, typed replies) add to it.
        assert {"replies", "waiting_for"} <= set(line)
        for reply in line["replies"]:
            assert {"text", "choices"} <= set(reply)
            assert isinstance(reply["text"], str) and reply["text"]
            assert all(set(choice) == {"value", "label"} for choice in reply["choices"])
    assert [line["waiting_for"] for line in out] == [
        None,
        None,
        "model",
        "model",
        "model",
        "serial",
    ]
    assert "I did not get an answer." in out[3]["replies"][0]["text"]
    assert "Which model" in out[4]["replies"][-1]["text"]


def test_registration_in_french_visible_to_staff(seeded: None) -> None:
    out = chat_jsonl(
        "enregistrer un produit",
        "DAP-X2850",
        "AX28A52000555",
        # A purchase date typed the French way, a few days ago on the real clock.
        format_date(utcnow().date() - dt.timedelta(days=6), "d MMMM y", locale="fr"),
        "1",
        "oui",
        args=("--email", "demo@example.com", "--lang", "fr", "--tz", "Europe/Paris"),
    )
    assert [line["waiting_for"] for line in out] == [
        "model",
        "serial",
        "purchase_date",
        "site",
        "confirm",
        None,
    ]
    assert "est enregistré" in out[-1]["replies"][0]["text"]
    listing = admin("products", "list", "--email", "demo@example.com")
    assert "AX28A52000555" in listing and "DAP-X2850" in listing


def test_incident_filed_from_the_console_is_listed_by_staff(seeded: None) -> None:
    out = chat_jsonl(
        "report an incident",
        "OneTouch AT.com",
        "Cannot log in",
        "The portal rejects my password.",
        "y",
        args=(
            "--email",
            "demo@example.com",
            "--name",
            "Demo",
            "--lang",
            "en",
            "--tz",
            "Asia/Tokyo",
        ),
    )
    assert out[-1]["waiting_for"] is None
    assert (
        "INC-000001" in out[-1]["replies"][0]["text"]
        and "Japan Standard Time" in out[-1]["replies"][0]["text"]
    )
    listing = admin("incidents", "list", "--email", "demo@example.com")
    assert "INC-000001" in listing and "Cannot log in" in listing


def test_a_second_run_continues_the_conversation(seeded: None) -> None:
    first = chat_jsonl("activate a service", "yes", args=("--email", "demo@example.com"))
    assert first[-1]["waiting_for"] == "product"
    second = chat_jsonl("NS34L11000562", args=("--email", "demo@example.com"))
    assert second[0]["waiting_for"] == "code"


def test_unmigrated_database_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(cli, ["chat", "--jsonl"], input="hello\n")
    assert result.exit_code == 1
    assert "helpdesk db upgrade" in result.stderr


def test_bad_time_zone_is_a_usage_error(seeded: None) -> None:
    result = CliRunner().invoke(cli, ["chat", "--jsonl", "--tz", "Mars/Olympus"], input="hello\n")
    assert result.exit_code == 2 and "not a time zone" in result.output


def test_interactive_numbers_pick_the_choices_shown(
    seeded: None,
    session_factory: SessionFactory,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    assistant = Assistant(session_factory, settings, shared_kb(tmp_path_factory))
    typed = iter(["hello", "5", "xyzzy"])

    def fake_input(self: Console, prompt: str = "") -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(Console, "input", fake_input)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=False, width=200)
    who = console_user(user_id=None, email="demo@example.com", name="Demo", lang="en", tz=None)
    run_interactive(assistant, who, tmp_path / "history", console)
    shown = screen.getvalue()
    assert "5. My products" in shown
    assert "You have 5 registered products" in shown  # "5" picked "My products"
    assert "did not understand" in shown


def test_which_of_two_articles_is_numbered_and_a_number_picks_one(
    seeded: None,
    session_factory: SessionFactory,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    question = "combien de temps faut-il pour avoir une réponse ?"
    kb = ClarifyingKB(
        shared_kb(tmp_path_factory), {question: ("first-response-time", "resolution-time")}
    )
    typed = iter([question, "2"])

    def fake_input(self: Console, prompt: str = "") -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(Console, "input", fake_input)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=False, width=200)
    who = console_user(user_id=None, email="demo@example.com", name="Demo", lang="fr", tz=None)
    run_interactive(Assistant(session_factory, settings, kb), who, tmp_path / "history", console)
    shown = screen.getvalue()
    assert "Vous voulez dire « Dans quel délai le support répond-il" in shown
    assert "2. Combien de temps faut-il pour résoudre mon problème ?" in shown
    assert "3. Ni l’un ni l’autre" in shown
    assert "Oui, cela m’a aidé" in shown  # "2" picked the article, answered as usual


def test_a_bug_gets_an_apology_and_the_session_goes_on(
    seeded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = Assistant.handle

    def flaky(self: Assistant, who, text: str, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(text)
        if text == "boom":
            raise RuntimeError("a bug")
        return real(self, who, text, **kwargs)

    monkeypatch.setattr(Assistant, "handle", flaky)
    out = chat_jsonl("boom", "help", args=("--lang", "fr"))
    assert out[0]["replies"] == [
        {
            "type": "message",
            "text": "Désolé, un problème est survenu de mon côté. Merci de réessayer dans un instant.",
            "choices": [],
        }
    ]
    assert out[0]["waiting_for"] is None
    assert len(out[1]["replies"][0]["choices"]) == 7


def _interactive(
    assistant: Assistant,
    who: ChatUser,
    history: Path,
    monkeypatch: pytest.MonkeyPatch,
    *lines: str,
) -> tuple[str, list[str]]:
    typed = iter(lines)
    consumed: list[str] = []

    def fake_input(self: Console, prompt: str = "") -> str:
        try:
            consumed.append(next(typed))
        except StopIteration:
            raise EOFError from None
        return consumed[-1]

    monkeypatch.setattr(Console, "input", fake_input)
    screen = io.StringIO()
    run_interactive(assistant, who, history, Console(file=screen, force_terminal=False, width=200))
    return screen.getvalue(), consumed


@pytest.fixture
def console_assistant(
    seeded: None,
    session_factory: SessionFactory,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Assistant:
    return Assistant(session_factory, settings, shared_kb(tmp_path_factory))


@pytest.mark.parametrize("word", ["exit", "quit", "quitter", "Quitter"])
def test_exit_words_leave_the_console(
    console_assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    who = console_user(user_id=None, email="demo@example.com", name="Demo", lang="en", tz=None)
    shown, consumed = _interactive(
        console_assistant, who, tmp_path / "h", monkeypatch, "register a product", word, "help"
    )
    assert consumed == ["register a product", word]  # nothing read after it
    assert "cancelled" not in shown


def test_the_banner_speaks_the_users_language(
    console_assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = console_user(user_id=None, email="demo@example.com", name="Demo", lang=None, tz=None)
    shown, _ = _interactive(console_assistant, who, tmp_path / "h", monkeypatch, "bonjour")
    assert shown.startswith("Type your message")  # nothing known of this user yet
    shown, _ = _interactive(console_assistant, who, tmp_path / "h", monkeypatch)
    assert shown.startswith("Tapez votre message")  # "bonjour" said which language


def test_history_is_per_user_and_never_keeps_a_code(
    console_assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = console_user(user_id=None, email="demo@example.com", name="Demo", lang="en", tz=None)
    lines = (
        "activate a service",
        "yes",
        "NS34L11000562",
        "8x5n c9p4 w7ld",
        "my code is ABCD-1234-EFGH",
    )
    _interactive(console_assistant, demo, tmp_path / "h", monkeypatch, *lines)
    other = console_user(user_id="someone", email=None, name="Other", lang="en", tz=None)
    _interactive(console_assistant, other, tmp_path / "h", monkeypatch, "my products")
    files = sorted(p.name for p in (tmp_path / "h").iterdir())
    assert len(files) == 2
    kept = history_file(tmp_path / "h", demo).read_text()
    # Anything shaped like a code is left out, at the code step or elsewhere.
    assert kept.splitlines() == ["activate a service", "yes"]
    assert "8x5n" not in kept and "ABCD-1234" not in kept
    assert (
        "my products" not in kept
        and "my products" in history_file(tmp_path / "h", other).read_text()
    )


def test_a_line_with_a_nul_is_answered_and_the_console_goes_on(
    console_assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = console_user(user_id=None, email="demo@example.com", name="Demo", lang="en", tz=None)
    screen, consumed = _interactive(
        console_assistant, demo, tmp_path / "h", monkeypatch, "hello\x00there", "my products"
    )
    assert consumed == ["hello\x00there", "my products"]
    assert "DGS-1210-28" in screen  # the second line was answered too


def test_a_number_picks_the_same_in_both_modes(
    console_assistant: Assistant,
    session_factory: SessionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for summary in ("First", "Second"):
        chat_jsonl(
            "report an incident",
            "OneTouch AT.com",
            summary,
            "Details.",
            "yes",
            args=("--email", "demo@example.com", "--lang", "en"),
        )
    jsonl = chat_jsonl(
        "check an incident", "1", args=("--email", "demo@example.com", "--lang", "en")
    )
    assert "Incident INC-000001: First" in jsonl[-1]["replies"][0]["text"]
    who = console_user(user_id=None, email="demo@example.com", name="Demo", lang="en", tz=None)
    shown, _ = _interactive(
        console_assistant, who, tmp_path / "h", monkeypatch, "check an incident", "1"
    )
    assert "• INC-000002" in shown  # incident numbers are not positions: not numbered
    assert "Incident INC-000001: First" in shown


def test_lists_are_tables_and_user_text_is_shown_as_typed(
    console_assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = console_user(user_id=None, email="demo@example.com", name="Demo", lang="en", tz=None)
    hostile = "[bold]<!channel>[/bold] **not bold**"
    shown, _ = _interactive(
        console_assistant,
        who,
        tmp_path / "h",
        monkeypatch,
        "report an incident",
        "OneTouch AT.com",
        hostile,
        "Details.",
        "yes",
        "my incidents",
    )
    assert hostile in shown
    assert "Incident" in shown and "Subscription" in shown  # the table's header


def test_make_chats_summary_is_two_lines(seeded: None) -> None:
    """What `make chat` runs: `helpdesk chat --summary`, then "quitter" leaves."""
    result = CliRunner().invoke(
        cli, ["chat", "--email", "demo@example.com", "--lang", "fr", "--summary"], input="quitter\n"
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines[0] == "Demo Customer (demo@example.com) : 5 produits enregistrés, 6 abonnements."
    assert "helpdesk demo seed" in lines[1] and lines[2].startswith("Tapez votre message")
    assert len(lines) <= 4
