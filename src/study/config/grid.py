"""The grid a study executes: one :class:`RunSpec` per seed x target size x schedule."""

from __future__ import annotations

from dataclasses import dataclass

from study.config.schedules import Schedule
from study.config.schema import StudyConfig

#: the regime name of a run trained on the whole English SRL train split
ALL = "all"


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: a schedule trained with one seed on one target size.

    ``train_sentences`` None is the whole English train split; its run id is the one runs had
    before target size was an axis, so those runs stay valid.
    """

    schedule: Schedule
    seed: int
    train_sentences: int | None = None

    @property
    def regime(self) -> str:
        """``all`` or the number of English SRL train sentences, as results.csv records it."""
        return ALL if self.train_sentences is None else str(self.train_sentences)

    @property
    def run_id(self) -> str:
        size = "" if self.train_sentences is None else f"__n{self.train_sentences}"
        return f"{self.schedule.slug}{size}__seed{self.seed}"


def target_sizes(config: StudyConfig) -> list[int | None]:
    """The target-size axis in params order (None: all of English train)."""
    return [None if n == ALL else int(n) for n in config.srl.train_sentences]


def largest_size(config: StudyConfig) -> int | None:
    """The largest target size of the axis (None: all), where POS is trained."""
    sizes = target_sizes(config)
    return None if None in sizes else max(s for s in sizes if s is not None)


def expand_runs(config: StudyConfig) -> list[RunSpec]:
    """The grid the study executes: seed-major, then target size, then schedule (params order within).

    Seed-major so that a grid stopped part-way (hours on a laptop) holds every schedule and size at
    its first seeds, which the analysis can already compare, rather than all seeds of the first schedules.
    """
    return [RunSpec(s, seed, size) for seed in config.seeds for size in target_sizes(config)
            for s in config.parsed_schedules()]
