"""Names of the study's tasks and the head each one trains.

This is the single list that params are validated against. Loaders and heads are attached by
the modules that implement them (intermediate tasks, SRL, POS); a task listed here with
``bundled=False`` has no data in the local bundle (CCG: CCGbank is LDC-licensed, so only a
reader for a user's own copy exists).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskInfo:
    """Static facts about a task: its head and where its data comes from."""

    name: str
    head: str  # "classification", "multiple_choice", "extractive_qa", "tagging"
    description: str
    bundled: bool = True
    hub_id: str | None = None


INTERMEDIATE_TASKS: dict[str, TaskInfo] = {
    t.name: t
    for t in (
        TaskInfo("mnli", "classification", "MultiNLI (premise, hypothesis) -> 3 classes", hub_id="nyu-mll/glue"),
        TaskInfo("snli", "classification", "SNLI (premise, hypothesis) -> 3 classes", hub_id="stanfordnlp/snli"),
        TaskInfo("anli_plus", "classification", "ANLI R1-R3 with MNLI and SNLI (Phang et al.)",
                 hub_id="facebook/anli"),
        TaskInfo("qqp", "classification", "Quora question pairs -> duplicate or not", hub_id="nyu-mll/glue"),
        TaskInfo("sst2", "classification", "SST-2 sentence sentiment", hub_id="nyu-mll/glue"),
        TaskInfo("rte", "classification", "RTE entailment (SuperGLUE)", hub_id="aps/super_glue"),
        TaskInfo("squad_v1", "extractive_qa", "SQuAD v1.1 extractive QA", hub_id="rajpurkar/squad"),
        TaskInfo("squad_v2", "extractive_qa", "SQuAD v2.0 extractive QA with unanswerable questions",
                 hub_id="rajpurkar/squad_v2"),
        TaskInfo("hellaswag", "multiple_choice", "HellaSwag 4-way sentence completion", hub_id="Rowan/hellaswag"),
        TaskInfo("cosmosqa", "multiple_choice", "CosmosQA 4-way reading comprehension",
                 hub_id="allenai/cosmos_qa"),
        TaskInfo("csqa", "multiple_choice", "CommonsenseQA 5-way", hub_id="tau/commonsense_qa"),
        TaskInfo("ccg", "tagging", "CCG supertagging from a user-supplied CCGbank", bundled=False),
    )
}

#: Target tasks: SRL (the study's question) and UD-POS (an XTREME task reported by Phang et al.).
TARGET_TASKS = ("srl", "pos")
