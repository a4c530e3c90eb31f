"""create_app(settings) → the Slack app: the only place that builds Slack objects.

One bolt `App` over one `WebClient` (retrying rate-limited calls after `Retry-After` and
connection errors), the conversation engine, the profile cache, and one module per
capability under bot/handlers. Events are acknowledged before any work (bolt runs event
listeners on its executor after the ack); interactions ack first thing in their listener.
Every failure that is not a domain refusal reaches the one error handler below.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.boundary import ChatUser
from bot.conversation import Assistant, apology
from bot.handlers import register_all
from bot.handlers.common import Deps, Place, post_replies
from bot.logs import ContextExecutor
from bot.metrics import CountedConnectionRetries, CountedRateLimitRetries, ErrorCounter
from bot.settings import Settings
from bot.slack import health
from bot.slack.bridge import Bridge
from bot.slack.clients import Clients, triage_workspace_problem
from bot.slack.profiles import Profiles
from bot.slack.roles import Roles
from bot.slack.scheduler import Scheduler
from storage.db import SessionFactory, make_engine, make_session_factory

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 3
CONNECTION_RETRIES = 2
WORKER_THREADS = 4


def make_client(settings: Settings) -> WebClient:
    base_url = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else settings.slack_api_url + "/"
    )
    return WebClient(
        token=settings.slack_bot_token or None,
        base_url=base_url,
        # bolt copies these into the client of every request (OAuth mode: one per
        # workspace token), so errors and retries are counted whichever client calls.
        retry_handlers=[
            ErrorCounter(),
            CountedRateLimitRetries(max_retry_count=RATE_LIMIT_RETRIES),
            CountedConnectionRetries(max_retry_count=CONNECTION_RETRIES),
        ],
    )


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    session_factory: SessionFactory | None = None,
    kb: Any = None,
    start_jobs: bool = False,
    worker: bool = False,
) -> App:
    """`worker`: the app of the inbox workers (bot.slack.worker), which dispatch requests
    the ack path verified and stored; its listeners run to completion in `dispatch`."""
    client = client or make_client(settings)
    problem = triage_workspace_problem(settings)
    if problem is not None:  # `helpdesk serve` says it first; nothing else may start so
        raise ValueError(problem)
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.database_url))
    if kb is None:
        from kb.knowledge import KnowledgeBase

        kb = KnowledgeBase.open(
            settings.articles_dir, settings.index_dir, default_lang=settings.default_lang
        )
    oauth = None
    if settings.oauth_mode:
        from bot.slack.oauth import oauth_settings

        # Many workspaces: each request is authorised with its own workspace's token.
        oauth = oauth_settings(settings, session_factory.kw["bind"], client)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or None,
        # Socket Mode needs no signature: the socket is authenticated by the app token.
        request_verification_enabled=not settings.slack_app_token and not worker,
        process_before_response=worker,
        # The work after the ack keeps the request's id in its logs.
        listener_executor=ContextExecutor(
            max_workers=WORKER_THREADS, thread_name_prefix="slack-listener"
        ),
        oauth_settings=oauth,
    )
    if oauth is not None:
        # app_uninstalled / tokens_revoked: the workspace's tokens are deleted.
        app.enable_token_revocation_listeners()
    assistant = Assistant(session_factory, settings, kb)
    clients = Clients(settings, client, oauth)
    # A profile read outside a request is read with its workspace's token.
    profiles = Profiles(client, clients=clients)
    deps = Deps(
        settings=settings,
        session_factory=session_factory,
        bridge=Bridge(assistant, session_factory),
        profiles=profiles,
        kb=kb,
        roles=Roles(clients, settings),
        clients=clients,
    )
    if settings.slack_app_token:
        # Socket Mode has no ack path of ours: the inbox's rule is applied as it arrives.
        app.middleware(once_per_delivery(session_factory))
    register_all(app, deps)
    health.register(app, health.readiness(session_factory, kb))
    if start_jobs:
        # `helpdesk serve` only: the suite runs jobs itself (Scheduler.run_due).
        from bot.handlers.editors import follow_published

        follow_published(deps, client)  # serve the published KB from the first request
        Scheduler(deps, client).start()

    @app.error
    def handle_error(
        error: Exception, body: dict[str, Any], client: WebClient
    ) -> BoltResponse | None:
        """The one place a bug ends: logged with its traceback; the user, when we know
        who and where, gets an apology in their language instead of silence."""
        log.error("handling a Slack request failed", exc_info=error)
        place, user_id = _where(body)
        if place is not None and user_id:
            team = str(body.get("team_id") or (body.get("team") or {}).get("id") or "")
            user = ChatUser(
                workspace_id=team,
                user_id=user_id,
                thread_key=place.thread_key,
                locale=deps.profiles.get(user_id, workspace=team, client=client).locale,
            )
            outcome = apology(user)
            try:
                post_replies(client, place, user, outcome)
            except Exception:
                log.warning("could not send the apology", exc_info=True)
        return None

    return app


def once_per_delivery(session_factory: SessionFactory) -> Any:
    """A middleware: a delivery whose key was already recorded is acknowledged, no more."""
    from bot.slack.inbox import record
    from bot.slack.ingress import delivery_of

    engine = session_factory.kw["bind"]

    def middleware(request: BoltRequest, next: Any) -> BoltResponse | None:
        delivery = delivery_of(json.dumps(request.body), {"content-type": "application/json"})
        if delivery is not None and not record(engine, delivery):
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def _where(body: dict[str, Any]) -> tuple[Place | None, str | None]:
    event = body.get("event") or {}
    if event.get("channel"):
        thread = event.get("thread_ts") or (
            event.get("ts") if event.get("type") == "app_mention" else None
        )
        return Place(str(event["channel"]), thread), event.get("user")
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    return (Place(str(channel)) if channel else None), user
