"""What ``study run`` prints about the runs in flight, on a terminal and in a log."""

from __future__ import annotations

import io

from study.infra.live import LiveProgress
from study.orchestration.live_view import LiveView, describe, read_progress


def test_a_log_gets_one_line_per_phase_and_a_line_every_interval(tmp_path):
    path = tmp_path / "progress.json"
    progress = LiveProgress(path, bar=False)
    out = io.StringIO()
    view = LiveView(interactive=False, log_every_s=3600, out=out)
    view.watch("none__seed1", path)
    progress.phase("SRL training")
    progress.update(0, total=400)
    view.poll()
    progress.update(120)
    view.poll()  # same phase, interval not reached: nothing new
    progress.phase("scoring", total=19, unit="file")
    view.poll()
    lines = out.getvalue().splitlines()
    assert lines == ["  none__seed1: SRL training 0/400 steps (0%)", "  none__seed1: scoring 0/19 files (0%)"]
    view.log_every_s = 0
    view.poll()
    assert out.getvalue().splitlines()[-1].startswith("  none__seed1: scoring")


def test_the_description_says_rate_eta_and_detail(tmp_path):
    path = tmp_path / "progress.json"
    progress = LiveProgress(path, bar=False)
    progress.phase("scoring", total=19, unit="file")
    progress.update(4, detail="de/test")
    state = read_progress(path)
    state.phase_started, state.updated = 0.0, 8.0  # four files in 8 s
    assert describe("r", state) == "r: scoring 4/19 files (21%), 2 s/file, about 30 s left (de/test)"


def test_a_terminal_gets_one_status_line_and_log_lines_above_it(tmp_path):
    path = tmp_path / "progress.json"
    progress = LiveProgress(path, bar=False)
    out = io.StringIO()
    view = LiveView(interactive=True, out=out, grid_status=lambda: "[1/18 done]")
    view.watch("none__seed1", path)
    progress.phase("SRL training")
    progress.update(3, total=10)
    view.poll()
    view.log("[1/18 done] running x")
    text = out.getvalue()
    assert text.startswith("\r\x1b[K[1/18 done] | none__seed1: SRL training 3/10 steps (30%)")
    assert "\r\x1b[K[1/18 done] running x\n" in text
    view.unwatch("none__seed1")
    assert out.getvalue().endswith("\r\x1b[K")


def test_the_estimate_before_a_sitting_names_its_basis(tmp_path):
    from study.orchestration.progress import sitting_estimate

    own = tmp_path / "timings.json"
    published = tmp_path / "published.json"
    published.write_text('{"runs": {"a": {"seconds": 1800, "ok": true}, "b": {"seconds": 1800, "ok": true}}}')
    line = sitting_estimate([own, published], 18)
    assert line.startswith("18 run(s) to do, about 9 h 00 min at the mean of 2 timed run(s) in ")
    assert str(published) in line
    own.write_text('{"runs": {"a": {"seconds": 60, "ok": true}}}')
    assert "about 18 min" in sitting_estimate([own, published], 18)
    assert "follows the first run" in sitting_estimate([tmp_path / "none.json"], 3)
    assert "no run to train" in sitting_estimate([own], 0)


def test_durations_read_like_a_person_writes_them():
    from study.orchestration.progress import format_duration

    assert [format_duration(s) for s in (42, 720, 3900)] == ["42 s", "12 min", "1 h 05 min"]


def test_a_published_study_guides_the_first_sitting_only_when_it_ran_the_same_grid(tmp_path, monkeypatch):
    import json
    from types import SimpleNamespace

    from study.orchestration import grid

    published = tmp_path / "reports" / "published" / "default"
    published.mkdir(parents=True)
    (published / "provenance.json").write_text(json.dumps({"params_hash": "v1hash"}))
    monkeypatch.setattr(grid, "repo_root", lambda: tmp_path)
    config = SimpleNamespace(study_name="default", params_hash=lambda: "v2hash")
    assert grid.published_timings(SimpleNamespace(config=config)) == []  # the v1 study times other runs
    config.params_hash = lambda: "v1hash"
    assert grid.published_timings(SimpleNamespace(config=config)) == [published / "timings.json"]
    assert grid.published_timings(SimpleNamespace(config=SimpleNamespace(study_name="other",
                                                                         params_hash=lambda: "v1hash"))) == []
