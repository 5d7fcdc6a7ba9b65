"""FLOP counting for model FLOPs utilisation (MFU): the machine's fp32 GEMM rate and a model's training FLOPs."""

from __future__ import annotations

import time

import torch


def gemm_flops(sizes: tuple[int, ...] = (1024, 2048, 3072), seconds: float = 2.0,
               dtype: torch.dtype = torch.float32) -> dict:
    """Sustained ``torch.matmul`` FLOP/s in ``dtype`` with the current thread setting: the best of a few sizes.

    The best rate is the denominator of MFU (what this machine can do at all); every size is kept,
    since on a shared virtual machine the rate moves between runs.
    """
    rates = {}
    for size in sizes:
        a = torch.randn(size, size).to(dtype)
        b = torch.randn(size, size).to(dtype)
        for _ in range(2):  # warm-up
            torch.matmul(a, b)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            torch.matmul(a, b)
            n += 1
        rates[size] = 2 * size**3 * n / (time.perf_counter() - t0)
    return {"best": max(rates.values()), "by_size": rates}


def encoder_matmul_params(config) -> int:
    """Weights that take part in a matrix product per token (a BERT-style layer stack, no embeddings)."""
    h, f, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return layers * (4 * h * h + 2 * h * f)


def inference_flops(config, lengths: list[int]) -> float:
    """Forward FLOPs of the encoder for sequences of the given real lengths (a third of training's)."""
    n = encoder_matmul_params(config)
    h, layers = config.hidden_size, config.num_hidden_layers
    return float(sum(2 * n * s + 4 * layers * h * s * s for s in lengths))


def training_flops(config, lengths: list[int]) -> float:
    """Forward + backward FLOPs of the encoder for sequences of the given real lengths.

    The standard estimate: 6 FLOPs per weight per token for the dense layers, plus the attention
    products (QK^T and AV: 4·S·H per token and layer forward, x3 for training). Padding is not
    counted (it is wasted work, not model work); the small task heads are left out.
    """
    n = encoder_matmul_params(config)
    h, layers = config.hidden_size, config.num_hidden_layers
    return float(sum(6 * n * s + 12 * layers * h * s * s for s in lengths))
