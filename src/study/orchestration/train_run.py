"""``study train-run``: one run's training and scoring, in one process or under a DDP launcher.

``accelerate launch --num_processes N -m study train-run params/X.yaml RUN`` (or ``torchrun``)
starts N processes that all call :func:`train_one_run`: the process group is set up first, the main
process builds the encoder if needed while the others wait, then every process trains its share of
each batch and the main process scores and writes the run's results (see :mod:`study.training.distributed`).
"""

from __future__ import annotations

from pathlib import Path

from study.config import load_params
from study.training import distributed
from study.training.engine import runs_on_cpu


def _init_process_group(device: str) -> None:
    """Start the process group now (accelerate would at the first Engine), so barriers work early."""
    from accelerate import PartialState

    PartialState(cpu=runs_on_cpu(device))


def train_one_run(params_file: Path, run_id: str, reports_dir: Path | None = None,
                  complete: bool = True) -> Path | None:
    """Train and score ``run_id``; the results file (on the main process), None on the others."""
    from study.orchestration.run import open_study, train_run

    config = load_params(params_file)
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
