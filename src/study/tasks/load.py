"""A task's train and dev examples, from the local bundle or from the Hugging Face hub.

``load_task`` returns the same :class:`TaskData` whether the examples come from the bundle
(dev-derived files split group-wise, the split recorded) or from the hub (official splits); both go
through the task's own row converter, so the hub path is tested on local files through
``datasets.load_dataset("json", ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from study.infra.errors import DataError, StudyError
from study.tasks.examples import LoadReport
from study.tasks.readers import convert
from study.tasks.registry import get_task
from study.tasks.spec import BundleFile, FixedSplit, TaskSpec
from study.tasks.splits import cap, split_by_group

INTER = "intermediate"


class TaskSlice(Protocol):
    """The per-task data settings of params (``intermediate.tasks.<task>``)."""

    max_train_examples: int | None
    max_dev_examples: int | None
    dev_fraction: float


@dataclass
class TaskData:
    """A task's training and dev examples and how they were obtained."""

    task: str
    train: list
    dev: list
    report: LoadReport
    extra: dict = field(default_factory=dict)


def bundle_path(data_root: Path, rel: str) -> Path:
    path = Path(data_root) / INTER / rel
    if not path.is_file():
        raise DataError(f"{path}: missing bundle file for an intermediate task; run `study data check`")
    return path


def load_bundle(spec: TaskSpec, data_root: Path, dev_fraction: float) -> tuple[list, list, LoadReport]:
    report = LoadReport(spec.name, "bundle")

    def paths(files: tuple[BundleFile, ...]) -> list[Path]:
        found = [bundle_path(data_root, f.path) for f in files]
        report.files += [str(p) for p in found]
        return found

    def examples(file: BundleFile, path: Path) -> list:
        return convert(file.read(path, report), spec.row, report)

    split = spec.bundle
    if isinstance(split, FixedSplit):
        train_p, dev_p = paths((split.train, split.dev))
        train, dev = examples(split.train, train_p), examples(split.dev, dev_p)
        report.split_origin = split.origin
        return train, dev, report
    rows: list[dict] = []
    for file, path in zip(split.files, paths(split.files), strict=True):
        rows += file.read(path, report)
    report.split_origin = f"official dev split, re-split group-wise by {split.by} ({dev_fraction:.0%} dev)"
    return (*split_by_group(convert(rows, spec.row, report), dev_fraction), report)


def load_hub(spec: TaskSpec, load_dataset: Callable | None = None) -> tuple[list, list, LoadReport]:
    if not spec.hub:
        raise StudyError(f"task '{spec.name}' has no hub source")
    if load_dataset is None:
        from datasets import load_dataset
    report = LoadReport(spec.name, "hub", split_origin="official train / validation splits")
    train, dev = [], []
    for source in spec.hub:
        report.files.append(f"{source.dataset}{'/' + source.config if source.config else ''}")
        try:
            train += convert(load_dataset(source.dataset, source.config, split=source.train), spec.row, report)
            dev += convert(load_dataset(source.dataset, source.config, split=source.dev), spec.row, report)
        except (ConnectionError, OSError, ValueError) as exc:
            if isinstance(exc, StudyError):
                raise
            raise DataError(
                f"cannot load {source.dataset} for task '{spec.name}' from the Hugging Face hub "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); on a machine "
                "without hub access use 'intermediate: {source: bundle}'"
            ) from exc
    return train, dev, report


def load_task(task: str | TaskSpec, data_root: Path, source: str, caps: TaskSlice,
              load_dataset: Callable | None = None) -> TaskData:
    """Train/dev examples of ``task`` with the per-task caps of params applied (a fixed subset)."""
    spec = get_task(task) if isinstance(task, str) else task
    if source == "bundle":
        train, dev, report = load_bundle(spec, data_root, caps.dev_fraction)
    else:
        train, dev, report = load_hub(spec, load_dataset)
    if not train or not dev:
        raise DataError(f"task '{spec.name}': no usable examples (train {len(train)}, dev {len(dev)}); "
                        f"skipped rows: {report.skipped}")
    train = cap(train, caps.max_train_examples, seed=0)
    dev = cap(dev, caps.max_dev_examples, seed=0)
    train_groups, dev_groups = {e.group for e in train}, {e.group for e in dev}
    # official splits may share groups (qqp: questions recur across the bundle's files): reported
    return TaskData(spec.name, train, dev, report, {"train_groups": len(train_groups), "dev_groups": len(dev_groups),
                                                    "groups_in_both": len(train_groups & dev_groups)})
