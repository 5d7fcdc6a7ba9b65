"""Finished runs packed small for git and restored byte for byte on another machine (or refused)."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from study.infra import layout
from study.infra.errors import StudyError
from study.infra.hashing import sha256_file
from study.orchestration.archive import pack_run, pack_study, restore_study, thicken, thin, unpack_run
from tests.helpers import FIXTURE_BUNDLE

HASH = "a" * 64


def predicted(gold: str) -> str:
    """The gold file with every token line's last three columns replaced, as the SRL scorer writes it."""
    out = []
    for k, line in enumerate(gold.split("\n")):
        cols = line.split("\t")
        out.append("\t".join([*cols[:10], "_", f"A{k % 3}:{k % 7}", "_"]) if len(cols) == 13 else line)
    return "\n".join(out)


def finished_run(runs: Path, name: str = "none__seed1", params_hash: str = HASH) -> Path:
    run = runs / name
    (run / "predictions").mkdir(parents=True)
    (run / "predictions" / "en-dev.conllu").write_text(predicted((FIXTURE_BUNDLE / "srl/en/dev.conllu").read_text()))
    (run / "predictions" / "xx-test.conllu").write_text("# a file of no bundle language: kept whole\n")
    (run / "results.csv").write_text("run,value\nnone__seed1,0.5\n")
    (run / "03_srl_transfer.html").write_text("<html>report</html>")
    (run / "progress.json").write_text("{}")  # the sitting's live progress: not part of a finished run
    done = {"run": name, "results_sha256": sha256_file(run / "results.csv"),
            "provenance": {"params_hash": params_hash, "code": {"describe": "abc1234"}}}
    (run / layout.DONE).write_text(json.dumps(done))
    return run


def files(run: Path) -> dict[str, bytes]:
    return {p.relative_to(run).as_posix(): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def test_a_run_is_restored_byte_for_byte_from_an_archive_that_keeps_only_the_predictions(tmp_path):
    run = finished_run(tmp_path / "a" / "runs")
    archive = pack_run(run, FIXTURE_BUNDLE, tmp_path / "archive" / "none__seed1.tar.xz")
    with tarfile.open(archive, "r:xz") as tar:
        names = set(tar.getnames())
        thinned = tar.extractfile("thin/predictions/en-dev.conllu").read()
    assert {"run/predictions/xx-test.conllu", "run/results.csv", "thin/predictions/en-dev.conllu"} <= names
    assert "run/progress.json" not in names
    assert len(thinned) < len((run / "predictions" / "en-dev.conllu").read_bytes()) / 3
    restored = unpack_run(archive, FIXTURE_BUNDLE, tmp_path / "b" / "runs")
    assert files(restored) == {k: v for k, v in files(run).items() if k != "progress.json"}
    assert layout.run_dir_is_complete(restored)
    assert pack_run(run, FIXTURE_BUNDLE, tmp_path / "again.tar.xz").read_bytes() == archive.read_bytes()


@given(st.lists(st.sampled_from(["1\ta\tb\tc\td\te\tf\tg\th\ti\tx\ty\tz", "1\ta\tb\tc\td\te\tf\tg\th\ti\t_\t_\t_",
                                 "# sent_id = s1", "", "2\tq\tw"]), max_size=12),
       st.lists(st.sampled_from(["1\ta\tb\tc\td\te\tf\tg\th\ti\t_\t_\t_", "# sent_id = s1", "", "x"]), max_size=12))
def test_thinning_is_undone_exactly_for_any_lines(prediction, gold):
    pred, ref = "\n".join(prediction).encode(), "\n".join(gold).encode()
    assert thicken(thin(pred, ref), ref) == pred


def test_a_damaged_archive_or_another_bundle_unpacks_nothing_and_says_so(tmp_path):
    run = finished_run(tmp_path / "a" / "runs")
    archive = pack_run(run, FIXTURE_BUNDLE, tmp_path / "none__seed1.tar.xz")
    cut = tmp_path / "cut.tar.xz"
    cut.write_bytes(archive.read_bytes()[: len(archive.read_bytes()) // 2])
    with pytest.raises(StudyError, match=r"damaged run archive.*nothing was unpacked"):
        unpack_run(cut, FIXTURE_BUNDLE, tmp_path / "b" / "runs")
    other = tmp_path / "bundle"
    shutil.copytree(FIXTURE_BUNDLE, other)
    (other / "srl/en/dev.conllu").write_text((other / "srl/en/dev.conllu").read_text().replace("AP", "UP"))
    with pytest.raises(StudyError, match=r"packed against another srl/en/dev\.conllu"):
        unpack_run(archive, other, tmp_path / "c" / "runs")
    assert not any(p for p in (tmp_path / "b" / "runs").iterdir()) and not any((tmp_path / "c" / "runs").iterdir())


def test_a_study_packs_each_finished_run_once_and_restores_only_its_own_params(tmp_path):
    study, archive = tmp_path / "study", tmp_path / "archive"
    finished_run(study / "runs", "none__seed1")
    finished_run(study / "runs", "none__seed2", params_hash="b" * 64)  # another design's run: not packed
    (study / "runs" / "none__seed3").mkdir()  # a killed run: not packed
    assert pack_study(study, FIXTURE_BUNDLE, archive, HASH).packed == ["none__seed1"]
    first = (archive / "none__seed1.tar.xz").stat().st_mtime_ns
    assert pack_study(study, FIXTURE_BUNDLE, archive, HASH).packed == []  # packed once, never replaced
    assert (archive / "none__seed1.tar.xz").stat().st_mtime_ns == first

    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "runs" / "none__seed1").mkdir(parents=True)  # a half-written folder of a killed sitting
    assert restore_study(elsewhere, FIXTURE_BUNDLE, archive, HASH).restored == ["none__seed1"]
    assert layout.run_dir_is_complete(elsewhere / "runs" / "none__seed1")
    assert restore_study(elsewhere, FIXTURE_BUNDLE, archive, HASH).skipped == ["none__seed1"]
    with pytest.raises(StudyError, match="archived with params hash aaaaaaaaaaaa, these params hash to bbbbbbbbbbbb"):
        restore_study(tmp_path / "third", FIXTURE_BUNDLE, archive, "b" * 64)
