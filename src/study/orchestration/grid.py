"""``study run``: the whole grid through papermill, ending in ``reports/<study>/index.html``.

01 (data) runs once; for every run (schedule x seed) 02 (intermediate stages) then 03 (SRL transfer)
are executed, up to ``--jobs`` runs at a time; 04 (analysis) runs once at the end. Completed runs
(a ``DONE.json`` matching their results) are skipped, so re-running after a crash or Ctrl-C resumes.
A failed run keeps its partial notebook with the error while the other runs go on; the exit status
says whether everything succeeded. One writer per study directory (a lock that a crashed holder
does not keep).
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd

from study.config import RunSpec
from study.infra import layout
from study.infra.atomic import write_text
from study.infra.errors import StudyError
from study.infra.hardware import precision_label
from study.infra.live import PROGRESS_ENV, live
from study.infra.lock import LOCK_ENV, StudyLock
from study.infra.paths import repo_root
from study.orchestration.cost import forecast_line, load_rates, safe_forecast
from study.orchestration.executors import ExecutorSpec, RunExecutor, make_executor
from study.orchestration.live_view import LiveView
from study.orchestration.notebooks import execute_notebook, render_html
from study.orchestration.progress import (
    about,
    forecast_time_left,
    save_timings,
    seconds_left,
    sitting_estimate,
    time_left,
    utc_timestamp,
)
from study.orchestration.run import StudyContext, done_with_other_params, open_study, run_is_done

_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("study.orchestration", "templates"),
                                autoescape=True, keep_trailing_newline=True)


@dataclass
class RunOutcome:
    run_id: str
    ok: bool
    seconds: float
    error: str = ""
    skipped: bool = False


def launch_command(launch: str, params_file: str, run_id: str, reports_root: str) -> list[str]:
    """``<launcher> -m study train-run PARAMS RUN``: accelerate launch and torchrun both take ``-m``.

    ``--pending``: the run counts as complete only once notebooks 02 and 03 rendered it.
    """
    return [*shlex.split(launch), "-m", "study", "train-run", params_file, run_id, "--reports", reports_root,
            "--pending"]


def execute_run(params_file: str, reports_dir: str, run_id: str, launch: str | None = None) -> RunOutcome:
    """One run: with ``launch``, train it under that launcher first; then notebooks 02 and 03.

    Runs in a worker process with ``--jobs`` > 1 and inside the job with a submitit executor. The
    launcher's output goes to ``<run>/train-run.log``; the notebooks then show the trained run.
    """
    t0 = time.perf_counter()
    run_dir = Path(reports_dir) / run_id
    reports_root = str(Path(reports_dir).parents[1])
    params = {"params_file": params_file, "run_id": run_id, "reports_dir": reports_root}
    run_dir.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = str(layout.progress_file(run_dir))  # the kernels inherit it
    try:
        if launch:
            log_path = run_dir / "train-run.log"
            held = {LOCK_ENV: StudyLock(Path(reports_dir).parent).holder()}  # this grid's lock: not a rival
            with open(log_path, "w") as log_file:
                code = subprocess.call(launch_command(launch, params_file, run_id, reports_root),
                                       stdout=log_file, stderr=subprocess.STDOUT, env={**os.environ, **held})
            if code != 0:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise StudyError(f"`{launch} -m study train-run` exited with {code} (log {log_path}): "
                                 + " | ".join(tail))
        for name in ("02_intermediate", "03_srl_transfer"):
            live().phase(f"notebook {name}: starting")
            executed = execute_notebook(name, run_dir / f"{name}.ipynb", params)
            live().phase(f"rendering {name}.html")
            render_html(executed)
        live().phase("finished")
    except StudyError as exc:
        return RunOutcome(run_id, False, time.perf_counter() - t0, str(exc))
    finally:
        if previous is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = previous
        live().close()
    return RunOutcome(run_id, True, time.perf_counter() - t0)


@dataclass
class Sitting:
    """One ``study run`` invocation: the runs it executes now, and what it found done or leaves for later."""

    ctx: StudyContext
    params: str  # the params file, absolute
    runs: list[RunSpec]
    todo: list[RunSpec]
    deferred: list[RunSpec]
    outcomes: list[RunOutcome]  # runs already complete first, then each run as it finishes
    timings: dict
    started: str
    t0: float
    #: this machine's measured rates (the cost model; None where `study bench` never measured it)
    rates: dict | None = None
    #: run id -> the cost model's seconds for the run (and the stages it still needed) as it started
    forecast: dict[str, float] = field(default_factory=dict)
    #: (seconds, line) left after the last finished run; (None, "") before the first and after the last
    left: tuple[float | None, str] = (None, "")

    @property
    def done(self) -> int:
        return len(self.outcomes)

    def run_started(self, run_id: str) -> None:
        """Keep the cost model's forecast for the run, to compare with its measured time when it ends."""
        f = safe_forecast(self.ctx, [self.ctx.run(run_id)], self.rates)
        if f is not None:
            self.forecast[run_id] = f.seconds - f.parts.get("per-study overhead", 0.0)

    def reckon_time_left(self, jobs: int) -> None:
        """After a run ends: how long this invocation's other runs should take.

        From the cost model where this machine has rates (what is left now, with the stages cached so
        far, scaled by how the finished runs compared with their forecasts); else the mean run time.
        """
        runs = self.timings["runs"]
        left = [r for r in self.todo if r.run_id not in runs]  # --max-runs / --schedule leave the others
        if not runs or not left:
            self.left = (None, "")
            return
        f = safe_forecast(self.ctx, left, self.rates)
        timed = [(t["seconds"], self.forecast[rid]) for rid, t in runs.items() if t["ok"] and rid in self.forecast]
        if f is not None and timed:
            self.left = forecast_time_left(f.seconds, [m for m, _ in timed], [p for _, p in timed], jobs)
        else:
            seconds = [t["seconds"] for t in runs.values()]
            self.left = (seconds_left(seconds, len(left), jobs), time_left(seconds, len(left), jobs))


def run_study(params_file: Path, reports_dir: Path | None = None, jobs: int = 1, log=print,
              executor: ExecutorSpec | None = None, launch: str | None = None,
              max_runs: int | None = None, schedules: list[str] | None = None) -> tuple[Path, bool]:
    """Run the grid; return (index.html, whether every run attempted succeeded).

    ``executor`` picks where runs execute (this machine by default, or SLURM jobs through submitit);
    ``launch`` trains each run under a multi-process launcher (``accelerate launch ...``) first.
    ``max_runs`` caps the runs this invocation executes (grid order, seed-major): a long grid can be
    run in sittings, each ending with the analysis and report of every run complete so far.
    ``schedules`` (schedule texts such as ``none``) restricts this invocation to those schedules' runs,
    e.g. the baseline of every seed first; the others stay for a later invocation.
    """
    if max_runs is not None and max_runs < 0:
        raise StudyError(f"--max-runs must be 0 or more, not {max_runs}")
    ctx = open_study(params_file, reports_dir)
    check_schedules(schedules, [s.text for s in ctx.config.parsed_schedules()], params_file)
    spec = executor or ExecutorSpec()
    with StudyLock(ctx.study_dir, log):
        sitting = prepare(ctx, Path(params_file), max_runs, schedules, log)
        execute(sitting, make_executor(spec, jobs, ctx.study_dir, ctx.config.study_name, log), launch, jobs, log)
        return finish(sitting, log)


def prepare(ctx: StudyContext, params_file: Path, max_runs: int | None, schedules: list[str] | None,
            log) -> Sitting:
    """Refuse a study folder made with other params, clean up after killed writers, run notebook 01,
    and choose the runs this invocation executes."""
    t0 = time.perf_counter()
    study_dir = ctx.study_dir
    precision = precision_label(ctx.config.runtime.mixed_precision)  # as the params resolved it here
    stale = done_with_other_params(ctx)
    if stale:
        shown = ", ".join(f"{run} ({made[:12]})" for run, made in stale[:4]) + (" ..." if len(stale) > 4 else "")
        raise StudyError(
            f"{study_dir}: {len(stale)} finished run(s) were computed with other params than {params_file} "
            f"(params hash {ctx.config.params_hash()[:12]}, precision {precision} here): {shown}. Give the "
            f"changed study its own study_name, or move {study_dir} away to recompute; nothing was changed")
    removed = remove_stale_temporaries(study_dir)
    if removed:
        log(f"removed {removed} temporary file(s) a killed run left behind")
    log(f"study '{ctx.config.study_name}': {len(ctx.runs())} runs, {precision} precision, "
        f"reports in {study_dir}")
    params = str(params_file.resolve())
    started = utc_timestamp()
    executed = execute_notebook("01_data", study_dir / "01_data.ipynb",
                                {"params_file": params, "data_root": str(ctx.data_root)})
    render_html(executed)
    timings: dict = {"runs": {}, "01_data": _phase_timing(t0)}
    runs = ctx.runs()
    pending = [r for r in runs if not run_is_done(ctx, r)]
    chosen, other = select_schedules(pending, schedules)
    todo, deferred = split_todo(chosen, max_runs)
    deferred += other
    if deferred:
        limits = " ".join(([f"--max-runs {max_runs}"] if max_runs is not None else [])
                          + [f"--schedule {s}" for s in schedules or []])
        log(f"{limits}: {len(todo)} run(s) now, {len(deferred)} left for a later invocation")
    outcomes = [RunOutcome(r.run_id, True, 0.0, skipped=True) for r in runs if r not in pending]
    if outcomes:
        log(f"{len(outcomes)} run(s) already complete: skipped")
    rates = load_rates()
    # the cost model knows the grid (which runs train stages, which stages are cached); a mean over
    # earlier runs is the guide only where this machine was never measured
    log(forecast_line(ctx, todo, rates)
        or sitting_estimate([study_dir / "timings.json", *published_timings(ctx)], len(todo)))
    if todo:
        log("Ctrl-C stops at any time; the same command resumes (finished runs and stages are kept)")
    return Sitting(ctx, params, runs, todo, deferred, outcomes, timings, started, t0, rates)


def published_timings(ctx) -> list[Path]:
    """The published run of this very grid (same params hash), whose run times guide a first sitting.

    A published study of another design (the v1 default under the v2 params) times other runs, so it
    is no basis; the cost model's forecast, logged beside, is the one that knows the grid.
    """
    published = repo_root() / "reports" / "published" / ctx.config.study_name
    try:
        made_by = json.loads((published / "provenance.json").read_text())["params_hash"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [published / "timings.json"] if made_by == ctx.config.params_hash() else []


def execute(sitting: Sitting, executor: RunExecutor, launch: str | None, jobs: int, log,
            view: LiveView | None = None) -> None:
    """Every run of ``sitting.todo`` through ``executor``; timings saved and a line logged as each ends.

    While a run is in flight ``view`` shows its phase, step and ETA (read from its progress file).
    """
    run_root = str(sitting.ctx.study_dir / "runs")
    n_runs = len(sitting.runs)
    view = view or LiveView(grid_status=lambda: grid_status(sitting), emit=log)
    log = view.log

    def started(call: tuple) -> None:
        log(f"[{sitting.done}/{n_runs} done] running {call[2]} (02 intermediate, 03 SRL transfer)")
        sitting.run_started(call[2])
        view.watch(call[2], layout.progress_file(sitting.ctx.study_dir / "runs" / call[2]))

    def finished(call: tuple, outcome) -> None:
        view.unwatch(call[2])
        if not isinstance(outcome, RunOutcome):
            outcome = RunOutcome(call[2], False, 0.0, f"job failed: {outcome}")
        sitting.outcomes.append(outcome)
        runs = sitting.timings["runs"]
        runs[outcome.run_id] = {"seconds": round(outcome.seconds, 1), "ok": outcome.ok}
        save_timings(sitting.ctx.study_dir / "timings.json", sitting.timings, sitting.started)
        state = "ok" if outcome.ok else f"FAILED: {outcome.error}"
        sitting.reckon_time_left(jobs)
        left = sitting.left[1]
        log(f"[{sitting.done}/{n_runs} done, {time.perf_counter() - sitting.t0:.0f} s elapsed] {outcome.run_id} "
            f"({outcome.seconds:.0f} s): {state}" + (f"; {left}" if left else ""))

    calls = [(sitting.params, run_root, r.run_id, launch) for r in sitting.todo]
    with view:
        executor.execute(execute_run, calls, started, finished)


def grid_status(sitting: Sitting) -> str:
    """``[2/18 done, about 5 h 10 min left]`` for the status line (as reckoned when the last run ended)."""
    left = sitting.left[0]
    return f"[{sitting.done}/{len(sitting.runs)} done" + (f", {about(left)} left]" if left is not None else "]")


def finish(sitting: Sitting, log) -> tuple[Path, bool]:
    """The study's results table, notebook 04, timings and the index page; (index.html, all ok)."""
    ctx = sitting.ctx
    study_dir = ctx.study_dir
    failed = [o for o in sitting.outcomes if not o.ok]
    analysis = "ok"
    t_analysis = time.perf_counter()
    if collect_results(ctx) is None:
        analysis = "pending"
        log("no run is complete yet: the analysis (04) follows the first finished run")
    else:
        try:
            executed = execute_notebook("04_analysis", study_dir / "04_analysis.ipynb",
                                        {"params_file": sitting.params, "reports_dir": str(study_dir.parent)})
            render_html(executed)
        except StudyError as exc:
            analysis = "failed"
            log(f"analysis failed: {exc}")
    sitting.timings["04_analysis"] = _phase_timing(t_analysis)
    sitting.timings["total"] = _phase_timing(sitting.t0)
    save_timings(study_dir / "timings.json", sitting.timings, sitting.started)
    index = write_index(ctx, sitting.outcomes, analysis)
    complete = len(sitting.runs) - len(failed) - len(sitting.deferred)
    log(f"done in {time.perf_counter() - sitting.t0:.0f} s: {complete}/{len(sitting.runs)} runs complete")
    if failed:
        log(f"{len(failed)} run(s) failed; fix the cause and re-run the same command to resume")
    if sitting.deferred:
        log(f"{len(sitting.deferred)} run(s) not run yet: re-run without --max-runs / --schedule to finish the grid")
    return index, not failed and analysis != "failed"


def check_schedules(schedules: list[str] | None, grid: list[str], params_file: Path) -> None:
    """Refuse a ``--schedule`` the params file does not have, before anything runs."""
    for text in schedules or []:
        if text not in grid:
            raise StudyError(f"--schedule {text!r} is not a schedule of {params_file}; its schedules: "
                             f"{', '.join(grid)}")


def select_schedules(pending: list, schedules: list[str] | None) -> tuple[list, list]:
    """(runs of the chosen schedules, the other runs), grid order kept; None chooses every run."""
    if not schedules:
        return list(pending), []
    return ([r for r in pending if r.schedule.text in schedules],
            [r for r in pending if r.schedule.text not in schedules])


def split_todo(todo: list, max_runs: int | None) -> tuple[list, list]:
    """(runs to execute now, runs left for later) under ``--max-runs`` (None: all now)."""
    if max_runs is None:
        return list(todo), []
    return list(todo[:max_runs]), list(todo[max_runs:])


def remove_stale_temporaries(study_dir: Path) -> int:
    """Delete ``.<name>.*.tmp`` files (and papermill's ``.ipynb`` twins) that a killed writer left.

    Only called while holding the study lock, so no live writer owns them; finished files are never
    temporaries (they are renamed into place), so nothing computed is lost.
    """
    removed = 0
    for path in study_dir.rglob(".*"):
        if path.is_file() and path.name != StudyLock.NAME and (path.suffix in {".tmp", ".ipynb"}):
            path.unlink()
            removed += 1
    return removed


def _phase_timing(t0: float) -> dict:
    """Seconds since ``t0`` and the largest resident set of any finished child process so far (MB)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb_so_far": round(peak, 1)}


def collect_results(ctx: StudyContext) -> Path | None:
    """``reports/<study>/results.csv``: every complete run's tidy rows in one table."""
    frames = [pd.read_csv(ctx.run_dir(r) / "results.csv", keep_default_na=False) for r in ctx.runs()
              if run_is_done(ctx, r)]
    if not frames:
        return None
    path = ctx.study_dir / "results.csv"
    write_text(path, pd.concat(frames, ignore_index=True).to_csv(index=False))
    return path


def _answer(study_dir: Path) -> tuple[str, list[dict], list[dict]]:
    """The answer notebook 04 saved (HTML of its sentence, its table's rows, the hypotheses' verdicts)."""
    import mistune

    try:
        saved = json.loads((study_dir / layout.ANSWER).read_text())
    except (OSError, json.JSONDecodeError):
        return "", [], []
    return (str(mistune.html(saved.get("answer", ""))), list(saved.get("table", [])),
            list(saved.get("hypotheses", [])))


def write_index(ctx: StudyContext, outcomes: list[RunOutcome], analysis: str) -> Path:
    """The report's entry page (``templates/index.html``), linking the rendered notebooks of every run.

    ``analysis``: "ok" (04 rendered), "failed" (see the log) or "pending" (no run complete yet).
    """
    by_id = {o.run_id: o for o in outcomes}
    runs = []
    for r in ctx.runs():
        o = by_id.get(r.run_id)
        status = "complete" if run_is_done(ctx, r) else (f"failed: {o.error}" if o and not o.ok else "not run")
        pages = [n for n in ("02_intermediate", "03_srl_transfer") if (ctx.run_dir(r) / f"{n}.html").exists()]
        runs.append({"run_id": r.run_id, "schedule": r.schedule.text, "seed": r.seed, "status": status,
                     "pages": pages})
    answer_html, answer_rows, hypotheses = _answer(ctx.study_dir) if analysis == "ok" else ("", [], [])
    page = _TEMPLATES.get_template("index.html").render(
        study_name=ctx.config.study_name, description=ctx.config.description, analysis=analysis,
        answer=answer_html, answer_rows=answer_rows, hypotheses=hypotheses,
        answer_figure=bool(answer_html) and (ctx.study_dir / layout.ANSWER_FIGURE).is_file(),
        code=str(ctx.provenance["code"]["describe"]), params_hash=ctx.config.params_hash(),
        data_sha256sums=str(ctx.data_fingerprint)[:16],
        encoder_sha256=str(ctx.encoder_id.get("weights_sha256"))[:16], runs=runs)
    write_text(ctx.study_dir / "provenance.json", json.dumps(ctx.provenance, indent=2, sort_keys=True) + "\n")
    index = ctx.study_dir / "index.html"
    write_text(index, page)
    return index
