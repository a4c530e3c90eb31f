"""`helpdesk`: the staff, admin and editor command line, and the console.

Exit codes: 0 success; 1 a domain rule refused (the reason on stderr); 2 usage error;
3 operational failure (database unreachable or not migrated, wrong configuration).
Every error is one line on stderr (bot.cli.common).
"""

from __future__ import annotations

import click

from bot.cli import admin, chat, db, kb, serve, support
from bot.cli.common import HelpdeskGroup
from bot.runtime import Runtime


@click.group(cls=HelpdeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Helpdesk bot: administration, knowledge base and console."""
    runtime = Runtime()
    ctx.obj = runtime
    ctx.call_on_close(runtime.close)


for module in (db, admin, support, kb, chat, serve):
    module.register(cli)


def main() -> None:
    cli(prog_name="helpdesk")
