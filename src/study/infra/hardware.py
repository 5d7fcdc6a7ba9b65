"""What this machine's arithmetic supports natively (decides ``runtime.mixed_precision: auto``), and
the name its measured rates are filed under (the cost model's, :mod:`study.bench.rates`).

Capability flags, not a timing: a timing would make the resolved params (and so every run's key)
depend on how busy the machine was. On a CPU without native bf16 (AVX2 only) torch emulates bf16
matrix products about 100x slower than fp32 (1.3 vs 143 GFLOP/s at 512x512 measured on an AVX2
EPYC, docs/benchmark.md), so autocasting to bf16 there is never right.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path


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


def machine_key() -> dict:
    """What makes measured rates transferable: the CPU, the threads torch uses, torch and its kernels."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "capability": torch.backends.cpu.get_cpu_capability(), "native_bf16": cpu_has_native_bf16()}


def rates_file(bench_dir: Path, machine: dict) -> Path:
    """``<bench_dir>/rates/<cpu>-<threads>t.json``: one file of measured rates per machine."""
    slug = "".join(c if c.isalnum() else "-" for c in machine["cpu"]).strip("-").lower()
    while "--" in slug:
        slug = slug.replace("--", "-")
    return Path(bench_dir) / "rates" / f"{slug}-{machine['threads']}t.json"
