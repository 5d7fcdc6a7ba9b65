"""The grid a study executes: one :class:`RunSpec` per schedule x seed."""

from __future__ import annotations

from dataclasses import dataclass

from study.config.schedules import Schedule
from study.config.schema import StudyConfig


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: a schedule trained with one seed."""

    schedule: Schedule
    seed: int

    @property
    def run_id(self) -> str:
        return f"{self.schedule.slug}__seed{self.seed}"


def expand_runs(config: StudyConfig) -> list[RunSpec]:
    """The grid the study executes: every schedule x every seed, seed-major (params order within).

    Seed-major so that a grid stopped part-way (hours on a laptop) holds every schedule at its first
    seeds, which the analysis can already compare, rather than all seeds of the first schedules.
    """
    return [RunSpec(s, seed) for seed in config.seeds for s in config.parsed_schedules()]


