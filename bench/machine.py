"""What a benchmark ran on, printed with its figures.

The encoder's 8-bit matrix products run on different instructions by CPU: with VNNI
(AVX-512 or AVX) one instruction multiplies and adds four bytes; on AVX2 alone it takes
two. The same 10,000-article build took 401-438 s on an AVX2 machine and 237 s on an
AVX-512 VNNI one (kb/README.md, "Speed"): figures compare only with this line beside them.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpuinfo() -> tuple[str, set[str]]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown CPU", set()
    model, flags = "unknown CPU", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return model, flags


def describe() -> str:
    """'AMD EPYC, 2 cores, 8-bit products on AVX-512 VNNI', for a benchmark's first line."""
    model, flags = _cpuinfo()
    if "avx512_vnni" in flags:
        int8 = "AVX-512 VNNI"
    elif "avx_vnni" in flags:
        int8 = "AVX-VNNI"
    elif "avx2" in flags:
        int8 = "AVX2 (no VNNI)"
    else:
        int8 = "no AVX2" if flags else "unknown instructions"
    return f"{model}, {os.cpu_count()} cores, 8-bit products on {int8}"
