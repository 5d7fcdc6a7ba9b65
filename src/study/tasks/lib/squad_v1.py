"""SQuAD v1.1: extractive question answering."""

from __future__ import annotations

from study.tasks.examples import QaExample
from study.tasks.readers import Skip, read_squad_json, text
from study.tasks.spec import BundleFile, GroupSplit, HubSplits, TaskSpec


def squad_row(row: dict) -> QaExample:
    """Hub-style flat row: id, title, context, question, answers {text: [...], answer_start: [...]}."""
    context, question = row["context"], text(row["question"])
    texts, starts = row["answers"]["text"], row["answers"]["answer_start"]
    if not texts:
        return QaExample(question, context, "", -1, row.get("title", ""), row.get("id", ""))
    answer, start = texts[0], int(starts[0])
    if context[start : start + len(answer)] != answer:
        found = context.find(answer)
        if found < 0:
            raise Skip("answer not found in context")
        start = found
    return QaExample(question, context, answer, start, row.get("title", ""), row.get("id", ""))


SPEC = TaskSpec(
    name="squad_v1", head="extractive_qa", description="SQuAD v1.1 extractive QA", row=squad_row,
    bundle=GroupSplit((BundleFile("squad_v1/dev-v1.1.json", read_squad_json),), by="article"),
    hub=(HubSplits("rajpurkar/squad", None, "train", "validation"),), hub_train_examples=87_599,
)
