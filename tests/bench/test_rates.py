"""The cost model's training rates: FLOPs per second of the measured steps, applied to an epoch's mean batch."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from study.bench.flops import training_flops
from study.bench.rates import WARMUP_STEPS, epoch_step_flops, flop_rates, padded_flops, recording, scoring_model
from study.training.batching import SeededBatchStream

ENCODER = SimpleNamespace(hidden_size=384, intermediate_size=1536, num_hidden_layers=12)  # e5-small's shape


def test_a_draw_of_long_batches_does_not_bias_the_fits_seconds_per_step():
    lengths = np.random.default_rng(0).integers(20, 256, size=2000)
    stream = SeededBatchStream(lengths, 16, seed=1, group_by_length=True)
    # twelve measured steps that all happen to be the longest batches, at a true 1e11 FLOP/s
    longest = sorted(stream.epoch_batches(0), key=lambda idx: -lengths[idx].max())[:12]
    shapes = [(len(idx), int(lengths[idx].max())) for idx in longest]
    result = SimpleNamespace(step_seconds=[w / 1e11 for w in padded_flops(ENCODER, shapes)])
    rates = flop_rates(result, shapes, ENCODER, stream, gemm=2e11)
    assert rates["flops_per_second"] == pytest.approx(1e11) and rates["mfu"] == pytest.approx(0.5)
    assert rates["seconds_per_step"] == pytest.approx(epoch_step_flops(ENCODER, stream) / 1e11)
    # the plain mean of the measured steps would have charged every step as a long one
    assert rates["measured_seconds_per_step"] > 1.3 * rates["seconds_per_step"]


def test_padded_work_counts_every_row_at_the_batchs_length():
    assert padded_flops(ENCODER, [(2, 10)]) == [training_flops(ENCODER, [10, 10])]
    stream = SeededBatchStream(np.array([5, 10, 10, 5]), 2, seed=3, group_by_length=True)
    per_step = [training_flops(ENCODER, [n] * 2) for n in (10, 5)]  # grouped: two 10s, two 5s
    assert epoch_step_flops(ENCODER, stream) == pytest.approx(sum(per_step) / 2)


def test_recording_keeps_the_shape_of_each_batch_the_engine_draws():
    import torch

    shapes: list = []
    batches = recording(lambda start: ({"input_ids": torch.zeros(3, 7 + i)} for i in range(start, 4)), shapes)
    assert len(list(batches(1))) == 3 and shapes == [(3, 8), (3, 9), (3, 10)]
    assert WARMUP_STEPS == 2


def test_the_suite_shows_each_training_shapes_utilisation():
    from study.bench.suite import _mfu_rows

    shape = {"batch_size": 16, "max_length": 256, "mfu": 0.62, "flops_per_second": 8.4e10, "seconds_per_step": 3.6}
    rows = _mfu_rows({"rates": {"gemm_flops_fp32": 1.35e11, "intermediate": {"squad_v1": shape},
                                "srl": {**shape, "batch_size": 12, "mfu": 0.45}}})
    assert [r["figure"] for r in rows] == ["squad_v1 training (16 x 256): model FLOPs utilisation",
                                           "English SRL training (12 x 256): model FLOPs utilisation"]
    assert rows[0]["value"] == "62% of the fp32 GEMM rate" and rows[0]["met"] is True and rows[1]["met"] is False
    assert _mfu_rows({"rates": {"intermediate": {"mnli": {"seconds_per_step": 1.0}}}}) == []  # rates from before
    scoring = {"seconds_per_sentence": 0.0187, "run_sentences": 17617, "mfu": 0.49, "flops_per_second": 6.4e10,
               "sentences": 1900, "files": 19, "run_floor_seconds": 161.5, "run_flops": 2.116e13}
    rows = _mfu_rows({"rates": {"gemm_flops_fp32": 1.31e11, "srl_scoring": scoring}})
    assert rows[0]["value"] == "49% of the fp32 GEMM rate"
    assert rows[1]["value"] == "329 s (floor 162 s)" and rows[1]["met"] is False


def test_inference_is_a_third_of_training():
    from study.bench.flops import inference_flops

    assert inference_flops(ENCODER, [7, 30, 256]) == pytest.approx(training_flops(ENCODER, [7, 30, 256]) / 3)


def test_two_prefixes_separate_the_per_file_cost_from_the_encoder_s_work():
    # 19 files at 0.7 s each and 1e11 FLOP/s of encoder work: a quarter prefix, then the whole prefix
    small, large = (19 * 0.7 + 2e11 / 1e11, 2e11), (19 * 0.7 + 8e11 / 1e11, 8e11)
    model = scoring_model(small, large, files=19)
    assert model["per_file_seconds"] == pytest.approx(0.7) and model["marginal_flops_per_second"] == pytest.approx(1e11)
    # the larger pass's plain rate would charge every file's fixed cost to its sentences
    assert large[1] / large[0] < 0.4 * model["marginal_flops_per_second"]
    # noise that makes the larger pass no slower, or the fixed part negative: the plain rate, no fixed part
    assert scoring_model((10.0, 2e11), (9.0, 8e11), 19) == {"per_file_seconds": 0.0,
                                                            "marginal_flops_per_second": 8e11 / 9.0}
    assert scoring_model((1.0, 2e11), (10.0, 8e11), 19)["per_file_seconds"] == 0.0


def test_the_scoring_forecast_adds_the_per_file_cost_to_the_run_s_work():
    from study.bench.suite import _mfu_rows
    from study.orchestration.cost import scoring_seconds

    scoring = {"seconds_per_sentence": 0.0172, "run_sentences": 17617, "mfu": 0.53, "flops_per_second": 6.8e10,
               "sentences": 1900, "files": 19, "run_floor_seconds": 146.0, "run_flops": 1.88e13,
               "per_file_seconds": 0.72, "marginal_flops_per_second": 1.0e11, "marginal_mfu": 0.78,
               "small_prefix": 25, "large_prefix": 100, "run_seconds_per_sentence": 1.88e13 / 1.0e11 / 17617}
    assert scoring_seconds(scoring, 19, 17617) == pytest.approx(19 * 0.72 + 188)
    old = {k: scoring[k] for k in ("seconds_per_sentence", "run_sentences")}  # rates measured before the split
    assert scoring_seconds(old, 19, 17617) == pytest.approx(0.0172 * 17617)
    rows = _mfu_rows({"rates": {"gemm_flops_fp32": 1.29e11, "srl_scoring": scoring}})
    assert rows[1]["value"] == "202 s (floor 146 s)"
    assert "0.72 s per file (reading, writing, scoring), the encoder's work ran at 100.0 GFLOP/s (78%; prefixes of " \
           "25 and 100 sentences)" in rows[0]["basis"]
