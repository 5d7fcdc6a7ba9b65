"""The one owner of the folder layout under the reports and cache roots, and of when a run is complete.

Reports (``reports/`` or ``$STUDY_REPORTS``)::

    <study>/index.html, results.csv, provenance.json, timings.json, 01_data.*, 04_analysis.*
    <study>/runs/<run_id>/02_intermediate.*, 03_srl_transfer.*, results.csv, history.json,
                          predictions/, DONE.json (written last)

Cache (``~/.cache/study`` or ``$STUDY_CACHE``)::

    encoders/<name>/            the rebuilt offline encoder
    stages/<key>/               intermediate stage weights (content-addressed, see intermediate.stage_cache)
    runs/<study>/<run key>/<run_id>/{srl,pos,srl_model}   resume checkpoints and the saved SRL model

A run counts as complete when ``DONE.json`` names the SHA-256 of its ``results.csv`` and its
prediction files are present (notebook 04 reads them): a run folder copied without them is
recomputed by ``study run`` rather than left to fail the analysis. A run trained for notebooks
first gets ``DONE.pending.json``; the last cell of notebook 03 renames it to ``DONE.json``, so a run
whose notebooks failed is never counted complete (its results are shown again, not retrained).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from study.infra.hashing import sha256_file

RUNS = "runs"
DONE = "DONE.json"
PENDING = "DONE.pending.json"
#: the study's answer as notebook 04 computed it (the index page opens with it)
ANSWER = "answer.json"
#: its figure (every AVG comparison's run-level delta per regime), shown under the answer
ANSWER_FIGURE = "answer.svg"


def study_dir(reports: Path, study_name: str) -> Path:
    return Path(reports) / study_name


def run_dir(study: Path, run_id: str) -> Path:
    return Path(study) / RUNS / run_id


def predictions_dir(run: Path) -> Path:
    return Path(run) / "predictions"


def progress_file(run: Path) -> Path:
    """The run's live progress (``infra.live``): its phase and step while it runs, its last phase after."""
    return Path(run) / "progress.json"


def run_cache_dir(cache: Path, study_name: str, key: str, run_id: str) -> Path:
    """A run's resume checkpoints and saved SRL model under ``key`` (see ``StudyContext.run_cache_dir``)."""
    return Path(cache) / RUNS / study_name / key[:16] / run_id


def mark_complete(run: Path) -> Path:
    """Promote the run's pending marker to ``DONE.json`` (atomic rename); the marker it ends with."""
    done, pending = Path(run) / DONE, Path(run) / PENDING
    if pending.is_file():
        os.replace(pending, done)
    if not done.is_file():
        raise FileNotFoundError(f"{pending}: no pending marker to complete; the run's results were not written")
    return done


def run_dir_is_complete(run: Path, marker: str = DONE) -> bool:
    """``marker`` present and matching ``results.csv``, and the prediction files present."""
    done, results, predictions = run / marker, run / "results.csv", predictions_dir(run)
    if not done.is_file() or not results.is_file():
        return False
    if not predictions.is_dir() or not any(predictions.iterdir()):
        return False
    try:
        return json.loads(done.read_text())["results_sha256"] == sha256_file(results)
    except (OSError, json.JSONDecodeError, KeyError):
        return False
