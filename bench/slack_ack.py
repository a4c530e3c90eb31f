"""Slack delivery speed: signed events at fixed rates to the helpdesk app over HTTP, and in
the same run to a bare bolt app that only acks and posts a reply.

    .venv/bin/python bench/slack_ack.py                        # 100 ev/s then 300 ev/s
    .venv/bin/python bench/slack_ack.py --rates 100 300 500 --count 600 --workers 2 --threads 8

Both apps run under gunicorn (gthread) on loopback, against the same fake Slack Web API
(tests/slack/fake_api.py) that records when each reply arrives. The fake runs in a
process of its own: the helpdesk calls it several times per event (profile, reply, Home
tab), and that work must not take this process's GIL from the sender, whose clock
measures the acks. The
helpdesk app runs with its de-duplication on (every event stored in the database's
inbox under its id before the ack, bot/slack/inbox.py),
on a migrated SQLite file (or HELPDESK_BENCH_DATABASE_URL, e.g. PostgreSQL) with the demo
data. Events are direct messages from distinct users, sent open-loop at the rate (each
on schedule, whatever the previous ones), a bounded count per rate; 5 % are sent twice
(a retry with the same event id) and must still be answered exactly once.

Printed per app and rate: events/s achieved, errors (non-200), p50/p99 ack latency, the
ratio of the helpdesk app's p99 to the bare app's, replies delivered once / twice /
missing, and p50/p99 time from sending an event to its reply reaching the Web API.
Targets on 2 cores: at 100 ev/s zero errors, every reply once, p99 ack within 3x the bare
app's; at >= 300 ev/s sustained with zero errors.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.slack.fake_api import Call, FakeSlack  # noqa: E402
from tests.slack.sender import SlackSender  # noqa: E402

SECRET = "bench-signing-secret"
DUPLICATES_EVERY = 20  # one event in 20 is delivered twice (a retry)
SENDERS = 64  # threads sending events


# --- the bare bolt app (run with --bare in a gunicorn child) ------------------------------


def run_bare(port: int, api_url: str, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    def build():  # type: ignore[no-untyped-def]
        from slack_bolt import App
        from slack_bolt.adapter.wsgi import SlackRequestHandler
        from slack_sdk import WebClient

        app = App(
            client=WebClient(token="xoxb-bare", base_url=api_url),
            signing_secret=SECRET,
            token_verification_enabled=False,
        )

        @app.event("message")
        def reply(event, client):  # type: ignore[no-untyped-def]
            client.chat_postMessage(channel=event["channel"], text="ok")

        return SlackRequestHandler(app)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": f"127.0.0.1:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "accesslog": None,
                "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self):  # type: ignore[no-untyped-def]
            return build()

    Server().run()


# --- the fake Web API in a process of its own ---------------------------------------------


class FakeInAProcess:
    """What the benchmark reads of the fake (reply arrivals), the fake in a child process.
    Its arrival times are `time.perf_counter()` there: CLOCK_MONOTONIC, the same clock
    in every process of the machine."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve_fake, args=(child,), daemon=True)
        self._process.start()
        self.url: str = self._pipe.recv()
        self._lock = threading.Lock()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            self._pipe.send(("calls", method))
            rows = self._pipe.recv()
        return [Call(method, {"channel": channel}, at) for channel, at in rows]

    def stop(self) -> None:
        with self._lock:
            self._pipe.send(("stop", ""))
        self._process.join(timeout=10)


def _serve_fake(pipe: Any) -> None:
    fake = FakeSlack().start()
    pipe.send(fake.url)
    while True:
        command, method = pipe.recv()
        if command == "stop":
            fake.stop()
            return
        pipe.send([(call.args.get("channel"), call.at) for call in fake.calls_to(method)])


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Run:
    app: str
    rate: int
    count: int
    acks: list[float] = field(default_factory=list)
    errors: int = 0
    sent_at: dict[str, float] = field(default_factory=dict)  # channel -> first send time
    duration: float = 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            # Any HTTP answer (even 404/405) means the server is up.
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def drive(sender: SlackSender, run: Run, prefix: str, pool: ThreadPoolExecutor) -> None:
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    jobs = []

    def send(i: int) -> None:
        due = start + i / run.rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        user = f"U{prefix}{i:06d}"
        channel = f"D{user}"
        event_id = f"Ev{prefix}{i:08d}"
        sent = time.perf_counter()
        with lock:
            run.sent_at.setdefault(channel, sent)
        response = sender.dm(user, "hello", channel=channel, event_id=event_id)
        again = None
        if i % DUPLICATES_EVERY == 0:
            again = sender.dm(user, "hello", channel=channel, event_id=event_id, retry_num=1)
        with lock:
            run.acks.append(response.elapsed)
            run.errors += response.status != 200
            if again is not None:
                run.acks.append(again.elapsed)
                run.errors += again.status != 200

    for i in range(run.count):
        jobs.append(pool.submit(send, i))
    for job in jobs:
        job.result()
    run.duration = time.perf_counter() - start


def deliveries(fake: FakeInAProcess, run: Run, settle: float) -> tuple[int, int, int, list[float]]:
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        got = {c.args.get("channel") for c in fake.calls_to("chat.postMessage")}
        if all(channel in got for channel in run.sent_at):
            break
        time.sleep(0.1)
    per_channel = Counter()
    first: dict[str, float] = {}
    for call in fake.calls_to("chat.postMessage"):
        channel = str(call.args.get("channel"))
        if channel in run.sent_at:
            per_channel[channel] += 1
            first.setdefault(channel, call.at)
    once = sum(1 for c in run.sent_at if per_channel[c] == 1)
    twice = sum(1 for c in run.sent_at if per_channel[c] > 1)
    missing = sum(1 for c in run.sent_at if per_channel[c] == 0)
    delays = [first[c] - run.sent_at[c] for c in run.sent_at if c in first]
    return once, twice, missing, delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--count", type=int, default=600, help="events per rate (bounded)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds to wait for replies")
    parser.add_argument("--bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        run_bare(args.bare, args.api, args.workers, args.threads)
        return

    fake = FakeInAProcess()
    tmp = Path(tempfile.mkdtemp(prefix="slack-bench-"))
    database = os.environ.get("HELPDESK_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))},
        "HELPDESK_DATA_DIR": str(tmp / "data"),
        "HELPDESK_DATABASE_URL": database,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "HELPDESK_SLACK_API_URL": fake.url,
    }
    helpdesk = str(Path(sys.executable).parent / "helpdesk")
    subprocess.run([helpdesk, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([helpdesk, "demo", "seed"], env=env, check=True, capture_output=True)
    ports = {"helpdesk": free_port(), "bare bolt": free_port()}
    commands = {
        "helpdesk": [
            helpdesk,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(ports["helpdesk"]),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        "bare bolt": [
            sys.executable,
            __file__,
            "--bare",
            str(ports["bare bolt"]),
            "--api",
            fake.url,
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
    }
    logs = {name: open(tmp / f"{name.replace(' ', '_')}.log", "wb") for name in commands}  # noqa: SIM115
    processes = {
        name: subprocess.Popen(
            cmd,
            env=env,
            cwd=REPO,
            stdout=logs[name],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name, cmd in commands.items()
    }
    results: list[tuple[Run, tuple[int, int, int, list[float]]]] = []
    # Event ids unique to this run: a database kept from an earlier run has claimed its ids.
    session = f"{int(time.time()) % 100000:05d}"
    try:
        for name, port in ports.items():
            wait_healthy(f"http://127.0.0.1:{port}/healthz", processes[name])
        print(
            f"2 apps × {args.workers} gunicorn workers × {args.threads} threads; "
            f"{args.count} events per rate, 1 in {DUPLICATES_EVERY} delivered twice; "
            f"database {database.split(':')[0]}",
            flush=True,
        )
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            # All the sender's threads started before anything is measured: the first app
            # measured would otherwise pay for their creation in its ack times.
            list(pool.map(time.sleep, [0.05] * SENDERS))
            for rate in args.rates:
                for name, port in ports.items():
                    sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
                    # A warm-up: first requests build caches (profiles, index, pools).
                    warm = Run(name, 50, 100)
                    drive(sender, warm, f"{session}W{rate}{name[0]}", pool)
                    deliveries(fake, warm, args.settle)
                    run = Run(name, rate, args.count)
                    drive(sender, run, f"{session}R{rate}{name[0]}", pool)
                    results.append((run, deliveries(fake, run, args.settle)))
    finally:
        for process in processes.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=30)
        fake.stop()
        for name, log in logs.items():
            log.close()
            errors = [
                line
                for line in (tmp / Path(log.name).name).read_text(errors="replace").splitlines()
                if "Error" in line or "error" in line
            ]
            if errors:
                print(f"{name} logged {len(errors)} error lines, e.g.: {errors[0][:300]}")
        shutil.rmtree(tmp, ignore_errors=True)

    header = (
        f"{'app':<10} {'rate':>5} {'ev/s':>7} {'errors':>6} {'ack p50':>8} {'ack p99':>8} "
        f"{'once':>5} {'twice':>5} {'miss':>5} {'reply p50':>9} {'reply p99':>9}"
    )
    print(header)
    by_key = {}
    for run, (once, twice, missing, delays) in results:
        by_key[(run.app, run.rate)] = run
        print(
            f"{run.app:<10} {run.rate:>5} {run.count / run.duration:>7.1f} {run.errors:>6} "
            f"{percentile(run.acks, 50) * 1000:>6.1f}ms {percentile(run.acks, 99) * 1000:>6.1f}ms "
            f"{once:>5} {twice:>5} {missing:>5} "
            f"{percentile(delays, 50) * 1000:>7.0f}ms {percentile(delays, 99) * 1000:>7.0f}ms"
        )
    for rate in args.rates:
        ours, bare = by_key[("helpdesk", rate)], by_key[("bare bolt", rate)]
        ratio = percentile(ours.acks, 99) / percentile(bare.acks, 99)
        print(f"p99 ack ratio helpdesk / bare bolt at {rate} ev/s: {ratio:.2f}")
    print(json.dumps({"rates": args.rates, "count": args.count}), file=sys.stderr)


if __name__ == "__main__":
    main()
