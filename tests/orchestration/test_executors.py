"""`study run --executor submitit-local`: the SLURM job path (one job per run) with submitit's local executor."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from tests.helpers import REPO, isolated_study_env, write_params

pytestmark = pytest.mark.slow

#: the smoke study cut down to two runs that share their first stage
PARAMS = dict(
    study_name="jobs", seeds=[1], schedules=["single:mnli", "seq:mnli>squad_v1"],
    intermediate={"tasks": {"mnli": {"max_train_examples": 48}, "squad_v1": {"max_train_examples": 24,
                                                                            "max_dev_examples": 8}}},
    srl={"encoding": "per_predicate", "budget": {"per_task": 4}, "eval_every": 4, "max_train_sentences": 100,
         "languages": ["de"], "gold_sets": []},
    pos={"enabled": False}, analysis={"bootstrap_samples": 50, "permutation_samples": 50, "aso_iterations": 20},
)


def test_runs_as_concurrent_jobs_share_a_stage_trained_once(tmp_path, encoder_dir):
    """Both jobs start at once and need stage "mnli": one trains it, the other waits and reuses it."""
    params = write_params(tmp_path / "jobs.yaml", **PARAMS)
    env = isolated_study_env(tmp_path, encoder_dir)
    out = subprocess.run([sys.executable, "-m", "study", "run", str(params), "--executor", "submitit-local",
                          "--jobs", "2"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stdout.count("submitted job") == 2
    study_dir = tmp_path / "reports" / "jobs"
    results = pd.read_csv(study_dir / "results.csv", keep_default_na=False)
    assert set(results["run"]) == {"single-mnli__seed1", "seq-mnli-squad_v1__seed1"}
    pages = [(study_dir / "runs" / r / "02_intermediate.html").read_text()
             for r in ("single-mnli__seed1", "seq-mnli-squad_v1__seed1")]
    # the shared stage: trained by exactly one job, reused by the other
    assert sum("reused from cache" in p for p in pages) == 1
    assert len(list((tmp_path / "cache" / "stages").glob("*/DONE.json"))) == 2  # mnli, mnli>squad_v1
    assert list((study_dir / "slurm").glob("*_log.out"))  # submitit's per-job logs
    assert (study_dir / "index.html").is_file()
