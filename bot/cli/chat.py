"""`helpdesk chat`: talk to the bot in the terminal (the options stand in for a Slack profile)."""

from __future__ import annotations

import sys

import click

from bot.cli.common import runtime
from bot.i18n import LANGUAGES, valid_timezone
from storage.db import DatabaseNotReady, check_schema


@click.command("chat")
@click.option("--user", "user_id", help="Chat user id (default: the e-mail, else console-user).")
@click.option("--email", help="The profile e-mail; an account with this e-mail is linked.")
@click.option("--name", help="The profile's display name.")
@click.option("--lang", type=click.Choice(LANGUAGES), help="The profile's language.")
@click.option("--tz", help="The profile's time zone, e.g. Europe/Paris.")
@click.option(
    "--jsonl",
    is_flag=True,
    help="Machine mode: one message per input line, one JSON line per message.",
)
@click.option(
    "--summary",
    is_flag=True,
    help="Interactive mode: first say in two lines whose account this is and what it holds.",
)
def chat(
    user_id: str | None,
    email: str | None,
    name: str | None,
    lang: str | None,
    tz: str | None,
    jsonl: bool,
    summary: bool,
) -> None:
    """Talk to the bot in the terminal."""
    if tz and not valid_timezone(tz):
        raise click.BadParameter(
            f"{tz!r} is not a time zone (e.g. Europe/Paris)", param_hint="--tz"
        )
    rt = runtime()
    try:
        check_schema(rt.engine, rt.settings.database_url)
    except DatabaseNotReady as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    # Imported here: every other `helpdesk` command starts faster without the bot and the KB.
    from bot.console import console_user, run_interactive, run_jsonl
    from bot.conversation import Assistant
    from kb.knowledge import KnowledgeBase

    kb = KnowledgeBase.open(
        rt.settings.articles_dir, rt.settings.index_dir, default_lang=rt.settings.default_lang
    )
    try:
        assistant = Assistant(rt.session_factory, rt.settings, kb)
        user = console_user(user_id=user_id, email=email, name=name, lang=lang, tz=tz)
        if jsonl:
            run_jsonl(assistant, user, sys.stdin, sys.stdout)
        else:
            run_interactive(
                assistant, user, rt.settings.data_dir / "chat_histories", summary=summary
            )
    finally:
        kb.close()


def register(cli: click.Group) -> None:
    cli.add_command(chat)
