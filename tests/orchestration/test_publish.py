"""A finished study copied to reports/published/: what it keeps, and every reason it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from study.infra import layout
from study.infra.errors import StudyError
from study.infra.hashing import sha256_file
from study.orchestration.publish import RECORD, publish_study

HASH = "10a3d5f99a8f78ed"


def finished_run(study: Path, name: str, params_hash: str = HASH) -> None:
    run = layout.run_dir(study, name)
    (run / "predictions").mkdir(parents=True)
    (run / "predictions" / "en-dev.conllu").write_text("1\tword\n")
    (run / "results.csv").write_text(f"run,params_hash,code_version,value\n{name},{params_hash},6c9eab8,0.5\n")
    (run / "03_srl_transfer.html").write_text("<html>run report, data under ../shared/data</html>")
    (run / "progress.json").write_text("{}")
    (run / layout.DONE).write_text(json.dumps({"run": name, "results_sha256": sha256_file(run / "results.csv")}))


def rendered_study(root: Path, runs: list[str], todo: list[str] = ()) -> tuple[Path, Path]:
    study = root / "reports" / "default"
    for name in runs:
        finished_run(study, name)
    for name in todo:  # a run in progress: a notebook being written, no marker
        layout.run_dir(study, name).mkdir(parents=True)
        (layout.run_dir(study, name) / ".02_intermediate.ipynb.x1.ipynb").write_text(f'"{root}/reports"')
    rows = [f"{r},{HASH},6c9eab8,0.5" for r in runs]
    (study / "results.csv").write_text("run,params_hash,code_version,value\n" + "\n".join(rows) + "\n")
    (study / "index.html").write_text("<html>Answer: inconclusive</html>")
    (study / "provenance.json").write_text(json.dumps({"code": {"describe": "853683e"}}))
    (study / ".lock").write_text("123")
    params = root / "default.yaml"
    params.write_text("study_name: default\n")
    return study, params


def publish(study: Path, params: Path, dest: Path, runs: list[str], **kw):
    return publish_study(study, dest, params, HASH, runs, [study.parents[1]], **kw)


def test_the_published_copy_keeps_the_report_and_results_and_leaves_out_predictions_and_live_files(tmp_path):
    study, params = rendered_study(tmp_path, ["none__seed1", "none__seed2"])
    dest = tmp_path / "published" / "default"
    report = publish(study, params, dest, ["none__seed1", "none__seed2"])
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == [RECORD, "index.html", "params.yaml", "provenance.json", "results.csv",
                     *[f"runs/none__seed{s}/{f}" for s in (1, 2)
                       for f in ("03_srl_transfer.html", layout.DONE, "results.csv")]]
    assert (dest / "params.yaml").read_text() == params.read_text()
    record = json.loads((dest / RECORD).read_text())
    assert record["runs"] == 2 and record["runs_code"] == ["6c9eab8"] and record["report_code"] == "853683e"
    assert report.runs == ["none__seed1", "none__seed2"] and not report.missing
    # the published run folders are the runs' own files, byte for byte
    assert sha256_file(dest / "runs/none__seed1/results.csv") == sha256_file(study / "runs/none__seed1/results.csv")


def test_a_study_with_runs_to_do_is_published_only_when_asked_and_only_its_finished_runs(tmp_path):
    study, params = rendered_study(tmp_path, ["none__seed1"], todo=["seq__seed1"])
    dest = tmp_path / "published" / "default"
    with pytest.raises(StudyError, match=r"1 of 2 runs are not complete .*--partial"):
        publish(study, params, dest, ["none__seed1", "seq__seed1"])
    assert not dest.exists()
    report = publish(study, params, dest, ["none__seed1", "seq__seed1"], partial=True)
    assert report.missing == ["seq__seed1"] and not (dest / "runs" / "seq__seed1").exists()
    assert json.loads((dest / RECORD).read_text())["runs_not_done"] == ["seq__seed1"]


@pytest.mark.parametrize("spoil, message", [
    (lambda study, dest: dest.mkdir(parents=True), "already published"),
    (lambda study, dest: (study / "results.csv").write_text("run,params_hash,code_version\nnone__seed1,"
                                                            f"{HASH},6c9eab8\n"), "covers 1 runs but 2"),
    (lambda study, dest: (study / "results.csv").write_text(
        "run,params_hash,code_version\nnone__seed1,other,6c9eab8\nnone__seed2,other,6c9eab8\n"), "runs of params"),
    (lambda study, dest: (study / "index.html").unlink(), "no rendered report"),
    (lambda study, dest: (study / "runs/none__seed2/03_srl_transfer.html").write_text(
        f"<html>{study.parent}/default/x</html>"), "names a machine path"),
])
def test_publishing_refuses_a_report_not_fit_to_cite_and_writes_nothing(tmp_path, spoil, message):
    study, params = rendered_study(tmp_path, ["none__seed1", "none__seed2"])
    dest = tmp_path / "published" / "default"
    spoil(study, dest)
    before = sorted(dest.parent.rglob("*")) if dest.parent.exists() else []
    with pytest.raises(StudyError, match=message):
        publish(study, params, dest, ["none__seed1", "none__seed2"])
    assert (sorted(dest.parent.rglob("*")) if dest.parent.exists() else []) == before


def test_a_machine_path_is_found_only_where_it_is_a_whole_path(tmp_path):
    from study.orchestration.publish import machine_paths

    (tmp_path / "a.html").write_text("/rooted/x and ~/.cache")
    assert machine_paths(tmp_path, [Path("/root")]) == []
    (tmp_path / "b.ipynb").write_text('"reports_dir": "/root"')
    assert machine_paths(tmp_path, [Path("/root")]) == ["b.ipynb names /root"]


THEME = "body { color: #111; } .jp-icon { background: url(data:image/svg+xml;base64,PHN2Zz4=); }\n" * 200


def page(styles: str, body: str) -> str:
    return f"<html><head>{styles}</head><body>{body}</body></html>"


def test_the_theme_css_every_page_repeats_is_published_once_and_linked_where_it_was(tmp_path):
    study, params = rendered_study(tmp_path, ["none__seed1", "none__seed2"])
    table_css = '<style type="text/css">#T_1 td { color: red; }</style>'
    (study / "index.html").write_text(page(f'<style type="text/css">{THEME}</style>', "Answer"))
    for run in ("none__seed1", "none__seed2"):
        (layout.run_dir(study, run) / "03_srl_transfer.html").write_text(
            page(f'<style type="text/css">{THEME}</style>', f"{table_css}<table id='T_1'></table>"))
    dest = tmp_path / "published" / "default"
    publish(study, params, dest, ["none__seed1", "none__seed2"])
    (css,) = (dest / "assets").iterdir()
    assert css.read_text() == THEME  # the block itself, byte for byte
    assert f'<link rel="stylesheet" type="text/css" href="assets/{css.name}">' in (dest / "index.html").read_text()
    shown = (dest / "runs/none__seed1/03_srl_transfer.html").read_text()
    assert shown == page(f'<link rel="stylesheet" type="text/css" href="../../assets/{css.name}">',
                         f"{table_css}<table id='T_1'></table>")  # a table's own styles stay inline
    # the study's own report is left as rendered
    assert THEME in (study / "index.html").read_text()


def test_css_with_a_relative_url_stays_inline(tmp_path):
    from study.orchestration.publish import share_stylesheets

    css = THEME + "@font-face { src: url('fonts/x.woff'); }"
    (tmp_path / "a.html").write_text(page(f"<style>{css}</style>", ""))
    assert share_stylesheets(tmp_path) == 0 and not (tmp_path / "assets").exists()
