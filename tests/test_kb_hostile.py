"""Any input gets a normal answer: no query syntax, no crash, no runaway search.

Latency is measured by bench/kb_bench.py (worst hostile input), never asserted here.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import Answer, KnowledgeBase, detect_language

FIXTURES = Path(__file__).parent / "fixtures" / "kb"

HOSTILE = [
    "",
    " ",
    "AND (",
    '"',
    "*",
    "a*",
    "~",
    "!!!",
    "lang:fr",
    "title:das^3",
    "das~2",
    "NOT OR AND",
    "((((((",
    "\x00\x01\x1b[31m",
    "😀🔥💥" * 50,
    "das " * 3000,
    "a" * 10_000,
    "é" * 5000,
    "l' d' qu'",
    "'''",
    "- - -",
    "activ*",
    "?" * 1000,
    "\u202e\u200b\ufeff",
    "qu'est-ce-que-c'est-que-ça-" * 200,
]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(FIXTURES, root / "articles")
    knowledge = KnowledgeBase.open(root / "articles", root / "index")
    yield knowledge
    knowledge.close()


def _check(kb: KnowledgeBase, text: str) -> None:
    answer = kb.ask(text)
    assert isinstance(answer, Answer)
    assert answer.lang in ("fr", "en")
    assert answer.answered is (answer.article is not None)
    assert 0.0 <= answer.score <= 1.0
    assert detect_language(text) in (None, "fr", "en")
    for ref, score in kb.search(text):
        assert ref.lang in ("fr", "en") and score >= 0


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_inputs_get_a_normal_result(kb: KnowledgeBase, text: str) -> None:
    _check(kb, text)


def test_query_syntax_is_not_interpreted(kb: KnowledgeBase) -> None:
    """`lang:fr` or `title:` must not restrict anything: they are plain words."""
    assert not kb.ask("lang:fr").answered
    assert not kb.ask("*").answered
    assert not kb.ask("a*").answered


@pytest.mark.slow
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(max_size=400)
    | st.lists(st.sampled_from([*HOSTILE, "das", "contrat", "activer", "holiday"])).map(" ".join)
)
def test_any_text_gets_a_normal_result(kb: KnowledgeBase, text: str) -> None:
    _check(kb, text)
