"""`helpdesk db ...`: schema migrations."""

from __future__ import annotations

import click

from bot.cli.common import runtime
from storage.db import upgrade


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target Alembic revision.")
def db_upgrade(revision: str) -> None:
    """Apply the schema migrations to the configured database."""
    upgrade(runtime().settings.database_url, revision)
    click.echo(f"database at {revision}", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
