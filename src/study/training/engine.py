"""One training engine for every task (intermediate and target).

Built on ``accelerate`` so the same loop runs on a CPU, one GPU or several processes. AdamW with
linear warm-up and linear decay, gradient clipping, periodic evaluation on the task's own English
dev set (the selection policy is :class:`study.training.selection.Selection`), seeded end to end, and
crash-resumable: a checkpoint (trainable weights, optimiser, scheduler, RNG states, history) is
written atomically after every evaluation, and the batch order is a pure function of (seed, step),
so a resumed run continues exactly where the killed one stopped.

Only trainable parameters are checkpointed: with the 96M-parameter word-embedding matrix frozen a
checkpoint is a fifth of the model.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from study.config import Budget, Optimisation, RuntimeConfig
from study.infra.atomic import atomic_path
from study.infra.errors import StudyError
from study.infra.live import live
from study.training import distributed
from study.training.selection import Selection

CHECKPOINT = "train_state.pt"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) RNGs."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def set_threads(num_threads: int | None) -> None:
    """Use ``num_threads`` intra-op threads (default: the process's cores, split among local DDP processes)."""
    if num_threads is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        num_threads = cores // distributed.local_world_size()
    torch.set_num_threads(max(1, int(num_threads)))


def set_determinism(deterministic: bool) -> None:
    """Deterministic kernels on or off (``runtime.deterministic``), for the whole process.

    On a CPU the difference is the backward of indexing with repeated indices: torch's parallel
    version adds with atomics from every thread, so the float rounding depends on which thread gets
    there first, which CPU contention changes; the deterministic one adds in index order. On CUDA it
    also selects deterministic cuBLAS workspaces (set before the first cuBLAS call) and kernels.
    ``warn_only``: an op without a deterministic implementation warns instead of stopping a run.
    Filling fresh tensors with NaN (torch's guard for reading uninitialised memory in this mode) is
    left off: it costs a memory pass per allocation and changes no result.
    """
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False


def budget_steps(budget: Budget, n_examples: int, batch_size: int) -> int:
    """Optimizer steps a budget stands for (steps, examples seen, or epochs over ``n_examples``)."""
    if budget.unit == "steps":
        return max(1, int(budget.per_task))
    if budget.unit == "examples":
        return max(1, math.ceil(budget.per_task / batch_size))
    return max(1, math.ceil(budget.per_task * n_examples / batch_size))


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """CPU copies of the parameters that train (what checkpoints and stage artifacts hold)."""
    return {name: p.detach().to("cpu", copy=True) for name, p in model.named_parameters() if p.requires_grad}


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """A batch's tensors on ``device`` (a no-op on the CPU)."""
    return {k: (v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}


def loss_terms(batch: dict[str, torch.Tensor]) -> int:
    """How many terms a batch's mean loss averages: labelled words (tagging) or examples."""
    labels = batch["labels"]
    if labels.dim() >= 2:
        return int((labels != -100).sum())
    return int(labels.numel())


def runs_on_cpu(device: str) -> bool:
    """Whether ``runtime.device`` means the CPU here (``auto`` without a CUDA device, or ``cpu``)."""
    return device == "cpu" or not torch.cuda.is_available()


def effective_precision(mixed_precision: str, cpu: bool) -> str:
    """``runtime.mixed_precision`` as it applies on a device: fp16 autocast is a GPU feature, bf16 runs on CPUs too."""
    return "no" if mixed_precision == "fp16" and cpu else mixed_precision


def inference_precision(mixed_precision: str, model: nn.Module):
    """The autocast a model's training ran under, for inference outside the engine (a loaded model).

    Scores then do not depend on whether the model came straight from training (accelerate keeps its
    autocast on the forward) or from disk: the same file scores alike both ways.
    """
    device = next(model.parameters()).device.type
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    precision = effective_precision(mixed_precision, cpu=device == "cpu")
    if precision in dtypes:
        return torch.autocast(device_type=device, dtype=dtypes[precision])
    return contextlib.nullcontext()


def accelerator_for(device: str = "auto", mixed_precision: str = "no", find_unused_parameters: bool = False):
    """An ``accelerate.Accelerator`` for ``runtime.device``; DDP when launched with several processes.

    ``find_unused_parameters`` is needed by multi-head models (each step uses one task's head).
    """
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    if device == "cuda" and not torch.cuda.is_available():
        raise StudyError("runtime.device is 'cuda' but torch sees no CUDA device; set runtime.device: auto or cpu")
    cpu = runs_on_cpu(device)
    mixed_precision = effective_precision(mixed_precision, cpu)
    handlers = [DistributedDataParallelKwargs(find_unused_parameters=find_unused_parameters)]
    return Accelerator(mixed_precision=mixed_precision, cpu=cpu, kwargs_handlers=handlers)


def load_trainable_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a :func:`trainable_state` back, refusing names the model does not have."""
    params = dict(model.named_parameters())
    unknown = sorted(set(state) - set(params))
    if unknown:
        raise KeyError(f"weights do not fit this model; unknown parameters: {unknown[:5]}")
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value)


def build_optimizer(
    model: nn.Module, optim: Optimisation, total_steps: int, head_prefixes: tuple[str, ...] = ("head",),
    implementation: str = "fused",
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW with encoder/head learning rates, no decay on biases and norms, linear warm-up+decay.

    ``implementation`` is ``runtime.optimizer``: ``fused`` updates every parameter in one kernel;
    ``for_loop`` (torch's CPU default) walks the ~200 tensors one by one. ``study bench`` measures both.
    """
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_head = name.startswith(head_prefixes)
        no_decay = p.ndim < 2  # biases and normalisation weights
        groups.setdefault((is_head, no_decay), []).append(p)
    param_groups = [
        {"params": ps, "lr": optim.head_lr if is_head else optim.lr,
         "weight_decay": 0.0 if no_decay else optim.weight_decay}
        for (is_head, no_decay), ps in sorted(groups.items())
    ]
    if implementation not in ("fused", "for_loop"):
        raise ValueError(f"runtime.optimizer: {implementation!r} is not one of 'fused', 'for_loop'")
    kind = {"fused": True} if implementation == "fused" else {"foreach": False}
    optimizer = torch.optim.AdamW(param_groups, eps=optim.adam_eps, **kind)
    warmup = round(optim.warmup_ratio * total_steps)

    def schedule(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)


@dataclass
class TrainResult:
    """What a fit did: steps run, evaluation history, the selected step and its dev metrics."""

    steps: int
    history: list[dict] = field(default_factory=list)
    best_step: int | None = None
    best_metrics: dict = field(default_factory=dict)
    resumed_from: int = 0
    seconds: float = 0.0
    #: of ``seconds``, the time in dev evaluations (the cost model tells training and evaluation apart)
    eval_seconds: float = 0.0
    #: wall seconds of each step run here (batch, forward, backward, update), for the cost model's rates
    step_seconds: list[float] = field(default_factory=list)
    examples_seen: int = 0


class Engine:
    """Train one model on one batch stream; evaluate, select, checkpoint, resume."""

    def __init__(
        self,
        model: nn.Module,
        optim: Optimisation,
        total_steps: int,
        seed: int,
        eval_every: int,
        select_metric: str,
        checkpoint_dir: Path | None = None,
        patience: int | None = None,
        head_prefixes: tuple[str, ...] = ("head",),
        progress: Callable[[str], None] | None = None,
        runtime: RuntimeConfig | None = None,
        find_unused_parameters: bool = False,
    ) -> None:
        runtime = runtime or RuntimeConfig()  # device, precision, AdamW implementation, kernels
        set_determinism(runtime.deterministic)
        self.accelerator = accelerator_for(runtime.device, runtime.mixed_precision, find_unused_parameters)
        self.optim = optim
        self.total_steps = total_steps
        self.seed = seed
        self.eval_every = eval_every
        self.select_metric = select_metric
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.patience = patience
        self.progress = progress
        seed_everything(seed)
        optimizer, scheduler = build_optimizer(model, optim, total_steps, head_prefixes, runtime.optimizer)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.scheduler = scheduler

    @property
    def unwrapped(self) -> nn.Module:
        return self.accelerator.unwrap_model(self.model)

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    def shard(self, indices) -> np.ndarray:
        """This process's share of a global batch of instance indices (all of it in one process).

        Batch streams stay global (a pure function of seed and step) and every process takes its
        part, so one process and N processes see the same examples per step and a checkpoint saved
        in either mode resumes in the other.
        """
        return distributed.local_share(indices, self.accelerator.process_index, self.accelerator.num_processes)

    # ----------------------------------------------------------------- checkpoints
    def _save(self, step: int, result: TrainResult, selection: Selection) -> None:
        if self.checkpoint_dir is None or not self.accelerator.is_main_process:
            return
        state = {
            "step": step,
            "model": trainable_state(self.unwrapped),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
            "history": result.history,
            **selection.state_dict(),
            "examples_seen": result.examples_seen,
        }
        with atomic_path(self.checkpoint_dir / CHECKPOINT) as tmp:
            torch.save(state, tmp)

    def _load(self) -> dict | None:
        if self.checkpoint_dir is None:
            return None
        path = self.checkpoint_dir / CHECKPOINT
        if not path.is_file():
            return None
        try:
            return torch.load(path, weights_only=False, map_location="cpu")
        except Exception:  # a corrupt checkpoint is recomputed, never used
            distributed.barrier()
            if self.accelerator.is_main_process:
                path.unlink(missing_ok=True)
            return None

    def _resume(self, result: TrainResult, selection: Selection) -> int:
        """Restore the last checkpoint into the model, optimiser, RNGs, ``result`` and ``selection``; its step."""
        saved = self._load()
        if saved is None:
            return 0
        load_trainable_state(self.unwrapped, saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"]["torch"])
        np.random.set_state(saved["rng"]["numpy"])
        random.setstate(saved["rng"]["python"])
        result.history = saved["history"]
        selection.load_state_dict(saved)
        result.examples_seen = saved["examples_seen"]
        result.resumed_from = saved["step"]
        return saved["step"]

    def _global_mean(self, loss: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rescale a process's mean loss so DDP's gradient average equals the global batch's mean.

        Each process averages over its own loss terms (words, examples); processes rarely hold the
        same number, so the plain DDP average would weight terms unequally. Scaled by
        ``n_local * world / n_global`` the averaged gradient is exactly one process's on the whole batch.
        """
        n_local = loss_terms(batch)
        n_global = distributed.sum_over_processes(n_local)
        return loss * (n_local * self.accelerator.num_processes / max(1, n_global))

    # ----------------------------------------------------------------- the loop
    def _train_step(self, batch: dict[str, torch.Tensor], loss_fn) -> torch.Tensor:
        """Forward, backward, clip, step: one optimiser update; returns the (detached) loss."""
        loss = loss_fn(self.model, batch)
        if self.accelerator.num_processes > 1:
            loss = self._global_mean(loss, batch)
        self.accelerator.backward(loss)
        if self.optim.grad_clip:
            self.accelerator.clip_grad_norm_(self.model.parameters(), self.optim.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def _evaluate(self, evaluate: Callable[[nn.Module], dict]) -> dict:
        """Dev metrics, computed on the main process and shared, so every process selects alike."""
        self.model.eval()
        metrics = distributed.on_main(evaluate, self.unwrapped)
        self.model.train()
        return metrics

    def fit(
        self,
        batches: Callable[[int], Iterator[dict[str, torch.Tensor]]],
        loss_fn: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor],
        evaluate: Callable[[nn.Module], dict] | None,
        stop: Callable[[dict], bool] | None = None,
    ) -> TrainResult:
        """Run to ``total_steps`` (or early stop); ``batches(start_step)`` yields batches from that step.

        ``stop`` sees each evaluation's record (step, seconds, eval_seconds, dev metrics) and ends the
        fit when it returns True: the benchmark trains until a dev score is reached, not for a budget.
        """
        result = TrainResult(steps=0)
        selection = Selection(self.select_metric, self.patience)
        start = self._resume(result, selection)
        t0 = time.perf_counter()
        stream = batches(start)
        step = start
        running, since, examples = 0.0, 0, 0
        progress = live()
        progress.update(step, self.total_steps, detail="")
        self.model.train()
        while step < self.total_steps:
            t_step = time.perf_counter()
            batch = to_device(next(stream), self.device)
            loss = float(self._train_step(batch, loss_fn))
            result.step_seconds.append(time.perf_counter() - t_step)
            step += 1
            if not math.isfinite(loss):
                raise StudyError(
                    f"training loss is {loss} at step {step} of {self.total_steps} (lr {self.optim.lr}, head_lr "
                    f"{self.optim.head_lr}): the run diverged; lower the learning rate, nothing of this run is kept")
            running += loss
            since += 1
            examples += int(batch["input_ids"].size(0))
            last = step == self.total_steps
            progress.update(step)
            if step % self.eval_every != 0 and not last:
                continue
            # the loss of a DDP step is the mean of the processes' losses, as one process would log it
            record = {"step": step, "train_loss": distributed.mean_over_processes(running / max(1, since))}
            result.examples_seen += distributed.sum_over_processes(examples)
            running, since, examples = 0.0, 0, 0
            if evaluate is not None:
                progress.update(step, detail="dev evaluation")
                t_eval = time.perf_counter()
                metrics = self._evaluate(evaluate)
                record["eval_seconds"] = round(time.perf_counter() - t_eval, 2)
                result.eval_seconds += record["eval_seconds"]
                progress.update(step, detail="")
                record.update(metrics)
                selection.observe(step, metrics, lambda: trainable_state(self.unwrapped))
            record["seconds"] = round(time.perf_counter() - t0, 2)
            result.history.append(record)
            if self.progress:
                shown = ", ".join(f"{k} {v:.4g}" for k, v in record.items() if isinstance(v, float))
                self.progress(f"step {step}/{self.total_steps}: {shown}")
            if not last:
                self._save(step, result, selection)
            if selection.should_stop or (stop is not None and stop(record)):
                break
        result.steps = step
        result.seconds = time.perf_counter() - t0
        result.best_step, result.best_metrics = selection.best_step, selection.best_metrics
        if selection.best_state is not None:
            load_trainable_state(self.unwrapped, selection.best_state)
        self.model.eval()
        return result
