"""Grid-runner housekeeping that does not need a study run."""

from __future__ import annotations

import pytest

from study.infra.errors import StudyError
from study.infra.lock import StudyLock
from study.orchestration.grid import remove_stale_temporaries
from tests.helpers import REPO


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

    from study.infra.atomic import write_text

    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "results.csv", "a,b\n")
    finally:
        os.umask(mask)
    assert (tmp_path / "results.csv").stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0o600


def test_time_left_is_the_mean_run_time_times_runs_left():
    from study.orchestration.progress import time_left

    assert time_left([], 5) == ""  # nothing measured yet: no guess
    assert time_left([600.0, 1200.0], 0) == ""
    assert time_left([600.0, 1200.0], 4).startswith("about 1 h 00 min left")  # 900 s x 4
    assert time_left([600.0, 1200.0], 4, jobs=2).startswith("about 30 min left")
    assert time_left([10.0], 1).startswith("about 1 min left")  # never "0 min" while runs remain


def test_timings_accumulate_over_invocations_of_a_resumed_grid():
    from study.orchestration.progress import merge_timings

    first = merge_timings(None, {"runs": {"a": {"seconds": 100.0, "ok": True}, "b": {"seconds": 50.0, "ok": False}},
                                 "total": {"seconds": 160.0}}, started="T1")
    assert first["runs_seconds"] == 150.0 and len(first["invocations"]) == 1
    # the second invocation skips a (complete) and re-runs b, which now succeeds, then c
    second = merge_timings(first, {"runs": {"b": {"seconds": 70.0, "ok": True}, "c": {"seconds": 30.0, "ok": True}},
                                   "total": {"seconds": 110.0}}, started="T2")
    assert set(second["runs"]) == {"a", "b", "c"} and second["runs"]["b"] == {"seconds": 70.0, "ok": True}
    assert second["runs_seconds"] == 200.0
    assert [i["runs_executed"] for i in second["invocations"]] == [["a", "b"], ["b", "c"]]
    assert [i["total"]["seconds"] for i in second["invocations"]] == [160.0, 110.0]
    assert second["total"] == {"seconds": 110.0}  # top-level phases stay this invocation's


def test_an_invocation_saved_after_each_run_keeps_one_entry_and_survives_being_killed():
    from study.orchestration.progress import merge_timings

    # the runner saves after every run: a killed invocation keeps the runs it finished
    saved = merge_timings(None, {"runs": {"a": {"seconds": 100.0, "ok": True}}}, started="T1")
    saved = merge_timings(saved, {"runs": {"a": {"seconds": 100.0, "ok": True},
                                           "b": {"seconds": 40.0, "ok": True}}}, started="T1")
    assert [i["runs_executed"] for i in saved["invocations"]] == [["a", "b"]]  # one entry, updated in place
    assert "total" not in saved["invocations"][0]  # never reached its end
    resumed = merge_timings(saved, {"runs": {"c": {"seconds": 60.0, "ok": True}}, "total": {"seconds": 70.0}},
                            started="T2")
    assert resumed["runs_seconds"] == 200.0 and len(resumed["invocations"]) == 2


def test_max_runs_takes_the_first_runs_in_grid_order_and_leaves_the_rest():
    from study.orchestration.grid import split_todo

    todo = ["none__seed1", "single-mnli__seed1", "none__seed2"]
    assert split_todo(todo, None) == (todo, [])
    assert split_todo(todo, 2) == (todo[:2], todo[2:])
    assert split_todo(todo, 0) == ([], todo)
    assert split_todo(todo, 5) == (todo, [])


def test_schedule_filter_keeps_grid_order_and_defers_the_other_schedules():
    from study.config import expand_runs, load_params
    from study.orchestration.grid import select_schedules, split_todo

    runs = expand_runs(load_params(REPO / "params" / "default.yaml"))
    chosen, other = select_schedules(runs, ["none", "joint:mnli+squad_v1"])
    assert [r.run_id for r in chosen[:6]] == ["none__n1000__seed1", "joint-mnli-squad_v1__n1000__seed1",
                                              "none__seed1", "joint-mnli-squad_v1__seed1", "none__n1000__seed2",
                                              "joint-mnli-squad_v1__n1000__seed2"]
    assert len(chosen) == 16 and len(other) == len(runs) - 16
    assert not {r.run_id for r in chosen} & {r.run_id for r in other}
    assert select_schedules(runs, None) == (runs, [])
    assert split_todo(chosen, 1)[0] == chosen[:1]  # --max-runs applies after the filter


def test_a_schedule_not_in_the_params_is_refused_before_anything_runs(tmp_path, data_root, encoder_dir):
    from study.orchestration.grid import run_study

    with pytest.raises(StudyError, match=r"--schedule 'seq:mnli>squad' is not a schedule of .*smoke.yaml; its "
                                         r"schedules: none, single:mnli, seq:mnli>squad_v1"):
        run_study(REPO / "params" / "smoke.yaml", reports_dir=tmp_path, schedules=["none", "seq:mnli>squad"])
    assert not list(tmp_path.rglob("*.ipynb")) and not list(tmp_path.rglob("DONE.json"))


def test_negative_max_runs_is_refused_before_anything_runs(tmp_path):
    import pytest

    from study.infra.errors import StudyError
    from study.orchestration.grid import run_study

    with pytest.raises(StudyError, match="--max-runs must be 0 or more"):
        run_study(tmp_path / "never-opened.yaml", reports_dir=tmp_path, max_runs=-1)
    assert not any(tmp_path.iterdir())


def test_a_run_copied_without_its_predictions_is_not_complete(tmp_path):
    """The committed report has no prediction files: such a run is recomputed, not analysed and failed on."""
    import json

    from study.analysis.compare import load_results
    from study.infra.hashing import sha256_file
    from study.infra.layout import run_dir_is_complete

    run_dir = tmp_path / "runs" / "none__seed1"
    (run_dir / "predictions").mkdir(parents=True)
    (run_dir / "predictions" / "de-test.conllu").write_text("# text = x\n")
    (run_dir / "results.csv").write_text("run,task,label,value\nnone__seed1,srl,,0.5\n")
    (run_dir / "DONE.json").write_text(json.dumps({"results_sha256": sha256_file(run_dir / "results.csv")}))
    assert run_dir_is_complete(run_dir) and len(load_results(tmp_path)) == 1
    (run_dir / "predictions" / "de-test.conllu").unlink()
    assert not run_dir_is_complete(run_dir)
    with pytest.raises(StudyError, match="no completed runs"):
        load_results(tmp_path)
    (run_dir / "predictions" / "de-test.conllu").write_text("# text = x\n")
    (run_dir / "results.csv").write_text("run,task,label,value\nnone__seed1,srl,,0.9\n")  # edited after DONE
    assert not run_dir_is_complete(run_dir)


def test_a_lock_whose_process_is_gone_is_taken_over_and_said_so(tmp_path):
    import os
    import subprocess
    import sys

    from study.infra.lock import StudyLock

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lock = tmp_path / ".lock"
    lock.write_text(f"{os.uname().nodename} {gone.pid}\n")  # what a SIGKILLed `study run` leaves
    said = []
    with StudyLock(tmp_path, log=said.append):
        assert lock.read_text().split()[1] == str(os.getpid())
    assert len(said) == 1 and said[0].startswith("took over the lock of an earlier `study run` that is gone")
    assert f"{gone.pid}" in said[0] and not lock.exists()


class _Run:
    """A run as the grid's bookkeeping sees it: its id."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id


class _TimedExecutor:
    """Runs no notebook: each run 'takes' the seconds given, so the grid's own bookkeeping is what is tested."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    def execute(self, fn, calls, on_start, on_done) -> None:
        from study.orchestration.grid import RunOutcome

        for call in calls:
            on_start(call)
            on_done(call, RunOutcome(call[2], True, self.seconds[call[2]]))


@pytest.mark.needs_data
def test_time_left_comes_from_the_cost_model_scaled_by_how_the_finished_runs_compared(tiny_params, tmp_path,
                                                                                        data_root):
    """A `none` run first must not make a grid whose other runs train intermediate stages look short.

    A fresh v2 default study said 'about 4 h 14 min left at the mean run time so far' after its first
    (`none`) run, while the cost model forecast 9.2 h for the grid: a mean over runs cannot know that
    the runs left train stages.
    """
    from study.orchestration.cost import forecast_runs
    from study.orchestration.grid import Sitting, execute
    from study.orchestration.progress import about
    from tests.orchestration.test_cost import _context, _rates

    rates = _rates()
    rates["intermediate"]["mnli"]["seconds_per_step"] = 100.0  # stages dominate, as SQuAD's do here
    rates["intermediate"]["squad_v1"]["seconds_per_step"] = 300.0
    ctx = _context(tiny_params(schedules=["none", "seq:mnli>squad_v1"]), tmp_path, data_root)
    none, seq = ctx.runs()[:2]
    assert none.schedule.kind == "none" and seq.schedule.kind == "seq"
    one_run = forecast_runs(ctx, [none], rates)
    none_forecast = one_run.seconds - one_run.parts["per-study overhead"]
    left_forecast = forecast_runs(ctx, [seq], rates).seconds  # its two stages, the run, the analysis at the end
    assert left_forecast > 10 * none_forecast
    sitting = Sitting(ctx, "params/smoke.yaml", [none, seq], [none, seq], [], [], {"runs": {}}, "T", 0.0, rates)
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if f"elapsed] {none.run_id} (" in line:  # the line after the first run: what is left is the seq run
            assert sitting.left[0] == pytest.approx(2 * left_forecast)

    execute(sitting, _TimedExecutor({none.run_id: 2 * none_forecast, seq.run_id: left_forecast}), None, 1, log)
    after_none = next(line for line in lines if f"elapsed] {none.run_id} (" in line)
    assert f"{about(2 * left_forecast)} left (cost model x 2.00, as the 1 run(s) finished here" in after_none
    assert sitting.left == (None, "")  # nothing left after the last run


def test_without_rates_for_this_machine_the_time_left_is_the_mean_run_time():
    from study.orchestration.grid import Sitting
    from study.orchestration.progress import about

    sitting = Sitting(None, "p.yaml", [], [_Run("a"), _Run("b"), _Run("c")], [], [],
                      {"runs": {"a": {"seconds": 600.0, "ok": True}}}, "T", 0.0, rates=None)
    sitting.reckon_time_left(jobs=1)
    assert sitting.left == (1200.0, f"{about(1200.0)} left at the mean run time so far")
