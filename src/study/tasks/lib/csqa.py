"""CommonsenseQA: 5-way multiple choice."""

from __future__ import annotations

from study.tasks.examples import ChoiceExample
from study.tasks.readers import Skip, read_jsonl, text
from study.tasks.spec import BundleFile, FixedSplit, HubSplits, TaskSpec


def csqa_row(row: dict) -> ChoiceExample:
    """Official JSONL (nested ``question``) or hub rows (flat ``question``, ``choices``)."""
    q = row["question"]
    if isinstance(q, dict):
        stem, labels, texts = q["stem"], [c["label"] for c in q["choices"]], [c["text"] for c in q["choices"]]
    else:
        stem, labels, texts = q, list(row["choices"]["label"]), list(row["choices"]["text"])
    key = row.get("answerKey")
    if key not in labels:
        raise Skip("missing label")
    return ChoiceExample("", text(stem), tuple(texts), labels.index(key), group=row.get("id", stem))


SPEC = TaskSpec(
    name="csqa", head="multiple_choice", description="CommonsenseQA 5-way", row=csqa_row,
    bundle=FixedSplit(BundleFile("csqa/train_rand_split.jsonl", read_jsonl),
                      BundleFile("csqa/dev_rand_split.jsonl", read_jsonl), origin="official train / dev"),
    hub=(HubSplits("tau/commonsense_qa", None, "train", "validation"),), hub_train_examples=9_741,
    sequences_per_example=5,
)
