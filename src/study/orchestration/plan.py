"""``study plan``: the stages a study needs, which are cached, the steps reuse saves, and a compute estimate.

The estimate counts encoder sequences (intermediate stages still to train, then SRL and POS
training and zero-shot scoring for every run) and divides them by a measured throughput for the
study's encoder architecture (``reports/bench/gpu/throughput.json``, written by
``scripts/gpu_bench.sh``). Its basis is printed with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from study.config import Budget
from study.infra.hardware import machine_key, rates_file
from study.infra.paths import repo_root
from study.orchestration.cost import Forecast, MissingRates, bench_dir, forecast_runs, format_forecast, load_rates
from study.orchestration.run import StudyContext, open_study
from study.tasks.registry import get_task

THROUGHPUT_FILE = Path("reports") / "bench" / "gpu" / "throughput.json"
#: params encoder names -> the architecture measured in the throughput file
ARCH_OF_ENCODER = {"xlm-roberta-large": "xlm-roberta-large", "FacebookAI/xlm-roberta-large": "xlm-roberta-large",
                   "xlm-roberta-base": "xlm-roberta-base", "FacebookAI/xlm-roberta-base": "xlm-roberta-base",
                   "multilingual-e5-small-q4": "multilingual-e5-small",
                   "intfloat/multilingual-e5-small": "multilingual-e5-small"}


@dataclass
class StagePlan:
    key: str
    label: str
    parent: str | None
    runs: list[str] = field(default_factory=list)
    cached: bool = False
    steps: int = 0
    #: the per-task budget this stage trains with (the study's, or the run's where it is an axis)
    budget: Budget | None = None


@dataclass
class Plan:
    study: str
    runs: int
    stages: list[StagePlan]
    steps_with_reuse: int
    steps_from_scratch: int
    target_steps_per_run: int
    budget_note: str
    estimate: dict | None = None
    #: wall time on this machine from its measured rates (None: not measured here)
    forecast: Forecast | None = None
    rates_path: str = ""
    #: why there is no forecast although rates were measured here
    forecast_missing: str = ""


def _stage_steps(spec) -> int:
    b = spec.budget
    if b.unit == "steps":
        return int(b.per_task) * len(spec.tasks)
    return -1  # examples/epochs depend on data sizes: shown as "per budget"


def plan_study(params_file: Path, throughput_file: Path | None = None, rates: dict | None = None) -> Plan:
    """Expand the grid into stages (no training, no encoder build); forecast with this machine's rates."""
    ctx = open_study(params_file, build=False)
    stages: dict[str, StagePlan] = {}
    scratch = 0
    for run in ctx.runs():
        for spec in ctx.stages(run):
            plan = stages.setdefault(spec.key, StagePlan(spec.key, spec.label, spec.parent,
                                                         steps=_stage_steps(spec), budget=spec.budget))
            plan.runs.append(run.run_id)
            scratch += max(plan.steps, 0)
    for plan in stages.values():
        plan.cached = ctx.stage_cache.is_done(plan.key)
    reuse = sum(max(p.steps, 0) for p in stages.values())
    srl = ctx.config.srl.budget
    b = ctx.config.intermediate.budget
    budgets = " and ".join(f"{v:g}" for v in b.values())
    note = (f"intermediate budget: {budgets} {b.unit} per task (a joint stage over n tasks gets n times that); "
            f"SRL: {srl.per_task:g} {srl.unit} per run")
    plan = Plan(ctx.config.study_name, len(ctx.runs()), list(stages.values()), reuse, scratch,
                int(srl.per_task) if srl.unit == "steps" else -1, note)
    plan.estimate = estimate_compute(ctx, plan, throughput_file)
    rates = rates if rates is not None else load_rates()
    plan.rates_path = str(rates_file(bench_dir(), machine_key()))
    if rates is not None:
        from study.orchestration.run import run_is_done

        try:
            plan.forecast = forecast_runs(ctx, [r for r in ctx.runs() if not run_is_done(ctx, r)], rates)
        except MissingRates as exc:
            plan.forecast_missing = str(exc)
    return plan


def _budget_examples(budget, batch_size: int, train_size: int | None) -> int | None:
    """Examples a budget consumes: the engine's optimizer steps x batch (None: epochs of an unknown size)."""
    from study.training.engine import budget_steps

    if budget.unit == "epochs" and train_size is None:
        return None
    return budget_steps(budget, train_size or 0, batch_size) * batch_size


def stage_sequences(ctx: StudyContext, tasks: tuple[str, ...], budget: Budget) -> int | None:
    """Encoder sequences a stage trains on (multiple choice: one per choice); None if a size is unknown."""
    inter = ctx.config.intermediate
    total = 0
    for t in tasks:
        info, cfg = get_task(t), inter.tasks[t]
        size = info.hub_train_examples if inter.source == "hub" else None
        if size is not None and cfg.max_train_examples is not None:
            size = min(size, cfg.max_train_examples)
        n = _budget_examples(budget, (cfg.optim or inter.optim).batch_size, size)
        if n is None:
            return None
        total += n * info.sequences_per_example
    return total


def target_sequences(ctx: StudyContext) -> dict[str, int]:
    """Per run: SRL and POS training sequences, and sentences scored zero-shot (from the local bundle)."""
    from study.target.srl.data import load_split, srl_path

    cfg = ctx.config
    train = load_split(srl_path(ctx.data_root, "en", "train"), "en", "train", cfg.srl.predicate_scope,
                       cfg.srl.max_train_sentences)
    srl_units = len(train.sentence_ids) if cfg.srl.encoding == "per_sentence" else train.report.predicates_kept
    srl = _budget_examples(cfg.srl.budget, cfg.srl.optim.batch_size, srl_units) or 0
    pos = _budget_examples(cfg.pos.budget, cfg.pos.optim.batch_size, len(train.sentence_ids)) if cfg.pos.enabled else 0
    scored = count_scored_sentences(ctx)
    factor = 1 if cfg.srl.encoding == "per_sentence" else 2.5  # about 2.5 kept predicates per sentence
    return {"srl": int(srl), "pos": int(pos or 0), "scored": int(scored * factor)}


def scored_files(ctx: StudyContext, pos: bool = False) -> list[Path]:
    """The files a run scores zero-shot: SRL's target files, or POS's test files (English and every language)."""
    from study.target.srl.data import srl_path
    from study.target.srl.evaluate import target_files

    cfg = ctx.config
    if pos:
        return [srl_path(ctx.data_root, lang, "test") for lang in ["en", *ctx.languages]]
    return [p for _, _, p in target_files(ctx.data_root, ctx.languages, cfg.srl.splits, cfg.srl.gold_sets)]


def count_scored_sentences(ctx: StudyContext, pos: bool = False) -> int:
    """Sentences a run scores zero-shot in :func:`scored_files` (each capped at ``srl.max_eval_sentences``)."""
    from study.target.srl.data import count_sentences

    cap = ctx.config.srl.max_eval_sentences
    return sum(min(n, cap or n) for n in map(count_sentences, scored_files(ctx, pos)))


def load_throughput(arch: str, precision: str, path: Path | None = None) -> dict | None:
    """The measured record for ``arch`` (preferring ``precision``), from the committed throughput file."""
    path = Path(path) if path else repo_root() / THROUGHPUT_FILE
    if not path.is_file():
        return None
    records = [r for r in json.loads(path.read_text()) if r["arch"] == arch]
    if not records:
        return None
    same = [r for r in records if r["precision"] == precision]
    return (same or records)[0]


def estimate_compute(ctx: StudyContext, plan: Plan, throughput_file: Path | None = None) -> dict | None:
    """Device hours for what is still to compute, from measured throughput (None without a measurement)."""
    cfg = ctx.config
    arch = ARCH_OF_ENCODER.get(cfg.encoder.name)
    precision = "bf16" if cfg.runtime.mixed_precision == "bf16" else "fp32"
    record = load_throughput(arch, precision, throughput_file) if arch else None
    if record is None:
        return None
    stage_seqs = [stage_sequences(ctx, p.label.split("+"), p.budget) for p in plan.stages if not p.cached]
    known = [s for s in stage_seqs if s is not None]
    target = target_sequences(ctx)
    train_seqs = sum(known) + plan.runs * (target["srl"] + target["pos"])
    infer_seqs = plan.runs * target["scored"]
    train_rate = record["train"]["sequences_per_s"]
    infer_rate = record["inference"]["sequences_per_s"]
    hours = (train_seqs / train_rate + infer_seqs / infer_rate) / 3600
    return {
        "device_hours": hours, "train_sequences": train_seqs, "scored_sequences": infer_seqs,
        "stages_without_size": len(stage_seqs) - len(known), "per_run": target,
        "basis": (f"{record['device']}, {record['arch']} {record['precision']}, batch {record['batch_size']} x "
                  f"{record['seq_len']} tokens: {train_rate:.1f} training / {infer_rate:.1f} inference sequences/s "
                  f"(random-weight timing of the architecture, measured {record['measured_on']} by "
                  f"scripts/gpu_bench.sh; torch {record['torch']})"),
        "assumes": ("every sequence costs a full-length one; multiple-choice examples one sequence per choice; "
                    "SQuAD one window per question; dev evaluations during training and data loading not "
                    "counted; one device, no DDP speed-up"),
    }


def format_plan(plan: Plan) -> str:
    lines = [f"study '{plan.study}': {plan.runs} runs, {len(plan.stages)} distinct intermediate stages",
             plan.budget_note,
             "", f"{'stage':<28} {'key':<10} {'parent':<10} {'steps':>6}  {'status':<8} used by"]
    for p in plan.stages:
        steps = str(p.steps) if p.steps >= 0 else "budget"
        lines.append(f"{p.label:<28} {p.key[:8]:<10} {(p.parent or '-')[:8]:<10} {steps:>6}  "
                     f"{'cached' if p.cached else 'to train':<8} {len(p.runs)} run(s): {', '.join(p.runs[:3])}"
                     + (" ..." if len(p.runs) > 3 else ""))
    if plan.steps_from_scratch > 0:
        saved = plan.steps_from_scratch - plan.steps_with_reuse
        ratio = plan.steps_with_reuse / plan.steps_from_scratch
        lines += ["", f"intermediate steps with reuse: {plan.steps_with_reuse}; training every run from scratch: "
                      f"{plan.steps_from_scratch} ({saved} saved, {ratio:.2f}x)"]
        todo = sum(max(p.steps, 0) for p in plan.stages if not p.cached)
        lines.append(f"still to train: {todo} intermediate steps in {sum(not p.cached for p in plan.stages)} stage(s)")
    if plan.forecast is not None:
        lines += ["", *format_forecast(plan.forecast)]
    elif plan.forecast_missing:
        lines += ["", f"no wall-time forecast: {plan.forecast_missing}"]
    else:
        lines += ["", "no wall-time forecast: this machine's rates are not measured (`study bench --rates PARAMS` "
                      f"measures them into {plan.rates_path})"]
    est = plan.estimate
    if est:
        lines += ["", f"estimated compute still to do: {est['device_hours']:,.1f} device hours "
                      f"({est['train_sequences']:,} training sequences, {est['scored_sequences']:,} scored)",
                  f"  basis: {est['basis']}", f"  assumes: {est['assumes']}"]
        if est["stages_without_size"]:
            lines.append(f"  {est['stages_without_size']} stage(s) left out: their data size is only known "
                         "once loaded (bundle source with an epoch budget)")
    else:
        lines += ["", "no compute estimate: no throughput measured for this encoder "
                      f"(run scripts/gpu_bench.sh on the target device; it writes {THROUGHPUT_FILE})"]
    return "\n".join(lines)
