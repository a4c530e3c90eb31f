"""The Web API client for a workspace, for work that is not a request from it.

A request carries its own client (bolt authorises it with its workspace's token). A job,
or a request from one workspace that must reach another (a staff reply typed in the
vendor's workspace, delivered to a customer's DM), asks here:

- single-token mode: the process's one client, whatever the workspace;
- OAuth mode: a client holding that workspace's bot token, read from the installation
  store bolt uses, refreshed first when it is about to expire (the same rotator and the
  same margin as bolt's `authorize`), cached per workspace and token (a rotated token
  gets a fresh client).

Callers may hold a write transaction (the card sync claims its incidents with row
locks while it posts): the installation is read in a read-only transaction, which on
SQLite never waits for that writer, and kept for a minute (rotation acts hours before
expiry, so a minute-old token is never a stale one). A workspace not installed (or uninstalled) raises `NotInstalled`: to the
  callers it is a Slack refusal like any other (a SlackApiError), tried again later.

The staff's workspace (HELPDESK_TRIAGE_WORKSPACE in OAuth mode) is where the triage
channel lives: cards, their threads, deadline warnings and staff roles use its client.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.settings import Settings
from storage.db import READ_ONLY

if TYPE_CHECKING:
    from slack_bolt.oauth.oauth_settings import OAuthSettings

log = logging.getLogger(__name__)

NOT_INSTALLED = "not_installed"
INSTALLATION_TTL_SECONDS = 60.0


class NotInstalled(SlackApiError):
    """No bot token is kept for the workspace (never installed, or uninstalled)."""

    def __init__(self, workspace: str) -> None:
        super().__init__(
            f"the app is not installed in workspace {workspace!r}",
            {"ok": False, "error": NOT_INSTALLED},
        )
        self.workspace = workspace


def triage_workspace_problem(settings: Settings) -> str | None:
    """Why `helpdesk serve` must not start with this triage set-up (one line), or None.

    In OAuth mode the triage channel is a channel of the vendor's own workspace, which
    must be named: a channel id alone says nothing about whose token may read it."""
    if settings.oauth_mode and settings.triage_channel and not settings.triage_workspace:
        return (
            "HELPDESK_TRIAGE_WORKSPACE is not set: in OAuth mode the triage channel "
            f"{settings.triage_channel} needs the id (T…) of the workspace it lives in, "
            "where the app must be installed too"
        )
    return None


class Clients:
    def __init__(
        self,
        settings: Settings,
        client: WebClient,
        oauth: OAuthSettings | None,
        ttl: float = INSTALLATION_TTL_SECONDS,
    ) -> None:
        self.settings = settings
        self.client = client
        self._oauth = oauth if settings.oauth_mode else None
        self.ttl = ttl
        # One client per workspace, replaced when its token changes (rotation).
        self._cached: dict[str, WebClient] = {}
        self._installations: dict[str, tuple[float, Installation | None]] = {}
        self._lock = threading.Lock()
        self._reader: SQLAlchemyInstallationStore | None = None
        if self._oauth is not None:
            store = self._oauth.installation_store
            assert isinstance(store, SQLAlchemyInstallationStore)
            self._reader = SQLAlchemyInstallationStore(
                client_id=store.client_id,
                engine=store.engine.execution_options(**{READ_ONLY: True}),
            )

    @property
    def staff_workspace(self) -> str:
        """The workspace of the triage channel ("" in single-token mode: the only one)."""
        return self.settings.triage_workspace if self._oauth is not None else ""

    def is_staff_workspace(self, workspace: str) -> bool:
        """Whether a user of `workspace` may be staff at all: with one token every user
        is of the one workspace; with many, only the triage workspace's users."""
        return self._oauth is None or (bool(workspace) and workspace == self.staff_workspace)

    def staff(self) -> WebClient:
        return self.for_workspace(self.staff_workspace)

    def for_workspace(self, workspace: str) -> WebClient:
        if self._oauth is None:
            return self.client
        installation = self._installation(workspace)
        token = installation.bot_token if installation is not None else None
        if not token:
            raise NotInstalled(workspace)
        with self._lock:
            client = self._cached.get(workspace)
            if client is None or client.token != token:
                client = self._cached[workspace] = WebClient(
                    token=token,
                    base_url=self.client.base_url,
                    timeout=self.client.timeout,
                    retry_handlers=self.client.retry_handlers,
                )
        return client

    def workspace_label(self, workspace: str) -> str | None:
        """How staff tell a customer's workspace from another (OAuth mode): its name as
        Slack gave it at installation, else its id. None with one workspace."""
        if self._oauth is None or not workspace:
            return None
        installation = self._installation(workspace)
        return (installation.team_name if installation is not None else None) or workspace

    def _installation(self, workspace: str) -> Installation | None:
        if not workspace:
            return None
        now = time.monotonic()
        with self._lock:
            cached = self._installations.get(workspace)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        installation = self._read(workspace)
        with self._lock:
            self._installations[workspace] = (now, installation)
        return installation

    def _read(self, workspace: str) -> Installation | None:
        assert self._oauth is not None and self._reader is not None
        installation = self._reader.find_installation(enterprise_id=None, team_id=workspace)
        if installation is None or installation.bot_refresh_token is None:
            return installation
        store = self._oauth.installation_store
        # Token rotation: bolt's own rotator (our base URL and retries) and margin.
        rotator = self._oauth.authorize.token_rotator  # type: ignore[attr-defined]
        try:
            refreshed = rotator.perform_token_rotation(
                installation=installation,
                minutes_before_expiration=self._oauth.token_rotation_expiration_minutes,
            )
        except SlackTokenRotationError as err:
            # The token in hand is good until it expires; the next read tries again.
            log.warning("refreshing the token of %s failed: %s", workspace, err)
            return installation
        if refreshed is None:
            return installation
        store.save(refreshed)
        return refreshed
