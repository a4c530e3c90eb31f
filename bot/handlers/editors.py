"""Editors in Slack: `/helpdesk kb reindex`, the KB report on their Home tab, a draft
article from an unanswered question; and, in every process, following the published KB.

Every editor action is checked on the server (`deps.roles.is_editor`) for each request:
a customer who sends one (a hidden button is no check) is refused politely and nothing
happens.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import kb_publishing
from bot.blocks import (
    KB_DRAFT_ACTION,
    Block,
    EditorHome,
    build_editor_home_blocks,
    build_message_view,
    build_text_blocks,
    fallback_text,
)
from bot.handlers.common import Deps, Place, chat_user, dm_place, texts_of
from bot.i18n import Texts
from bot.media import mark
from kb.articles import scaffold, suggest_slug
from services import kb_report, kb_versions
from services.errors import N_
from storage.models import QuestionLog

HOME_REPORT_DAYS = 30  # the Home tab's report covers the last month; the CLI all of it
# Questions grouped for the tab: it is published as the editor opens it, and each new
# question is embedded once (then cached in the process).
HOME_QUESTIONS = 500
HOME_GROUPS = 10
HOME_ARTICLES = 15


def is_editor(deps: Deps, workspace: str, user_id: str) -> bool:
    return deps.roles is not None and deps.roles.is_editor(user_id, workspace=workspace)


def publisher(workspace: str, user_id: str) -> str:
    """Who published, as the version records it."""
    return f"slack:{workspace}:{user_id}"


# --- /helpdesk kb reindex -------------------------------------------------------------------


def handle_kb_command(
    deps: Deps, client: WebClient, ack: Ack, body: dict[str, Any], args: list[str]
) -> None:
    user_id = str(body["user_id"])
    workspace = str(body.get("team_id") or "")
    texts = texts_of(deps, chat_user(deps, workspace, user_id, Place("command"), client))
    _ = texts.gettext
    if not is_editor(deps, workspace, user_id):
        ack(_(N_("Sorry, only the knowledge base editors can do this.")))
        return
    if [a.lower() for a in args] != ["reindex"]:
        ack(
            _(
                N_(
                    "Editors: /helpdesk kb reindex checks, rebuilds and publishes the knowledge "
                    "base. The questions left without an answer are on your Home tab."
                )
            )
        )
        return
    ack(_(N_("Rebuilding the knowledge base… I will tell you the result in our messages.")))
    result = kb_publishing.publish(
        deps.kb, deps.session_factory, deps.settings.articles_dir, by=publisher(workspace, user_id)
    )
    text = publish_result_text(texts, result)
    place = dm_place(client, user_id)
    client.chat_postMessage(
        channel=place.channel,
        text=fallback_text([text]),
        blocks=build_text_blocks(text)[:50],
        unfurl_links=False,
        unfurl_media=False,
    )
    from bot.handlers.home import publish_home  # the editor's Home tab shows the version

    publish_home(deps, client, workspace, user_id)


MAX_ERRORS_SHOWN = 20


def publish_result_text(texts: Texts, result: kb_publishing.PublishResult) -> str:
    _ = texts.gettext
    if result.version is None:
        lines = [
            texts.ngettext(
                "The knowledge base was not published: %(num)d problem to fix first.",
                "The knowledge base was not published: %(num)d problems to fix first.",
                len(result.errors),
            ),
            *(f"• {mark(error)}" for error in result.errors[:MAX_ERRORS_SHOWN]),
        ]
        if len(result.errors) > MAX_ERRORS_SHOWN:
            lines.append(_(N_("…and the others: run helpdesk kb lint to see them all.")))
        lines.append(_(N_("The bot keeps serving the version published before.")))
        return "\n".join(lines)
    version = result.version
    counts = _(N_("{en} articles in English, {fr} in French.")).format(
        en=mark(result.counts.get("en", 0)), fr=mark(result.counts.get("fr", 0))
    )
    if result.new:
        head = _(
            N_(
                "Knowledge base version {id} ({digest}) published. Every bot process serves "
                "it within a few seconds."
            )
        ).format(id=mark(version.id), digest=mark(version.digest))
    else:
        head = _(
            N_("Nothing changed since version {id} ({digest}): it is still the one served.")
        ).format(id=mark(version.id), digest=mark(version.digest))
    return f"{head}\n{counts}"


# --- the editors' Home tab ------------------------------------------------------------------


def editor_home_blocks(deps: Deps, texts: Texts, now: dt.datetime) -> list[Block]:
    """The KB part of an editor's Home tab: the published version, the unanswered
    questions grouped (a draft button each) and the votes per article."""
    _ = texts.gettext
    with deps.session_factory() as session:
        version = kb_versions.latest(session)
        report = kb_report.build_report(
            session,
            deps.kb.embed_cached,
            now=now,
            since=now - dt.timedelta(days=HOME_REPORT_DAYS),
            version=version,
            limit=HOME_QUESTIONS,
        )
    if version is None:
        version_line = _(
            N_(
                "No version published yet: the articles on disk are served. "
                "/helpdesk kb reindex publishes them."
            )
        )
    else:
        version_line = _(
            N_("Published version {id} ({digest}), {when}, by {who}; {count} articles.")
        ).format(
            id=mark(version.id),
            digest=mark(version.digest),
            when=mark(texts.datetime(version.published_at)),
            who=mark(version.published_by),
            count=mark(version.articles),
        )
    groups = [
        (
            str(group.example.id),
            _(N_("{count}× “{example}” ({langs})")).format(
                count=mark(group.count),
                example=mark(group.example.question),
                langs=mark(", ".join(f"{lang} {n}" for lang, n in group.langs.items())),
            ),
        )
        for group in report.groups[:HOME_GROUPS]
    ]
    votes = [
        _(N_("{slug} ({lang}): {helpful} helpful, {unhelpful} not helpful")).format(
            slug=mark(v.slug),
            lang=mark(v.lang),
            helpful=mark(v.helpful),
            unhelpful=mark(v.unhelpful),
        )
        for v in report.votes[:HOME_ARTICLES]
    ]
    home = EditorHome(
        title=_(N_("Knowledge base (editors)")),
        version=version_line,
        unanswered_title=_(N_("Questions without an answer, last {days} days")).format(
            days=mark(HOME_REPORT_DAYS)
        ),
        groups=groups,
        no_groups=_(N_("Every question found an answer.")),
        draft_label=_(N_("Draft an article")),
        votes_title=_(N_("Votes on articles")),
        votes=votes,
        no_votes=_(N_("No vote yet.")),
    )
    return build_editor_home_blocks(home)


# --- a draft from an unanswered question ----------------------------------------------------


def draft_texts(texts: Texts, entry: QuestionLog) -> list[str]:
    """What an editor needs to write the article: the commands that create both files
    (the question already a phrasing of the one in its language) and that file's text."""
    _ = texts.gettext
    slug = suggest_slug(entry.question)
    other = "en" if entry.lang == "fr" else "fr"
    commands = (
        f"helpdesk kb new {slug} --from-question {entry.id}\n"
        f"helpdesk kb new {slug} --lang {other}\n"
        "helpdesk kb lint\n"
        "/helpdesk kb reindex"
    )
    return [
        _(N_("Asked: “{question}” ({lang}).")).format(
            question=mark(entry.question), lang=mark(entry.lang)
        ),
        _(
            N_(
                "On the server that holds the articles, these commands create the article in "
                "both languages with this question as a phrasing; write them, then check and "
                "publish:"
            )
        ),
        f"```\n{mark(commands)}\n```",
        _(N_("The file it creates:")),
        f"```\n{mark(scaffold(slug, entry.lang, [entry.question]))}\n```",
    ]


def handle_draft(deps: Deps, client: WebClient, body: dict[str, Any], value: str) -> None:
    who = body.get("user") or {}
    user_id = str(who.get("id", ""))
    workspace = str(who.get("team_id") or (body.get("team") or {}).get("id") or "")
    texts = texts_of(deps, chat_user(deps, workspace, user_id, Place("home"), client))
    _ = texts.gettext
    entry: QuestionLog | None = None
    if is_editor(deps, workspace, user_id) and value.isdigit():
        with deps.session_factory() as session:
            entry = session.get(QuestionLog, int(value))
            if entry is not None:
                session.expunge(entry)
    if not is_editor(deps, workspace, user_id):
        lines = [_(N_("Sorry, only the knowledge base editors can do this."))]
    elif entry is None:
        lines = [_(N_("That question is no longer in the log."))]
    else:
        lines = draft_texts(texts, entry)
    view = build_message_view(_(N_("New article")), lines, close=_(N_("Close")))
    client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)


# --- following the published version --------------------------------------------------------


# How often every process checks for a newer published KB version.
FOLLOW_SECONDS = 2.0


def follow_published(deps: Deps, client: WebClient) -> bool:
    """The scheduler's job: switch to a newer published KB version (every process)."""
    if deps.kb is None:
        return False
    return kb_publishing.follow(deps.kb, deps.session_factory)


def register(app: App, deps: Deps) -> None:
    @app.action(KB_DRAFT_ACTION)
    def handle_kb_draft(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        handle_draft(deps, client, body, str(action.get("value") or ""))
