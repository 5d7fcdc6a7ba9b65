"""CosmosQA: 4-way commonsense reading comprehension."""

from __future__ import annotations

from study.tasks.examples import ChoiceExample
from study.tasks.readers import label, read_csv_rows, text
from study.tasks.spec import BundleFile, GroupSplit, HubSplits, TaskSpec


def cosmosqa_row(row: dict) -> ChoiceExample:
    ctx = text(row["context"])
    choices = tuple(str(row[f"answer{i}"]) for i in range(4))
    return ChoiceExample(ctx, text(row["question"]), choices, label(row.get("label"), None, 4), group=ctx)


SPEC = TaskSpec(
    name="cosmosqa", head="multiple_choice", description="CosmosQA 4-way reading comprehension", row=cosmosqa_row,
    bundle=GroupSplit((BundleFile("cosmosqa/valid.csv", read_csv_rows),), by="context"),
    hub=(HubSplits("allenai/cosmos_qa", None, "train", "validation"),), hub_train_examples=25_262,
    sequences_per_example=4,
)
