"""The sentence encoder's engines side by side: load, one question, a build's throughput.

    .venv/bin/python bench/encoder_bench.py            # every engine in kb.encoder.ENCODERS
    .venv/bin/python bench/encoder_bench.py onnx

For each engine: seconds to load (a fresh process: imports and weights), the wall-clock
latency of embedding one customer question at a time (the eval sets' questions, as `ask`
does), the throughput on the shipped articles' texts (titles, phrasings and summaries,
as a build embeds them), and how close its vectors are to the first engine's (cosine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.machine import describe  # noqa: E402
from kb.articles import load_articles  # noqa: E402
from kb.encoder import ENCODERS  # noqa: E402
from kb.evaluate import read_cases  # noqa: E402
from kb.semantic import QUERY, article_texts  # noqa: E402


def questions() -> list[str]:
    """The calibration halves and fresh sets (never the held-out halves, nor the full sets
    that contain them)."""
    found: list[str] = []
    for pattern in ("kb_*.calibrate.jsonl", "kb_*.fresh.jsonl"):
        for path in sorted((REPO / "eval").glob(pattern)):
            found += [case.question for case in read_cases(path)]
    return found


def load_seconds(engine: str) -> float:
    code = (
        "import time; t = time.perf_counter(); from kb.encoder import default_encoder; "
        "default_encoder().embed_queries(['bonjour']); print(time.perf_counter() - t)"
    )
    env = {**os.environ, "HELPDESK_ENCODER": engine}
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=REPO, env=env
    )
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("engines", nargs="*", default=list(ENCODERS))
    args = parser.parse_args()
    asked = questions()
    texts = [t for a in load_articles(REPO / "kb" / "articles").articles for t in article_texts(a)]
    phrasings = [t.text for t in texts if t.kind == QUERY]
    summaries = [t.text for t in texts if t.kind != QUERY]
    print(f"{describe()}  questions: {len(asked)}  article texts: {len(texts)}")
    reference: np.ndarray | None = None
    header = f"{'engine':<8}{'load s':>8}{'question p50 ms':>17}{'p95 ms':>8}{'build texts/s':>15}{'cosine to first':>17}"
    rows = [header]
    for engine in args.engines:
        encoder = ENCODERS[engine]()
        encoder.embed_queries(asked[:5])  # warm-up
        timings = []
        for question in asked:
            start = time.perf_counter()
            encoder.embed_queries([question])
            timings.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        vectors = np.vstack([encoder.embed_queries(phrasings), encoder.embed_passages(summaries)])
        rate = len(texts) / (time.perf_counter() - start)
        if reference is None:
            reference, agreement = vectors, "-"
        else:
            cosines = (vectors * reference).sum(axis=1)
            agreement = f"{cosines.mean():.4f} (min {cosines.min():.3f})"
        rows.append(
            f"{engine:<8}{load_seconds(engine):>8.2f}{np.percentile(timings, 50):>17.1f}"
            f"{np.percentile(timings, 95):>8.1f}{rate:>15.1f}  {agreement:>15}"
        )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
