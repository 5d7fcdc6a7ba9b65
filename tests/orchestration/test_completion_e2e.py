"""A run counts as complete only once everything it promises succeeded, notebooks included."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from study.infra.errors import StudyError
from study.infra.layout import DONE, PENDING, run_dir_is_complete
from tests.helpers import REPO, isolated_study_env, write_params

pytestmark = pytest.mark.slow


def test_a_run_whose_notebook_fails_is_not_complete_and_is_shown_again_not_retrained(
        tmp_path, encoder_dir, data_root, monkeypatch):
    from study.orchestration.notebooks import execute_notebook

    params = write_params(tmp_path / "p.yaml", study_name="done-last", schedules=["none"], pos={"enabled": False},
                          srl={"languages": ["de"], "gold_sets": []})
    env = isolated_study_env(tmp_path, encoder_dir)
    out = subprocess.run([sys.executable, "-m", "study", "train-run", str(params), "none__seed1", "--pending"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    run_dir = tmp_path / "reports" / "done-last" / "runs" / "none__seed1"
    assert (run_dir / PENDING).is_file() and not (run_dir / DONE).exists()
    assert not run_dir_is_complete(run_dir)

    for key in ("STUDY_CACHE", "STUDY_REPORTS"):
        monkeypatch.setenv(key, env[key])
    notebook_params = {"params_file": str(params), "run_id": "none__seed1", "reports_dir": str(tmp_path / "reports")}
    history = (run_dir / "history.json").read_bytes()
    shutil.move(run_dir / "history.json", tmp_path / "history.json")  # a cell after the training cell fails
    with pytest.raises(StudyError, match=r"03_srl_transfer\.ipynb failed"):
        execute_notebook("03_srl_transfer", run_dir / "03_srl_transfer.ipynb", notebook_params)
    assert not (run_dir / DONE).exists() and not run_dir_is_complete(run_dir)

    shutil.move(tmp_path / "history.json", run_dir / "history.json")
    executed = execute_notebook("03_srl_transfer", run_dir / "03_srl_transfer.ipynb", notebook_params)
    assert "is trained with these params: its results are shown, not recomputed" in executed.read_text()
    assert run_dir_is_complete(run_dir) and not (run_dir / PENDING).exists()
    assert (run_dir / "history.json").read_bytes() == history
