"""The cost model: a study's wall time on this machine, from rates measured here (:mod:`study.bench.rates`).

What is still to compute is counted from the grid: intermediate stages not yet cached (their steps,
dev evaluations and data preparation), runs not yet done (English SRL steps, evaluations, zero-shot
scoring of every target sentence, POS where it is trained, data preparation) and the measured
per-run and per-study overheads. A shape the rates were not measured at (another batch size or
length) is scaled by batch x length and named in the forecast's warnings; so is another precision
or optimizer. One process, the jobs of a study run one after another.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from study.config import RunSpec, run_config
from study.infra.errors import StudyError
from study.infra.hardware import machine_key, rates_file
from study.infra.paths import repo_root, reports_root


class MissingRates(StudyError):
    """The measured rates do not cover a task the study trains."""


@dataclass
class Forecast:
    """Predicted seconds per part of the work, what they rest on, and where the rates had to be stretched."""

    parts: dict[str, float]
    basis: str
    warnings: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return float(sum(self.parts.values()))


def bench_dir() -> Path:
    """Where ``study bench`` writes by default, and so where ``study plan`` looks for this machine's rates."""
    return reports_root() / "bench"


def load_rates(directory: Path | None = None) -> dict | None:
    """This machine's measured rates: from ``study bench``'s folder, else the repository's committed ones.

    None when neither has measured this machine.
    """
    folders = [Path(directory)] if directory else [bench_dir(), repo_root() / "reports" / "bench"]
    for folder in folders:
        path = rates_file(folder, machine_key())
        if path.is_file():
            return json.loads(path.read_text())
    return None


def _evaluations(steps: int, every: int) -> int:
    """Dev evaluations of a fit: one at every multiple of ``every`` and one at the last step."""
    return steps // every + (1 if steps % every else 0)


def _step_seconds(measured: dict, batch_size: int, max_length: int, what: str, warnings: list[str]) -> float:
    scale = (batch_size * max_length) / (measured["batch_size"] * measured["max_length"])
    if scale != 1:
        warnings.append(f"{what}: measured at batch {measured['batch_size']} x {measured['max_length']}, scaled to "
                        f"{batch_size} x {max_length}")
    return measured["seconds_per_step"] * scale


def forecast(ctx, rates: dict, stages_to_train: list, runs_to_do: list[RunSpec]) -> Forecast:
    """Seconds for ``stages_to_train`` (StageSpecs) and ``runs_to_do`` of the study ``ctx`` with ``rates``."""
    from study.intermediate.stages import sampler_probabilities, task_optim
    from study.orchestration.plan import count_scored_sentences, scored_files
    from study.orchestration.run import trains_pos
    from study.training.engine import budget_steps

    cfg = ctx.config
    warnings: list[str] = []
    for key in ("precision", "optimizer"):
        ran = cfg.runtime.mixed_precision if key == "precision" else cfg.runtime.optimizer
        if rates.get(key) != ran:
            warnings.append(f"rates measured with {key} {rates.get(key)}, the study uses {ran}")
    if rates.get("encoder") != cfg.encoder.name:
        warnings.append(f"rates measured for {rates.get('encoder')}, the study uses {cfg.encoder.name}")
    inter = cfg.intermediate
    parts = dict.fromkeys(("intermediate training", "intermediate dev evaluation", "SRL training",
                           "SRL dev evaluation", "SRL zero-shot scoring", "POS", "data preparation",
                           "per-run overhead", "per-study overhead"), 0.0)

    def task_rate(task: str) -> dict:
        return rates["intermediate"][task]

    # evaluation and data preparation scale with how much of a split the study uses
    def task_eval(task: str) -> float:
        m, cap = task_rate(task), inter.tasks[task].max_dev_examples
        return m["eval_seconds"] * (_share(cap, m["dev_examples"]) if m.get("dev_examples") else 1.0)

    def task_prepare(task: str) -> float:
        m, cap = task_rate(task), inter.tasks[task].max_train_examples
        return m["prepare_seconds"] * _share(cap, m["train_examples"])

    needed = {t for s in stages_to_train for t in s.tasks}
    needed |= {t for r in runs_to_do if r.schedule.kind == "joint+srl" for t in r.schedule.tasks}
    missing = sorted(needed - set(rates["intermediate"]))
    if missing:
        raise MissingRates(f"no rates measured here for task(s) {', '.join(missing)} (`study bench --params "
                           "<this params file>` measures a file's shapes)")
    for stage in stages_to_train:
        tasks = list(stage.tasks)
        measured = [task_rate(t) for t in tasks]
        optim = [task_optim(cfg, t) for t in tasks]
        steps = sum(budget_steps(stage.budget, m["train_examples"], o.batch_size)  # as stages.stage_steps counts
                    for m, o in zip(measured, optim, strict=True))
        share = (sampler_probabilities(inter.sampler, [m["train_examples"] for m in measured]) if len(tasks) > 1
                 else np.ones(1))
        per_step = sum(p * _step_seconds(m, o.batch_size, o.max_length, t, warnings)
                       for p, m, o, t in zip(share, measured, optim, tasks, strict=True))
        parts["intermediate training"] += steps * per_step
        parts["intermediate dev evaluation"] += (_evaluations(steps, inter.eval_every)
                                                 * sum(task_eval(t) for t in tasks))
        parts["data preparation"] += sum(task_prepare(t) for t in tasks)
    srl, srl_cfg = rates["srl"], cfg.srl
    if srl.get("encoding") != srl_cfg.encoding:
        warnings.append(f"SRL measured with {srl.get('encoding')} encoding, the study uses {srl_cfg.encoding}")
    srl_step = _step_seconds(srl, srl_cfg.optim.batch_size, srl_cfg.optim.max_length, "srl", warnings)
    scoring = scoring_seconds(rates["srl_scoring"], len(scored_files(ctx)), count_scored_sentences(ctx))
    dev_share = _share(srl_cfg.max_dev_sentences, srl.get("dev_sentences"))
    train_share = _share(srl_cfg.max_train_sentences, srl.get("train_sentences", srl["train_instances"]))
    for run in runs_to_do:
        # instances are sentences (per-sentence encoding) or predicates: a subset has its share of them
        sentences = srl.get("train_sentences", srl["train_instances"])
        units = (round(srl["train_instances"] * run.train_sentences / sentences) if run.train_sentences
                 else srl["train_instances"])
        steps = budget_steps(srl_cfg.budget, units, srl_cfg.optim.batch_size)
        evaluations = _evaluations(steps, srl_cfg.eval_every)
        if run.schedule.kind == "joint+srl":  # the mixture adds each intermediate task's own steps
            optim = [task_optim(cfg, t) for t in run.schedule.tasks]
            budget = run_config(cfg, run).intermediate.budget  # the run's own where the budget is an axis
            extra = [budget_steps(budget, task_rate(t)["train_examples"], o.batch_size)
                     for t, o in zip(run.schedule.tasks, optim, strict=True)]
            parts["intermediate training"] += sum(
                n * _step_seconds(task_rate(t), o.batch_size, o.max_length, t, warnings)
                for n, o, t in zip(extra, optim, run.schedule.tasks, strict=True))
            evaluations = _evaluations(steps + sum(extra), srl_cfg.eval_every)
            parts["data preparation"] += sum(task_prepare(t) for t in run.schedule.tasks)
        parts["SRL training"] += steps * srl_step
        parts["SRL dev evaluation"] += evaluations * srl["eval_seconds"] * dev_share
        parts["SRL zero-shot scoring"] += scoring
        parts["data preparation"] += srl["prepare_seconds"] * train_share
        if trains_pos(cfg, run) and rates.get("pos"):
            pos, pos_cfg = rates["pos"], cfg.pos
            pos_steps = budget_steps(pos_cfg.budget, sentences, pos_cfg.optim.batch_size)
            parts["POS"] += (pos_steps * _step_seconds(pos, pos_cfg.optim.batch_size, pos_cfg.optim.max_length,
                                                       "pos", warnings)
                             + _evaluations(pos_steps, pos_cfg.eval_every) * pos["eval_seconds"] * dev_share
                             + pos["prepare_seconds"] * train_share
                             + count_scored_sentences(ctx, pos=True) * pos["seconds_per_scored_sentence"])
        parts["per-run overhead"] += rates.get("overheads", {}).get("per_run_seconds", 0.0)
    if runs_to_do:
        parts["per-study overhead"] = rates.get("overheads", {}).get("per_study_seconds", 0.0)
    if "overheads" not in rates:
        warnings.append("no overheads measured (kernels, notebooks, rendering): the forecast leaves them out")
    m = rates["machine"]
    basis = (f"rates measured {rates['measured']} on {m['cpu']} ({m['threads']} threads, {m['capability']}, torch "
             f"{m['torch']}) for {rates['params']}: {rates['srl']['steps']} steps per shape, "
             f"{rates['srl_scoring']['sentences']} scored sentences")
    return Forecast({k: float(v) for k, v in parts.items() if v}, basis, list(dict.fromkeys(warnings)))


def scoring_seconds(measured: dict, files: int, sentences: int) -> float:
    """A run's zero-shot scoring: a fixed cost per file plus the encoder's work per sentence, at the
    length mix of the files the rates were measured for (rates from before the split: per sentence)."""
    if "per_file_seconds" not in measured:
        return sentences * measured["seconds_per_sentence"]
    return files * measured["per_file_seconds"] + sentences * measured["run_seconds_per_sentence"]


def _share(cap: int | None, measured: int | None) -> float:
    """The part of a split of ``measured`` items a cap of ``cap`` keeps (1 without a cap or a measured size)."""
    if cap is None or not measured:
        return 1.0
    return min(cap, measured) / measured


def format_forecast(f: Forecast) -> list[str]:
    """The forecast as the plan prints it: the total, then each part."""
    lines = [f"predicted wall time on this machine: {_hours(f.seconds)} for what is still to compute"]
    lines += [f"  {name:<28} {_hours(seconds):>9}" for name, seconds in
              sorted(f.parts.items(), key=lambda kv: -kv[1])]
    lines.append(f"  basis: {f.basis}")
    lines += [f"  note: {w}" for w in f.warnings]
    return lines


def _hours(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{math.ceil(seconds / 60):d} min"


def predict_study(params_file: Path, rates: dict) -> Forecast:
    """The whole study from nothing (every stage and run), as a fresh ``study run`` computes it."""
    from study.orchestration.run import open_study

    ctx = open_study(Path(params_file), build=False)
    stages = {spec.key: spec for run in ctx.runs() for spec in ctx.stages(run)}
    return forecast(ctx, rates, list(stages.values()), ctx.runs())


def forecast_runs(ctx, runs: list[RunSpec], rates: dict) -> Forecast:
    """``runs`` and the stages they need that are not cached yet (what ``study run`` is about to compute)."""
    stages = {spec.key: spec for run in runs for spec in ctx.stages(run) if not ctx.stage_cache.is_done(spec.key)}
    return forecast(ctx, rates, list(stages.values()), runs)


def safe_forecast(ctx, runs: list[RunSpec], rates: dict | None) -> Forecast | None:
    """:func:`forecast_runs`, or None without rates that cover ``runs``: the running study's courtesy
    lines (the forecast before it starts, the time left after each run) never stop it."""
    if rates is None or not runs:
        return None
    try:
        return forecast_runs(ctx, runs, rates)
    except (MissingRates, KeyError, ValueError, OSError):
        return None


def forecast_line(ctx, runs: list[RunSpec], rates: dict | None) -> str | None:
    """One line for ``study run``'s log: the forecast for ``runs`` here, or None without rates for them."""
    f = safe_forecast(ctx, runs, rates)
    if f is None:
        return None
    largest = max(f.parts, key=f.parts.get)
    return (f"cost model: {_hours(f.seconds)} for these {len(runs)} run(s) on this machine (largest part: "
            f"{largest}, {_hours(f.parts[largest])}; `study plan` has the breakdown)")
