"""Encoder training and inference throughput on any device: the basis of ``study plan``'s GPU-hour estimate.

Speed does not depend on the weights' values, only on the architecture, the shapes and the
precision, so this builds the architecture from its published configuration with random weights
(no download: it runs on machines without hub access) and times full AdamW training steps
(forward, backward, optimizer) and forward-only inference at fixed batch shapes, every sequence
padded to ``seq_len`` (the worst case a length-grouped batch approaches from below).

``python -m study.bench.throughput --arch xlm-roberta-large --batch-size 4 --seq-len 256 --precision bf16``
writes a JSON record (device, shapes, sequences/s, tokens/s, model TFLOP/s, peak memory).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

#: Published architectures (configuration values only; weights are random here).
ARCHITECTURES: dict[str, dict] = {
    "xlm-roberta-large": {"model_type": "xlm-roberta", "vocab_size": 250002, "hidden_size": 1024,
                          "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096,
                          "max_position_embeddings": 514, "type_vocab_size": 1, "pad_token_id": 1},
    "xlm-roberta-base": {"model_type": "xlm-roberta", "vocab_size": 250002, "hidden_size": 768,
                         "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
                         "max_position_embeddings": 514, "type_vocab_size": 1, "pad_token_id": 1},
    # the default study's encoder (multilingual-e5-small, a BERT layout)
    "multilingual-e5-small": {"model_type": "bert", "vocab_size": 250037, "hidden_size": 384,
                              "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 1536,
                              "max_position_embeddings": 512, "type_vocab_size": 2, "pad_token_id": 1},
}


def build_architecture(arch: str) -> torch.nn.Module:
    from transformers import AutoConfig, AutoModel

    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{arch}'; known: {', '.join(ARCHITECTURES)}")
    spec = dict(ARCHITECTURES[arch])
    config = AutoConfig.for_model(spec.pop("model_type"), **spec)
    return AutoModel.from_config(config, add_pooling_layer=False)


def model_flops_per_step(model: torch.nn.Module, batch: int, seq_len: int, training: bool) -> float:
    """6 (training) or 2 (inference) FLOPs per dense weight per token, plus attention products."""
    from study.bench.flops import encoder_matmul_params

    c = model.config
    dense = encoder_matmul_params(c)
    attention = 4 * c.num_hidden_layers * c.hidden_size * seq_len * seq_len  # QK^T and AV, forward
    per_sequence = 2 * dense * seq_len + attention
    return float(batch * per_sequence * (3 if training else 1))


def measure(arch: str, batch_size: int, seq_len: int, precision: str = "bf16", steps: int = 20, warmup: int = 3,
            device: str | None = None, freeze_embeddings: bool = False) -> dict:
    """Timed training steps and inference batches of ``arch`` at ``batch_size`` x ``seq_len``."""
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(0)
    model = build_architecture(arch).to(dev)
    if freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    head = torch.nn.Linear(model.config.hidden_size, 3).to(dev)
    params = [p for p in [*model.parameters(), *head.parameters()] if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5, fused=dev.type == "cuda")
    ids = torch.randint(5, model.config.vocab_size, (batch_size, seq_len), device=dev)
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 3, (batch_size,), device=dev)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "no": None, "fp32": None}[precision]

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def train_step() -> None:
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            loss = torch.nn.functional.cross_entropy(head(hidden.mean(1)), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    @torch.inference_mode()
    def infer() -> None:
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            model(input_ids=ids, attention_mask=mask)

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    out = {}
    for name, fn in (("train", train_step), ("inference", infer)):
        model.train(name == "train")
        for _ in range(warmup):
            fn()
        sync()
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        sync()
        seconds = (time.perf_counter() - t0) / steps
        flops = model_flops_per_step(model, batch_size, seq_len, training=name == "train")
        out[name] = {"seconds_per_step": seconds, "sequences_per_s": batch_size / seconds,
                     "tokens_per_s": batch_size * seq_len / seconds, "model_tflops_per_s": flops / seconds / 1e12}
    return {
        "arch": arch, "batch_size": batch_size, "seq_len": seq_len, "precision": precision, "steps": steps,
        "freeze_embeddings": freeze_embeddings,
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu ({platform.processor() or 'x86'}, "
                                                                             f"{torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "peak_gpu_memory_gb": (torch.cuda.max_memory_allocated(dev) / 2**30) if dev.type == "cuda" else None,
        "measured_on": time.strftime("%Y-%m-%d"),
        **out,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="xlm-roberta-large", choices=sorted(ARCHITECTURES))
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp16", "fp32"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--out", type=Path, help="append the record to this JSON list")
    args = parser.parse_args(argv)
    record = measure(args.arch, args.batch_size, args.seq_len, args.precision, args.steps,
                     freeze_embeddings=args.freeze_embeddings)
    print(json.dumps(record, indent=2))
    if args.out:
        records = json.loads(args.out.read_text()) if args.out.exists() else []
        records.append(record)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(records, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
