"""SST-2: sentence sentiment (positive / negative)."""

from __future__ import annotations

from functools import partial

from study.tasks.examples import PairExample
from study.tasks.readers import label, read_tsv, text
from study.tasks.spec import BundleFile, FixedSplit, HubSplits, TaskSpec

read_sst2 = partial(read_tsv, columns=("sentence", "label"), header=True)


def sst2_row(row: dict) -> PairExample:
    sentence = text(row["sentence"])
    return PairExample(sentence, None, label(row.get("label"), None, 2), group=sentence)


SPEC = TaskSpec(
    name="sst2", head="classification", n_labels=2, description="SST-2 sentence sentiment", row=sst2_row,
    bundle=FixedSplit(BundleFile("sst2/train.tsv", read_sst2), BundleFile("sst2/dev.tsv", read_sst2),
                      origin="GLUE train re-split 90/10 (bundle)"),
    hub=(HubSplits("nyu-mll/glue", "sst2", "train", "validation"),), hub_train_examples=67_349,
)
