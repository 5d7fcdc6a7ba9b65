"""What this machine's arithmetic supports natively: decides ``runtime.mixed_precision: auto``.

Capability flags, not a timing: a timing would make the resolved params (and so every run's key)
depend on how busy the machine was. On a CPU without native bf16 (AVX2 only) torch emulates bf16
matrix products about 100x slower than fp32 (1.3 vs 143 GFLOP/s at 512x512 measured on an AVX2
EPYC, docs/benchmark.md), so autocasting to bf16 there is never right.
"""

from __future__ import annotations

import functools


@functools.cache
def cpu_has_native_bf16() -> bool:
    """AVX-512 bf16 or AMX tiles on x86 (the instructions oneDNN's bf16 GEMMs use)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def precision_label(mixed_precision: str | None) -> str:
    """``runtime.mixed_precision`` as people say it: "no" (or unrecorded) is fp32."""
    return "fp32" if mixed_precision in (None, "no") else str(mixed_precision)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def auto_precision(device: str) -> str:
    """``mixed_precision: auto`` on ``device`` ("auto", "cpu" or "cuda"): bf16 only on a CPU with native bf16.

    On GPUs fp32: measured on an H200, bf16 autocast trained slower than fp32 for both the e5-small
    encoder and XLM-R Large at the study's shapes (docs/full-scale.md).
    """
    if device == "cuda" or (device == "auto" and cuda_available()):
        return "no"
    return "bf16" if cpu_has_native_bf16() else "no"
