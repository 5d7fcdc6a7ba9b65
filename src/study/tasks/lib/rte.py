"""RTE (SuperGLUE): entailment or not."""

from __future__ import annotations

from study.tasks.examples import PairExample
from study.tasks.readers import label, read_jsonl, text
from study.tasks.spec import BundleFile, FixedSplit, HubSplits, TaskSpec

RTE_LABELS = {"entailment": 0, "not_entailment": 1}


def rte_row(row: dict) -> PairExample:
    premise = text(row["premise"])
    return PairExample(premise, text(row["hypothesis"]), label(row.get("label"), RTE_LABELS, 2), group=premise)


SPEC = TaskSpec(
    name="rte", head="classification", n_labels=2, description="RTE entailment (SuperGLUE)", row=rte_row,
    bundle=FixedSplit(BundleFile("rte/train.jsonl", read_jsonl), BundleFile("rte/val.jsonl", read_jsonl),
                      origin="official SuperGLUE train / val"),
    hub=(HubSplits("aps/super_glue", "rte", "train", "validation"),), hub_train_examples=2_490,
)
