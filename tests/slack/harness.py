"""The Slack app running for real on loopback: the fake Web API, the app built by
`create_app` and served over HTTP (a threaded WSGI server on port 0) behind the inbox's
ack path, inbox workers dispatching to a second app built with `worker=True` (as
`helpdesk serve` does, in one process here), and a sender."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App

from bot.app import create_app, make_client
from bot.settings import Settings
from bot.slack.ingress import Ingress
from bot.slack.worker import InboxWorker
from bot.slack.wsgi import EVENTS_PATH, make_wsgi
from storage.db import SessionFactory
from tests.slack.fake_api import FakeSlack
from tests.slack.sender import SlackSender

SIGNING_SECRET = "test-signing-secret"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class RunningApp:
    fake: FakeSlack
    app: App
    sender: SlackSender
    session_factory: SessionFactory
    base_url: str
    worker: InboxWorker


CLIENT_ID = "111.222"
CLIENT_SECRET = "test-client-secret"


@contextmanager
def running_app(
    settings: Settings,
    session_factory: SessionFactory,
    kb: Any,
    *,
    oauth: bool = False,
    fake: FakeSlack | None = None,
) -> Iterator[RunningApp]:
    """With `oauth`, the app in OAuth mode (no bot token: installed per workspace). `fake`:
    the Slack of another app too (two processes on one database share one inbox, so
    either may answer a delivery: like replicas, they must talk to the same Slack)."""
    owned = fake is None
    fake = fake or FakeSlack().start()
    mode = (
        {"slack_client_id": CLIENT_ID, "slack_client_secret": CLIENT_SECRET}
        if oauth
        else {"slack_bot_token": "xoxb-test"}
    )
    settings = Settings(
        **{
            **settings.__dict__,
            **mode,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": fake.url,
        }
    )
    app = create_app(settings, client=make_client(settings), session_factory=session_factory, kb=kb)
    engine = session_factory.kw["bind"]
    worker_app = create_app(
        settings, client=make_client(settings), session_factory=session_factory, kb=kb, worker=True
    )
    worker = InboxWorker(worker_app, engine, threads=2).start()
    ingress = Ingress(engine, SIGNING_SECRET, on_stored=worker.wake)
    server = make_server(
        "127.0.0.1",
        0,
        make_wsgi(app, ingress),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield RunningApp(
            fake,
            app,
            SlackSender(base + EVENTS_PATH, SIGNING_SECRET),
            session_factory,
            base,
            worker,
        )
    finally:
        server.shutdown()
        server.server_close()
        worker.stop(timeout=10)
        if owned:
            fake.stop()
