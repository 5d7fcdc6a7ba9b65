"""HellaSwag: pick the right one of 4 sentence endings."""

from __future__ import annotations

from study.tasks.examples import ChoiceExample
from study.tasks.readers import Skip, label, read_jsonl, text
from study.tasks.spec import BundleFile, GroupSplit, HubSplits, TaskSpec


def hellaswag_row(row: dict) -> ChoiceExample:
    ctx = text(row.get("ctx", row.get("context")))
    endings = tuple(row["endings"])
    if len(endings) != 4:
        raise Skip("not 4 endings")
    return ChoiceExample(ctx, "", endings, label(row.get("label"), None, 4), group=ctx)


SPEC = TaskSpec(
    name="hellaswag", head="multiple_choice", description="HellaSwag 4-way sentence completion", row=hellaswag_row,
    bundle=GroupSplit((BundleFile("hellaswag/hellaswag_val_full.jsonl", read_jsonl),), by="context"),
    hub=(HubSplits("Rowan/hellaswag", None, "train", "validation"),), hub_train_examples=39_905,
    sequences_per_example=4,
)
