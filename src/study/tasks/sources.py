"""Where each intermediate task's train and dev data come from, at both scales.

``load_task`` returns the same :class:`TaskData` whether the examples come from the local bundle
(dev-derived, split group-wise, the split recorded) or from the hub (official splits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from study.config import TaskConfig
from study.errors import DataError, StudyError
from study.tasks import loaders as L
from study.tasks.examples import LoadReport
from study.tasks.splits import cap, split_by_group

INTER = "intermediate"


@dataclass
class TaskData:
    """A task's training and dev examples and how they were obtained."""

    task: str
    train: list
    dev: list
    report: LoadReport
    extra: dict = field(default_factory=dict)


def _bundle(data_root: Path, rel: str) -> Path:
    path = Path(data_root) / INTER / rel
    if not path.is_file():
        raise DataError(f"{path}: missing bundle file for an intermediate task; run `study data check`")
    return path


def _load_bundle(task: str, data_root: Path, dev_fraction: float) -> tuple[list, list, LoadReport]:
    report = LoadReport(task, "bundle")

    def files(*rels: str) -> list[Path]:
        paths = [_bundle(data_root, r) for r in rels]
        report.files += [str(p) for p in paths]
        return paths

    def group_split(examples: list, what: str) -> tuple[list, list]:
        report.split_origin = f"official dev split, re-split group-wise by {what} ({dev_fraction:.0%} dev)"
        return split_by_group(examples, dev_fraction)

    if task in {"mnli", "snli"}:
        (path,) = files("mnli/mnli_dev_matched.jsonl" if task == "mnli" else "snli/snli_dev.jsonl")
        return (*group_split(L.convert(L.read_jsonl(path, report), L.nli_row, report), "premise"), report)
    if task == "anli_plus":
        rows = []
        for p in files("anli/ANLI_analysis_r1_dev.csv", "anli/ANLI_analysis_r2_dev.csv",
                       "anli/ANLI_analysis_r3_dev.csv"):
            rows += L.read_csv_rows(p)
        for p in files("mnli/mnli_dev_matched.jsonl", "snli/snli_dev.jsonl"):
            rows += L.read_jsonl(p, report)
        return (*group_split(L.convert(rows, L.nli_row, report), "premise"), report)
    if task == "qqp":
        train_p, dev_p = files("qqp/dev.tsv", "qqp/test.tsv")
        cols = ["label", "q1", "q2", "pair_id"]
        train = L.convert(L.read_tsv(train_p, cols, False, report), L.qqp_row, report)
        dev = L.convert(L.read_tsv(dev_p, cols, False, report), L.qqp_row, report)
        report.split_origin = "the bundle's balanced Quora split: dev.tsv trains, test.tsv selects"
        return train, dev, report
    if task == "sst2":
        train_p, dev_p = files("sst2/train.tsv", "sst2/dev.tsv")
        train = L.convert(L.read_tsv(train_p, ["sentence", "label"], True, report), L.sst2_row, report)
        dev = L.convert(L.read_tsv(dev_p, ["sentence", "label"], True, report), L.sst2_row, report)
        report.split_origin = "GLUE train re-split 90/10 (bundle)"
        return train, dev, report
    if task == "rte":
        train_p, dev_p = files("rte/train.jsonl", "rte/val.jsonl")
        report.split_origin = "official SuperGLUE train / val"
        return (L.convert(L.read_jsonl(train_p, report), L.rte_row, report),
                L.convert(L.read_jsonl(dev_p, report), L.rte_row, report), report)
    if task in {"squad_v1", "squad_v2"}:
        (path,) = files("squad_v1/dev-v1.1.json" if task == "squad_v1" else "squad_v2/dev-v2.0.json")
        return (*group_split(L.convert(L.squad_json_rows(path), L.squad_row, report), "article"), report)
    if task == "hellaswag":
        (path,) = files("hellaswag/hellaswag_val_full.jsonl")
        return (*group_split(L.convert(L.read_jsonl(path, report), L.hellaswag_row, report), "context"), report)
    if task == "cosmosqa":
        (path,) = files("cosmosqa/valid.csv")
        return (*group_split(L.convert(L.read_csv_rows(path), L.cosmosqa_row, report), "context"), report)
    if task == "csqa":
        train_p, dev_p = files("csqa/train_rand_split.jsonl", "csqa/dev_rand_split.jsonl")
        report.split_origin = "official train / dev"
        return (L.convert(L.read_jsonl(train_p, report), L.csqa_row, report),
                L.convert(L.read_jsonl(dev_p, report), L.csqa_row, report), report)
    raise StudyError(f"task '{task}' has no bundled data (ccg: pass a CCGbank directory to tasks.ccg)")


#: Hub sources: task -> list of (dataset id, config, train split, dev split), and the row converter.
HUB: dict[str, tuple[list[tuple[str, str | None, str, str]], Callable]] = {
    "mnli": ([("nyu-mll/glue", "mnli", "train", "validation_matched")], L.nli_row),
    "snli": ([("stanfordnlp/snli", None, "train", "validation")], L.nli_row),
    "anli_plus": ([("facebook/anli", None, "train_r1+train_r2+train_r3", "dev_r1+dev_r2+dev_r3"),
                   ("nyu-mll/glue", "mnli", "train", "validation_matched"),
                   ("stanfordnlp/snli", None, "train", "validation")], L.nli_row),
    "qqp": ([("nyu-mll/glue", "qqp", "train", "validation")], L.qqp_row),
    "sst2": ([("nyu-mll/glue", "sst2", "train", "validation")], L.sst2_row),
    "rte": ([("aps/super_glue", "rte", "train", "validation")], L.rte_row),
    "squad_v1": ([("rajpurkar/squad", None, "train", "validation")], L.squad_row),
    "squad_v2": ([("rajpurkar/squad_v2", None, "train", "validation")], L.squad_row),
    "hellaswag": ([("Rowan/hellaswag", None, "train", "validation")], L.hellaswag_row),
    "cosmosqa": ([("allenai/cosmos_qa", None, "train", "validation")], L.cosmosqa_row),
    "csqa": ([("tau/commonsense_qa", None, "train", "validation")], L.csqa_row),
}


def _load_hub(task: str, load_dataset: Callable | None = None) -> tuple[list, list, LoadReport]:
    if task not in HUB:
        raise StudyError(f"task '{task}' has no hub source")
    if load_dataset is None:
        from datasets import load_dataset
    sources, row_fn = HUB[task]
    report = LoadReport(task, "hub", split_origin="official train / validation splits")
    train, dev = [], []
    for dataset_id, name, train_split, dev_split in sources:
        report.files.append(f"{dataset_id}{'/' + name if name else ''}")
        try:
            train += L.convert(load_dataset(dataset_id, name, split=train_split), row_fn, report)
            dev += L.convert(load_dataset(dataset_id, name, split=dev_split), row_fn, report)
        except (ConnectionError, OSError, ValueError) as exc:
            if isinstance(exc, StudyError):
                raise
            raise DataError(
                f"cannot load {dataset_id} for task '{task}' from the Hugging Face hub ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); on a machine without hub access use "
                "'intermediate: {source: bundle}'"
            ) from exc
    return train, dev, report


def load_task(
    task: str, data_root: Path, source: str, task_cfg: TaskConfig, seed: int = 0,
    load_dataset: Callable | None = None,
) -> TaskData:
    """Train/dev examples of ``task`` with the per-task caps of params applied (seeded subset)."""
    if source == "bundle":
        train, dev, report = _load_bundle(task, data_root, task_cfg.dev_fraction)
    else:
        train, dev, report = _load_hub(task, load_dataset)
    if not train or not dev:
        raise DataError(f"task '{task}': no usable examples (train {len(train)}, dev {len(dev)}); "
                        f"skipped rows: {report.skipped}")
    train = cap(train, task_cfg.max_train_examples, seed=0)
    dev = cap(dev, task_cfg.max_dev_examples, seed=0)
    train_groups, dev_groups = {e.group for e in train}, {e.group for e in dev}
    # official splits may share groups (qqp: questions recur across the bundle's files): reported
    return TaskData(task, train, dev, report, {"train_groups": len(train_groups), "dev_groups": len(dev_groups),
                                               "groups_in_both": len(train_groups & dev_groups)})
