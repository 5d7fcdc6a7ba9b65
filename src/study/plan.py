"""``study plan``: the stages a study needs, which are cached, and the training steps reuse saves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from study.pipeline import open_study


@dataclass
class StagePlan:
    key: str
    label: str
    parent: str | None
    runs: list[str] = field(default_factory=list)
    cached: bool = False
    steps: int = 0


@dataclass
class Plan:
    study: str
    runs: int
    stages: list[StagePlan]
    steps_with_reuse: int
    steps_from_scratch: int
    target_steps_per_run: int
    budget_note: str


def _stage_steps(config, tasks: tuple[str, ...]) -> int:
    b = config.intermediate.budget
    if b.unit == "steps":
        return int(b.per_task) * len(tasks)
    return -1  # examples/epochs depend on data sizes: shown as "per budget"


def plan_study(params_file: Path) -> Plan:
    """Expand the grid into stages (no training, no encoder build)."""
    ctx = open_study(params_file, build=False)
    stages: dict[str, StagePlan] = {}
    scratch = 0
    for run in ctx.runs():
        for spec in ctx.stages(run):
            plan = stages.setdefault(spec.key, StagePlan(spec.key, spec.label, spec.parent,
                                                         steps=_stage_steps(ctx.config, spec.tasks)))
            plan.runs.append(run.run_id)
            scratch += max(plan.steps, 0)
    for plan in stages.values():
        plan.cached = ctx.stage_cache.is_done(plan.key)
    reuse = sum(max(p.steps, 0) for p in stages.values())
    srl = ctx.config.srl.budget
    b = ctx.config.intermediate.budget
    note = (f"intermediate budget: {b.per_task:g} {b.unit} per task (a joint stage over n tasks gets n times that); "
            f"SRL: {srl.per_task:g} {srl.unit} per run")
    return Plan(ctx.config.study_name, len(ctx.runs()), list(stages.values()), reuse, scratch,
                int(srl.per_task) if srl.unit == "steps" else -1, note)


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
    return "\n".join(lines)
