"""The engine refuses to carry on from a diverged step (a non-finite loss is never trained on or saved)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from study.config import Optimisation, RuntimeConfig
from study.infra.errors import StudyError
from study.training.engine import CHECKPOINT, Engine


def _batches(start: int):
    g = torch.Generator().manual_seed(start)
    while True:
        yield {"input_ids": torch.randn(4, 3, generator=g), "labels": torch.zeros(4, dtype=torch.long)}


def test_a_non_finite_loss_stops_the_run_with_the_step_and_what_to_do(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))  # the engine's guard, not a model of the study: any module will do
    engine = Engine(model, Optimisation(batch_size=4), total_steps=6, seed=1, eval_every=2, select_metric="m",
                    checkpoint_dir=tmp_path, runtime=RuntimeConfig(device="cpu"))
    calls = []

    def loss_fn(m, batch):
        calls.append(1)
        loss = nn.functional.cross_entropy(m(batch["input_ids"]), batch["labels"])
        return loss * float("nan") if len(calls) == 3 else loss

    with pytest.raises(StudyError, match=r"training loss is nan at step 3 of 6 .*lower the learning rate"):
        engine.fit(_batches, loss_fn, lambda m: {"m": 0.5})
    saved = torch.load(tmp_path / CHECKPOINT, weights_only=False)
    assert saved["step"] == 2  # the checkpoint before the divergence, never one after it
