"""Speed to quality: training wall time until English dev head F1 reaches a target, for the study's
engine and for the ``transformers.Trainer`` baseline a user would write (:mod:`study.bench.baseline`).

Throughput alone rewards a trainer that learns nothing quickly; time to a dev score does not. Both
contestants train with their own recipe over a schedule of ``max_steps`` steps, are scored on the
same English dev sentences by the study's scorer every ``eval_every`` steps, and stop at the first
evaluation at or above the target, at ``max_steps`` or once their training time passes
``max_seconds``. Time counts training only (evaluations are the measurement, and the two prediction
paths differ); the crossing is interpolated linearly between the two evaluations around it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from study.infra.errors import StudyError


@dataclass(frozen=True)
class CurvePoint:
    """One dev evaluation: after ``step`` optimizer steps, ``predicates`` trained on, in ``train_seconds``."""

    step: int
    predicates: int
    train_seconds: float
    dev_head_f1: float


@dataclass(frozen=True)
class StopRule:
    """When a contestant stops: at the target F1 or past its training-time cap (seconds)."""

    target: float
    max_seconds: float

    def __call__(self, point: CurvePoint) -> bool:
        return point.dev_head_f1 >= self.target or point.train_seconds >= self.max_seconds


def crossing(points: list[CurvePoint], target: float) -> dict | None:
    """Training seconds and predicates at which the curve first reaches ``target``; None if it never does.

    Linear between the last evaluation below the target and the first at or above it (from 0 F1 at
    0 s before the first evaluation), so the answer does not jump by a whole evaluation interval.
    """
    before = CurvePoint(0, 0, 0.0, 0.0)
    for point in points:
        if point.dev_head_f1 >= target:
            rise = point.dev_head_f1 - before.dev_head_f1
            frac = 1.0 if rise <= 0 else (target - before.dev_head_f1) / rise
            return {"train_seconds": before.train_seconds + frac * (point.train_seconds - before.train_seconds),
                    "predicates": before.predicates + frac * (point.predicates - before.predicates),
                    "first_evaluation_at_target": asdict(point)}
        before = point
    return None


def curve_record(contestant: str, points: list[CurvePoint], rule: StopRule, eval_every: int, max_steps: int,
                 batch: str, dev_sentences: int) -> dict:
    last = points[-1] if points else None
    reached = crossing(points, rule.target)
    stopped_by = "target" if reached else "max_seconds" if last and rule(last) else "max_steps"
    return {"contestant": contestant, "target_f1": rule.target, "max_seconds": rule.max_seconds,
            "max_steps": max_steps, "eval_every": eval_every, "batch": batch, "dev_sentences": dev_sentences,
            "points": [asdict(p) for p in points], "reached": reached, "stopped_by": stopped_by,
            "last": asdict(last) if last else None}


def schedule_steps(config, max_steps: int | None) -> int:
    """Steps both contestants' schedules span: ``max_steps``, else the params' SRL budget in steps."""
    if max_steps:
        return int(max_steps)
    budget = config.srl.budget
    if budget.unit != "steps":
        raise StudyError(f"time to F1: srl.budget is {budget.per_task} {budget.unit}; the two trainers count "
                         "epochs in different units (sentences, predicates), so give --max-steps")
    return int(budget.per_task)


def engine_curve(params_file: str, seed: int, rule: StopRule, eval_every: int,
                 max_steps: int | None = None) -> dict:
    """The study's SRL training path (the params' recipe) until ``rule`` stops it."""
    from study.config import load_params
    from study.encoder.load import load_tokenizer
    from study.infra.paths import default_data_root
    from study.target.job import TargetJob
    from study.target.srl.train import setup_srl_training

    base = load_params(Path(params_file))
    steps = schedule_steps(base, max_steps)
    config = load_params(Path(params_file), {"srl": {"budget": {"unit": "steps", "per_task": steps},
                                                     "eval_every": eval_every, "early_stopping_patience": None}})
    setup = setup_srl_training(TargetJob(config, default_data_root(), seed, load_tokenizer(config.encoder.name)))
    seen = {"predicates": 0}

    def counting(start: int) -> Iterator[dict[str, torch.Tensor]]:
        for batch in setup.batches(start):
            seen["predicates"] += int(batch["labels"].size(0))
            yield batch

    points: list[CurvePoint] = []
    evaluating = {"seconds": 0.0}

    def stop(record: dict) -> bool:
        evaluating["seconds"] += record.get("eval_seconds", 0.0)
        point = CurvePoint(record["step"], seen["predicates"], record["seconds"] - evaluating["seconds"],
                           record["dev_head_f1"])
        points.append(point)
        return rule(point)

    setup.engine.fit(counting, setup.loss_fn, setup.evaluate, stop=stop)
    batch = f"{config.srl.optim.batch_size} sentences ({config.srl.encoding})"
    return curve_record("engine", points, rule, eval_every, steps, batch, len(setup.dev_split.sentence_ids))


def trainer_curve(params_file: str, seed: int, rule: StopRule, eval_every: int, batch_size: int,
                  max_steps: int | None = None) -> dict:
    """The ``Trainer`` baseline until ``rule`` stops it (a callback evaluates and stops it)."""
    from transformers import DataCollatorForTokenClassification, TrainerCallback

    from study.bench.baseline import baseline_data, build_trainer, dev_head_f1

    data = baseline_data(params_file)
    steps = schedule_steps(data.config, max_steps)
    pad = DataCollatorForTokenClassification(data.tokenizer)
    seen = {"predicates": 0}

    def counting_collator(features: list[dict]) -> dict:
        seen["predicates"] += len(features)  # one feature is one predicate
        return pad(features)

    points: list[CurvePoint] = []

    class DevCurve(TrainerCallback):
        """Evaluate every ``eval_every`` steps with the clock's evaluation time taken out."""

        started = 0.0
        evaluating = 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step % eval_every and state.global_step < state.max_steps:
                return control
            t = time.perf_counter()
            point = CurvePoint(state.global_step, seen["predicates"], t - self.started - self.evaluating,
                               dev_head_f1(model, data))
            model.train()
            self.evaluating += time.perf_counter() - t
            points.append(point)
            if rule(point):  # never reset: the Trainer's own flow sets the flag at max_steps
                control.should_training_stop = True
            return control

    with tempfile.TemporaryDirectory() as tmp:
        build_trainer(data, steps, batch_size, seed, tmp, [DevCurve()], counting_collator).train()
    return curve_record("trainer", points, rule, eval_every, steps, f"{batch_size} predicates", data.dev_sentences)


def ratio_row(engine: dict, trainer: dict) -> tuple[str, bool | None, str]:
    """(value, met, basis) of the table row: Trainer time / engine time to the target, >= 5x wanted.

    Where the Trainer stopped at its cap below the target, its time is a floor and so is the ratio
    (shown as ">="); where the engine did not reach the target, nothing is claimed.
    """
    target = 100 * engine["target_f1"]
    e, t = engine["reached"], trainer["reached"]

    def where(c: dict) -> str:
        last = c["last"] or {"train_seconds": 0.0, "step": 0, "dev_head_f1": 0.0}
        if c["reached"]:
            return f"{c['reached']['train_seconds']:.0f} s ({c['reached']['predicates']:.0f} predicates)"
        return (f"not reached: F1 {100 * last['dev_head_f1']:.1f} after {last['train_seconds']:.0f} s, "
                f"step {last['step']} (stopped by {c['stopped_by']})")

    basis = (f"engine {where(engine)} vs Trainer {where(trainer)}; dev F1 every {engine['eval_every']} steps on "
             f"{engine['dev_sentences']} English dev sentences, training time only")
    if not e:
        return "engine did not reach it", None, basis
    if t:
        ratio = t["train_seconds"] / e["train_seconds"]
        return f"{ratio:.1f}x", ratio >= 5, basis
    floor = trainer["last"]["train_seconds"] / e["train_seconds"] if trainer["last"] else 0.0
    return f">= {floor:.1f}x (Trainer below F1 {target:.0f} at its cap)", True if floor >= 5 else None, basis


def plot_curves(curves: list[dict], out: Path) -> Path:
    """Dev head F1 against training seconds for each contestant, the target as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for c in curves:
        xs = [0.0] + [p["train_seconds"] for p in c["points"]]
        ys = [0.0] + [100 * p["dev_head_f1"] for p in c["points"]]
        name = {"engine": "the study's engine", "trainer": "transformers.Trainer"}.get(c["contestant"], c["contestant"])
        ax.plot(xs, ys, marker="o", markersize=3, label=f"{name} ({c['batch']} per step)")
        if c["reached"]:
            ax.axvline(c["reached"]["train_seconds"], color=ax.lines[-1].get_color(), linestyle=":", linewidth=1)
    target = 100 * curves[0]["target_f1"]
    ax.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"target F1 {target:.0f}")
    ax.set_xlabel("training wall time (s, evaluations excluded)")
    ax.set_ylabel("English dev head F1")
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Time to quality on this machine")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out

