"""Intermediate training stages: one task, or one seeded multi-task mixture, from a parent encoder.

A stage trains a fresh head per task on top of the encoder it inherits and hands on the encoder
weights only. In a joint stage a seeded sampler picks the task of each step: the choice at step k
is a pure function of (seed, k), so a resumed stage replays the same mixture. Each stage records
what it consumed per task (steps, examples) so joint and sequential schedules can be compared at
equal compute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from study.config import Budget, Optimisation, Sampler, StudyConfig
from study.intermediate.head_kinds import head_kind
from study.tasks.features import Features, collate
from study.tasks.load import TaskData, load_task
from study.tasks.registry import get_task
from study.tasks.spec import TaskSpec
from study.training.batching import SeededBatchStream
from study.training.engine import Engine, budget_steps, to_device
from study.training.models import encoder_state, fresh_encoder


def task_optim(config: StudyConfig, task: str) -> Optimisation:
    """The task's optimisation settings: its own override, else the shared intermediate ones."""
    override = config.intermediate.tasks[task].optim
    return override or config.intermediate.optim


@dataclass
class PreparedTask:
    """A task ready to train: encoded train/dev features and bookkeeping of what was set aside."""

    spec: TaskSpec
    data: TaskData
    train: list[Features]
    dev: list[Features]
    optim: Optimisation
    beyond_window: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def head(self) -> str:
        return self.spec.head


def prepare_task(config: StudyConfig, task: str, data_root: Path, tokenizer) -> PreparedTask:
    """Load and encode a task (the data slice does not depend on the run seed)."""
    spec = get_task(task)
    data = load_task(spec, data_root, config.intermediate.source, config.intermediate.tasks[task])
    optim = task_optim(config, task)
    encode = head_kind(spec.head).encode
    beyond = 0

    def encode_all(examples):
        nonlocal beyond
        out = []
        for ex in examples:
            features = encode(ex, tokenizer, optim.max_length)
            if features is None:  # a QA answer beyond the window
                beyond += 1
            else:
                out.append(features)
        return out

    train, dev = encode_all(data.train), encode_all(data.dev)
    return PreparedTask(spec, data, train, dev, optim, beyond)


def make_head(task: PreparedTask, hidden: int) -> nn.Module:
    """A fresh head for ``task``, chosen by its head kind."""
    return head_kind(task.head).build(hidden, task.spec)


class MultiTaskModel(nn.Module):
    """One shared encoder, one head per task (``heads.<task>``); forward dispatches on the task."""

    def __init__(self, encoder: nn.Module, heads: dict[str, nn.Module]) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict(heads)

    def forward(self, task: str, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        batch = to_device(batch, next(self.heads[task].parameters()).device)
        if "word_index" in batch:  # a word-tagging task (English SRL in a joint+srl mixture)
            hidden = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                  token_type_ids=batch.get("token_type_ids")).last_hidden_state
            where = batch["predicate_rows"] if "predicate_rows" in batch else batch["predicate"]
            return self.heads[task](hidden, batch["attention_mask"], batch["word_index"], where)
        hidden = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        return self.heads[task](hidden, batch["attention_mask"], n_choices=int(batch["n_choices"]))


def task_loss(task: PreparedTask, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return head_kind(task.head).loss(logits, batch)


@torch.inference_mode()
def task_dev_score(model: MultiTaskModel, task: PreparedTask, pad_id: int) -> float:
    """Accuracy (classification, multiple choice) or exact match of the token span (QA)."""
    model.eval()
    correct = 0
    hits = head_kind(task.head).correct
    feats = sorted(task.dev, key=lambda f: f.length)
    bs = task.optim.eval_batch_size
    for i in range(0, len(feats), bs):
        chunk = feats[i : i + bs]
        batch = collate(chunk, pad_id)
        correct += hits(model(task.name, batch).float().cpu(), batch)
    return correct / max(1, len(feats))


def sampler_probabilities(sampler: Sampler, sizes: list[int]) -> np.ndarray:
    """Task probabilities: uniform; p ~ n; p ~ min(n, cap); p ~ n^(1/T)."""
    n = np.asarray(sizes, dtype=np.float64)
    if sampler.kind == "uniform":
        w = np.ones_like(n)
    elif sampler.kind == "proportional":
        w = n
    elif sampler.kind == "capped":
        w = np.minimum(n, sampler.cap)
    else:
        w = n ** (1.0 / sampler.temperature)
    return w / w.sum()


def task_schedule(probabilities: np.ndarray, seed: int, steps: int) -> np.ndarray:
    """The task index of every step (pure function of seed and step; seeded, unlike jiant's)."""
    rng = np.random.default_rng([seed, 7919])
    return rng.choice(len(probabilities), size=steps, p=probabilities)


def task_stream(task: PreparedTask, seed: int) -> SeededBatchStream:
    """The seeded batch stream of an intermediate task (a stage and a joint+srl mixture draw alike)."""
    return SeededBatchStream([f.length for f in task.train], task.optim.batch_size, seed,
                             group_by_length=task.optim.group_by_length)


def stage_steps(budget: Budget, tasks: list[PreparedTask]) -> int:
    """Total steps of a stage: ``per_task`` for each task (a joint stage gets the sum)."""
    return sum(budget_steps(budget, len(t.train), t.optim.batch_size) for t in tasks)


@dataclass
class StageOutcome:
    """Encoder weights after the stage and what it did."""

    encoder_state: dict[str, torch.Tensor]
    history: list[dict]
    consumed: dict[str, dict[str, int]]
    best_step: int | None
    best_metrics: dict
    seconds: float
    data: dict = field(default_factory=dict)
    step_seconds: list[float] = field(default_factory=list)


@dataclass
class StageSetup:
    """A stage built but not run: the engine, its batch stream, loss and dev evaluation (the benchmark
    times and profiles ``engine.fit`` on these alone)."""

    engine: Engine
    tasks: list[PreparedTask]
    plan: np.ndarray
    streams: list[SeededBatchStream]  # one per task, in ``tasks`` order
    batches: Callable[[int], Iterator[dict[str, torch.Tensor]]]
    loss_fn: Callable
    evaluate: Callable[[nn.Module], dict]


def setup_stage(
    config: StudyConfig, tasks: list[PreparedTask], seed: int, pad_id: int,
    init_state: dict[str, torch.Tensor] | None, checkpoint_dir: Path | None,
    progress: Callable[[str], None] | None = None,
) -> StageSetup:
    """Model, engine and seeded batch stream of one stage (one task, or a joint mixture)."""
    torch.manual_seed(seed)
    encoder = fresh_encoder(config.encoder.name, config.encoder.freeze_word_embeddings, init_state,
                            config.encoder.freeze_bottom_layers, config.encoder.attention_dropout)
    hidden = encoder.config.hidden_size
    model = MultiTaskModel(encoder, {t.name: make_head(t, hidden) for t in tasks})
    steps = stage_steps(config.intermediate.budget, tasks)
    probs = sampler_probabilities(config.intermediate.sampler, [len(t.train) for t in tasks])
    plan = task_schedule(probs, seed, steps) if len(tasks) > 1 else np.zeros(steps, dtype=np.int64)
    streams = [task_stream(t, seed + 1000 * i) for i, t in enumerate(tasks)]
    optim = tasks[0].optim if len(tasks) == 1 else config.intermediate.optim
    engine = Engine(model, optim, steps, seed, config.intermediate.eval_every, "dev_mean", checkpoint_dir,
                    head_prefixes=("heads",), progress=progress, runtime=config.runtime,
                    find_unused_parameters=len(tasks) > 1)

    def batches(start: int):
        done_per_task = np.bincount(plan[:start], minlength=len(tasks))
        iters = [s.iterate(int(done_per_task[i])) for i, s in enumerate(streams)]
        for step in range(start, steps):
            i = int(plan[step])
            idx = engine.shard(next(iters[i]))
            batch = collate([tasks[i].train[j] for j in idx], pad_id)
            batch["task_index"] = torch.tensor(i)
            yield batch

    def loss_fn(m, batch):
        t = tasks[int(batch["task_index"])]
        return task_loss(t, m(t.name, batch), batch)

    def evaluate(m) -> dict:
        scores = {f"dev_{t.name}": task_dev_score(m, t, pad_id) for t in tasks}
        return {**scores, "dev_mean": float(np.mean(list(scores.values())))}

    return StageSetup(engine, tasks, plan, streams, batches, loss_fn, evaluate)


def train_stage(
    config: StudyConfig, tasks: list[PreparedTask], seed: int, pad_id: int,
    init_state: dict[str, torch.Tensor] | None, checkpoint_dir: Path | None,
    progress: Callable[[str], None] | None = None,
) -> StageOutcome:
    """Train one stage (one task, or a joint mixture) and return the encoder weights it selected."""
    setup = setup_stage(config, tasks, seed, pad_id, init_state, checkpoint_dir, progress)
    engine, plan = setup.engine, setup.plan
    result = engine.fit(setup.batches, setup.loss_fn, setup.evaluate)
    counts = np.bincount(plan[: result.steps], minlength=len(tasks))
    consumed = {t.name: {"steps": int(counts[i]), "examples": int(counts[i]) * t.optim.batch_size}
                for i, t in enumerate(tasks)}
    state = encoder_state(engine.unwrapped.encoder)  # the caller removes the resume checkpoint once stored
    data = {t.name: {"train": len(t.train), "dev": len(t.dev), "answer_beyond_window": t.beyond_window,
                     "report": vars(t.data.report), **t.data.extra} for t in tasks}
    return StageOutcome(state, result.history, consumed, result.best_step, result.best_metrics, result.seconds, data,
                        result.step_seconds)
