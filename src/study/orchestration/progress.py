"""What a long grid tells its user while it runs and keeps after it stops.

The default grid takes hours on a laptop and is usually finished over several invocations (the
runner skips complete runs). Two small pieces make that bearable and measurable: an estimate of
the time left after each run, and a timings file that accumulates over invocations instead of
keeping only the last one, so the study's end-to-end compute time can be read off at the end.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from study.infra.atomic import write_text


def format_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``1 h 05 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def seconds_left(seconds_per_run: list[float], runs_left: int, jobs: int = 1) -> float | None:
    """The mean time of the runs executed so far times the runs left (None before the first, or when none is left)."""
    if not seconds_per_run or runs_left <= 0:
        return None
    return sum(seconds_per_run) / len(seconds_per_run) * runs_left / max(1, jobs)


def about(seconds: float) -> str:
    """``about 1 h 05 min`` in whole minutes: never "0 min" while runs remain."""
    return f"about {format_duration(max(seconds, 60))}"


def time_left(seconds_per_run: list[float], runs_left: int, jobs: int = 1) -> str:
    """"about 1 h 05 min left" at the mean time of the runs executed so far ("" before the first).

    Runs differ (a ``none`` run trains no intermediate stage), so this is a rough guide; it says so.
    """
    seconds = seconds_left(seconds_per_run, runs_left, jobs)
    return "" if seconds is None else f"{about(seconds)} left at the mean run time so far"


def forecast_time_left(forecast_left: float, measured: list[float], forecast: list[float],
                       jobs: int = 1) -> tuple[float, str]:
    """(seconds left, "about 9 h 10 min left (cost model x 1.06, ...)"): the cost model's forecast for
    what is left, times how the finished runs compared with their own forecasts (measured / forecast,
    summed).

    The forecast knows which runs train intermediate stages and which find them cached, so a ``none``
    run first does not make a grid of stage-training runs look short, as a mean over runs would; the
    ratio carries what the rates could not know (a slower day on a shared machine).
    """
    ratio = sum(measured) / sum(forecast) if measured and sum(forecast) > 0 else 1.0
    seconds = forecast_left * ratio / max(1, jobs)
    return seconds, (f"{about(seconds)} left (cost model x {ratio:.2f}, as the {len(measured)} run(s) finished "
                     "here compared with it)")


def utc_timestamp() -> str:
    """Now, as the timings file writes it (``2026-11-26T22:44:34Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def merge_timings(previous: dict | None, current: dict, started: str) -> dict:
    """This invocation's timings on top of earlier ones: runs from every invocation, each invocation listed.

    ``current`` holds ``runs`` (run id -> seconds, ok) and phase entries (``01_data``, ``04_analysis``,
    ``total``) of this invocation. A run executed again replaces its earlier entry. ``runs_seconds``
    is the sum over the latest entry of every run: with ``--jobs 1`` the grid's training time whatever
    how many invocations it took.

    ``started`` (the invocation's start time) names the invocation: the runner saves after every run,
    so an invocation that is killed (session end, Ctrl-C) still leaves the runs it finished, and each
    save replaces the invocation's own earlier entry. An entry without ``total`` is an invocation
    that never reached its end. A run killed part-way and resumed counts only its resumed part.
    """
    previous = previous or {}
    phases = {k: v for k, v in current.items() if k != "runs"}
    runs = {**previous.get("runs", {}), **current.get("runs", {})}
    invocations = [i for i in previous.get("invocations", []) if i.get("started") != started]
    invocations.append({"started": started, "saved": utc_timestamp(),
                        "runs_executed": sorted(current.get("runs", {})), **phases})
    return {**phases, "runs": runs, "runs_seconds": round(sum(r["seconds"] for r in runs.values()), 1),
            "invocations": invocations}


def save_timings(timings_file: Path, timings: dict, started: str) -> None:
    """Merge this invocation's ``timings`` into ``timings_file`` (the runner calls it after each run and at the end).

    Saving after each run keeps the record of a grid finished over several killed invocations.
    """
    try:
        previous = json.loads(timings_file.read_text()) if timings_file.is_file() else None
    except json.JSONDecodeError:
        previous = None  # an unreadable file from an older version: start the record again
    write_text(timings_file, json.dumps(merge_timings(previous, timings, started), indent=2) + "\n")


def sitting_estimate(timings_files: list[Path], runs_to_do: int, jobs: int = 1) -> str:
    """What ``study run`` says before it starts: how long the runs to do should take, and on what basis.

    The basis is the first of ``timings_files`` that holds timed runs: this study's own record (earlier
    sittings on this machine), then the published run of the same study (a 2-core CPU machine).
    """
    if runs_to_do <= 0:
        return "no run to train in this invocation"
    for path in timings_files:
        try:
            runs = json.loads(path.read_text())["runs"]
            seconds = [float(r["seconds"]) for r in runs.values() if r.get("ok") and r["seconds"] > 0]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if seconds:
            left = about(seconds_left(seconds, runs_to_do, jobs) or 0)
            return (f"{runs_to_do} run(s) to do, {left} at the mean of {len(seconds)} timed run(s) in {path} "
                    "(a rough guide: runs differ, and reused stages make later runs faster)")
    return f"{runs_to_do} run(s) to do; an estimate of the time left follows the first run"
