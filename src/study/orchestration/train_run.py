"""``study train-run``: one run's training and scoring, in one process or under a DDP launcher.

``accelerate launch --num_processes N -m study train-run params/X.yaml RUN`` (or ``torchrun``)
starts N processes that all call :func:`train_one_run`: the process group is set up first, the main
process builds the encoder if needed while the others wait, then every process trains its share of
each batch and the main process scores and writes the run's results (see :mod:`study.training.distributed`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from study.config import load_params
from study.infra import layout
from study.infra.lock import StudyLock
from study.infra.paths import reports_root
from study.training import distributed
from study.training.engine import runs_on_cpu


def _init_process_group(device: str) -> None:
    """Start the process group now (accelerate would at the first Engine), so barriers work early."""
    from accelerate import PartialState

    PartialState(cpu=runs_on_cpu(device))


def train_one_run(params_file: Path, run_id: str, reports_dir: Path | None = None,
                  complete: bool = True) -> Path | None:
    """Train and score ``run_id``; the results file (on the main process), None on the others.

    The main process holds the study's lock while it trains, unless the ``study run`` that launched
    it holds it already.
    """
    config = load_params(params_file)
    lock = StudyLock(layout.study_dir(Path(reports_dir or reports_root()), config.study_name))
    with contextlib.ExitStack() as held:
        if distributed.is_main() and not lock.held_for_me():
            # a refusal ends this process before any process group exists; the launcher stops the others
            held.enter_context(lock)
        return _train(params_file, run_id, reports_dir, complete, config)


def _train(params_file: Path, run_id: str, reports_dir: Path | None, complete: bool, config) -> Path | None:
    from study.orchestration.run import open_study, train_run

    if distributed.is_distributed():
        _init_process_group(config.runtime.device)
    ctx = open_study(params_file, reports_dir, build=True) if distributed.is_main() else None
    distributed.barrier()  # the encoder exists from here on
    if ctx is None:
        ctx = open_study(params_file, reports_dir, build=False)
    run = ctx.run(run_id)
    tag = f"[{distributed.rank()}/{distributed.world_size()}] " if distributed.is_distributed() else ""
    progress = (lambda msg: print(f"{tag}{msg}", flush=True)) if distributed.is_main() else None
    if progress:
        progress(f"run {run.run_id}: {distributed.world_size()} process(es), device "
                 f"{'cpu' if runs_on_cpu(config.runtime.device) else 'cuda'}")
    try:
        results = train_run(ctx, run, progress, complete)
    finally:
        distributed.shutdown()
    return results if distributed.is_main() else None
