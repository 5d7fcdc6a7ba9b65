"""What a task is: one :class:`TaskSpec` per intermediate task, declared in its own module.

A spec holds everything the study needs to know about a task: its head kind (which chooses the
head, the loss, the encoding and the dev metric in :mod:`study.intermediate.head_kinds`), its label
count, where its bundle files are and how they split into train/dev, the row converter both sources
share, and its Hugging Face hub splits for full-scale runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from study.tasks.examples import Example, LoadReport

HeadKind = Literal["classification", "multiple_choice", "extractive_qa"]
Reader = Callable[[Path, LoadReport], list[dict]]


@dataclass(frozen=True)
class BundleFile:
    """A file under ``<data_root>/intermediate`` and the reader that turns it into rows."""

    path: str
    read: Reader


@dataclass(frozen=True)
class GroupSplit:
    """Official dev file(s) only: the study re-splits them group-wise (``study.tasks.splits``)."""

    files: tuple[BundleFile, ...]
    by: str  # what a group is (premise, article, context): it never straddles train and dev


@dataclass(frozen=True)
class FixedSplit:
    """A bundle that already has a train and a dev file."""

    train: BundleFile
    dev: BundleFile
    origin: str  # how the two files came about, recorded in the load report


@dataclass(frozen=True)
class HubSplits:
    """One hub dataset's train and dev splits (several are concatenated, e.g. ANLI+)."""

    dataset: str
    config: str | None
    train: str
    dev: str


@dataclass(frozen=True)
class TaskSpec:
    """Everything about one intermediate task."""

    name: str
    head: HeadKind
    description: str
    row: Callable[[dict], Example]
    bundle: GroupSplit | FixedSplit
    hub: tuple[HubSplits, ...]
    n_labels: int | None = None  # classification only
    #: size of the official train split on the hub (dataset cards); only ``study plan``'s estimate uses it
    hub_train_examples: int | None = None
    #: encoder sequences per example (multiple choice: one per choice)
    sequences_per_example: int = 1

    def __post_init__(self) -> None:
        if self.head == "classification" and not self.n_labels:
            raise ValueError(f"task '{self.name}': a classification task needs n_labels")
