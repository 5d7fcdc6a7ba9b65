"""The step profile: op kinds from names and shapes, and profile_fit over the engine's own fit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from study.bench.profile import KINDS, op_kind, profile_fit, stepping, summary
from study.config import Optimisation, RuntimeConfig
from study.training.engine import Engine


def test_ops_on_score_matrices_are_attention_and_linear_layers_are_dense():
    assert op_kind("aten::bernoulli_", [[16, 12, 209, 209], [], []]) == "attention scores, materialised"
    assert op_kind("aten::_softmax", [[16, 12, 209, 209], [], []]) == "attention scores, materialised"
    assert op_kind("aten::bmm", [[192, 209, 32], [192, 32, 209]]) == "attention scores, materialised"
    assert op_kind("aten::_scaled_dot_product_flash_attention_for_cpu", [[16, 12, 209, 32]]) == "fused attention"
    assert op_kind("aten::addmm", [[384], [3344, 384], [384, 384], [], []]) == "dense matrix products"
    assert op_kind("aten::bernoulli_", [[16, 209, 384], [], []]) == "dropout on hidden states"
    assert op_kind("aten::_fused_adamw_", [[]]) == "optimizer"
    assert op_kind("aten::embedding_dense_backward", [[4, 5]]) == "embeddings"
    assert op_kind("aten::gelu", [[16, 209, 1536]]) == "elementwise, normalisation, copies"
    assert op_kind("aten::mul", [[4, 12, 1, 209]]) == "elementwise, normalisation, copies"  # a mask, not scores


def test_stepping_marks_every_boundary_between_batches():
    calls = []
    batches = stepping(lambda start: iter(range(start, start + 4)), lambda: calls.append(1))
    assert list(batches(10)) == [10, 11, 12, 13] and len(calls) == 3


class _Attention(nn.Module):
    """Unfused attention with dropout on its scores, the shape of the math path in a BERT layer."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.qkv, self.out, self.dropout = nn.Linear(8, 24), nn.Linear(8, 2), nn.Dropout(p)

    def forward(self, x):
        q, k, v = self.qkv(x).view(x.shape[0], x.shape[1], 3, 2, 4).unbind(2)  # [b, s, heads, d]
        scores = torch.einsum("bshd,bthd->bhst", q, k).softmax(-1)
        mixed = torch.einsum("bhst,bthd->bshd", self.dropout(scores), v).reshape(x.shape[0], x.shape[1], 8)
        return self.out(mixed).mean(1)


def _batches(start: int):
    g = torch.Generator().manual_seed(start)
    while True:
        yield {"input_ids": torch.randn(4, 32, 8, generator=g), "labels": torch.zeros(4, dtype=torch.long)}


@pytest.mark.parametrize("p", [0.1, 0.0])
def test_profile_fit_accounts_for_the_wall_time_of_its_active_steps(p):
    engine = Engine(_Attention(p), Optimisation(batch_size=4), total_steps=5, seed=1, eval_every=100,
                    select_metric="m", checkpoint_dir=None, runtime=RuntimeConfig(device="cpu"))
    loss = lambda m, b: nn.functional.cross_entropy(m(b["input_ids"]), b["labels"])  # noqa: E731
    out = profile_fit(engine, _batches, loss, warmup=2, active=3)
    seconds = out["seconds_per_step"]
    assert set(seconds) == {*KINDS, "outside torch ops"} and out["steps_profiled"] == 3
    assert sum(seconds.values()) == pytest.approx(out["wall_seconds_per_step"], rel=0.05)
    assert seconds["attention scores, materialised"] > 0 and seconds["dense matrix products"] > 0
    assert seconds["optimizer"] > 0
    assert summary(out).count("%") == 3


def test_profile_fit_refuses_an_engine_of_another_length():
    engine = Engine(_Attention(0.0), Optimisation(batch_size=4), total_steps=4, seed=1, eval_every=100,
                    select_metric="m", checkpoint_dir=None, runtime=RuntimeConfig(device="cpu"))
    with pytest.raises(ValueError, match="runs 4 steps, the profile needs 5"):
        profile_fit(engine, _batches, lambda m, b: m(b["input_ids"]).sum(), warmup=2, active=3)


def test_the_suite_table_shows_each_shape_and_the_fused_attention_speed():
    from study.bench.suite import _profile_rows

    def shape(wall, attention):
        return {"batch_size": 16, "max_length": 256, "steps_profiled": 3, "wall_seconds_per_step": wall,
                "shares": {"attention scores, materialised": attention, "dense matrix products": 0.3,
                           "optimizer": 0.01, "outside torch ops": 0.05}}

    rows = _profile_rows({"profile": {"shapes": {"squad_v1": shape(6.0, 0.48)}},
                          "profile_attention_dropout_0": {"shapes": {"squad_v1": shape(4.0, 0.0)}}})
    assert rows[0]["figure"] == "step profile: squad_v1 (16 x 256)"
    assert rows[0]["value"] == "attention scores, materialised 48%, dense matrix products 30%, outside torch ops 5%"
    assert rows[1]["value"] == "1.50x" and "4.00 vs 6.00 s per step" in rows[1]["basis"]
    assert _profile_rows({}) == []
