"""Where ``study run`` executes its runs: this machine, or one SLURM job per run through submitit.

A run is the same function everywhere (:func:`study.orchestration.grid.execute_run`: optionally ``study
train-run`` under a launcher, then notebooks 02 and 03). Runs share intermediate stages through
the stage cache, which must then be on a filesystem every job sees (``STUDY_CACHE``); a stage
being trained by one job is waited for by the others through the cache's per-stage lock, never
trained twice. ``submitit-local`` runs the job path as local subprocesses (what the tests use).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from study.infra.errors import StudyError


@dataclass(frozen=True)
class ExecutorSpec:
    """``--executor`` and its SLURM resources."""

    kind: str = "local"  # "local", "slurm", "submitit-local"
    partition: str | None = None
    gpus: int = 1
    cpus: int = 8
    minutes: int = 24 * 60
    mem_gb: int = 64
    folder: Path | None = None


def executor_from_args(args) -> ExecutorSpec:
    return ExecutorSpec(args.executor, args.slurm_partition, args.slurm_gpus, args.slurm_cpus, args.slurm_minutes,
                        args.slurm_mem_gb, args.slurm_folder)


def make_submitit_executor(spec: ExecutorSpec, folder: Path, study_name: str):
    """A submitit executor for ``spec`` writing its logs under ``folder``."""
    import submitit

    folder.mkdir(parents=True, exist_ok=True)
    if spec.kind == "submitit-local":
        executor = submitit.LocalExecutor(folder=str(folder))
        executor.update_parameters(timeout_min=spec.minutes)
        return executor
    if spec.kind != "slurm":
        raise StudyError(f"unknown executor '{spec.kind}' (local, slurm, submitit-local)")
    executor = submitit.AutoExecutor(folder=str(folder), cluster="slurm")
    params = {"timeout_min": spec.minutes, "gpus_per_node": spec.gpus, "cpus_per_task": spec.cpus,
              "mem_gb": spec.mem_gb, "name": f"study-{study_name}", "tasks_per_node": 1, "nodes": 1}
    if spec.partition:
        params["slurm_partition"] = spec.partition
    executor.update_parameters(**params)
    return executor


def run_with_submitit(executor, fn: Callable, jobs: list[tuple], in_flight: int, on_done: Callable,
                      log: Callable[[str], None], poll_seconds: float = 2.0) -> None:
    """Submit ``fn(*args)`` per entry of ``jobs``, at most ``in_flight`` at a time; report each outcome.

    ``on_done(args, outcome_or_exception)`` is called as jobs finish; a job that dies (time limit,
    node failure) is reported as failed and the others go on.
    """
    pending = list(jobs)
    running: dict = {}
    while pending or running:
        while pending and len(running) < max(1, in_flight):
            args = pending.pop(0)
            job = executor.submit(fn, *args)
            log(f"submitted job {job.job_id} for {args[2]}")
            running[job] = args
        finished = [job for job in running if job.done()]
        for job in finished:
            args = running.pop(job)
            try:
                outcome = job.result()
            except Exception as exc:  # the job itself failed (killed, timed out, raised)
                outcome = exc
            on_done(args, outcome)
        if not finished:
            time.sleep(poll_seconds)
