"""The smoke study end to end through the CLI: papermill notebooks, results, report, resume, determinism."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil

import pandas as pd
import pytest

from tests.helpers import REPO as REPO_ROOT
from tests.helpers import isolated_study_env, study
from tests.helpers.browser import check_pages, find_chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, encoder_dir):
    root = tmp_path_factory.mktemp("smoke")
    env = isolated_study_env(root, encoder_dir)
    out = study("run", "params/smoke.yaml", env=env)
    return root, env, out


def test_smoke_study_runs_every_run_and_reports(smoke_run):
    root, _, out = smoke_run
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    study_dir = root / "reports" / "smoke"
    assert out.stdout.strip().endswith(str(study_dir / "index.html"))
    # quiet and live: no kernel transport warnings; each run's phases with steps, files and time left
    assert "IPKernelApp" not in out.stdout + out.stderr and "WARNING" not in out.stdout + out.stderr
    assert "none__seed1: SRL training" in out.stdout and "none__seed1: scoring" in out.stdout
    assert "Ctrl-C stops at any time" in out.stdout
    results = pd.read_csv(study_dir / "results.csv", keep_default_na=False)
    assert set(results["run"]) == {"none__seed1", "single-mnli__seed1", "seq-mnli-squad_v1__seed1",
                                   "joint-mnli-squad_v1__seed1", "joint-srl-mnli-squad_v1__seed1"}
    srl = results[(results.task == "srl") & (results.metric == "head_f1") & (results.label == "")]
    assert set(zip(srl.language, srl.split, strict=True)) >= {("en", "test"), ("de", "test"), ("zh", "test"),
                                                              ("vi", "gold-test")}
    assert set(results[results.task == "pos"]["language"]) == {"en", "de", "zh"}
    # joint+srl: SRL trained inside the mixture, no cached stage, no POS (its encoder has seen SRL)
    assert "joint-srl-mnli-squad_v1__seed1" not in set(results[results.task == "pos"]["run"])
    history = (study_dir / "runs" / "joint-srl-mnli-squad_v1__seed1" / "history.json").read_text()
    assert '"joint_srl_consumed"' in history
    assert results["params_hash"].nunique() == 1 and results["encoder_sha256"].str.len().eq(64).all()
    for run in results["run"].unique():
        preds = study_dir / "runs" / run / "predictions"
        assert {p.name for p in preds.iterdir()} >= {"de-test.conllu", "vi-gold-test.conllup"}
    # the sequential run reused the stage its single-task sibling trained
    seq_nb = (study_dir / "runs" / "seq-mnli-squad_v1__seed1" / "02_intermediate.html").read_text()
    assert "reused from cache" in seq_nb
    assert (study_dir / "04_analysis.html").is_file()
    # the pages and notebooks name files beside the checkout relative to it, never by this machine's path
    for page in [*study_dir.rglob("*.html"), *study_dir.rglob("*.ipynb")]:
        assert str(REPO_ROOT) not in page.read_text(), page
    # tables show their content, not pandas' row numbers (a row heading 0 is one)
    for page in study_dir.rglob("*.html"):
        assert not re.search(r"<th[^>]*>\s*0\s*</th>", page.read_text()), page
    params = json.loads((study_dir / "01_data.ipynb").read_text())["metadata"]["papermill"]["parameters"]
    assert params["params_file"] == "params/smoke.yaml"
    # the answer opens the index page and notebook 04: one run a side cannot conclude, and says so
    index = (study_dir / "index.html").read_text()
    assert index.index("<h2>Answer</h2>") < index.index("<h2>Runs</h2>")
    assert "joint:mnli+squad_v1</strong> vs <strong>seq:mnli&gt;squad_v1" in index and "Inconclusive" in index
    analysis = (study_dir / "04_analysis.html").read_text()
    assert "Inconclusive" in analysis and "Descriptive, not the inference" in analysis


@pytest.mark.skipif(find_chromium() is None and not os.environ.get("CI"), reason="no Chromium on this machine")
def test_report_reads_well_in_chromium(smoke_run):
    root, _, _ = smoke_run
    study_dir = root / "reports" / "smoke"
    pages = [study_dir / "index.html", study_dir / "01_data.html", study_dir / "04_analysis.html",
             study_dir / "runs" / "none__seed1" / "03_srl_transfer.html",
             study_dir / "runs" / "seq-mnli-squad_v1__seed1" / "02_intermediate.html"]
    checks = check_pages(pages)
    for check in checks:
        assert not check.js_errors, (check.url, check.js_errors)
        assert check.broken_images == 0, check.url
        assert check.text_length > 300, check.url
    by_name = {c.url.rsplit("/", 1)[-1]: c for c in checks}
    assert by_name["01_data.html"].images >= 2
    assert by_name["04_analysis.html"].images >= 2
    assert by_name["03_srl_transfer.html"].images >= 2


def test_rerun_resumes_and_same_seed_gives_identical_numbers(smoke_run):
    root, env, first = smoke_run
    assert first.returncode == 0
    study_dir = root / "reports" / "smoke"
    before = pd.read_csv(study_dir / "results.csv", keep_default_na=False)
    preds_before = (study_dir / "runs" / "none__seed1" / "predictions" / "de-test.conllu").read_bytes()
    shutil.rmtree(study_dir / "runs" / "none__seed1")  # lost: recomputed from scratch; the others resume
    out = study("run", "params/smoke.yaml", env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "4 run(s) already complete: skipped" in out.stdout
    after = pd.read_csv(study_dir / "results.csv", keep_default_na=False)
    key = ["run", "task", "language", "split", "metric", "label"]
    pd.testing.assert_frame_equal(before.sort_values(key).reset_index(drop=True),
                                  after.sort_values(key).reset_index(drop=True))
    assert (study_dir / "runs" / "none__seed1" / "predictions" / "de-test.conllu").read_bytes() == preds_before


def test_max_runs_zero_reports_the_complete_runs_and_names_the_rest(smoke_run):
    root, env, first = smoke_run
    assert first.returncode == 0
    study_dir = root / "reports" / "smoke"
    done = study_dir / "runs" / "single-mnli__seed1" / "DONE.json"
    kept = done.read_bytes()
    done.unlink()  # as if this run had not been executed yet
    try:
        out = study("run", "params/smoke.yaml", "--max-runs", "0", env=env)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "--max-runs 0: 0 run(s) now, 1 left for a later invocation" in out.stdout
        assert "4 run(s) already complete: skipped" in out.stdout  # the deferred run is not counted as done
        assert ": 4/5 runs complete" in out.stdout
        assert "1 run(s) not run yet: re-run without --max-runs / --schedule" in out.stdout
        # --schedule none: the baseline runs are complete, the other schedule's run waits
        out = study("run", "params/smoke.yaml", "--schedule", "none", env=env)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "--schedule none: 0 run(s) now, 1 left for a later invocation" in out.stdout
        assert ": 4/5 runs complete" in out.stdout
        results = pd.read_csv(study_dir / "results.csv", keep_default_na=False)
        assert "single-mnli__seed1" not in set(results["run"]) and results["run"].nunique() == 4
        index = (study_dir / "index.html").read_text()
        assert "<td>single-mnli__seed1</td><td>single:mnli</td><td>1</td><td>not run</td>" in index
        assert (study_dir / "04_analysis.html").is_file()
    finally:
        done.write_bytes(kept)
    out = study("run", "params/smoke.yaml", "--max-runs", "0", env=env)  # the complete grid's report again
    assert out.returncode == 0 and "5 run(s) already complete: skipped" in out.stdout


def test_a_second_writer_is_refused(smoke_run):
    root, env, _ = smoke_run
    lock = root / "reports" / "smoke" / ".lock"
    lock.write_text(f"{os.uname().nodename} {os.getpid()}\n")  # a live holder: this test process
    try:
        out = study("run", "params/smoke.yaml", env=env)
    finally:
        lock.unlink()
    assert out.returncode == 2 and "another `study run` is writing this study" in out.stderr
    from study.infra.lock import StudyLock

    lock.write_text(f"{os.uname().nodename} 999999999\n")  # a crashed holder: its lock is taken over
    with StudyLock(lock.parent):
        assert lock.read_text().split()[1] == str(os.getpid())
    assert not lock.exists()


@pytest.mark.parametrize(("signame", "code"), [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_ctrl_c_sigterm_and_sighup_stop_cleanly_with_a_resume_hint(tmp_path, encoder_dir, signame, code):
    import signal
    import subprocess
    import sys
    import time

    import psutil

    from tests.helpers import REPO

    env = isolated_study_env(tmp_path, encoder_dir)
    # a terminal's foreground job: SIGINT at its default (a CI shell running us as a background job
    # would hand the child an ignored SIGINT, and Python would then never raise KeyboardInterrupt)
    proc = subprocess.Popen([sys.executable, "-m", "study.cli", "run", "params/smoke.yaml"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lock = tmp_path / "reports" / "smoke" / ".lock"
    deadline = time.time() + 120
    while not lock.exists() and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(8)  # inside the notebooks by now
    kernels = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == code, err[-2000:]
    assert "re-run the same command to resume" in err
    if signame != "SIGINT":
        assert f"stopped by {signame}" in err
    assert not lock.exists()
    _, alive = psutil.wait_procs(kernels, timeout=30)
    assert not alive, "notebook kernels outlived the stop"


def _kill_tree(proc) -> None:
    """SIGKILL ``proc`` and every descendant (notebook kernels included), as a crashed machine or job would."""
    import psutil

    try:
        parent = psutil.Process(proc.pid)
        victims = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for p in victims:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(victims, timeout=30)
    proc.wait(timeout=30)


def test_killed_at_several_points_resumes_to_the_uninterrupted_results(smoke_run, tmp_path):
    """SIGKILL during SRL training, during scoring, during an intermediate stage and during the report.

    Each restart takes over the dead writer's lock and resumes; the final results equal the
    uninterrupted run's (the module's smoke run) row for row: nothing lost, nothing duplicated.
    """
    import glob
    import subprocess
    import sys
    import time

    from tests.helpers import REPO

    ref_root, _, ref = smoke_run
    assert ref.returncode == 0
    encoders = ref_root / "cache" / "encoders"
    (tmp_path / "cache").mkdir()
    os.symlink(encoders, tmp_path / "cache" / "encoders")
    env = {**os.environ, "STUDY_CACHE": str(tmp_path / "cache"), "STUDY_REPORTS": str(tmp_path / "reports")}
    study_dir = tmp_path / "reports" / "smoke"
    cache = tmp_path / "cache"
    # (phase, what appears on disk only while that phase runs), in the order the smoke study reaches them
    points = [
        ("SRL training", str(cache / "runs" / "smoke" / "*" / "none__seed1" / "srl" / "train_state.pt")),
        ("scoring", str(study_dir / "runs" / "none__seed1" / "predictions" / "*.conllu")),
        ("an intermediate stage", str(cache / "stages" / "*.partial")),
        ("the report", str(study_dir / ".04_analysis.ipynb.*")),  # papermill's output while 04 executes
    ]
    for phase, pattern in points:
        proc = subprocess.Popen([sys.executable, "-m", "study.cli", "run", "params/smoke.yaml"], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 280
        while not glob.glob(pattern) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"the run ended before {phase} could be interrupted: {proc.stderr.read()[-2000:]}"
        assert glob.glob(pattern), f"{phase} never started ({pattern})"
        _kill_tree(proc)
        assert (study_dir / ".lock").exists()  # the dead writer's lock stays behind and must be taken over
    out = study("run", "params/smoke.yaml", env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    key = ["run", "task", "language", "split", "metric", "label"]
    resumed = pd.read_csv(study_dir / "results.csv", keep_default_na=False)
    reference = pd.read_csv(ref_root / "reports" / "smoke" / "results.csv", keep_default_na=False)
    assert not resumed.duplicated(key).any()
    pd.testing.assert_frame_equal(resumed.sort_values(key).reset_index(drop=True),
                                  reference.sort_values(key).reset_index(drop=True))
    for run in resumed["run"].unique():
        for name in ("de-test.conllu", "vi-gold-test.conllup"):
            assert (study_dir / "runs" / run / "predictions" / name).read_bytes() == \
                (ref_root / "reports" / "smoke" / "runs" / run / "predictions" / name).read_bytes()
    # the killed invocations' finished runs stay in the timings record (saved after every run)
    timings = json.loads((study_dir / "timings.json").read_text())
    assert set(timings["runs"]) == set(resumed["run"].unique())
    assert "total" in timings["invocations"][-1] and "total" not in timings["invocations"][0]
    assert not list((cache / "stages").glob("*.partial"))
    assert not [p for p in study_dir.rglob(".*") if p.name != ".lock"]  # the killed writers' temporaries: gone


def test_papermill_alone_with_a_params_file(tmp_path, encoder_dir):
    """The README's `papermill ... -f params/<file>.yaml` line: the notebook opens the injected study."""
    import subprocess
    import sys

    from study.config import load_params
    from tests.helpers import REPO

    out = tmp_path / "01.ipynb"
    (tmp_path / "cache" / "encoders").mkdir(parents=True)
    os.symlink(encoder_dir, tmp_path / "cache" / "encoders" / encoder_dir.name)
    env = {**os.environ, "STUDY_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "papermill", "notebooks/01_data.ipynb", str(out),
                           "-f", "params/smoke.yaml", "--cwd", str(REPO)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "study 'smoke'" in text
    assert load_params(REPO / "params" / "smoke.yaml").params_hash() in text


def test_changed_params_under_the_same_study_name_are_refused(smoke_run, tmp_path):
    root, env, first = smoke_run
    assert first.returncode == 0
    study_dir = root / "reports" / "smoke"
    before = (study_dir / "results.csv").read_bytes()
    changed = tmp_path / "smoke-changed.yaml"
    changed.write_text((REPO_ROOT / "params" / "smoke.yaml").read_text().replace("per_task: 6", "per_task: 7"))
    out = study("run", str(changed), env=env)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "finished run(s) were computed with other params" in out.stderr and "nothing was changed" in out.stderr
    assert (study_dir / "results.csv").read_bytes() == before
