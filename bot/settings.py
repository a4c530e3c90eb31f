"""Settings read once from the environment (HELPDESK_*), with embedded defaults.

The defaults need nothing installed: a SQLite file and a Whoosh index under ./data.
Lower layers never read the environment: they receive what they need from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from storage.db import DEFAULT_CODE_SECRET

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _ids(value: str) -> frozenset[str]:
    """A comma-separated list of Slack user ids (spaces and empty items ignored)."""
    return frozenset(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    articles_dir: Path
    index_dir: Path
    support_tz: str = "America/New_York"
    default_lang: str = "en"
    default_tz: str = "UTC"
    flow_idle_minutes: int = 30
    code_failures_per_hour: int = 5
    # Slack (`helpdesk serve`): read here, checked by the command that needs them.
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""  # set: Socket Mode (development, no public URL)
    slack_api_url: str = "https://slack.com/api/"
    triage_channel: str = ""
    # Staff are the triage channel's members plus these Slack user ids; editors are these.
    staff_users: frozenset[str] = frozenset()
    editor_users: frozenset[str] = frozenset()
    # Activation codes are stored as HMACs with this key; the default is for the demo
    # and the tests only (README, configuration).
    code_secret: str = DEFAULT_CODE_SECRET
    # The triage channel is warned this long before an unanswered incident's deadline.
    sla_warning_minutes: int = 30
    # OAuth mode (many workspaces): both set. The install and redirect pages are served
    # by `helpdesk serve`; the redirect URL is the one set in the app's settings.
    slack_client_id: str = ""
    slack_client_secret: str = ""
    slack_redirect_uri: str = ""
    oauth_state_minutes: int = 10
    # OAuth mode: the team id (T…) of the vendor's workspace, where the triage channel is.
    triage_workspace: str = ""

    @property
    def oauth_mode(self) -> bool:
        return bool(self.slack_client_id or self.slack_client_secret)

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("HELPDESK_DATA_DIR", str(Path.cwd() / "data")))
        return cls(
            data_dir=data_dir,
            database_url=_env("HELPDESK_DATABASE_URL", f"sqlite:///{data_dir / 'helpdesk.db'}"),
            articles_dir=Path(_env("HELPDESK_KB_DIR", str(REPO_ROOT / "kb" / "articles"))),
            index_dir=Path(_env("HELPDESK_INDEX_DIR", str(data_dir / "index"))),
            support_tz=_env("HELPDESK_SUPPORT_TZ", "America/New_York"),
            default_lang=_env("HELPDESK_DEFAULT_LANG", "en"),
            default_tz=_env("HELPDESK_DEFAULT_TZ", "UTC"),
            flow_idle_minutes=int(_env("HELPDESK_FLOW_IDLE_MINUTES", "30")),
            code_failures_per_hour=int(_env("HELPDESK_CODE_FAILURES_PER_HOUR", "5")),
            slack_bot_token=_env("SLACK_BOT_TOKEN", ""),
            slack_signing_secret=_env("SLACK_SIGNING_SECRET", ""),
            slack_app_token=_env("SLACK_APP_TOKEN", ""),
            slack_api_url=_env("HELPDESK_SLACK_API_URL", "https://slack.com/api/"),
            triage_channel=_env("HELPDESK_TRIAGE_CHANNEL", ""),
            staff_users=_ids(_env("HELPDESK_STAFF_USERS", "")),
            editor_users=_ids(_env("HELPDESK_EDITOR_USERS", "")),
            code_secret=_env("HELPDESK_CODE_SECRET", DEFAULT_CODE_SECRET),
            slack_client_id=_env("SLACK_CLIENT_ID", ""),
            slack_client_secret=_env("SLACK_CLIENT_SECRET", ""),
            slack_redirect_uri=_env("SLACK_REDIRECT_URI", ""),
            oauth_state_minutes=int(_env("HELPDESK_OAUTH_STATE_MINUTES", "10")),
            sla_warning_minutes=int(_env("HELPDESK_SLA_WARNING_MINUTES", "30")),
            triage_workspace=_env("HELPDESK_TRIAGE_WORKSPACE", ""),
        )
