"""When a run counts as complete: the rule the grid and the analysis share."""

from __future__ import annotations

import json

import pytest

from study.infra.hashing import sha256_file
from study.infra.layout import DONE, PENDING, mark_complete, run_dir_is_complete


@pytest.fixture
def pending_run(tmp_path):
    run = tmp_path / "runs" / "none__seed1"
    (run / "predictions").mkdir(parents=True)
    (run / "predictions" / "de-test.conllu").write_text("x\n")
    (run / "results.csv").write_text("run,value\nnone__seed1,0.5\n")
    (run / PENDING).write_text(json.dumps({"results_sha256": sha256_file(run / "results.csv")}))
    return run


def test_a_pending_run_is_not_complete_until_marked(pending_run):
    assert not run_dir_is_complete(pending_run) and run_dir_is_complete(pending_run, PENDING)
    assert mark_complete(pending_run) == pending_run / DONE
    assert run_dir_is_complete(pending_run) and not (pending_run / PENDING).exists()
    assert mark_complete(pending_run) == pending_run / DONE  # once complete, completing again is harmless


def test_a_run_without_results_cannot_be_marked(tmp_path):
    with pytest.raises(FileNotFoundError, match="no pending marker"):
        mark_complete(tmp_path)


def test_changed_results_or_missing_predictions_are_not_complete(pending_run):
    mark_complete(pending_run)
    (pending_run / "results.csv").write_text("run,value\nnone__seed1,0.6\n")
    assert not run_dir_is_complete(pending_run)
