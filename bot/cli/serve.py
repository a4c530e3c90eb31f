"""`helpdesk serve`: the Slack app.

Socket Mode when SLACK_APP_TOKEN is set (development: no public URL needed); otherwise
HTTP under gunicorn (threaded workers), Slack's endpoint at /slack/events and a health
check at /healthz. Every worker builds its own app (database pool, search index): they
share nothing but the database. A missing or wrong setting stops start-up with one line.

In HTTP mode one `helpdesk serve` is two processes, started and stopped together
(`--role all`): the web server (`--role web`), whose requests only store a delivery in the
inbox and acknowledge it, and the inbox worker (`--role worker`), which does the work —
so the conversations' CPU never delays an ack. SIGTERM stops the web server first (it
takes no more requests and finishes those under way), then the worker, which finishes
what was acknowledged before it exits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import click

from bot.cli.common import runtime
from bot.settings import Settings

EXIT_CONFIG = 2
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client (bot.metrics)
GIL_SWITCH_SECONDS = 0.001
GRACEFUL_SECONDS = 20  # the web server's in-flight requests
DRAIN_SECONDS = 60  # the worker's acknowledged deliveries
# The inbox worker yields the CPU to the web server's acks when both want it: an ack has
# Slack's three seconds and a latency users feel; the work behind it can wait a moment.
WORKER_NICENESS = 10
ROLES = ("all", "web", "worker")
PR_SET_PDEATHSIG = 1


class ConfigError(Exception):
    """A setting that keeps the app from starting: the message names it and says why."""


def check_oauth_settings(settings: Settings, *, socket_mode: bool) -> None:
    """OAuth mode (many workspaces): the client id and secret, over HTTP, without a token."""
    from bot.slack.oauth import REDIRECT_PATH

    if not (settings.slack_client_id and settings.slack_client_secret):
        missing = "SLACK_CLIENT_SECRET" if settings.slack_client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"{missing} is not set (OAuth mode needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"
        )
    if settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: unset SLACK_BOT_TOKEN for OAuth "
            "mode (many workspaces), or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET for one workspace"
        )
    if socket_mode:
        raise ConfigError("OAuth mode serves the install pages over HTTP: unset SLACK_APP_TOKEN")
    redirect = urlsplit(settings.slack_redirect_uri)
    if settings.slack_redirect_uri and (
        redirect.scheme not in ("http", "https") or not redirect.path.endswith(REDIRECT_PATH)
    ):
        raise ConfigError(
            f"SLACK_REDIRECT_URI must be this server's https://…{REDIRECT_PATH} URL: "
            f"{settings.slack_redirect_uri!r}"
        )
    if settings.oauth_state_minutes < 1:
        raise ConfigError("HELPDESK_OAUTH_STATE_MINUTES must be at least 1")
    from bot.slack.clients import triage_workspace_problem

    if problem := triage_workspace_problem(settings):
        raise ConfigError(problem)


def check_settings(settings: Settings, *, socket_mode: bool) -> None:
    if settings.oauth_mode:
        check_oauth_settings(settings, socket_mode=socket_mode)
    elif not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)")
    elif not settings.slack_bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    if socket_mode and not settings.slack_app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set (Basic Information → Signing Secret)")
    api = urlsplit(settings.slack_api_url)
    if api.scheme not in ("http", "https") or not api.netloc:
        raise ConfigError(
            f"HELPDESK_SLACK_API_URL is not an http(s) URL: {settings.slack_api_url!r}"
        )
    if settings.triage_channel and settings.triage_channel[:1] not in ("C", "G"):
        raise ConfigError(
            f"HELPDESK_TRIAGE_CHANNEL must be a channel id (C… or G…): {settings.triage_channel!r}"
        )


def check_slack(settings: Settings) -> None:
    """The token against the Web API, once, before any worker starts."""
    from slack_sdk.errors import SlackApiError

    from bot.app import make_client

    try:
        make_client(settings).auth_test()
    except SlackApiError as err:
        raise ConfigError(
            f"SLACK_BOT_TOKEN was refused by Slack: {err.response.get('error', 'unknown error')}"
        ) from err
    except OSError as err:
        raise ConfigError(
            f"cannot reach the Slack Web API at {settings.slack_api_url}: {err}"
        ) from err


def check_database(settings: Settings) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import DatabaseNotReady, check_schema, make_engine

    try:
        engine = make_engine(settings.database_url)
    except (SQLAlchemyError, ValueError) as err:
        raise ConfigError(f"HELPDESK_DATABASE_URL is not a database URL: {err}") from err
    try:
        check_schema(engine, settings.database_url)
    except DatabaseNotReady as err:
        raise ConfigError(str(err)) from err
    except (SQLAlchemyError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"HELPDESK_DATABASE_URL: cannot use the database: {first}") from err
    finally:
        engine.dispose()


def configure_logs(settings: Settings) -> None:
    """JSON lines on stderr; every secret the settings hold is masked wherever it shows."""
    from bot.logs import configure

    configure(
        [
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.slack_client_secret,
            settings.code_secret,
        ]
    )


@contextlib.contextmanager
def metrics_directory() -> Iterator[str]:
    """Where the gunicorn workers keep their metrics for /metrics to sum (prometheus_client
    multiprocess mode): a fresh directory per start, set before any metric exists and
    removed at the end (an operator's own PROMETHEUS_MULTIPROC_DIR is used and kept)."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        yield given
        return
    directory = tempfile.mkdtemp(prefix="helpdesk-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def run_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app

    configure_logs(settings)
    app = create_app(settings, start_jobs=True)
    click.echo("helpdesk: connected to Slack in Socket Mode; Ctrl-C to stop", err=True)
    SocketModeHandler(app, settings.slack_app_token).start()


def run_http(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """The web server: gunicorn workers acknowledging requests (bot.slack.ingress)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 60,
                "graceful_timeout": GRACEFUL_SECONDS,
                "keepalive": 5,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "info",
                "proc_name": "helpdesk-serve",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            # In each worker: its own app, database pool and index handle.
            from bot.app import create_app
            from bot.slack.ingress import Ingress
            from bot.slack.wsgi import make_wsgi
            from storage.db import make_engine, make_session_factory

            # Forms and options loads still run here: hand the GIL over more often so the
            # thread acknowledging a request is not kept waiting behind them.
            sys.setswitchinterval(GIL_SWITCH_SECONDS)
            configure_logs(settings)
            engine = make_engine(settings.database_url, pool_size=threads)
            # Open the pool's connections now, not on the first acks after a start.
            opened = [engine.connect() for _ in range(threads)]
            for connection in opened:
                connection.close()
            app = create_app(
                settings, session_factory=make_session_factory(engine), start_jobs=True
            )
            return make_wsgi(app, Ingress(engine, settings.slack_signing_secret))

    Server().run()


def run_worker(settings: Settings, threads: int, lease_seconds: int) -> None:
    """The inbox worker: handles what the web server acknowledged, until SIGTERM, then
    finishes what is left and exits."""
    from bot.app import create_app
    from bot.slack.worker import InboxWorker
    from storage.db import make_engine, make_session_factory

    configure_logs(settings)
    os.nice(WORKER_NICENESS)
    engine = make_engine(settings.database_url, pool_size=threads + 2, redoable=True)
    # Its own KB answers the questions: it follows the published version like any process.
    app = create_app(
        settings, session_factory=make_session_factory(engine), worker=True, start_jobs=True
    )
    lease = dt.timedelta(seconds=lease_seconds)
    worker = InboxWorker(app, engine, threads=threads, lease=lease).start()
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    click.echo(f"helpdesk: inbox worker ready ({threads} threads)", err=True)
    stopping.wait()
    if worker.stop(timeout=DRAIN_SECONDS):
        click.echo("helpdesk: inbox worker stopped, nothing acknowledged left", err=True)
    else:
        click.echo("helpdesk: inbox worker stopped; what is left stays in the inbox", err=True)


def _die_with_parent() -> None:
    """In a child: the kernel kills it when `helpdesk serve` dies, however it dies."""
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run_both(role_args: list[str]) -> int:
    """`--role all`: the web server and the inbox worker as two child processes; if one
    dies the other is stopped too (a supervisor restarts the whole)."""
    base = [sys.executable, "-m", "bot.cli", "serve", *role_args]
    web = subprocess.Popen([*base, "--role", "web"], preexec_fn=_die_with_parent)
    worker = subprocess.Popen([*base, "--role", "worker"], preexec_fn=_die_with_parent)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    while not stopping.wait(0.5):
        if web.poll() is not None or worker.poll() is not None:
            click.echo("error: a helpdesk serve process exited; stopping", err=True)
            break
    # Order matters: no more requests first, then the work they acknowledged.
    for child, allowed in ((web, GRACEFUL_SECONDS + 5), (worker, DRAIN_SECONDS + 5)):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            child.wait(allowed)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 0 if stopping.is_set() else 1


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on (HTTP).")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes (HTTP).",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Threads per worker (HTTP).",
)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="all",
    show_default=True,
    help="HTTP: web server and inbox worker (all), or only one of them.",
)
@click.option(
    "--inbox-threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads of the inbox worker (HTTP).",
)
@click.option(
    "--inbox-lease",
    default=30,
    show_default=True,
    type=click.IntRange(2, 3600),
    help="Seconds before the work of a process that died is taken over by another (HTTP).",
)
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    role: str,
    inbox_threads: int,
    inbox_lease: int,
) -> None:
    """Run the Slack app: Socket Mode if SLACK_APP_TOKEN is set, else HTTP on /slack/events."""
    settings = runtime().settings
    socket_mode = bool(settings.slack_app_token)
    with contextlib.ExitStack() as stack:
        if not socket_mode:  # before the checks below import anything that counts
            stack.enter_context(metrics_directory())
        try:
            check_settings(settings, socket_mode=socket_mode)
            check_database(settings)
            if not settings.oauth_mode:  # OAuth mode has no token until a workspace installs
                check_slack(settings)
        except ConfigError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(EXIT_CONFIG)
        if socket_mode:
            run_socket_mode(settings)
        elif role == "worker":
            run_worker(settings, inbox_threads, inbox_lease)
        elif role == "web":
            run_http(settings, host, port, workers, threads)
        else:
            click.echo(
                f"helpdesk: serving Slack on http://{host}:{port}/slack/events "
                f"({workers} workers × {threads} threads, inbox worker × {inbox_threads} threads)",
                err=True,
            )
            options = ["--host", host, "--port", str(port), "--workers", str(workers)]
            options += ["--threads", str(threads), "--inbox-threads", str(inbox_threads)]
            options += ["--inbox-lease", str(inbox_lease)]
            sys.exit(run_both(options))


def register(cli: click.Group) -> None:
    cli.add_command(serve)
