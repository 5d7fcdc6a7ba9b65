"""The default study's cost read from its own record, and the suite rows built from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from study.bench.recorded import recorded_study
from study.infra import layout
from study.infra.hashing import sha256_file


def notebook(path: Path, start: str, seconds: float) -> None:
    path.write_text(json.dumps({"cells": [], "metadata": {"papermill": {"start_time": start, "duration": seconds}}}))


def recorded_run(study: Path, name: str, start: str, stage_seconds: float, srl: float, scoring: float,
                 overhead: float) -> None:
    """A finished run whose 02 took ``stage_seconds`` (plus 5 s of kernel) and 03 the rest."""
    run = layout.run_dir(study, name)
    (run / "predictions").mkdir(parents=True)
    (run / "predictions" / "en-dev.conllu").write_text("1\tword\n")
    (run / "results.csv").write_text("run,value\n")
    (run / layout.DONE).write_text(json.dumps({"results_sha256": sha256_file(run / "results.csv")}))
    (run / "history.json").write_text(json.dumps({"srl": [{"step": 700, "seconds": srl}],
                                                  "srl_scoring_seconds": scoring}))
    notebook(run / "02_intermediate.ipynb", start, stage_seconds + 5)
    notebook(run / "03_srl_transfer.ipynb", start, srl + scoring + overhead - 5)


@pytest.fixture
def study(tmp_path) -> Path:
    study = tmp_path / "default"
    recorded_run(study, "none__seed1", "2026-12-06T23:00:00", 0, 400, 180, 30)  # 610 s, overhead 30
    recorded_run(study, "none__seed2", "2026-12-07T01:00:00", 0, 410, 190, 20)  # 620 s, overhead 20
    recorded_run(study, "seq__seed1", "2026-12-07T02:00:00", 3000, 400, 180, 25)  # trained its stages
    layout.run_dir(study, "seq__seed2").mkdir()  # in flight: no marker, not counted
    notebook(layout.run_dir(study, "seq__seed2") / "02_intermediate.ipynb", "2026-12-07T03:00:00", 99)
    notebook(study / "01_data.ipynb", "2026-12-07T03:00:00", 20)
    notebook(study / "04_analysis.ipynb", "2026-12-07T03:00:00", 35)
    return study


def test_the_record_sums_each_finished_run_s_notebooks_and_the_last_render(study):
    r = recorded_study(study, grid_runs=4)
    assert r["runs_complete"] == 3 and r["grid_runs"] == 4 and sorted(r["runs"]) == ["none__seed1", "none__seed2",
                                                                                     "seq__seed1"]
    assert r["seconds"] == pytest.approx(610 + 620 + 3605 + 20 + 35)
    assert r["days"] == ["2026-12-06", "2026-12-07"]
    # overhead only where the notebooks hold nothing but SRL training and scoring (no stage trained)
    assert r["overhead"]["runs"] == 2 and r["overhead"]["per_run_seconds_median"] == pytest.approx(25)
    assert r["overhead"]["share_median"] == pytest.approx((30 / 610 + 20 / 620) / 2)


def test_the_suite_states_a_partial_record_without_a_verdict_and_does_not_check_the_forecast_against_it(study):
    from study.bench.suite import _cost_rows, _table
    from tests.bench.records import table_phases

    partial = {**recorded_study(study, grid_runs=4), "recorded": "reports/default"}
    rows = {row["figure"]: row for row in _table(table_phases(default_study=partial))}
    end = rows["default study end to end (3 of 4 runs so far)"]
    assert end["met"] is None and "reports/default over 2 day(s)" in end["basis"]
    overhead = next(row for name, row in rows.items() if name.startswith("per-run overhead in the default"))
    assert overhead["value"] == "4.1% (25 s)" and overhead["met"] is True
    forecast = {"forecasts": {"default_study": {"parts": {"SRL training": 36000.0}}}, "default_study": partial}
    (row,) = _cost_rows(forecast)
    assert row["met"] is None and "the record has 3 of 4 runs" in row["basis"]
    complete = {**recorded_study(study, grid_runs=3), "recorded": "reports/default"}
    (row,) = _cost_rows({**forecast, "default_study": complete})
    assert row["figure"] == "cost model: default study predicted vs recorded" and row["met"] is False
    assert row["value"] == f"36000 s vs {complete['seconds']:.0f} s (+{100 * (36000 / complete['seconds'] - 1):.0f}%)"
    end = next(r for r in _table(table_phases(default_study=complete)) if r["figure"] == "default study end to end")
    assert end["value"] == f"{complete['seconds'] / 3600:.2f} h" and end["met"] is True  # under 2 h: 4,890 s


def test_the_suite_states_the_scoring_time_of_the_recorded_runs(study):
    from study.bench.suite import _table
    from tests.bench.records import table_phases

    record = {**recorded_study(study, grid_runs=3), "recorded": "reports/default"}
    assert record["scoring"] == {"runs": 3, "median_seconds": 180, "min_seconds": 180, "max_seconds": 190}
    row = next(r for r in _table(table_phases(default_study=record))
               if r["figure"] == "zero-shot SRL scoring of all of a run's files, in the default study's runs")
    assert row["value"] == "180 s" and row["met"] is False and "median over 3 recorded runs (range 180-190 s)" in row[
        "basis"]


@pytest.mark.needs_data
def test_each_part_of_the_forecast_is_set_against_its_part_of_the_record(tiny_params, tmp_path, data_root):
    from study.bench.recorded import forecast_by_part
    from study.bench.suite import _recorded_rows
    from study.orchestration.cost import forecast
    from tests.orchestration.test_cost import _context, _rates

    ctx = _context(tiny_params(schedules=["none", "seq:mnli>squad_v1"], pos={"enabled": False}), tmp_path, data_root)
    none, seq = ctx.runs()
    study = tmp_path / "study"
    recorded_run(study, none.run_id, "2026-12-07T01:00:00", 0, 10, 20, 4)
    recorded_run(study, seq.run_id, "2026-12-07T02:00:00", 100, 12, 20, 6)  # trained its stages (02: 105 s)
    record = recorded_study(study, grid_runs=2)
    parts = forecast_by_part(record, ctx, _rates())
    stages = forecast(ctx, _rates(), ctx.stages(seq), []).parts
    one = forecast(ctx, _rates(), [], [none]).parts
    assert parts["intermediate stages"] == {"predicted": pytest.approx(sum(stages.values())), "recorded": 105,
                                            "runs": 1}  # stage data preparation charged to the stage
    fit = parts["English SRL fits (dev evaluations included)"]
    assert fit["predicted"] == pytest.approx(2 * (one["SRL training"] + one["SRL dev evaluation"]))
    assert fit["recorded"] == 22 and parts["zero-shot scoring"]["recorded"] == 40
    assert parts["zero-shot scoring"]["predicted"] == pytest.approx(2 * one["SRL zero-shot scoring"])
    rest = parts["the rest (data preparation, kernels, rendering)"]
    # a stage run's 5 s of 02 kernel went to its stage
    assert rest["recorded"] == pytest.approx(4 + 6 - 5) and rest["predicted"] == pytest.approx(
        2 * (one["data preparation"] + one["per-run overhead"]))
    rows = _recorded_rows({**record, "recorded": "reports/default", "by_part": parts}, "<= 7200 s", 7200)
    shown = next(r for r in rows if r["figure"].endswith("zero-shot scoring"))
    predicted = parts["zero-shot scoring"]["predicted"]
    assert shown["value"] == f"{predicted:.0f} s vs 40 s ({100 * (predicted / 40 - 1):+.0f}%)"
