"""Live progress: a file for ``study run`` to watch, or a text bar when nobody watches."""

from __future__ import annotations

import json

from study.infra.live import PROGRESS_ENV, LiveProgress, PhaseState, live, read_progress


def test_phase_and_steps_reach_the_file_and_the_last_step_is_always_written(tmp_path):
    path = tmp_path / "progress.json"
    progress = LiveProgress(path)
    progress.phase("SRL training")
    assert read_progress(path).phase == "SRL training"
    progress.update(0, total=50)
    for step in range(1, 51):
        progress.update(step)
    state = read_progress(path)
    assert (state.done, state.total, state.unit) == (50, 50, "step")  # the throttle never drops the end
    assert json.loads(path.read_text())["phase"] == "SRL training"


def test_rate_and_time_left_count_from_where_the_phase_started():
    state = PhaseState("SRL training", done=150, total=400, unit="step", phase_started=100.0, updated=150.0,
                       first_done=100)  # resumed at step 100: 50 steps in 50 s
    assert state.rate == 1.0
    assert state.seconds_left == 250.0
    assert PhaseState("x", 0, 10, "step", 1.0, 1.0).rate is None


def test_a_pause_stays_out_of_the_rate_but_a_dev_evaluation_counts(monkeypatch):
    import study.infra.live as live_module

    clock = [1000.0]
    monkeypatch.setattr(live_module.time, "time", lambda: clock[0])
    progress = LiveProgress(None, bar=False)
    progress.phase("stage 1 of 1: mnli+squad_v1", total=600)
    for step in range(1, 101):  # 3 s a step
        clock[0] += 3
        progress.update(step)
    clock[0] += 60 + 3  # a one-minute dev evaluation belongs to the work: it stays in the rate
    progress.update(101)
    assert progress._state.rate == 101 / 363
    clock[0] += 50 * 60 + 3  # SIGSTOPped for 50 minutes (a fresh-check beside the study)
    progress.update(102)
    state = progress._state
    # as if the pause had not happened: the step it interrupted counts at the phase's mean step time
    assert abs(state.rate - 102 / (363 + 363 / 101)) < 1e-9
    assert state.seconds_left < 30 * 60  # was 'about 5 h 48 min left' for a 35-minute job


def test_without_a_file_a_text_bar_is_drawn_on_stderr_where_someone_watches(capsys, monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)  # imported by an earlier test's kernel: no notebook
    assert LiveProgress(None)._bar_enabled is False  # pytest's captured stderr is no terminal: a log gets no bar
    progress = LiveProgress(None, bar=True)
    progress.phase("scoring", total=3, unit="file")
    for k in range(1, 4):
        progress.update(k, detail=f"file {k}")
    progress.close()
    err = capsys.readouterr().err
    assert "scoring" in err and "3/3" in err and "file" in err


def test_other_ddp_processes_report_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(PROGRESS_ENV, str(tmp_path / "progress.json"))
    monkeypatch.setenv("RANK", "1")
    progress = live()
    progress.phase("SRL training", total=5)
    progress.update(5)
    assert not (tmp_path / "progress.json").exists() and not capsys.readouterr().err


def test_the_global_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(PROGRESS_ENV, str(tmp_path / "a.json"))
    assert live().path == tmp_path / "a.json"
    monkeypatch.setenv(PROGRESS_ENV, str(tmp_path / "b.json"))
    assert live().path == tmp_path / "b.json"


def test_unreadable_progress_is_none(tmp_path):
    (tmp_path / "p.json").write_text("{half")
    assert read_progress(tmp_path / "p.json") is None and read_progress(tmp_path / "absent.json") is None

