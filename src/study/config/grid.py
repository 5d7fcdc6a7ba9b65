"""The grid a study executes: one :class:`RunSpec` per seed x target size x intermediate budget x schedule."""

from __future__ import annotations

from dataclasses import dataclass

from study.config.schedules import Schedule
from study.config.schema import StudyConfig

#: the regime name of a run trained on the whole English SRL train split
ALL = "all"


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: a schedule trained with one seed on one target size (and budget).

    ``train_sentences`` None is the whole English train split; its run id is the one runs had
    before target size was an axis, so those runs stay valid. ``intermediate_budget`` is set only
    where ``intermediate.budget.per_task`` is an axis (None: the study's one budget).
    """

    schedule: Schedule
    seed: int
    train_sentences: int | None = None
    intermediate_budget: float | None = None

    @property
    def regime(self) -> str:
        """``all`` or the number of English SRL train sentences, as results.csv records it."""
        return ALL if self.train_sentences is None else str(self.train_sentences)

    @property
    def run_id(self) -> str:
        size = "" if self.train_sentences is None else f"__n{self.train_sentences}"
        budget = "" if self.intermediate_budget is None else f"__i{self.intermediate_budget:g}"
        return f"{self.schedule.slug}{size}{budget}__seed{self.seed}"


def target_sizes(config: StudyConfig) -> list[int | None]:
    """The target-size axis in params order (None: all of English train)."""
    return [None if n == ALL else int(n) for n in config.srl.train_sentences]


def largest_size(config: StudyConfig) -> int | None:
    """The largest target size of the axis (None: all), where POS is trained."""
    sizes = target_sizes(config)
    return None if None in sizes else max(s for s in sizes if s is not None)


def intermediate_budgets(config: StudyConfig) -> list[float | None]:
    """The intermediate-budget axis as runs carry it: ``[None]`` for one budget, else each budget."""
    values = config.intermediate.budget.values()
    return [None] if len(values) == 1 else list(values)


def run_config(config: StudyConfig, run: RunSpec) -> StudyConfig:
    """``config`` as ``run`` computes with it: its own intermediate budget where the budget is an axis.

    The study's identity (params hash, provenance, run folders) stays ``config``'s; this copy only
    decides what the run's stages and target training compute, so a run at 300 steps computes, and
    keys its stages, exactly as a study whose single budget is 300 does.
    """
    budget = config.intermediate.budget
    if not isinstance(budget.per_task, list):
        return config
    per_task = run.intermediate_budget if run.intermediate_budget is not None else budget.per_task[0]
    intermediate = config.intermediate.model_copy(update={"budget": budget.model_copy(update={"per_task": per_task})})
    return config.model_copy(update={"intermediate": intermediate})


def run_budget(config: StudyConfig, run: RunSpec) -> float | None:
    """The intermediate budget per task ``run`` trains with (None: a schedule without intermediate tasks)."""
    return run_config(config, run).intermediate.budget.per_task if run.schedule.tasks else None


def expand_runs(config: StudyConfig) -> list[RunSpec]:
    """The grid the study executes: seed-major, then target size, then budget, then schedule (params order).

    Seed-major so that a grid stopped part-way (hours on a laptop) holds every schedule and size at
    its first seeds, which the analysis can already compare, rather than all seeds of the first schedules.
    A schedule without intermediate tasks (``none``) does not depend on the budget: it runs once per
    seed and size, and the analysis compares it with every budget.
    """
    budgets = intermediate_budgets(config)
    return [RunSpec(s, seed, size, budget if s.tasks else None) for seed in config.seeds
            for size in target_sizes(config) for budget in budgets for s in config.parsed_schedules()
            if s.tasks or budget == budgets[0]]
