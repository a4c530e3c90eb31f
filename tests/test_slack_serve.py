"""`helpdesk serve`: one clear line and a non-zero exit on a bad setting; a real gunicorn
server answering signed Slack requests and /healthz."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.settings import REPO_ROOT
from storage.db import upgrade
from tests.slack.fake_api import Failure, FakeSlack
from tests.slack.harness import SIGNING_SECRET
from tests.slack.sender import SlackSender


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    yield server
    server.stop()


def _serve(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["serve"])
    return result.exit_code, result.output


def test_a_missing_token_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    code, output = _serve(monkeypatch, SLACK_SIGNING_SECRET="s")
    assert code == 2
    assert output.strip() == "error: SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)"


def test_a_missing_signing_secret_stops_http_mode(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    code, output = _serve(monkeypatch, SLACK_BOT_TOKEN="xoxb-1")
    assert code == 2
    assert "SLACK_SIGNING_SECRET" in output and "Traceback" not in output


def test_a_wrong_app_token_stops_socket_mode(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    code, output = _serve(monkeypatch, SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xoxb-2")
    assert code == 2
    assert output.strip() == "error: SLACK_APP_TOKEN must be an app-level token starting with xapp-"


def test_a_token_slack_refuses_stops_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, database_url: str, fake: FakeSlack
) -> None:
    fake.fail("auth.test", Failure(200, {"ok": False, "error": "invalid_auth"}))
    code, output = _serve(
        monkeypatch,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        HELPDESK_SLACK_API_URL=fake.url,
    )
    assert code == 2
    assert output.strip() == "error: SLACK_BOT_TOKEN was refused by Slack: invalid_auth"


def test_an_unmigrated_database_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeSlack
) -> None:
    code, output = _serve(
        monkeypatch,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        HELPDESK_SLACK_API_URL=fake.url,
        HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}",
    )
    assert code == 2
    assert "helpdesk db upgrade" in output and len(output.strip().splitlines()) == 1


def test_a_garbage_api_url_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    code, output = _serve(
        monkeypatch,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        HELPDESK_SLACK_API_URL="slack.com/api",
    )
    assert code == 2
    assert "HELPDESK_SLACK_API_URL" in output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_runs_gunicorn_and_answers_signed_events(tmp_path: Path, fake: FakeSlack) -> None:
    db = tmp_path / "serve.db"
    upgrade(f"sqlite:///{db}")
    fake.add_user("U1", locale="en-US")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))},
        "HELPDESK_DATA_DIR": str(tmp_path / "data"),
        "HELPDESK_DATABASE_URL": f"sqlite:///{db}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HELPDESK_SLACK_API_URL": fake.url,
    }
    command = [
        str(Path(sys.executable).parent / "helpdesk"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--threads",
        "4",
    ]
    process = subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as ok:
                    assert ok.status == 200
                    break
            except OSError:
                assert process.poll() is None, "helpdesk serve exited"
                assert time.monotonic() < deadline, "helpdesk serve did not start"
                time.sleep(0.2)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
        assert sender.dm("U1", "hello").status == 200
        posted = fake.wait_for("chat.postMessage", timeout=60)[0].args
        assert posted["channel"] == "DU1"
        assert sender.dm("U1", "hello", signature="v0=forged").status == 401
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_oauth_mode_with_a_bot_token_too_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    code, output = _serve(
        monkeypatch,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="c",
        SLACK_SIGNING_SECRET="s",
    )
    assert code == 2
    assert output.startswith("error: SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set")
    assert len(output.strip().splitlines()) == 1


def test_oauth_mode_with_a_triage_channel_but_no_staff_workspace_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    code, output = _serve(
        monkeypatch,
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="c",
        SLACK_SIGNING_SECRET="s",
        HELPDESK_TRIAGE_CHANNEL="CTRIAGE",
    )
    assert code == 2
    assert output.startswith("error: HELPDESK_TRIAGE_WORKSPACE is not set")
    assert len(output.strip().splitlines()) == 1


def test_oauth_mode_without_its_secret_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    code, output = _serve(monkeypatch, SLACK_CLIENT_ID="1.2", SLACK_SIGNING_SECRET="s")
    assert code == 2
    assert output.strip() == (
        "error: SLACK_CLIENT_SECRET is not set "
        "(OAuth mode needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"
    )
