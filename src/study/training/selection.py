"""Checkpoint selection: keep the weights with the best English dev score, stop early if asked.

The policy is separate from the step loop (jiant's runner/metarunner split): the engine hands every
evaluation to :meth:`Selection.observe` and asks :attr:`Selection.should_stop`; what counts as
best and when to stop live here alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch


@dataclass
class Selection:
    """Best-on-dev selection over the evaluations of one fit, with optional early stopping."""

    metric: str
    patience: int | None = None
    best_state: dict[str, torch.Tensor] | None = None
    best_step: int | None = None
    best_metrics: dict = field(default_factory=dict)
    bad_evals: int = 0

    def observe(self, step: int, metrics: dict, weights: Callable[[], dict[str, torch.Tensor]]) -> bool:
        """Record an evaluation; keep ``weights()`` if it is the best so far (ties keep the earlier)."""
        value = metrics[self.metric]
        if self.best_step is None or value > self.best_metrics[self.metric]:
            self.best_step, self.best_metrics = step, dict(metrics)
            self.best_state = weights()
            self.bad_evals = 0
            return True
        self.bad_evals += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_evals >= self.patience

    def state_dict(self) -> dict:
        """What a resume checkpoint stores (the key names of checkpoints written before this class)."""
        return {"best": self.best_state, "best_step": self.best_step, "best_metrics": self.best_metrics,
                "bad_evals": self.bad_evals}

    def load_state_dict(self, saved: dict) -> None:
        self.best_state, self.best_step = saved["best"], saved["best_step"]
        self.best_metrics, self.bad_evals = saved["best_metrics"], saved["bad_evals"]
