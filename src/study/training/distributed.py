"""What the rest of the code needs to know about multi-process (DDP) training.

A study runs in one process by default. Launched through ``accelerate launch`` (or ``torchrun``),
every process runs the same code: each trains on its share of every global batch, gradients are
averaged by DDP, and only the main process writes files or scores. These helpers read the launch
environment (``WORLD_SIZE``, ``RANK``) so that modules need not import accelerate to ask, and they
degrade to no-ops in a single process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

T = TypeVar("T")


def world_size() -> int:
    """Processes training together (1 without a launcher)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's rank (0 without a launcher)."""
    return int(os.environ.get("RANK", "0"))


def local_world_size() -> int:
    """Processes sharing this machine (they share its CPU cores)."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))


def is_distributed() -> bool:
    return world_size() > 1


def is_main() -> bool:
    """Whether this process writes files, evaluates and scores."""
    return rank() == 0


def _ready() -> bool:
    return is_distributed() and torch.distributed.is_available() and torch.distributed.is_initialized()


def barrier() -> None:
    """Wait for every process (no-op in one process)."""
    if _ready():
        torch.distributed.barrier()


def broadcast(value: T) -> T:
    """The main process's ``value`` on every process (any picklable object)."""
    if not _ready():
        return value
    box = [value if is_main() else None]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]  # type: ignore[return-value]


def _collective_device() -> torch.device:
    """NCCL reduces CUDA tensors only; gloo reduces CPU tensors."""
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def mean_over_processes(value: float) -> float:
    """The mean of a float over all processes (the logged loss of a DDP step)."""
    if not _ready():
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=_collective_device())
    torch.distributed.all_reduce(t)
    return float(t.item()) / world_size()


def sum_over_processes(value: int | torch.Tensor) -> int:
    """The sum of an integer over all processes."""
    if not _ready():
        return int(value)
    t = torch.as_tensor(value, dtype=torch.int64).reshape(1).to(_collective_device())
    torch.distributed.all_reduce(t)
    return int(t.item())


def local_share(indices: Sequence[int] | np.ndarray, share: int | None = None, of: int | None = None) -> np.ndarray:
    """This process's contiguous part of a global batch of instance indices.

    Every process gets ``ceil(n / world)`` or ``floor(n / world)`` indices; when a batch is smaller
    than the world (the last batch of an epoch), it is wrapped around so no process gets nothing:
    DDP needs every process to take part in every step. One process gets the whole batch, so a
    single-process run sees exactly the batches it always did.
    """
    share = rank() if share is None else share
    of = world_size() if of is None else of
    idx = np.asarray(indices)
    if of <= 1:
        return idx
    if len(idx) < of:
        idx = np.resize(idx, of)  # repeat from the start
    return np.array_split(idx, of)[share]


def shutdown() -> None:
    """Wait for every process, then tear the process group down.

    A process that exits with the group still alive can abort in C++ ("terminate called without
    an active exception") while its communication threads are running; end every launched run here.
    """
    if _ready():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def on_main(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` on the main process only, share its result, and keep the others in step."""
    result = fn(*args, **kwargs) if is_main() else None
    return broadcast(result)
