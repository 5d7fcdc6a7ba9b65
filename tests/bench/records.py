"""Phase records shaped as the benchmark's phases write them: the suite table's input in unit tests."""

from __future__ import annotations


def engine_record(per_second: float = 100.0, **fields) -> dict:
    """An ``srl_engine`` record (per-sentence, 100 steps, 3,000 predicates); ``fields`` override any key."""
    return {"encoding": "per_sentence", "predicates_per_second": per_second, "tokens_per_second": 10 * per_second,
            "steps": 100, "predicates": 3000, "train_seconds": 3000 / per_second, "mixed_precision": "bf16",
            "flops_per_second": 1e11, "dev_head_f1": 0.447, "dev_sentences": 1000, "peak_rss_mb": 2700.0,
            "system_seconds": 3.0, "optimizer": "for_loop", **fields}


def table_phases(engine: dict | None = None, **phases) -> dict:
    """The phases every table reads (GEMM rates, both encodings' engines, stage reuse), then ``phases``."""
    engine = engine or engine_record()
    return {"gemm": {"gemm_flops": 2e11, "gemm_flops_bf16": 4e11}, "engine_per_predicate": engine,
            "engine_per_sentence": engine,
            "stage_reuse": {"ratio": 0.75, "steps_with_reuse": 3, "steps_from_scratch": 4, "stages": 1, "runs": 2},
            **phases}
