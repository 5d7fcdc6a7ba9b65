"""A study is not tied to the prototype's languages: one scoring only Korean, with one schedule, completes.

Run with ``--verbose``, which streams the notebooks' cell output to the terminal.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO, isolated_study_env, write_params

pytestmark = pytest.mark.slow


def test_a_study_of_korean_alone_with_one_schedule_runs_every_notebook(tmp_path, encoder_dir, data_root):
    params = write_params(tmp_path / "ko.yaml", study_name="ko-only", schedules=["none"],
                          srl={"languages": ["ko"], "gold_sets": []})
    out = subprocess.run([sys.executable, "-m", "study", "run", str(params), "--verbose"], cwd=REPO,
                         capture_output=True, text=True, env=isolated_study_env(tmp_path, encoder_dir), timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "analysis failed" not in out.stdout and "FAILED" not in out.stdout
    assert "scored ko/test: head F1" in out.stderr  # --verbose: the notebooks' own output comes through
    study_dir = tmp_path / "reports" / "ko-only"
    assert (study_dir / "runs" / "none__seed1" / "03_srl_transfer.html").is_file()
    assert '<a href="04_analysis.html">' in (study_dir / "index.html").read_text()
