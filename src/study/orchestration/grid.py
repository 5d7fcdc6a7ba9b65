"""``study run``: the whole grid through papermill, ending in ``reports/<study>/index.html``.

01 (data) runs once; for every run (schedule x seed) 02 (intermediate stages) then 03 (SRL transfer)
are executed, up to ``--jobs`` runs at a time; 04 (analysis) runs once at the end. Completed runs
(a ``DONE.json`` matching their results) are skipped, so re-running after a crash or Ctrl-C resumes.
A failed run keeps its partial notebook with the error while the other runs go on; the exit status
says whether everything succeeded. One writer per study directory (a lock that a crashed holder
does not keep).
"""

from __future__ import annotations

import concurrent.futures as cf
import html
import json
import os
import resource
import shlex
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from study.infra.atomic import write_text
from study.infra.errors import StudyError
from study.orchestration.executors import ExecutorSpec, make_submitit_executor, run_with_submitit
from study.orchestration.notebooks import execute_notebook, render_html
from study.orchestration.progress import save_timings, time_left, utc_timestamp
from study.orchestration.run import StudyContext, done_with_other_params, open_study, run_is_done


@dataclass
class RunOutcome:
    run_id: str
    ok: bool
    seconds: float
    error: str = ""
    skipped: bool = False


class StudyLock:
    """``<study_dir>/.lock`` holding host and pid; a lock whose process is gone is taken over."""

    NAME = ".lock"

    def __init__(self, study_dir: Path) -> None:
        self.path = Path(study_dir) / self.NAME

    def __enter__(self) -> StudyLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = f"{socket.gethostname()} {os.getpid()}"
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                holder = self.path.read_text().strip() if self.path.exists() else "?"
                raise StudyError(f"{self.path.parent}: another `study run` is writing this study (host/pid "
                                 f"{holder}); wait for it, or delete {self.path} if that process is gone") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(me + "\n")
            return self

    def _stale(self) -> bool:
        try:
            host, pid = self.path.read_text().split()
        except (OSError, ValueError):
            return True
        if host != socket.gethostname():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def launch_command(launch: str, params_file: str, run_id: str, reports_root: str) -> list[str]:
    """``<launcher> -m study train-run PARAMS RUN``: accelerate launch and torchrun both take ``-m``."""
    return [*shlex.split(launch), "-m", "study", "train-run", params_file, run_id, "--reports", reports_root]


def execute_run(params_file: str, reports_dir: str, run_id: str, launch: str | None = None) -> RunOutcome:
    """One run: with ``launch``, train it under that launcher first; then notebooks 02 and 03.

    Runs in a worker process with ``--jobs`` > 1 and inside the job with a submitit executor. The
    launcher's output goes to ``<run>/train-run.log``; the notebooks then show the trained run.
    """
    t0 = time.perf_counter()
    run_dir = Path(reports_dir) / run_id
    reports_root = str(Path(reports_dir).parents[1])
    params = {"params_file": params_file, "run_id": run_id, "reports_dir": reports_root}
    try:
        if launch:
            run_dir.mkdir(parents=True, exist_ok=True)
            log_path = run_dir / "train-run.log"
            with open(log_path, "w") as log_file:
                code = subprocess.call(launch_command(launch, params_file, run_id, reports_root),
                                       stdout=log_file, stderr=subprocess.STDOUT)
            if code != 0:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise StudyError(f"`{launch} -m study train-run` exited with {code} (log {log_path}): "
                                 + " | ".join(tail))
        for name in ("02_intermediate", "03_srl_transfer"):
            executed = execute_notebook(name, run_dir / f"{name}.ipynb", params)
            render_html(executed)
    except StudyError as exc:
        return RunOutcome(run_id, False, time.perf_counter() - t0, str(exc))
    return RunOutcome(run_id, True, time.perf_counter() - t0)


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
    executor = executor or ExecutorSpec()
    ctx = open_study(params_file, reports_dir)
    check_schedules(schedules, [s.text for s in ctx.config.parsed_schedules()], params_file)
    study_dir = ctx.study_dir
    params = str(Path(params_file).resolve())
    with StudyLock(study_dir):
        t0 = time.perf_counter()
        stale = done_with_other_params(ctx)
        if stale:
            shown = ", ".join(f"{run} ({made[:12]})" for run, made in stale[:4]) + (" ..." if len(stale) > 4 else "")
            raise StudyError(
                f"{study_dir}: {len(stale)} finished run(s) were computed with other params than {params_file} "
                f"(params hash {ctx.config.params_hash()[:12]}): {shown}. Give the changed study its own "
                f"study_name, or move {study_dir} away to recompute; nothing was changed")
        removed = remove_stale_temporaries(study_dir)
        if removed:
            log(f"removed {removed} temporary file(s) a killed run left behind")
        log(f"study '{ctx.config.study_name}': {len(ctx.runs())} runs, reports in {study_dir}")
        timings: dict = {"runs": {}}
        started = utc_timestamp()
        executed = execute_notebook("01_data", study_dir / "01_data.ipynb",
                                    {"params_file": params, "data_root": str(ctx.data_root)})
        render_html(executed)
        timings["01_data"] = _phase_timing(t0)
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
        run_root = str(study_dir / "runs")
        done = len(outcomes)

        def report(outcome: RunOutcome) -> None:
            nonlocal done
            outcomes.append(outcome)
            done += 1
            timings["runs"][outcome.run_id] = {"seconds": round(outcome.seconds, 1), "ok": outcome.ok}
            save_timings(study_dir / "timings.json", timings, started)
            state = "ok" if outcome.ok else f"FAILED: {outcome.error}"
            # this invocation's runs only: --max-runs / --schedule leave the others for later
            left = time_left([t["seconds"] for t in timings["runs"].values()], len(todo) - len(timings["runs"]), jobs)
            log(f"[{done}/{len(runs)} done, {time.perf_counter() - t0:.0f} s elapsed] {outcome.run_id} "
                f"({outcome.seconds:.0f} s): {state}" + (f"; {left}" if left else ""))

        if executor.kind != "local":
            def finished(args: tuple, outcome) -> None:
                if not isinstance(outcome, RunOutcome):
                    outcome = RunOutcome(args[2], False, 0.0, f"job failed: {outcome}")
                report(outcome)

            pool = make_submitit_executor(executor, Path(executor.folder or study_dir / "slurm"),
                                          ctx.config.study_name)
            log(f"running {len(todo)} run(s) as {executor.kind} jobs, {max(1, jobs)} in flight")
            run_with_submitit(pool, execute_run, [(params, run_root, r.run_id, launch) for r in todo], jobs,
                              finished, log, poll_seconds=2.0 if executor.kind == "submitit-local" else 30.0)
        elif jobs <= 1:
            for r in todo:
                log(f"[{done}/{len(runs)} done] running {r.run_id} (02 intermediate, 03 SRL transfer)")
                report(execute_run(params, run_root, r.run_id, launch))
        else:
            with cf.ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(execute_run, params, run_root, r.run_id, launch) for r in todo]
                log(f"running {len(todo)} run(s), {jobs} at a time")
                for fut in cf.as_completed(futures):
                    report(fut.result())
        failed = [o for o in outcomes if not o.ok]
        collect_results(ctx)
        analysis_ok = True
        t_analysis = time.perf_counter()
        try:
            executed = execute_notebook("04_analysis", study_dir / "04_analysis.ipynb",
                                        {"params_file": params, "reports_dir": str(study_dir.parent)})
            render_html(executed)
        except StudyError as exc:
            analysis_ok = False
            log(f"analysis failed: {exc}")
        timings["04_analysis"] = _phase_timing(t_analysis)
        timings["total"] = _phase_timing(t0)
        save_timings(study_dir / "timings.json", timings, started)
        index = write_index(ctx, outcomes, analysis_ok)
        complete = len(runs) - len(failed) - len(deferred)
        log(f"done in {time.perf_counter() - t0:.0f} s: {complete}/{len(runs)} runs complete")
        if failed:
            log(f"{len(failed)} run(s) failed; fix the cause and re-run the same command to resume")
        if deferred:
            log(f"{len(deferred)} run(s) not run yet: re-run without --max-runs / --schedule to finish the grid")
    return index, not failed and analysis_ok


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


def write_index(ctx: StudyContext, outcomes: list[RunOutcome], analysis_ok: bool) -> Path:
    """The report's entry page, linking the rendered notebooks of the study and of every run."""
    by_id = {o.run_id: o for o in outcomes}
    rows = []
    for r in ctx.runs():
        o = by_id.get(r.run_id)
        status = "complete" if run_is_done(ctx, r) else ("failed: " + html.escape(o.error) if o and not o.ok
                                                        else "not run")
        links = " ".join(f'<a href="runs/{r.run_id}/{n}.html">{n[:2]}</a>'
                         for n in ("02_intermediate", "03_srl_transfer") if (ctx.run_dir(r) / f"{n}.html").exists())
        rows.append(f"<tr><td>{html.escape(r.run_id)}</td><td>{html.escape(r.schedule.text)}</td><td>{r.seed}</td>"
                    f"<td>{status}</td><td>{links}</td></tr>")
    code = ctx.provenance["code"]
    analysis = ('<a href="04_analysis.html">04 Analysis: joint vs sequential, significance tests, figures</a>'
                if analysis_ok else "04 Analysis: not available (see the log)")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Study {html.escape(ctx.config.study_name)}</title>
<style>body{{font-family:sans-serif;max-width:64em;margin:2em auto;line-height:1.45}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}</style>
</head><body>
<h1>Study: {html.escape(ctx.config.study_name)}</h1>
<p>{html.escape(ctx.config.description)}</p>
<ul>
<li>{analysis}</li>
<li><a href="01_data.html">01 Data: the bundle, the encoder sanity check, the grid</a></li>
<li><a href="results.csv">results.csv</a>: every run's scores, one row per run x task x language x metric</li>
<li><a href="provenance.json">provenance.json</a>: code {html.escape(str(code["describe"]))},
params hash {html.escape(ctx.config.params_hash())}, data SHA256SUMS {html.escape(str(ctx.data_fingerprint)[:16])},
encoder {html.escape(str(ctx.encoder_id.get("weights_sha256"))[:16])}</li>
</ul>
<h2>Runs</h2>
<table><tr><th>run</th><th>schedule</th><th>seed</th><th>status</th><th>notebooks</th></tr>
{chr(10).join(rows)}
</table>
</body></html>
"""
    write_text(ctx.study_dir / "provenance.json", json.dumps(ctx.provenance, indent=2, sort_keys=True) + "\n")
    index = ctx.study_dir / "index.html"
    write_text(index, page)
    return index
