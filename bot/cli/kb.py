"""Editor commands: `helpdesk kb lint|index|search|new|publish|report|eval` and `helpdesk ask`.

Paths come from the settings: articles in HELPDESK_KB_DIR (default kb/articles), the
index in HELPDESK_INDEX_DIR (default $HELPDESK_DATA_DIR/index).
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path

import click

from bot.cli.common import ISO_DATE, ROW_ID, echo, echo_json, progress_bar, runtime
from bot.kb_publishing import publish
from kb import KnowledgeBase
from kb.articles import LANGS, SLUG_RE, scaffold
from kb.encoder import default_encoder
from kb.evaluate import EvalFileError, evaluate, is_held_out, read_cases
from kb.lint import lint
from services import kb_versions
from services.clock import utcnow
from services.kb_report import build_report
from storage.models import QuestionLog

LANG_CHOICE = click.Choice(list(LANGS))


def open_kb(*, force: bool = False) -> KnowledgeBase:
    settings = runtime().settings
    with progress_bar("Indexing articles") as bar:
        progress = bar.update if bar else None
        kb = KnowledgeBase(
            settings.articles_dir, settings.index_dir, default_lang=settings.default_lang
        )
        kb.reload(force=force, progress=progress)  # builds when missing, stale or forced
    return kb


@click.group("kb")
def kb_group() -> None:
    """Knowledge base: check, index, search and write articles."""


@kb_group.command("lint")
def lint_command() -> None:
    """Check every article; exit 1 with file:line messages if any is broken."""
    articles_dir = runtime().settings.articles_dir
    report = lint(articles_dir)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if not report.ok:
        click.echo(f"{len(report.problems)} problem(s) in {articles_dir}", err=True)
        sys.exit(1)
    click.echo(
        f"OK: {report.articles} articles, {report.slugs} slugs in {', '.join(LANGS)}, no problem."
    )


@kb_group.command("index")
def index_command() -> None:
    """(Re)build the search index from the articles."""
    kb = open_kb(force=True)
    try:
        click.echo(
            f"Indexed {len(kb.articles())} articles, version {kb.version}, in {kb.index_dir}"
        )
    finally:
        kb.close()


@kb_group.command("search")
@click.argument("query")
@click.option(
    "--lang",
    type=LANG_CHOICE,
    default=None,
    help="Search these language fields (default: detected).",
)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search_command(query: str, lang: str | None, limit: int, as_json: bool) -> None:
    """Ranked articles for QUERY, as the bot's search sees them."""
    kb = open_kb()
    try:
        results = kb.search(query, lang=lang, limit=limit)
    finally:
        kb.close()
    if as_json:
        echo_json([{**ref.to_dict(), "score": score} for ref, score in results])
        return
    if not results:
        click.echo("No article matches.")
    for rank, (ref, score) in enumerate(results, start=1):
        click.echo(f"{rank:>2}. {score:8.3f}  {ref.slug} ({ref.lang})  {ref.title}")


@kb_group.command("new")
@click.argument("slug")
@click.option("--lang", type=LANG_CHOICE, default=None, help="Required unless --from-question.")
@click.option(
    "--from-question",
    "question_id",
    type=ROW_ID,
    default=None,
    help="A logged question (id from `kb report`) as the first phrasing; its language by default.",
)
@click.option(
    "--phrasing",
    "phrasings",
    multiple=True,
    help="A way customers ask it, for `questions:` (repeatable).",
)
def new_command(
    slug: str, lang: str | None, question_id: int | None, phrasings: tuple[str, ...]
) -> None:
    """Create kb/articles/SLUG.LANG.md with its front matter filled in."""
    if not SLUG_RE.match(slug):
        raise click.ClickException(
            f"slug {slug!r} must be lower-case words joined by '-' (e.g. das-activate)"
        )
    asked: list[str] = []
    if question_id is not None:
        with runtime().read_session_factory() as session:
            entry = session.get(QuestionLog, question_id)
            if entry is None:
                raise click.ClickException(f"no logged question {question_id}")
            asked, lang = [entry.question], lang or entry.lang
    if lang is None:
        raise click.ClickException("--lang fr|en is required (or --from-question ID)")
    articles_dir = runtime().settings.articles_dir
    path = articles_dir / f"{slug}.{lang}.md"
    if path.exists():
        raise click.ClickException(f"{path} already exists")
    articles_dir.mkdir(parents=True, exist_ok=True)
    phrasings = tuple(dict.fromkeys(p.strip() for p in (*asked, *phrasings) if p.strip()))
    path.write_text(scaffold(slug, lang, phrasings), encoding="utf-8")
    click.echo(str(path))


@kb_group.command("publish")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def publish_command(as_json: bool) -> None:
    """Check, build and publish the articles: every running bot serves them within seconds.

    Exit 1, publishing nothing, when an article has a problem (the bots keep serving the
    version published before).
    """
    settings = runtime().settings
    kb = KnowledgeBase(
        settings.articles_dir, settings.index_dir, default_lang=settings.default_lang
    )
    try:
        result = publish(
            kb, runtime().session_factory, settings.articles_dir, by=f"cli:{getpass.getuser()}"
        )
    finally:
        kb.close()
    if as_json:
        echo_json(result.to_dict())
    elif result.version is None:
        for error in result.errors:
            echo(error, err=True)
        click.echo(
            f"Not published: {len(result.errors)} problem(s); the version published before "
            "is still served.",
            err=True,
        )
    else:
        state = "published" if result.new else "unchanged, still served"
        counts = ", ".join(f"{n} {lang}" for lang, n in result.counts.items())
        click.echo(
            f"Version {result.version.id} ({result.version.digest}) {state}: {counts} articles."
        )
    if result.version is None:
        sys.exit(1)


@kb_group.command("report")
@click.option("--since", type=ISO_DATE, default=None, help="Questions asked from this day (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report_command(since: dt.date | None, as_json: bool) -> None:
    """Unanswered questions grouped by meaning (most frequent first) and votes per article."""
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC) if since else None
    encoder = default_encoder()
    with runtime().read_session_factory() as session:
        report = build_report(
            session,
            encoder.embed_queries,
            now=utcnow(),
            since=start,
            version=kb_versions.latest(session),
        )
        data = report.to_dict()
    if as_json:
        echo_json(data)
        return
    version = data["version"]
    click.echo(
        f"Published version {version['id']} ({version['digest']}), {version['published_at']}, "
        f"by {version['published_by']}"
        if version
        else "No version published yet (the bots serve the articles on disk)."
    )
    unanswered = data["unanswered"]
    click.echo(
        f"\nQuestions without an answer: {unanswered['questions']}, "
        f"in {len(unanswered['groups'])} group(s)"
    )
    for group in unanswered["groups"]:
        langs = ", ".join(f"{lang} {n}" for lang, n in group["langs"].items())
        example = group["example"]
        echo(f"{group['count']:>4}×  [{langs}]  #{example['id']} {example['text']}")
    click.echo("\nVotes (helpful / not helpful):")
    if not data["articles"]:
        click.echo("  no vote yet")
    for row in data["articles"]:
        click.echo(f"  {row['helpful']:>4} / {row['unhelpful']:<4} {row['slug']} ({row['lang']})")


@kb_group.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--show-failures",
    is_flag=True,
    help="Also list every failed question (never on a held-out set: it would be read).",
)
def eval_command(file: Path, as_json: bool, show_failures: bool) -> None:
    """Measure answers on a JSON-lines question set ({"q", "lang", "slug"|null}).

    Only aggregate figures are printed unless --show-failures is given, so a held-out set
    can be measured without anyone reading its questions.
    """
    if show_failures and is_held_out(file):
        raise click.ClickException(f"{file.name} is held out: its failures are never shown")
    try:
        cases = read_cases(file)
    except EvalFileError as err:
        raise click.ClickException(str(err)) from err
    kb = open_kb()
    try:
        report = evaluate(kb, cases)
    finally:
        kb.close()
    data = report.to_dict(with_failures=show_failures)
    if as_json:
        echo_json(data)
        return
    click.echo(
        f"questions: {report.total} ({report.in_scope} in scope, {report.out_of_scope} out of scope)"
    )
    click.echo(
        f"top-1: {data['top1_pct']}%   top-3: {data['top3_pct']}%   answered correctly: {data['answered_correct_pct']}%"
    )
    click.echo(f"language: {data['language_pct']}%")
    click.echo(f"wrong answers on out-of-scope questions: {report.wrong_out_of_scope}")
    click.echo(f"missed answers: {report.missed}   wrong article: {report.wrong_in_scope}")
    for failure in report.failures if show_failures else []:
        click.echo(
            f"  line {failure['line']}: {', '.join(failure['problems'])}: {failure['q']!r} "
            f"expected {failure['expected']}, got {failure['got']} (closest {', '.join(failure['closest'])})"
        )


@click.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def ask_command(question: str, as_json: bool) -> None:
    """What the bot would answer to QUESTION."""
    kb = open_kb()
    try:
        answer = kb.ask(question)
        article = kb.article(answer.article.slug, answer.article.lang) if answer.article else None
    finally:
        kb.close()
    if as_json:
        # The answer's text: the short answer the bot shows first, and the whole article.
        echo_json(
            {
                **answer.to_dict(),
                "text": article.summary if answer.answered and article else None,
                "body": article.body if answer.answered and article else None,
            }
        )
        return
    if answer.answered and article is not None:
        click.echo(f"{article.title}  [{article.slug}.{article.lang}, confidence {answer.score}]")
        click.echo(article.summary)
    elif answer.clarify:
        click.echo(
            "Do you mean "
            + " or ".join(f"{ref.title} [{ref.slug}]" for ref in answer.clarify)
            + f"? (confidence {answer.score})"
        )
    else:
        click.echo(f"No confident answer (confidence {answer.score}).")
    best = answer.reasons.best if answer.reasons else None
    if best is not None:
        runner_up = answer.reasons.runner_up if answer.reasons else None
        click.echo(
            f"Reasons: {best.slug}: lexical {best.lexical:.3f}, semantic {best.semantic:.3f}, "
            f"score {best.score:.3f}"
            + (f"; runner-up {runner_up.slug}: score {runner_up.score:.3f}" if runner_up else "")
        )
    if answer.alternatives and not answer.clarify:
        label = "See also" if answer.answered else "Closest articles"
        click.echo(
            f"{label}: " + "; ".join(f"{ref.title} [{ref.slug}]" for ref in answer.alternatives)
        )


def register(cli: click.Group) -> None:
    cli.add_command(kb_group)
    cli.add_command(ask_command)
