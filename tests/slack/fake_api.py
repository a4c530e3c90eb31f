"""A fake Slack Web API on 127.0.0.1, port 0, for the suite and the benchmark.

It records every call (method, arguments, arrival time) and answers like Slack for the
methods the app uses. The app reaches it through `WebClient(base_url=fake.url)`.
Profiles (`users.info`) are set per user; `fail(method, ...)` makes the next calls of a
method answer an error or a 429 with Retry-After, to exercise the client's retries.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float  # time.perf_counter() when it arrived
    token: str | None = None  # the bearer token the call was made with


@dataclass
class Grant:
    """An installation Slack would grant for an OAuth `code` (`FakeSlack.grant`)."""

    team_id: str
    team_name: str
    expires_in: int | None = None  # token rotation on: tokens expire, refresh tokens given


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.team_users: dict[tuple[str, str], dict[str, Any]] = {}  # (team, id) → profile
        self.members: dict[str, list[str]] = {}  # channel id → member user ids
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._tokens = itertools.count(1)
        self.grants: dict[str, Grant] = {}  # OAuth code → what oauth.v2.access answers
        self.token_teams: dict[str, str] = {}  # issued bot token → its workspace
        self.refresh_tokens: dict[str, Grant] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- life ---------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/"

    # --- set-up -------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        locale: str | None = "en-US",
        tz: str | None = "Europe/Paris",
        email: str | None = None,
        name: str | None = None,
        team: str = TEAM_ID,
        is_bot: bool = False,
    ) -> None:
        user: dict[str, Any] = {"id": user_id, "team_id": team, "is_bot": is_bot, "profile": {}}
        if locale:
            user["locale"] = locale
        if tz:
            user["tz"] = tz
        if email:
            user["profile"]["email"] = email
        if name:
            user["profile"]["real_name"] = name
        self.users[user_id] = user
        self.team_users[(team, user_id)] = user

    def grant(
        self, code: str, team_id: str, team_name: str = "", *, expires_in: int | None = None
    ) -> None:
        """`code` is what Slack's consent page hands the installer of `team_id`."""
        self.grants[code] = Grant(team_id, team_name or f"Team {team_id}", expires_in)

    def fail(self, method: str, *failures: Failure) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend(failures)

    # --- what happened ------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posted(self) -> list[dict[str, Any]]:
        return [c.args for c in self.calls_to("chat.postMessage")]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `count` calls of `method` arrived (replies come after the ack)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            time.sleep(0.005)
        raise AssertionError(f"{count} × {method} expected, got {len(self.calls_to(method))}")

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    # --- answers ------------------------------------------------------------------------

    def answer(
        self, method: str, args: dict[str, Any], token: str | None = None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        token = token or args.get("token")
        with self._lock:
            self.calls.append(Call(method, args, time.perf_counter(), token))
            pending = self._failures.get(method)
            failure = pending.pop(0) if pending else None
        if failure is not None:
            return failure.status, failure.body, failure.headers
        ok: dict[str, Any] = {"ok": True}
        if method == "oauth.v2.access":
            return self._oauth_access(args)
        if method == "auth.test":
            ok |= {
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "team_id": self.token_teams.get(str(token), TEAM_ID),
                "team": "Test",
                "url": "https://test.slack.com/",
                "user": "helpdesk",
            }
        elif method == "users.info":
            # A user id is read in the workspace of the token asking (OAuth mode).
            team = self.token_teams.get(str(token))
            user = self.team_users.get((team, str(args.get("user")))) if team else None
            user = user or self.users.get(str(args.get("user")))
            if user is None:
                return 200, {"ok": False, "error": "user_not_found"}, {}
            ok["user"] = user
        elif method == "conversations.members":
            if str(args.get("channel")) not in self.members:
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            ok |= {
                "members": list(self.members[str(args.get("channel"))]),
                "response_metadata": {"next_cursor": ""},
            }
        elif method == "conversations.open":
            ok["channel"] = {"id": f"D{args.get('users')}"}
        elif method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ok |= {
                "channel": args.get("channel"),
                "ts": f"{time.time():.0f}.{next(self._ts):06d}",
                "message": {"text": args.get("text"), "blocks": args.get("blocks")},
            }
        elif method in ("views.open", "views.update", "views.push", "views.publish"):
            view = args.get("view")
            if isinstance(view, str):
                view = json.loads(view)
            view_id = args.get("view_id") or f"V{next(self._views):05d}"
            ok["view"] = {**(view or {}), "id": view_id, "hash": f"h{next(self._views)}"}
        return 200, ok, {}

    def _oauth_access(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """An installation (`code`) or a token refresh (`grant_type=refresh_token`)."""
        with self._lock:
            if args.get("grant_type") == "refresh_token":
                grant = self.refresh_tokens.pop(str(args.get("refresh_token")), None)
            else:
                grant = self.grants.pop(str(args.get("code")), None)
            if grant is None:
                return 200, {"ok": False, "error": "invalid_code"}, {}
            access = f"xoxb-{grant.team_id}-{next(self._tokens)}"
            self.token_teams[access] = grant.team_id
            body: dict[str, Any] = {
                "ok": True,
                "app_id": "A1",
                "authed_user": {"id": "UINSTALLER"},
                "scope": "chat:write,commands",
                "token_type": "bot",
                "access_token": access,
                "bot_user_id": BOT_USER_ID,
                "team": {"id": grant.team_id, "name": grant.team_name},
                "enterprise": None,
                "is_enterprise_install": False,
            }
            if grant.expires_in is not None:
                refresh = f"xoxe-1-{grant.team_id}-{next(self._tokens)}"
                self.refresh_tokens[refresh] = grant
                body |= {"expires_in": grant.expires_in, "refresh_token": refresh}
        return 200, body, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _args(self) -> dict[str, Any]:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if raw and "json" in (self.headers.get("Content-Type") or ""):
                    return {**query, **json.loads(raw)}
                if raw:
                    form = dict(urllib.parse.parse_qsl(raw.decode()))
                    for key in ("blocks", "view", "prompts"):
                        if key in form:
                            form[key] = json.loads(form[key])
                    return {**query, **form}
                return query

            def _serve(self) -> None:
                method = urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[-1]
                bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                token = bearer if bearer.startswith("xox") else None
                status, body, headers = fake.answer(method, self._args(), token)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve

        return Handler
