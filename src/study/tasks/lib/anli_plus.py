"""ANLI+ (Phang et al.): ANLI rounds 1-3 together with MNLI and SNLI."""

from __future__ import annotations

from study.tasks.lib.mnli import MNLI_DEV, MNLI_HUB, nli_row
from study.tasks.lib.snli import SNLI_DEV, SNLI_HUB
from study.tasks.readers import read_csv_rows
from study.tasks.spec import BundleFile, GroupSplit, HubSplits, TaskSpec

ANLI_DEV = tuple(BundleFile(f"anli/ANLI_analysis_r{r}_dev.csv", read_csv_rows) for r in (1, 2, 3))

SPEC = TaskSpec(
    name="anli_plus", head="classification", n_labels=3,
    description="ANLI R1-R3 with MNLI and SNLI (Phang et al.)",
    row=nli_row, bundle=GroupSplit((*ANLI_DEV, MNLI_DEV, SNLI_DEV), by="premise"),
    hub=(HubSplits("facebook/anli", None, "train_r1+train_r2+train_r3", "dev_r1+dev_r2+dev_r3"), MNLI_HUB, SNLI_HUB),
    hub_train_examples=16_946 + 45_460 + 100_459 + 392_702 + 550_152,
)
