"""Time the analysis (target: under a minute) on a study directory shaped like a full grid.

The analysis' cost depends on the grid (schedules x seeds x target files), the test sizes (sentences
per file) and the resampling counts, not on the scores' values. Until the default study has run end
to end, this builds its shape from one finished run: every run of the grid gets that run's real
prediction files (symbolic links) and its results rows with the SRL scores jittered per run (seeded),
so the per-seed tests are not degenerate. The timing is real; the comparisons it prints are not
results and are never reported as such.
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from study.config import StudyConfig, expand_runs
from study.infra.hashing import sha256_file


def replicate_study(source_run: Path, config: StudyConfig, study_dir: Path, jitter: float = 0.01) -> int:
    """Fill ``study_dir/runs`` with one directory per run of ``config``'s grid; returns the run count."""
    source_run = Path(source_run)
    results = pd.read_csv(source_run / "results.csv", keep_default_na=False, dtype={"label": str})
    done = json.loads((source_run / "DONE.json").read_text())
    runs = expand_runs(config)
    for i, run in enumerate(runs):
        run_dir = Path(study_dir) / "runs" / run.run_id
        (run_dir / "predictions").mkdir(parents=True, exist_ok=True)
        for pred in sorted((source_run / "predictions").iterdir()):
            link = run_dir / "predictions" / pred.name
            if not link.exists():
                os.symlink(pred.resolve(), link)
        rng = np.random.default_rng([7, i])
        df = results.copy()
        df["run"], df["schedule"], df["seed"] = run.run_id, run.schedule.text, run.seed
        df["train_sentences"] = run.regime
        f1 = (df.task == "srl") & (df.metric == "head_f1")
        df.loc[f1, "value"] = df.loc[f1, "value"].astype(float) + rng.normal(0, jitter, int(f1.sum()))
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        (run_dir / "results.csv").write_text(buf.getvalue())
        (run_dir / "DONE.json").write_text(json.dumps({**done, "run": run.run_id,
                                                       "results_sha256": sha256_file(run_dir / "results.csv")}))
    return len(runs)


def time_analysis(source_run: Path, config: StudyConfig, data_root: Path, work_dir: Path) -> dict:
    """Seconds :func:`study.analysis.compare.compare_schedules` takes on ``config``'s grid shape."""
    from study.analysis.compare import compare_schedules

    study_dir = Path(work_dir) / config.study_name
    n_runs = replicate_study(source_run, config, study_dir)
    t0 = time.perf_counter()
    comparison = compare_schedules(config, study_dir, data_root)
    seconds = time.perf_counter() - t0
    per_language = comparison.per_language
    return {"seconds": seconds, "runs": n_runs, "comparisons": len(comparison.family),
            "tests": len(per_language), "files": int(per_language[["language", "split"]].drop_duplicates().shape[0])
            if not per_language.empty else 0,
            "bootstrap_samples": config.analysis.bootstrap_samples,
            "permutation_samples": config.analysis.permutation_samples,
            "aso_iterations": config.analysis.aso_iterations}
