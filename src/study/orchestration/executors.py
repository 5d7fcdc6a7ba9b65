"""Where ``study run`` executes its runs: one interface, three places.

:class:`InProcess` runs them one after another here (``--jobs 1``), :class:`ProcessPool` several at a
time in worker processes (``--jobs N``), :class:`Submitit` as SLURM jobs (``--executor slurm``) or as
local subprocesses through the same job path (``submitit-local``, what the tests use). Every
executor calls the same function per run (``orchestration.grid.execute_run``: optionally ``study
train-run`` under a launcher, then notebooks 02 and 03) and reports each outcome as it comes.

Runs share intermediate stages through the stage cache, which must then be on a filesystem every
job sees (``STUDY_CACHE``); a stage being trained by one job is waited for by the others through the
cache's per-stage lock, never trained twice.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from study.infra.errors import StudyError

#: ``fn(*call)`` runs one run; a call's third item is its run id
Call = tuple
OnStart = Callable[[Call], None]
OnDone = Callable[[Call, Any], None]  # the function's return value, or the exception that ended the job


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


class RunExecutor(Protocol):
    def execute(self, fn: Callable, calls: list[Call], on_start: OnStart, on_done: OnDone) -> None:
        """Run ``fn(*call)`` for every call; ``on_done`` as each finishes (in completion order)."""


class InProcess:
    """One run after another, in this process."""

    def execute(self, fn: Callable, calls: list[Call], on_start: OnStart, on_done: OnDone) -> None:
        for call in calls:
            on_start(call)
            on_done(call, fn(*call))


@dataclass
class ProcessPool:
    """``workers`` runs at a time, each in a worker process."""

    workers: int
    log: Callable[[str], None] = print

    def execute(self, fn: Callable, calls: list[Call], on_start: OnStart, on_done: OnDone) -> None:
        with cf.ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(fn, *call): call for call in calls}
            self.log(f"running {len(calls)} run(s), {self.workers} at a time")
            for fut in cf.as_completed(futures):
                on_done(futures[fut], fut.result())


@dataclass
class Submitit:
    """One submitit job per run, at most ``in_flight`` at a time; a job that dies is reported, the rest go on."""

    spec: ExecutorSpec
    folder: Path
    study_name: str
    in_flight: int
    log: Callable[[str], None] = print

    def _executor(self):
        import submitit

        self.folder.mkdir(parents=True, exist_ok=True)
        if self.spec.kind == "submitit-local":
            executor = submitit.LocalExecutor(folder=str(self.folder))
            executor.update_parameters(timeout_min=self.spec.minutes)
            return executor
        executor = submitit.AutoExecutor(folder=str(self.folder), cluster="slurm")
        params = {"timeout_min": self.spec.minutes, "gpus_per_node": self.spec.gpus, "cpus_per_task": self.spec.cpus,
                  "mem_gb": self.spec.mem_gb, "name": f"study-{self.study_name}", "tasks_per_node": 1, "nodes": 1}
        if self.spec.partition:
            params["slurm_partition"] = self.spec.partition
        executor.update_parameters(**params)
        return executor

    def execute(self, fn: Callable, calls: list[Call], on_start: OnStart, on_done: OnDone) -> None:
        executor = self._executor()
        poll = 2.0 if self.spec.kind == "submitit-local" else 30.0
        self.log(f"running {len(calls)} run(s) as {self.spec.kind} jobs, {max(1, self.in_flight)} in flight")
        pending, running = list(calls), {}
        while pending or running:
            while pending and len(running) < max(1, self.in_flight):
                call = pending.pop(0)
                job = executor.submit(fn, *call)
                self.log(f"submitted job {job.job_id} for {call[2]}")
                running[job] = call
            finished = [job for job in running if job.done()]
            for job in finished:
                call = running.pop(job)
                try:
                    outcome = job.result()
                except Exception as exc:  # the job itself failed (killed, timed out, raised)
                    outcome = exc
                on_done(call, outcome)
            if not finished:
                time.sleep(poll)


def make_executor(spec: ExecutorSpec, jobs: int, study_dir: Path, study_name: str,
                  log: Callable[[str], None] = print) -> RunExecutor:
    """The executor ``--executor`` and ``--jobs`` ask for."""
    if spec.kind == "local":
        return InProcess() if jobs <= 1 else ProcessPool(jobs, log)
    if spec.kind not in ("slurm", "submitit-local"):
        raise StudyError(f"unknown executor '{spec.kind}' (local, slurm, submitit-local)")
    return Submitit(spec, Path(spec.folder or study_dir / "slurm"), study_name, jobs, log)
