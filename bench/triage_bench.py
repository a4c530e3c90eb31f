"""Triage cards: how fast new incidents reach the triage channel, and a staff reply the
customer, with several serve processes' jobs working the same outbox.

    .venv/bin/python bench/triage_bench.py                       # 200 incidents, 2 jobs
    .venv/bin/python bench/triage_bench.py --incidents 500 --jobs 4

Files N incidents for the demo customer (as the console or the CLI would), then runs the
triage job (bot.slack.triage_sync.sync_cards) in J threads at once, each with its own
Slack client, profile cache and roles, like J `helpdesk serve` processes, against the fake
Slack Web API (tests/slack/fake_api.py, in this process) on a migrated SQLite file (or
HELPDESK_BENCH_DATABASE_URL, e.g. PostgreSQL — emptied first, so never a shared one).

Printed: cards posted (must equal N), duplicates (must be 0), seconds until every card
was posted and cards/s; then, for R staff replies made through the service and synced at
once (as the Reply action does), p50/p99 milliseconds from the reply's commit to its DM
reaching the Web API.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.app import make_client  # noqa: E402
from bot.handlers.common import Deps  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.slack.profiles import Profiles  # noqa: E402
from bot.slack.roles import Roles  # noqa: E402
from bot.slack.triage_sync import sync_cards, sync_incident  # noqa: E402
from services import demo, incidents, triage  # noqa: E402
from services.accounts import get_account, link_slack_user  # noqa: E402
from storage.db import downgrade, make_engine, make_session_factory, upgrade  # noqa: E402
from tests.slack.fake_api import FakeSlack  # noqa: E402

TRIAGE = "CTRIAGE"
CUSTOMER = "UCUST"


def _deps(settings: Settings, session_factory: object) -> Deps:
    client = make_client(settings)
    return Deps(
        settings=settings,
        session_factory=session_factory,  # type: ignore[arg-type]
        bridge=None,  # type: ignore[arg-type] (the job does not converse)
        profiles=Profiles(client),
        roles=Roles(client, settings),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--replies", type=int, default=50)
    args = parser.parse_args()

    url = os.environ.get("HELPDESK_BENCH_DATABASE_URL", "").strip()
    tmp = tempfile.TemporaryDirectory()
    if url:
        downgrade(url, "base")
    else:
        url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    fake = FakeSlack().start()
    fake.add_user(CUSTOMER, locale="fr-FR", tz="Europe/Paris", name="Demo Customer")
    fake.add_user("UAGENT", locale="en-US", tz="America/New_York", name="Alice Agent")
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=url,
        triage_channel=TRIAGE,
        slack_bot_token="xoxb-bench",
        slack_api_url=fake.url,
    )
    with session_factory.begin() as session:
        demo.seed(session)
        account = get_account(session, demo.DEMO_EMAIL)
        link_slack_user(session, "T1", CUSTOMER, account)
        for n in range(args.incidents):
            incidents.create_incident(
                session,
                account,
                service="Nuclias Cloud Pro",
                summary=f"Switch {n} down",
                description="It stopped after the update.",
                actor=demo.DEMO_EMAIL,
            )

    workers = [_deps(settings, session_factory) for _ in range(args.jobs)]
    started = time.perf_counter()

    def work(deps: Deps) -> None:
        while sync_cards(deps, make_client(settings)):
            pass

    threads = [threading.Thread(target=work, args=(deps,)) for deps in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cards = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == TRIAGE]
    per_text = Counter(str(c["text"]) for c in cards)
    print(f"{args.incidents} incidents, {args.jobs} jobs on {engine.dialect.name}")
    print(f"  cards posted {len(cards)}, duplicates {sum(n - 1 for n in per_text.values())}")
    print(f"  all posted in {elapsed:.2f} s: {len(cards) / elapsed:.0f} cards/s")

    deps = workers[0]
    client = make_client(settings)
    with session_factory() as session:
        numbers = [i.number or "" for i in incidents.list_incidents(session)][: args.replies]
    latencies = []
    for number in numbers:
        before = len(fake.calls_to("chat.postMessage"))
        with session_factory.begin() as session:
            triage.staff_reply(session, number, actor="UAGENT", text="Please reboot it.")
        committed = time.perf_counter()
        sync_incident(deps, client, number)
        dms = [c for c in fake.calls_to("chat.postMessage")[before:] if c.args["channel"] != TRIAGE]
        assert len(dms) == 1, f"{number}: {len(dms)} DMs"
        latencies.append((dms[0].at - committed) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"  {len(latencies)} replies: reply committed → DM at the Web API "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms"
    )
    fake.stop()
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
