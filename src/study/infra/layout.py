"""When a run counts as complete: the one rule the runner (skip or recompute) and the analysis share.

``DONE.json`` is written last and names the SHA-256 of the run's ``results.csv``; notebook 04 also
reads the run's prediction files (sentence-level tests). A run folder copied without them (they are
large and not committed) is therefore not complete: `study run` recomputes it instead of leaving
the analysis to fail on a run it would never redo.
"""

from __future__ import annotations

import json
from pathlib import Path

from study.infra.hashing import sha256_file


def run_dir_is_complete(run_dir: Path) -> bool:
    """DONE marker present and matching ``results.csv``, and the prediction files present."""
    done, results, predictions = run_dir / "DONE.json", run_dir / "results.csv", run_dir / "predictions"
    if not done.is_file() or not results.is_file():
        return False
    if not predictions.is_dir() or not any(predictions.iterdir()):
        return False
    try:
        return json.loads(done.read_text())["results_sha256"] == sha256_file(results)
    except (OSError, json.JSONDecodeError, KeyError):
        return False
