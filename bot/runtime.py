"""The composition root: settings plus the shared objects built from them, built once.

The CLI, the console and the Slack app all start from a Runtime; tests build one with
their own settings or pass fakes in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from bot.settings import Settings
from storage.db import SessionFactory, make_engine, make_session_factory


@dataclass
class Runtime:
    settings: Settings = field(default_factory=Settings.from_env)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> SessionFactory:
        return make_session_factory(self.engine, code_secret=self.settings.code_secret)

    @cached_property
    def read_session_factory(self) -> SessionFactory:
        """For work that only reads: it never waits behind a writer (SQLite)."""
        return make_session_factory(
            self.engine, code_secret=self.settings.code_secret, read_only=True
        )

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
