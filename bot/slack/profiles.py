"""Who a Slack user is, from `users.info` (with `include_locale`), cached per process.

A profile may be incomplete (a Slack Connect user from another organisation, a call that
failed): every field is optional and the conversation falls back to its defaults.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import normalize_lang, valid_timezone
from bot.slack.clients import Clients, NotInstalled

log = logging.getLogger(__name__)

TTL_SECONDS = 3600.0


@dataclass(frozen=True)
class Profile:
    locale: str | None = None
    tz: str | None = None
    email: str | None = None
    name: str | None = None
    is_bot: bool = False


class Profiles:
    """Profiles cached by (workspace, user): a user id means nothing outside its workspace,
    and in OAuth mode each workspace's profiles are read with that workspace's token (the
    request's `client`, else the workspace's from `clients`)."""

    def __init__(
        self, client: WebClient, ttl: float = TTL_SECONDS, *, clients: Clients | None = None
    ) -> None:
        self.client = client
        self.clients = clients
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str, *, workspace: str = "", client: WebClient | None = None) -> Profile:
        key = (workspace, user_id)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            client = client or (
                self.clients.for_workspace(workspace) if self.clients else self.client
            )
        except NotInstalled:
            return Profile()  # their workspace removed the app: the defaults, like a failure
        profile = self._fetch(client, user_id)
        with self._lock:
            self._cache[key] = (now, profile)
        return profile

    def _fetch(self, client: WebClient, user_id: str) -> Profile:
        try:
            response = client.users_info(user=user_id, include_locale=True)
        except SlackApiError as err:
            # Not a reason to leave the user unanswered: they get the defaults.
            log.warning("users.info %s failed: %s", user_id, err.response.get("error"))
            return Profile()
        return parse_profile(response.get("user") or {})


def parse_profile(user: dict[str, Any]) -> Profile:
    details = user.get("profile") or {}
    tz = user.get("tz")
    name = details.get("real_name") or user.get("real_name") or details.get("display_name")
    return Profile(
        locale=user.get("locale") if normalize_lang(user.get("locale")) else None,
        tz=tz if valid_timezone(tz) else None,
        email=details.get("email") or None,
        name=name or None,
        is_bot=bool(user.get("is_bot")),
    )
