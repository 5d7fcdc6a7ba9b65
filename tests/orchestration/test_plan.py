"""`study plan`: the grid's stages, reuse, and a compute estimate whose arithmetic and basis are stated."""

from __future__ import annotations

import json
import math

import pytest

from study.orchestration.plan import estimate_compute, format_plan, plan_study, stage_sequences
from study.orchestration.run import open_study
from tests.helpers import REPO


@pytest.mark.needs_data
def test_paper_plan_estimates_device_hours_from_the_measured_throughput():
    plan = plan_study(REPO / "params" / "paper.yaml")
    est = plan.estimate
    assert est is not None and est["stages_without_size"] == 0
    record = next(r for r in json.loads((REPO / "reports/bench/gpu/throughput.json").read_text())
                  if r["arch"] == "xlm-roberta-large" and r["precision"] == "bf16")
    expected = (est["train_sequences"] / record["train"]["sequences_per_s"]
                + est["scored_sequences"] / record["inference"]["sequences_per_s"]) / 3600
    assert abs(est["device_hours"] - expected) < 1e-9
    text = format_plan(plan)
    assert "device hours" in text and "basis: NVIDIA" in text and "xlm-roberta-large bf16" in text


@pytest.mark.needs_data
def test_stage_sizes_come_from_the_official_train_splits():
    ctx = open_study(REPO / "params" / "paper.yaml", build=False)
    # 3 epochs of MNLI's 392,702 training pairs; HellaSwag's 39,905 examples are 4 sequences each;
    # in whole batches, as the engine counts its optimizer steps
    inter = ctx.config.intermediate

    def whole_batches(n: int, task: str) -> int:
        batch = (inter.tasks[task].optim or inter.optim).batch_size
        return math.ceil(n / batch) * batch

    mnli, hellaswag = whole_batches(3 * 392_702, "mnli"), whole_batches(3 * 39_905, "hellaswag") * 4
    assert 3 * 392_702 <= mnli < 3 * 392_702 + 64
    budget = inter.budget  # one budget (3 epochs); a study with a budget axis passes each stage's own
    assert stage_sequences(ctx, ("mnli",), budget) == mnli
    assert stage_sequences(ctx, ("hellaswag",), budget) == hellaswag
    assert stage_sequences(ctx, ("mnli", "hellaswag"), budget) == mnli + hellaswag


@pytest.mark.needs_data
def test_no_measurement_means_no_estimate_and_says_how_to_get_one(tmp_path):
    ctx = open_study(REPO / "params" / "paper.yaml", build=False)
    plan = plan_study(REPO / "params" / "paper.yaml", tmp_path / "none.json")
    assert plan.estimate is None and estimate_compute(ctx, plan, tmp_path / "none.json") is None
    assert "scripts/gpu_bench.sh" in format_plan(plan)
