"""Grid-runner housekeeping that does not need a study run."""

from __future__ import annotations

from study.runner import StudyLock, remove_stale_temporaries


def test_stale_temporaries_are_removed_and_finished_files_kept(tmp_path):
    run = tmp_path / "runs" / "none__seed1"
    (run / "predictions").mkdir(parents=True)
    keep = [tmp_path / "results.csv", run / "03_srl_transfer.ipynb", run / "predictions" / "de-test.conllu",
            tmp_path / StudyLock.NAME]
    stale = [tmp_path / ".04_analysis.ipynb.k2j3.tmp", tmp_path / ".04_analysis.ipynb.k2j3.ipynb",
             run / "predictions" / ".de-test.conllu.x1y2.tmp"]
    for path in keep + stale:
        path.write_text("x")
    assert remove_stale_temporaries(tmp_path) == 3
    assert all(p.exists() for p in keep) and not any(p.exists() for p in stale)


def test_atomic_writes_get_normal_permissions(tmp_path):
    import os

    from study.atomic import write_text

    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "results.csv", "a,b\n")
    finally:
        os.umask(mask)
    assert (tmp_path / "results.csv").stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0o600
