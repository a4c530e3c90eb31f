"""Which intent a message is closest to, by comparison with example phrasings.

Two ways of measuring closeness, one interface (`IntentMatcher.scores`):

- with an `Encoder` (a multilingual sentence encoder, e.g. the one kb/ uses for search),
  the cosine of sentence vectors: paraphrases that share no words still meet;
- without one, a deterministic lexical measure: TF-IDF over words and the letter
  trigrams of each word, so typos ("regsiter a prodcut") still share most trigrams with
  the example ("register a product"). Built once per process, it reads a message in well
  under a millisecond (an inverted index: only examples that share a feature are touched).

Values are replaced by placeholders before comparison on both sides (see examples.py).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from bot.nlu import Intent, normalize
from bot.understanding.examples import EXAMPLES

PLACEHOLDERS = {
    "{model}": "zmodel",
    "{serial}": "zserial",
    "{code}": "zcode",
    "{date}": "zdate",
    "{number}": "znumber",
    "{sub}": "zsub",
}


class Encoder(Protocol):
    """Embeds short texts into vectors whose cosine says how close their meanings are.

    The method is named as in kb/encoder.py's encoder (e5's "query" side is the one for
    comparing phrasings with phrasings), so the KB's encoder serves here as it is."""

    def embed_queries(self, texts: Sequence[str]) -> Iterable[Iterable[float]]: ...


def prepare(text: str) -> str:
    """The form both examples and messages are compared in: normalised, placeholders kept."""
    for placeholder, token in PLACEHOLDERS.items():
        text = text.replace(placeholder, f" {token} ")
    return normalize(text).replace("?", " ").strip()


class IntentMatcher(Protocol):
    def scores(self, masked: str) -> dict[Intent, float]:
        """For each intent, how close a message (values replaced by placeholders) is to
        the intent's closest example, 0 to 1."""
        ...


def _features(text: str) -> dict[str, float]:
    feats: dict[str, float] = defaultdict(float)
    for word in text.split():
        feats["w:" + word] += 1.0
        if word.startswith("z") and word in _TOKENS:
            continue
        padded = f" {word} "
        for i in range(len(padded) - 2):
            feats[padded[i : i + 3]] += 0.5
    return feats


_TOKENS = frozenset(PLACEHOLDERS.values())


class LexicalMatcher:
    """TF-IDF cosine over words and letter trigrams, nearest example per intent."""

    def __init__(self, examples: Mapping[Intent, Iterable[str]]) -> None:
        prepared = [(intent, prepare(text)) for intent, texts in examples.items() for text in texts]
        self.intents = [intent for intent, _ in prepared]
        raw = [_features(text) for _, text in prepared]
        df: dict[str, int] = defaultdict(int)
        for feats in raw:
            for key in feats:
                df[key] += 1
        n = len(raw)
        self.idf = {key: math.log((1 + n) / (1 + count)) + 1.0 for key, count in df.items()}
        self.index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, feats in enumerate(raw):
            vector = {k: v * self.idf[k] for k, v in feats.items()}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            for key, value in vector.items():
                self.index[key].append((i, value / norm))

    def scores(self, masked: str) -> dict[Intent, float]:
        feats = _features(prepare(masked))
        vector = {k: v * self.idf[k] for k, v in feats.items() if k in self.idf}
        norm = math.sqrt(sum(v * v for v in vector.values()))
        # Features no example has still count in the message's length: a long message
        # about something else is far from every example.
        unknown = sum(v * v for k, v in feats.items() if k not in self.idf)
        norm = math.sqrt(norm * norm + unknown) if norm or unknown else 0.0
        if not norm:
            return {}
        dots: dict[int, float] = defaultdict(float)
        for key, value in vector.items():
            for i, weight in self.index.get(key, ()):
                dots[i] += value * weight
        best: dict[Intent, float] = {}
        for i, dot in dots.items():
            intent = self.intents[i]
            score = dot / norm
            if score > best.get(intent, 0.0):
                best[intent] = score
        return best


class EncoderMatcher:
    """Cosine of sentence vectors; the examples are embedded once per matcher."""

    def __init__(self, encoder: Encoder, examples: Mapping[Intent, Iterable[str]]) -> None:
        self.encoder = encoder
        pairs = [(intent, text) for intent, texts in examples.items() for text in texts]
        self.intents = [intent for intent, _ in pairs]
        embedded = encoder.embed_queries([_for_encoder(t) for _, t in pairs])
        self.vectors = [_unit(v) for v in embedded]

    def scores(self, masked: str) -> dict[Intent, float]:
        query = _unit(next(iter(self.encoder.embed_queries([_for_encoder(masked)]))))
        best: dict[Intent, float] = {}
        for intent, vector in zip(self.intents, self.vectors):
            score = sum(a * b for a, b in zip(query, vector))
            if score > best.get(intent, -1.0):
                best[intent] = score
        return best


def _for_encoder(text: str) -> str:
    """An encoder reads words: a placeholder becomes a value of its kind."""
    for placeholder, word in _SAMPLES.items():
        text = text.replace(placeholder, word)
    return text


_SAMPLES = {
    "{model}": "DGS-1210",
    "{serial}": "QB1234567",
    "{code}": "AB12-CD34",
    "{date}": "12/11/2026",
    "{number}": "INC-000001",
    "{sub}": "OneTouch",
}


def _unit(vector: Iterable[float]) -> list[float]:
    values = [float(x) for x in vector]
    norm = math.sqrt(sum(x * x for x in values)) or 1.0
    return [x / norm for x in values]


_lexical: LexicalMatcher | None = None
_encoders: dict[int, tuple[Encoder, EncoderMatcher]] = {}
_lock = threading.Lock()


def matcher(encoder: Encoder | None = None) -> IntentMatcher:
    """The matcher for `encoder` (the lexical one without), built on first use."""
    global _lexical
    with _lock:
        if encoder is None:
            if _lexical is None:
                _lexical = LexicalMatcher(EXAMPLES)
            return _lexical
        kept = _encoders.get(id(encoder))
        if kept is None or kept[0] is not encoder:
            kept = (encoder, EncoderMatcher(encoder, EXAMPLES))
            _encoders[id(encoder)] = kept
        return kept[1]
