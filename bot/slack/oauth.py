"""OAuth mode: the app installs in many workspaces (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET).

`/slack/install` sends the installer to Slack's consent page with a one-time state (kept
in `slack_oauth_states`, bound to their browser by a cookie); `/slack/oauth_redirect`
exchanges the code for the workspace's bot token (`oauth.v2.access`) and keeps it in
`slack_installations` / `slack_bots`, through slack_sdk's SQLAlchemy stores on our
database (the tables come from our migrations). Every request is then authorised with
the token of the workspace it comes from; a rotating token is refreshed by bolt shortly
before it expires. `app_uninstalled` and `tokens_revoked` delete what was kept.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import cache

import yaml
from slack_bolt import BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine

from bot.i18n import texts_for
from bot.settings import REPO_ROOT, Settings
from services.errors import N_

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# A rotating token is refreshed when it has less than this left (bolt's default).
TOKEN_ROTATION_MINUTES = 120


@cache
def bot_scopes() -> tuple[str, ...]:
    """The scopes manifest.yml asks for: one list, whichever way the app is installed."""
    manifest = yaml.safe_load((REPO_ROOT / "manifest.yml").read_text(encoding="utf-8"))
    return tuple(manifest["oauth_config"]["scopes"]["bot"])


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)


def oauth_settings(settings: Settings, engine: Engine, client: WebClient) -> OAuthSettings:
    """bolt's OAuth settings on our database; every Web API call of the flow and of token
    rotation goes through `client` (its base URL and retries)."""
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(bot_scopes()),
        redirect_uri=settings.slack_redirect_uri or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # Straight to Slack's consent page: our install page would only hold its link.
        install_page_rendering_enabled=False,
        installation_store=installation_store(settings, engine),
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=settings.oauth_state_minutes * 60, engine=engine
        ),
        token_rotation_expiration_minutes=TOKEN_ROTATION_MINUTES,
        callback_options=CallbackOptions(success=_installed, failure=_not_installed),
    )
    # bolt's rotator would otherwise call slack.com with a client of its own.
    oauth.authorize.token_rotator = TokenRotator(  # type: ignore[attr-defined]
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        client=client,
    )
    return oauth


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    )


def _lang(headers: dict[str, Sequence[str]]) -> str | None:
    """The installer's browser language (Accept-Language), if we speak it."""
    values = headers.get("accept-language") or []
    return values[0].split(",")[0] if values else None


def _installed(args: SuccessArgs) -> BoltResponse:
    _ = texts_for(_lang(args.request.headers)).gettext
    team = args.installation.team_name or args.installation.team_id or ""
    title = _(N_("Helpdesk is installed"))
    body = _(
        N_(
            "Helpdesk now answers in the {workspace} workspace: open Slack and write to it "
            "in its Messages tab."
        )
    ).format(workspace=team)
    return BoltResponse(
        status=200,
        body=_page(title, body),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )


def _not_installed(args: FailureArgs) -> BoltResponse:
    _ = texts_for(_lang(args.request.headers)).gettext
    title = _(N_("Helpdesk was not installed"))
    body = _(
        N_(
            "The installation did not complete (the link may have expired, or access was "
            "refused). Start again from the install link."
        )
    )
    return BoltResponse(
        status=args.suggested_status_code,
        body=_page(title, body),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
