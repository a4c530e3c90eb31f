"""Replicas behind HAProxy: how many events/s are acknowledged with p99 under 100 ms and
zero errors, through the balancer to 1, 2 and 3 `helpdesk serve` replicas on PostgreSQL.

    HELPDESK_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/replicas.py
    … --replicas 1 2 3 --rates 100 200 300 400 600 --seconds 3

For each replica count a fresh cluster (deploy/replicas.py: HAProxy + N × `helpdesk serve`,
one gunicorn worker each) is started against the fake Slack Web API; signed direct
messages are sent open-loop at rising rates, `rate × seconds` events per step (bounded;
1 in 20 sent twice as a retry), after an unmeasured warm-up, until two steps in a row
miss the mark (p99 ack ≥ 100 ms or any error). Printed per step: events/s achieved, errors, p50/p99 ack, replies once / twice /
missing after a bounded wait, and per replica count the best rate that met the mark.
Everything (balancer, replicas, PostgreSQL, this load generator) shares this machine's
cores: the figures say how far one machine goes, not what N machines would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.slack_ack import (  # noqa: E402
    SECRET,
    SENDERS,
    FakeInAProcess,
    Run,
    deliveries,
    drive,
    percentile,
)
from deploy.replicas import Cluster  # noqa: E402
from tests.slack.sender import SlackSender  # noqa: E402

P99_MARK = 0.100  # seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 200, 300, 400, 600])
    parser.add_argument("--seconds", type=float, default=3.0, help="per step (bounded)")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait for replies")
    args = parser.parse_args()
    database = os.environ.get("HELPDESK_BENCH_DATABASE_URL", "")
    if not database.startswith("postgresql"):
        raise SystemExit("error: set HELPDESK_BENCH_DATABASE_URL to a PostgreSQL database")

    fake = FakeInAProcess()
    tmp = Path(tempfile.mkdtemp(prefix="replicas-bench-"))
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
    session = f"{int(time.time()) % 100000:05d}"
    rows = []
    best: dict[int, int] = {}
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; steps of "
        f"{args.seconds:g} s; mark: p99 ack < {P99_MARK * 1000:.0f} ms, zero errors",
        flush=True,
    )
    try:
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            list(pool.map(time.sleep, [0.05] * SENDERS))  # threads started before measuring
            for count in args.replicas:
                logs = tmp / f"r{count}"
                logs.mkdir()
                with Cluster(count, env=env, serve_args=["--workers", "1"], logs=logs) as cluster:
                    sender = SlackSender(cluster.url + "/slack/events", SECRET)
                    # Warm-up, not measured: every replica's caches and pools in use.
                    warm = Run(f"{count}", 100, 200)
                    drive(sender, warm, f"{session}W{count}", pool)
                    deliveries(fake, warm, args.settle)
                    misses = 0
                    for rate in args.rates:
                        run = Run(f"{count}", rate, int(rate * args.seconds))
                        drive(sender, run, f"{session}R{count}x{rate}", pool)
                        once, twice, missing, delays = deliveries(fake, run, args.settle)
                        p99 = percentile(run.acks, 99)
                        ok = run.errors == 0 and p99 < P99_MARK
                        rows.append((count, run, once, twice, missing, delays, ok))
                        print(_line(rows[-1]), flush=True)
                        misses = 0 if ok else misses + 1
                        if ok:
                            best[count] = rate
                        elif misses == 2:
                            break  # two steps in a row over the mark: the limit is behind
    finally:
        fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    base = best.get(args.replicas[0])
    for count in args.replicas:
        rate = best.get(count)
        scale = f" ({rate / base:.2f}x of {args.replicas[0]})" if rate and base else ""
        shown = f"{rate} ev/s" if rate else f"below {args.rates[0]} ev/s"
        print(f"{count} replica(s): p99 ack < 100 ms with zero errors up to {shown}{scale}")


def _line(row: tuple) -> str:  # type: ignore[type-arg]
    count, run, once, twice, missing, delays, ok = row
    return (
        f"replicas {count}  rate {run.rate:>4}  ev/s {run.count / run.duration:>6.1f}  "
        f"errors {run.errors:>3}  ack p50 {percentile(run.acks, 50) * 1000:>6.1f}ms  "
        f"p99 {percentile(run.acks, 99) * 1000:>6.1f}ms  replies once {once} twice {twice} "
        f"missing {missing}  reply p50 {percentile(delays, 50):.1f}s  "
        f"{'ok' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
