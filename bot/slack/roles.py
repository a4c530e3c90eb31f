"""Who may act as staff or editor, checked on the server for every request.

Staff are the members of the triage channel (`conversations.members`, cached briefly so a
member who leaves loses the role within a minute) plus HELPDESK_STAFF_USERS; editors are
HELPDESK_EDITOR_USERS. A failed members call grants nothing: the role is refused, never
assumed.

A user id means something only in its workspace. In OAuth mode the triage channel is the
staff's workspace's (HELPDESK_TRIAGE_WORKSPACE), its members are read with that
workspace's token, and only a user of that workspace can be staff: the same id string in
a customer's workspace is someone else. The same holds for editors.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.settings import Settings
from bot.slack.clients import Clients

log = logging.getLogger(__name__)

MEMBERS_TTL_SECONDS = 60.0
_PAGE = 200


class Roles:
    def __init__(
        self, clients: Clients | WebClient, settings: Settings, ttl: float = MEMBERS_TTL_SECONDS
    ) -> None:
        # A bare client: one workspace, the single-token mode.
        self.clients = clients if isinstance(clients, Clients) else Clients(settings, clients, None)
        self.settings = settings
        self.ttl = ttl
        self._members: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def is_staff(self, user_id: str, *, workspace: str) -> bool:
        """Whether the user `user_id` of `workspace` (the team Slack signed the request
        with) is staff."""
        if not user_id or not self.clients.is_staff_workspace(workspace):
            return False
        return user_id in self.settings.staff_users or user_id in self._triage_members()

    def is_editor(self, user_id: str, *, workspace: str) -> bool:
        """Editors are the vendor's people too: listed ids of the staff's workspace."""
        return (
            bool(user_id)
            and self.clients.is_staff_workspace(workspace)
            and user_id in self.settings.editor_users
        )

    def forget(self) -> None:
        """Drop the cached membership (a member joined or left the triage channel)."""
        with self._lock:
            self._members = None

    def _triage_members(self) -> frozenset[str]:
        channel = self.settings.triage_channel
        if not channel:
            return frozenset()
        now = time.monotonic()
        with self._lock:
            cached = self._members
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        members = self._fetch(channel)
        if members is None:
            return frozenset()
        with self._lock:
            self._members = (now, members)
        return members

    def _fetch(self, channel: str) -> frozenset[str] | None:
        members: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                response = self.clients.staff().conversations_members(
                    channel=channel, limit=_PAGE, cursor=cursor
                )
                members.update(str(m) for m in response.get("members") or [])
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return frozenset(members)
        except SlackApiError as err:
            log.warning("conversations.members %s failed: %s", channel, err.response.get("error"))
            return None
