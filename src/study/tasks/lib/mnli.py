"""MultiNLI: (premise, hypothesis) -> entailment / neutral / contradiction."""

from __future__ import annotations

from study.tasks.examples import PairExample
from study.tasks.readers import label, read_jsonl, text
from study.tasks.spec import BundleFile, GroupSplit, HubSplits, TaskSpec

NLI_LABELS = {"entailment": 0, "e": 0, "neutral": 1, "n": 1, "contradiction": 2, "c": 2}
MNLI_HUB = HubSplits("nyu-mll/glue", "mnli", "train", "validation_matched")
MNLI_DEV = BundleFile("mnli/mnli_dev_matched.jsonl", read_jsonl)


def nli_row(row: dict) -> PairExample:
    """MNLI / SNLI / ANLI rows (bundle strings or hub ints; ANLI csv uses context/statement)."""
    premise = text(row.get("premise", row.get("context")))
    hypothesis = text(row.get("hypothesis", row.get("statement")))
    return PairExample(premise, hypothesis, label(row.get("label", row.get("gold_label")), NLI_LABELS, 3),
                       group=premise)


SPEC = TaskSpec(
    name="mnli", head="classification", n_labels=3, description="MultiNLI (premise, hypothesis) -> 3 classes",
    row=nli_row, bundle=GroupSplit((MNLI_DEV,), by="premise"), hub=(MNLI_HUB,), hub_train_examples=392_702,
)
