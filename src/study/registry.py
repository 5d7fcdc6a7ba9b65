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
    #: size of the official train split on the hub (dataset cards); only ``study plan``'s cost estimate uses it
    hub_train_examples: int | None = None
    #: encoder sequences per example (multiple choice: one per choice)
    sequences_per_example: int = 1


INTERMEDIATE_TASKS: dict[str, TaskInfo] = {
    t.name: t
    for t in (
        TaskInfo("mnli", "classification", "MultiNLI (premise, hypothesis) -> 3 classes", hub_id="nyu-mll/glue",
                 hub_train_examples=392_702),
        TaskInfo("snli", "classification", "SNLI (premise, hypothesis) -> 3 classes", hub_id="stanfordnlp/snli",
                 hub_train_examples=550_152),
        TaskInfo("anli_plus", "classification", "ANLI R1-R3 with MNLI and SNLI (Phang et al.)",
                 hub_id="facebook/anli", hub_train_examples=16_946 + 45_460 + 100_459 + 392_702 + 550_152),
        TaskInfo("qqp", "classification", "Quora question pairs -> duplicate or not", hub_id="nyu-mll/glue",
                 hub_train_examples=363_846),
        TaskInfo("sst2", "classification", "SST-2 sentence sentiment", hub_id="nyu-mll/glue",
                 hub_train_examples=67_349),
        TaskInfo("rte", "classification", "RTE entailment (SuperGLUE)", hub_id="aps/super_glue",
                 hub_train_examples=2_490),
        TaskInfo("squad_v1", "extractive_qa", "SQuAD v1.1 extractive QA", hub_id="rajpurkar/squad",
                 hub_train_examples=87_599),
        TaskInfo("squad_v2", "extractive_qa", "SQuAD v2.0 extractive QA with unanswerable questions",
                 hub_id="rajpurkar/squad_v2", hub_train_examples=130_319),
        TaskInfo("hellaswag", "multiple_choice", "HellaSwag 4-way sentence completion", hub_id="Rowan/hellaswag",
                 hub_train_examples=39_905, sequences_per_example=4),
        TaskInfo("cosmosqa", "multiple_choice", "CosmosQA 4-way reading comprehension",
                 hub_id="allenai/cosmos_qa", hub_train_examples=25_262, sequences_per_example=4),
        TaskInfo("csqa", "multiple_choice", "CommonsenseQA 5-way", hub_id="tau/commonsense_qa",
                 hub_train_examples=9_741, sequences_per_example=5),
        TaskInfo("ccg", "tagging", "CCG supertagging from a user-supplied CCGbank", bundled=False),
    )
}

#: Target tasks: SRL (the study's question) and UD-POS (an XTREME task reported by Phang et al.).
TARGET_TASKS = ("srl", "pos")
