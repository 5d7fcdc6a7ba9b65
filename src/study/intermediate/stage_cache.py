"""Content-addressed cache of intermediate stages, shared by every run that needs them.

A stage's key hashes everything that determines its weights: the encoder (name and weights
checksum), the parent stage's key, the task(s), the data slice (source, bundle fingerprint, caps,
split fraction), the hyperparameters (optimisation, budget, sampler for mixtures, evaluation
interval, frozen embeddings) and the seed. ``single:A``, ``seq:A>B`` and ``seq:A>C`` therefore share
stage "A". A stage directory counts as done only through ``DONE.json``, written last, carrying the
checksum of the weights file; anything else (a killed run's leftovers, a corrupt file) is retrained.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from study.config import Budget, StudyConfig, drop_hash_neutral
from study.config.schedules import Schedule
from study.infra.atomic import atomic_dir
from study.infra.hashing import sha256_file, sha256_file_remembered, stable_hash
from study.infra.paths import cache_root
from study.training import distributed

STAGE_FORMAT = 1
WEIGHTS = "encoder.safetensors"
DONE = "DONE.json"


@dataclass(frozen=True)
class StageSpec:
    """One stage of a run: its tasks, its position in the chain and its cache key."""

    tasks: tuple[str, ...]
    key: str
    parent: str | None
    ingredients: dict

    @property
    def label(self) -> str:
        return "+".join(self.tasks)

    @property
    def budget(self) -> Budget:
        """The per-task budget this stage trains with (one value, also where the study's budget is an axis)."""
        return Budget.model_validate(self.ingredients["budget"])


def stage_ingredients(config: StudyConfig, tasks: tuple[str, ...], parent: str | None, seed: int,
                      encoder_id: dict, data_fingerprint: str | None) -> dict:
    """Everything that determines a stage's weights."""
    inter = config.intermediate
    if isinstance(inter.budget.per_task, list):
        raise ValueError("a stage trains with one intermediate budget: plan it with the run's config "
                         "(study.config.run_config), not the study's budget axis")
    return drop_hash_neutral({
        "format": STAGE_FORMAT,
        "encoder": {**config.encoder.model_dump(mode="json"), "weights": encoder_id.get("weights_sha256")},
        "parent": parent,
        "tasks": list(tasks),
        "data": {"source": inter.source, "bundle": data_fingerprint if inter.source == "bundle" else None,
                 "slices": {t: inter.tasks[t].model_dump(mode="json", exclude={"optim"}) for t in tasks}},
        "optim": {t: (inter.tasks[t].optim or inter.optim).model_dump(mode="json") for t in tasks},
        "joint_optim": inter.optim.model_dump(mode="json") if len(tasks) > 1 else None,
        "budget": inter.budget.model_dump(mode="json"),
        "sampler": inter.sampler.model_dump(mode="json") if len(tasks) > 1 else None,
        "eval_every": inter.eval_every,
        "runtime": {"mixed_precision": config.runtime.mixed_precision, "optimizer": config.runtime.optimizer,
                    "deterministic": config.runtime.deterministic},
        "seed": seed,
    })


def plan_stages(config: StudyConfig, schedule: Schedule, seed: int, encoder_id: dict,
                data_fingerprint: str | None) -> list[StageSpec]:
    """The chain of stages of ``schedule`` with ``seed`` (empty for ``none``)."""
    out: list[StageSpec] = []
    parent = None
    for tasks in schedule.stages:
        if schedule.kind == "joint+srl":
            break  # the SRL-including mixture is trained by the target step, not as a cached stage
        ingredients = stage_ingredients(config, tasks, parent, seed, encoder_id, data_fingerprint)
        key = stable_hash(ingredients, 20)
        out.append(StageSpec(tasks, key, parent, ingredients))
        parent = key
    return out


class StageCache:
    """Stage directories under ``<cache>/stages/<key>``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or cache_root() / "stages")

    def path(self, key: str) -> Path:
        return self.root / key

    def partial(self, key: str) -> Path:
        """Where a stage in progress keeps its resume checkpoint."""
        return self.root / f"{key}.partial"

    def is_done(self, key: str) -> bool:
        done = self.path(key) / DONE
        if not done.is_file():
            return False
        try:
            record = json.loads(done.read_text(encoding="utf-8"))
            weights = self.path(key) / WEIGHTS
            return weights.is_file() and sha256_file_remembered(weights) == record["weights_sha256"]
        except (OSError, json.JSONDecodeError, KeyError):
            return False

    def record(self, key: str) -> dict:
        """What a finished stage recorded (history, steps per task, dev scores), without its weights."""
        return json.loads((self.path(key) / "stage.json").read_text(encoding="utf-8"))

    def load(self, key: str) -> tuple[dict[str, torch.Tensor], dict]:
        from safetensors.torch import load_file

        record = json.loads((self.path(key) / "stage.json").read_text(encoding="utf-8"))
        return load_file(str(self.path(key) / WEIGHTS)), record

    def store(self, key: str, state: dict[str, torch.Tensor], record: dict) -> None:
        """Write weights and record, then the DONE marker; the whole directory appears atomically."""
        from safetensors.torch import save_file

        with atomic_dir(self.path(key)) as tmp:
            save_file({k: v.contiguous() for k, v in sorted(state.items())}, str(tmp / WEIGHTS))
            (tmp / "stage.json").write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
            (tmp / DONE).write_text(json.dumps({"key": key, "weights_sha256": sha256_file(tmp / WEIGHTS)}) + "\n")
        if self.partial(key).exists():
            shutil.rmtree(self.partial(key))

    def get_or_train(self, spec: StageSpec, train: Callable[[dict | None, Path], tuple[dict, dict]],
                     parent_state: dict | None) -> tuple[dict[str, torch.Tensor], dict, bool]:
        """The stage's encoder weights and record; trains (resuming a partial run) only if not done."""
        if distributed.is_distributed():
            return self._get_or_train_together(spec, train, parent_state)
        if self.is_done(spec.key):
            state, record = self.load(spec.key)
            return state, record, False
        with self.lock(spec.key):  # another process training this stage is waited for, not duplicated
            if self.is_done(spec.key):
                state, record = self.load(spec.key)
                return state, record, False
            partial = self.partial(spec.key)
            partial.mkdir(parents=True, exist_ok=True)
            state, record = self._train(spec, train, parent_state, partial)
            self.store(spec.key, state, record)
        return state, record, True

    @staticmethod
    def _train(spec: StageSpec, train: Callable[[dict | None, Path], tuple[dict, dict]], parent_state: dict | None,
               partial: Path) -> tuple[dict[str, torch.Tensor], dict]:
        """Train the stage; its record carries the key, tasks and ingredients that identify it."""
        state, record = train(parent_state, partial)
        return state, {**record, "key": spec.key, "tasks": list(spec.tasks), "ingredients": spec.ingredients}

    def _get_or_train_together(self, spec: StageSpec, train: Callable[[dict | None, Path], tuple[dict, dict]],
                               parent_state: dict | None, poll_seconds: float = 5.0):
        """:meth:`get_or_train` for DDP processes: the main one holds the lock, all of them train.

        The decision (reuse, train, or wait for another job) is the main process's, shared by
        broadcast every few seconds, so no process blocks in a collective while another job trains.
        """
        held = None
        while True:
            decision = "wait"
            if distributed.is_main():
                if self.is_done(spec.key):
                    decision = "done"
                else:
                    held = self._try_lock(spec.key)
                    if held is not None:
                        decision = "train"
                        if self.is_done(spec.key):  # finished while we waited
                            self._unlock(held)
                            held, decision = None, "done"
            decision = distributed.broadcast(decision)
            if decision != "wait":
                break
            time.sleep(poll_seconds)
        if decision == "done":
            state, record = self.load(spec.key)
            return state, record, False
        try:
            partial = self.partial(spec.key)
            if distributed.is_main():
                partial.mkdir(parents=True, exist_ok=True)
            distributed.barrier()
            state, record = self._train(spec, train, parent_state, partial)
            if distributed.is_main():
                self.store(spec.key, state, record)
            distributed.barrier()
        finally:
            if held is not None:
                self._unlock(held)
        return state, record, True

    def _try_lock(self, key: str):
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / f"{key}.lock", "a+")  # noqa: SIM115 (held across calls, closed by _unlock)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return None
        return fh

    @staticmethod
    def _unlock(fh) -> None:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()

    @contextlib.contextmanager
    def lock(self, key: str):
        """An exclusive advisory lock per stage (released by the OS if the holder dies)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f"{key}.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
