"""KB publishing across processes: what the periodic check costs, how long a publish
takes, and how soon another process serves it.

    .venv/bin/python bench/kb_publish.py                      # SQLite in a temporary dir
    .venv/bin/python bench/kb_publish.py --database-url postgresql+psycopg://...  # an EMPTY db

Two KnowledgeBase objects with their own index directories (as two replicas) share one
database. Both start from the shipped articles (the second with the first's embedding
cache, as a replica that served the previous version). Measured:
- check_us: one `follow` call when nothing changed (the every-2-seconds job), mean over N;
- publish_s: `publish` of one edited article on the first (lint, build, record);
- follow_s: the second's `follow` after that publish (files from the database, index
  build, switch);
- served_after_s: from the publish's end until the second answers the new question,
  with its check running every 2 s in a thread, as in `helpdesk serve`.
Bounded: one publish, one switch, a fixed number of checks.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import kb_publishing  # noqa: E402
from kb import KnowledgeBase  # noqa: E402
from kb.semantic import CACHE_DIR  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade  # noqa: E402

NEW_ARTICLE = {
    "bench-badge.en.md": """---
slug: bench-badge
lang: en
title: How do I print a visitor badge at the front desk kiosk?
questions:
  - Where is the visitor badge printer?
tags: [badge, kiosk]
related: []
---
Tap "Visitor" on the kiosk screen, type the visitor's name and the badge prints at once.
""",
    "bench-badge.fr.md": """---
slug: bench-badge
lang: fr
title: Comment imprimer un badge visiteur à la borne de l'accueil ?
questions:
  - Où est l'imprimante des badges visiteurs ?
tags: [badge, borne]
related: []
---
Touchez « Visiteur » sur l'écran de la borne, tapez le nom du visiteur et le badge s'imprime.
""",
}
QUESTION = "How do I print a visitor badge at the front desk kiosk?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--checks", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-publish-bench-"))
    try:
        url = args.database_url or f"sqlite:///{work / 'bench.db'}"
        upgrade(url)
        sessions = make_session_factory(make_engine(url))
        articles = work / "articles"
        shutil.copytree(REPO / "kb" / "articles", articles)
        started = time.perf_counter()
        first = KnowledgeBase.open(articles, work / "index-a")
        print(f"first KB built: {time.perf_counter() - started:.1f} s")
        shutil.copytree(work / "index-a" / CACHE_DIR, work / "index-b" / CACHE_DIR)
        second = KnowledgeBase.open(articles, work / "index-b")
        kb_publishing.publish(first, sessions, articles, by="bench")
        kb_publishing.follow(second, sessions)

        started = time.perf_counter()
        for _ in range(args.checks):
            kb_publishing.follow(second, sessions)
        check_us = (time.perf_counter() - started) / args.checks * 1e6

        for name, text in NEW_ARTICLE.items():
            (articles / name).write_text(text, encoding="utf-8")
        started = time.perf_counter()
        result = kb_publishing.publish(first, sessions, articles, by="bench")
        published_at = time.perf_counter()
        assert result.version is not None, result.errors

        stop = threading.Event()

        def check_every_2s() -> None:
            while not stop.is_set():
                kb_publishing.follow(second, sessions)
                stop.wait(2.0)

        thread = threading.Thread(target=check_every_2s, daemon=True)
        thread.start()
        while not second.ask(QUESTION).answered and time.perf_counter() - published_at < 120:
            time.sleep(0.05)
        served_after = time.perf_counter() - published_at
        stop.set()
        thread.join()

        kb_publishing.publish(first, sessions, articles, by="bench")  # unchanged: no-op
        (articles / "bench-badge.en.md").write_text(
            NEW_ARTICLE["bench-badge.en.md"].replace("at once", "within seconds"), "utf-8"
        )
        kb_publishing.publish(first, sessions, articles, by="bench")
        started_follow = time.perf_counter()
        kb_publishing.follow(second, sessions)
        follow_s = time.perf_counter() - started_follow

        print(f"articles: {result.counts}")
        print(f"check_us (nothing changed, mean of {args.checks}): {check_us:.0f}")
        print(f"publish_s (one new article, both languages): {published_at - started:.2f}")
        print(f"served_after_s (other process, 2 s checks): {served_after:.2f}")
        print(f"follow_s (other process, one edited article): {follow_s:.2f}")
        for kb in (first, second):
            kb.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
