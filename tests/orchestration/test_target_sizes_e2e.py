"""A study with two English SRL sizes runs every notebook; the sizes share the stage and differ where they should."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.helpers import REPO, isolated_study_env, write_params

pytestmark = pytest.mark.slow


def test_two_target_sizes_share_the_stage_draw_their_subset_and_are_reported_apart(tmp_path, encoder_dir, data_root):
    params = write_params(tmp_path / "sizes.yaml", study_name="sizes", schedules=["single:mnli"],
                          srl={"languages": ["de"], "gold_sets": [], "train_sentences": [50, "all"]})
    out = subprocess.run([sys.executable, "-m", "study", "run", str(params)], cwd=REPO, capture_output=True,
                         text=True, env=isolated_study_env(tmp_path, encoder_dir), timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "analysis failed" not in out.stdout and "FAILED" not in out.stdout
    runs = tmp_path / "reports" / "sizes" / "runs"
    small, full = runs / "single-mnli__n50__seed1", runs / "single-mnli__seed1"
    assert {p.name for p in runs.iterdir()} == {small.name, full.name}
    stages = [p for p in (tmp_path / "cache" / "stages").iterdir() if p.is_dir() and not p.name.endswith(".partial")]
    assert len(stages) == 1  # the MNLI stage does not depend on the SRL size: trained once

    drawn = json.loads((small / "history.json").read_text())["srl_train_sentences"]
    assert drawn["regime"] == "50" and drawn["sentences"] == 50 and len(set(drawn["sentence_ids"])) == 50
    assert json.loads((full / "history.json").read_text())["srl_train_sentences"]["sentences"] == 400

    results = pd.concat([pd.read_csv(d / "results.csv", keep_default_na=False, dtype={"train_sentences": str})
                         for d in (small, full)])
    assert set(results.train_sentences) == {"50", "all"}
    pos = results[results.task == "pos"]
    assert set(pos.train_sentences) == {"all"}  # POS once per encoder, at the largest size
    strength = results[results.task == "intermediate"]  # the stage behind both sizes' effects, with its dev score
    assert set(strength.label) == {"stage 1 of 1: mnli (4 steps of mnli)"} and len(strength) == 2
    assert strength.value.astype(float).between(0, 1).all() and strength.value.nunique() == 1
    answer = json.loads((tmp_path / "reports" / "sizes" / "answer.json").read_text())
    assert all("English SRL train" in row for row in answer["table"])
