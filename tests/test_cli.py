"""The ``study`` command as a user runs it: output, exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.helpers import REPO, study


def test_params_show_prints_hash_and_grid():
    out = study("params", "show", "params/default.yaml")
    assert out.returncode == 0, out.stderr
    assert "params hash" in out.stdout
    assert "24 runs (3 schedules x 4 seeds x 2 English SRL sizes)" in out.stdout
    assert "seq-mnli-squad_v1__n1000__seed2" in out.stdout and "train_sentences=1000" in out.stdout


def test_bad_params_give_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "params" / "smoke.yaml").read_text().replace("formulation:", "formulaton:"))
    out = study("params", "show", str(bad))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("study: error: ")
    assert "srl.formulaton" in lines[0] and "Traceback" not in out.stderr


@pytest.mark.needs_data
def test_data_check_lists_the_bundle():
    out = study("data", "check")
    assert out.returncode == 0, out.stderr
    assert "srl/en/train.conllu" in out.stdout and "12,526 sentences" in out.stdout
    assert "files match SHA256SUMS" in out.stdout


def test_data_check_on_missing_bundle_fails_cleanly(tmp_path):
    out = study("data", "check", env={"STUDY_DATA": str(tmp_path / "absent")})
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "data bundle not found" in out.stderr


def test_data_check_on_altered_bundle_fails_cleanly(mini_bundle):
    (mini_bundle / "intermediate/rte/val.jsonl").write_text("{}\n")
    out = study("data", "check", "--data-root", str(mini_bundle))
    assert out.returncode == 2
    assert "intermediate/rte/val.jsonl" in out.stderr and "altered" in out.stderr


def test_model_build_is_idempotent(encoder_dir):
    out = study("model", "build")
    assert out.returncode == 0, out.stderr
    assert "up to date" in out.stdout and "sha256" in out.stdout


def test_corrupt_weights_give_one_line(tmp_path):
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"E5S1" + b"\x01\x00\x00\x00" + b"\x00" * 10)
    tok = tmp_path / "tokenizer.json"
    tok.write_text("{}")
    out = study("model", "build", "--weights", str(bad), "--tokenizer", str(tok), "--out", str(tmp_path / "o"))
    assert out.returncode == 2
    assert out.stderr.startswith("study: error: ") and "short read" in out.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.needs_data
def test_provenance_record(encoder_dir):
    out = study("provenance", "params/smoke.yaml")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["params_hash"] and len(record["data_sha256sums"]) == 64
    assert record["encoder"]["weights_sha256"] and record["packages"]["torch"].startswith("2.13.0")
    assert record["code"]["commit"] is None or len(record["code"]["commit"]) == 40


@pytest.mark.needs_data
def test_provenance_without_a_built_encoder_is_refused_not_printed_without_its_checksum(tmp_path):
    out = study("provenance", "params/smoke.yaml", env={"STUDY_CACHE": str(tmp_path / "empty-cache")})
    assert out.returncode == 2 and not out.stdout, out.stdout
    assert out.stderr.startswith("study: error: encoder 'multilingual-e5-small-q4' is not built yet"), out.stderr
    assert "study model build" in out.stderr


@pytest.mark.needs_data
def test_unwritable_reports_folder_gives_one_line(tmp_path, encoder_dir):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where a folder should be")
    out = study("run", "params/smoke.yaml", "--reports", str(blocker))
    assert out.returncode == 2
    assert out.stderr.startswith("study: error: cannot write") and "Traceback" not in out.stderr


@pytest.mark.needs_data
@pytest.mark.parametrize(("variable", "kind"), [("STUDY_CACHE", "file"), ("STUDY_CACHE", "under /proc"),
                                                ("STUDY_DATA", "file"), ("STUDY_DATA", "missing"),
                                                ("STUDY_REPORTS", "file")])
@pytest.mark.parametrize("command", [["data", "check"], ["model", "check"]])
def test_env_folders_that_are_files_missing_or_unwritable_never_give_a_traceback(tmp_path, variable, kind, command):
    target = {"file": tmp_path / "a-file", "missing": tmp_path / "missing", "under /proc": "/proc/1/study"}[kind]
    (tmp_path / "a-file").write_text("not a folder\n")
    out = study(*command, env={variable: str(target)})
    assert out.returncode in (0, 2), out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) <= 1, out.stderr
    if out.returncode == 2:
        assert out.stderr.startswith("study: error: ")


def test_train_run_refuses_a_study_another_writer_holds(tmp_path):
    """A standalone `study train-run` takes the study's lock like `study run` (refused before any work)."""
    import os

    lock = tmp_path / "reports" / "smoke" / ".lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(f"{os.uname().nodename} {os.getpid()}\n")  # a live holder: this test process
    out = study("train-run", "params/smoke.yaml", "none__seed1", "--reports", str(tmp_path / "reports"))
    assert out.returncode == 2 and "another `study run` is writing this study" in out.stderr, out.stderr
    assert lock.read_text().split()[1] == str(os.getpid())  # the holder's lock is left alone
