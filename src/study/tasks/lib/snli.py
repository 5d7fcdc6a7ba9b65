"""SNLI: (premise, hypothesis) -> 3 classes, the MNLI converter."""

from __future__ import annotations

from study.tasks.lib.mnli import nli_row
from study.tasks.readers import read_jsonl
from study.tasks.spec import BundleFile, GroupSplit, HubSplits, TaskSpec

SNLI_HUB = HubSplits("stanfordnlp/snli", None, "train", "validation")
SNLI_DEV = BundleFile("snli/snli_dev.jsonl", read_jsonl)

SPEC = TaskSpec(
    name="snli", head="classification", n_labels=3, description="SNLI (premise, hypothesis) -> 3 classes",
    row=nli_row, bundle=GroupSplit((SNLI_DEV,), by="premise"), hub=(SNLI_HUB,), hub_train_examples=550_152,
)
