"""Speed to quality: the crossing of a learning curve, the table's ratio, and both trainers stopping
where the rule says, on the real encoder and English SRL."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from study.bench.time_to_f1 import CurvePoint, StopRule, crossing, curve_record, plot_curves, ratio_row
from study.training.engine import Engine
from tests.bench.records import engine_record, table_phases
from tests.helpers import REPO


def curve(*f1s: float, seconds_per_eval: float = 10.0, predicates_per_eval: int = 100) -> list[CurvePoint]:
    return [CurvePoint(50 * (i + 1), predicates_per_eval * (i + 1), seconds_per_eval * (i + 1), f1)
            for i, f1 in enumerate(f1s)]


def test_the_crossing_is_interpolated_between_the_evaluations_around_the_target():
    points = curve(0.2, 0.5, 0.7, 0.55)
    hit = crossing(points, 0.6)
    assert hit["train_seconds"] == pytest.approx(25.0)  # halfway from 0.5 (20 s) to 0.7 (30 s)
    assert hit["predicates"] == pytest.approx(250.0)
    assert hit["first_evaluation_at_target"]["step"] == 150
    assert crossing(points, 0.75) is None
    assert crossing(curve(0.8), 0.6)["train_seconds"] == pytest.approx(7.5)  # from 0 F1 at 0 s


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12), st.floats(0.01, 1))
def test_a_crossing_lies_within_the_interval_of_the_first_evaluation_at_target(f1s, target):
    points = curve(*f1s)
    hit = crossing(points, target)
    first = next((p for p in points if p.dev_head_f1 >= target), None)
    assert (hit is None) == (first is None)
    if first is not None:
        assert first.train_seconds - 10.0 <= hit["train_seconds"] <= first.train_seconds


def record(contestant: str, f1s: list[float], seconds: float, rule: StopRule) -> dict:
    return curve_record(contestant, curve(*f1s, seconds_per_eval=seconds), rule, 50, 700, "x", 1000)


def test_the_ratio_is_a_floor_where_the_trainer_stopped_at_its_cap_and_unclaimed_where_the_engine_did():
    rule = StopRule(0.6, 2400.0)
    engine = record("engine", [0.3, 0.7], 20.0, rule)  # crosses at 20 + 20 * 0.3 / 0.4 = 35 s
    trainer = record("trainer", [0.1, 0.4, 0.65], 300.0, rule)  # crosses at 600 + 300 * 0.2 / 0.25 = 840 s
    value, met, basis = ratio_row(engine, trainer)
    assert value == "24.0x" and met is True and "engine 35 s" in basis and "Trainer 840 s" in basis
    capped = record("trainer", [0.0, 0.1], 1500.0, rule)
    assert capped["stopped_by"] == "max_seconds"
    value, met, basis = ratio_row(engine, capped)
    assert value.startswith(">= 85.7x")  # 3000 s / 35 s and met is True and "stopped by max_seconds" in basis
    value, met, _ = ratio_row(record("engine", [0.3, 0.4], 20.0, rule), trainer)
    assert value == "engine did not reach it" and met is None


def test_the_suite_table_and_page_show_the_time_to_f1_ratio_and_the_curves(tmp_path):
    from study.bench.suite import LEARNING_CURVES, _table, format_markdown

    rule = StopRule(0.6, 2400.0)
    engine, trainer = record("engine", [0.3, 0.7], 20.0, rule), record("trainer", [0.1, 0.65], 400.0, rule)
    phases = table_phases(engine_record(dev_head_f1=0.45), gemm={"gemm_flops": 2e11},
                          time_to_f1_engine=engine, time_to_f1_trainer=trainer)
    row = next(r for r in _table(phases) if r["figure"].startswith("time to English dev head F1 60"))
    assert row["target"] == ">= 5x" and row["met"] is True and LEARNING_CURVES in row["basis"]
    figure = plot_curves([engine, trainer], tmp_path / LEARNING_CURVES)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = format_markdown({"machine": {"date": "d", "processor": "p", "cpus_usable": 2, "torch_threads": 2,
                                        "platform": "x", "python": "3"}, "options": {"steps": 100},
                            "phases": phases, "table": _table(phases)})
    assert f"]({LEARNING_CURVES})" in page


def test_the_engine_ends_a_fit_where_the_stop_rule_says():
    from tests.training.test_engine import smoke_config

    engine = Engine(torch.nn.Linear(2, 1), smoke_config().srl.optim, 20, 0, 2, "neg_loss")
    seen = []

    def batches(start: int):
        g = torch.Generator().manual_seed(start)
        while True:
            yield {"input_ids": torch.randn(4, 2, generator=g)}

    def loss_fn(m, b):
        return m(b["input_ids"]).pow(2).mean()

    def stop(rec: dict) -> bool:
        seen.append(rec["step"])
        return rec["step"] >= 6

    result = engine.fit(batches, loss_fn, lambda m: {"neg_loss": 0.0}, stop=stop)
    assert result.steps == 6 and seen == [2, 4, 6] and [h["step"] for h in result.history] == [2, 4, 6]


@pytest.mark.slow
@pytest.mark.parametrize("contestant", ["engine", "trainer"])
def test_each_trainer_evaluates_on_its_cadence_and_stops_at_the_target_or_its_steps(contestant, data_root, tmp_path):
    from study.bench.phases import main

    base = ["time_to_f1", "--params", str(REPO / "params/smoke.yaml"), "--contestant", contestant,
            "--batch-size", "8", "--eval-every", "2"]
    out = tmp_path / "never.json"  # the schedule is the params' SRL budget: 6 steps
    assert main([*base, "--target-f1", "1.01", "--out", str(out)]) == 0
    never = json.loads(out.read_text())
    assert [p["step"] for p in never["points"]] == [2, 4, 6] and never["stopped_by"] == "max_steps"
    assert never["reached"] is None and never["dev_sentences"] == 20 and never["max_steps"] == 6
    first, second, _ = never["points"]
    assert 0 < first["predicates"] < second["predicates"] and 0 < first["train_seconds"] < second["train_seconds"]
    out = tmp_path / "at_once.json"
    assert main([*base, "--max-steps", "4", "--target-f1", "0", "--out", str(out)]) == 0
    at_once = json.loads(out.read_text())
    assert [p["step"] for p in at_once["points"]] == [2] and at_once["stopped_by"] == "target"
    assert at_once["max_steps"] == 4
