"""manifest.yml asks Slack for what the app listens to, and nothing of the kind it does not."""

from __future__ import annotations

import yaml

from bot.settings import REPO_ROOT

MANIFEST = yaml.safe_load((REPO_ROOT / "manifest.yml").read_text(encoding="utf-8"))


def test_the_manifest_subscribes_to_every_event_the_app_handles() -> None:
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "app_home_opened", "assistant_thread_started"} <= events
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_the_manifest_has_the_command_home_tab_and_assistant() -> None:
    features = MANIFEST["features"]
    assert [c["command"] for c in features["slash_commands"]] == ["/helpdesk"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert "assistant_view" in features


def test_the_scopes_are_the_minimal_set() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "app_mentions:read",
        "assistant:write",
        "channels:history",
        "groups:history",
        "chat:write",
        "channels:read",
        "groups:read",
        "commands",
        "im:history",
        "im:write",
        "users:read",
        "users:read.email",
    }


def test_the_manifest_supports_oauth_installs_and_uninstalls() -> None:
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_uninstalled", "tokens_revoked"} <= events
    assert [url.rsplit("/", 2)[-2:] for url in MANIFEST["oauth_config"]["redirect_urls"]] == [
        ["slack", "oauth_redirect"]
    ]
