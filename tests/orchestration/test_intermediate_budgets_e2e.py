"""A study whose intermediate budget is an axis runs every notebook; each budget is its own stage, none runs once."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.helpers import REPO, isolated_study_env, write_params

pytestmark = pytest.mark.slow


def test_each_budget_trains_its_own_stage_and_none_is_compared_with_both(tmp_path, encoder_dir, data_root):
    params = write_params(tmp_path / "budgets.yaml", study_name="budgets", schedules=["none", "single:mnli"],
                          intermediate={"budget": {"unit": "steps", "per_task": [2, 4]}},
                          srl={"languages": ["de"], "gold_sets": []}, pos={"enabled": False})
    out = subprocess.run([sys.executable, "-m", "study", "run", str(params)], cwd=REPO, capture_output=True,
                         text=True, env=isolated_study_env(tmp_path, encoder_dir), timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "analysis failed" not in out.stdout and "FAILED" not in out.stdout
    runs = tmp_path / "reports" / "budgets" / "runs"
    assert {p.name for p in runs.iterdir()} == {"none__seed1", "single-mnli__i2__seed1", "single-mnli__i4__seed1"}
    stages = [p for p in (tmp_path / "cache" / "stages").iterdir() if p.is_dir() and not p.name.endswith(".partial")]
    assert len(stages) == 2  # one MNLI stage per budget

    results = pd.concat([pd.read_csv(d / "results.csv", keep_default_na=False, dtype=str) for d in runs.iterdir()])
    assert dict(results.groupby("run").intermediate_budget.first()) == {
        "none__seed1": "", "single-mnli__i2__seed1": "2", "single-mnli__i4__seed1": "4"}
    strength = results[results.task == "intermediate"]
    assert set(strength.label) == {"stage 1 of 1: mnli (2 steps of mnli)", "stage 1 of 1: mnli (4 steps of mnli)"}
    answer = json.loads((tmp_path / "reports" / "budgets" / "answer.json").read_text())
    shown = {(row["intermediate budget"], row["A"], row["B"]) for row in answer["table"]}
    assert shown == {("2", "single:mnli", "none"), ("4", "single:mnli", "none")}  # none: both budgets' comparator
