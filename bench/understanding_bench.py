"""Reading speed: how long `bot.understanding.read` takes per message, without an encoder.

    .venv/bin/python bench/understanding_bench.py                  # eval/messages.calibrate.jsonl
    .venv/bin/python bench/understanding_bench.py --rounds 20 FILE.jsonl

Warm, in-process, wall clock per call: one pass first loads the language detector and the
date library and builds the example index (that first-pass time is printed too), then
each message is read `--rounds` times. The reading's caches (dates, detected languages)
are cleared before every round, so each round pays for them again as a new message would.
A message should be read in a few milliseconds; a 500-character message (the most that
is read) is timed on its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.understanding import read  # noqa: E402
from bot.understanding import when as when  # noqa: E402
from kb import lang  # noqa: E402
from services.demo import MODELS, SUBSCRIPTIONS  # noqa: E402

LONG = (
    "Bonjour, j'ai acheté un DGS-1210-28 le 12 novembre, numéro de série QBQE160012345, "
    "et depuis hier je n'arrive pas à activer mon code NBD3-7KQ2-A9XM : le portail me dit "
    "que le produit n'est pas dans la liste, alors que je l'ai enregistré il y a 3 jours. "
    "Pouvez-vous m'aider ? J'ai aussi ouvert le ticket INC-000012 mais personne n'a répondu "
    "après 2 heures, est-ce normal ? Merci d'avance, et bonne journée à toute l'équipe."
)


def clear_caches() -> None:
    when._read.cache_clear()
    lang._detect.cache_clear()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "file", nargs="?", type=Path, default=REPO / "eval/messages.calibrate.jsonl"
    )
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    texts = [
        json.loads(line)["text"]
        for line in args.file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    models = [m.model for m in MODELS]
    names = [s[0] for s in SUBSCRIPTIONS]
    today = dt.date(2026, 11, 29)

    def one(text: str) -> float:
        started = time.perf_counter()
        read(text, today=today, catalogue_models=models, subscriptions=names)
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    for text in texts:
        one(text)
    first = (time.perf_counter() - started) * 1000

    times: list[float] = []
    for _ in range(args.rounds):
        clear_caches()
        times.extend(one(text) for text in texts)
    times.sort()
    quantiles = statistics.quantiles(times, n=100)
    long_times = []
    for _ in range(args.rounds):
        clear_caches()
        long_times.append(one(LONG))
    print(f"messages: {len(texts)} from {args.file}, {args.rounds} rounds, no encoder")
    print(f"first pass (loads the detector, the date library, the example index): {first:.0f} ms")
    print(
        f"read: p50 {quantiles[49]:.2f} ms, p95 {quantiles[94]:.2f} ms, "
        f"p99 {quantiles[98]:.2f} ms, max {times[-1]:.2f} ms"
    )
    print(f"a {len(LONG)}-character message: median {statistics.median(long_times):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
