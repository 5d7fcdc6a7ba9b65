"""``study srl score`` never writes over the file it reads, and says so in one line."""

from __future__ import annotations

import shutil

import pytest

from study.infra.errors import StudyError
from study.target.srl.user_score import score_user_file
from tests.helpers import FIXTURE_BUNDLE, study


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "mine" / "test.conllu"
    path.parent.mkdir()
    shutil.copy(FIXTURE_BUNDLE / "srl" / "de" / "test.conllu", path)
    return path


def test_out_in_the_input_files_folder_is_refused_and_the_file_kept(user_file, tmp_path):
    before = user_file.read_bytes()
    with pytest.raises(StudyError, match=r"would overwrite the input file .*nothing was written"):
        score_user_file(tmp_path / "run", user_file, "de", out_dir=user_file.parent)
    assert user_file.read_bytes() == before


def test_the_cli_gives_one_line_for_a_bad_file_or_out(user_file, tmp_path):
    for args, message in ((["--file", str(user_file), "--out", str(user_file.parent)], "would overwrite"),
                          (["--file", str(user_file.parent)], "not a file"),
                          (["--file", str(user_file), "--out", str(user_file)], "is not a folder")):
        out = study("srl", "score", "--run", str(tmp_path / "run"), "--language", "de", *args)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and message in out.stderr, out.stderr


def test_a_finished_run_whose_model_is_not_on_this_machine_says_where_it_went(user_file, tmp_path):
    """An archived or published run keeps its predictions, not its weights: the line says so, and how to retrain."""
    run = tmp_path / "runs" / "none__seed1"
    run.mkdir(parents=True)
    (run / "DONE.json").write_text('{"srl_model": "/another/machine/.cache/study/runs/x/none__seed1/srl_model"}')
    out = study("srl", "score", "--run", str(run), "--file", str(user_file), "--language", "de")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "is not on this machine" in out.stderr and "study train-run PARAMS none__seed1 --reports DIR" in out.stderr
    assert not (run / "user-scores").exists()
