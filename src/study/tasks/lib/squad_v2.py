"""SQuAD v2.0: extractive QA with unanswerable questions (the v1.1 converter)."""

from __future__ import annotations

from study.tasks.lib.squad_v1 import squad_row
from study.tasks.readers import read_squad_json
from study.tasks.spec import BundleFile, GroupSplit, HubSplits, TaskSpec

SPEC = TaskSpec(
    name="squad_v2", head="extractive_qa", description="SQuAD v2.0 extractive QA with unanswerable questions",
    row=squad_row, bundle=GroupSplit((BundleFile("squad_v2/dev-v2.0.json", read_squad_json),), by="article"),
    hub=(HubSplits("rajpurkar/squad_v2", None, "train", "validation"),), hub_train_examples=130_319,
)
