"""Just enough of the ONNX model format (protobuf wire encoding) to hand a graph to ONNX Runtime.

The `onnx` package would build the same bytes, but importing it costs about 0.9 s (its
`ml_dtypes` dependency), most of the bot's start-up budget; ONNX Runtime itself loads in
0.04 s. The field numbers are those of onnx/onnx.proto3; `tests/test_e5_onnx.py` runs the
graph this module encodes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

IR_VERSION = 8
_TENSOR_TYPES = {np.dtype(np.float32): 1, np.dtype(np.int8): 3, np.dtype(np.int64): 7}
_FLOAT, _INT, _INTS = 1, 2, 7  # AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values are ten-byte two's complement
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field: strings, bytes, embedded messages."""
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def tensor(name: str, array: npt.NDArray[np.generic]) -> bytes:
    """TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian)."""
    data = np.ascontiguousarray(array)
    body = b"".join(_int(1, size) for size in data.shape)
    body += _int(2, _TENSOR_TYPES[data.dtype]) + _field(8, name)
    return body + _field(9, data.astype(data.dtype.newbyteorder("<"), copy=False).tobytes())


def _attribute(name: str, value: int | float | Sequence[int]) -> bytes:
    """AttributeProto: name (1), f (2), i (3), ints (8), type (20)."""
    if isinstance(value, float):
        return _field(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int(20, _FLOAT)
    if isinstance(value, int):
        return _field(1, name) + _int(3, value) + _int(20, _INT)
    return _field(1, name) + b"".join(_int(8, v) for v in value) + _int(20, _INTS)


def node(
    op_type: str,
    inputs: Iterable[str],
    outputs: Iterable[str],
    domain: str = "",
    **attributes: int | float | Sequence[int],
) -> bytes:
    """NodeProto: input (1), output (2), name (3), op_type (4), attribute (5), domain (7)."""
    outputs = list(outputs)
    body = b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs)
    body += _field(3, outputs[0]) + _field(4, op_type)
    body += b"".join(_field(5, _attribute(k, v)) for k, v in attributes.items())
    return body + (_field(7, domain) if domain else b"")


def float_input(name: str, shape: Sequence[int | str]) -> bytes:
    """ValueInfoProto of a float tensor; a str dimension is symbolic (batch, length)."""
    dims = b"".join(
        _field(1, _field(2, d) if isinstance(d, str) else _int(1, d)) for d in shape
    )  # TensorShapeProto.Dimension: dim_value (1) or dim_param (2)
    tensor_type = _int(1, _TENSOR_TYPES[np.dtype(np.float32)]) + _field(2, dims)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def model(
    name: str,
    nodes: Iterable[bytes],
    initializers: Iterable[bytes],
    inputs: Iterable[bytes],
    outputs: Iterable[bytes],
    opsets: dict[str, int],
) -> bytes:
    """ModelProto: ir_version (1), graph (7), opset_import (8).

    GraphProto: node (1), name (2), initializer (5), input (11), output (12).
    """
    graph = b"".join(_field(1, n) for n in nodes) + _field(2, name)
    graph += b"".join(_field(5, t) for t in initializers)
    graph += b"".join(_field(11, i) for i in inputs) + b"".join(_field(12, o) for o in outputs)
    body = _int(1, IR_VERSION) + _field(7, graph)
    for domain, version in opsets.items():
        body += _field(8, (_field(1, domain) if domain else b"") + _int(2, version))
    return body
