"""Quora Question Pairs: are two questions duplicates?"""

from __future__ import annotations

from functools import partial

from study.tasks.examples import PairExample
from study.tasks.readers import label, read_tsv, text
from study.tasks.spec import BundleFile, FixedSplit, HubSplits, TaskSpec

read_qqp = partial(read_tsv, columns=("label", "q1", "q2", "pair_id"), header=False)


def qqp_row(row: dict) -> PairExample:
    q1 = text(row.get("question1", row.get("q1")))
    return PairExample(q1, text(row.get("question2", row.get("q2"))), label(row.get("label"), None, 2), group=q1)


SPEC = TaskSpec(
    name="qqp", head="classification", n_labels=2, description="Quora question pairs -> duplicate or not",
    row=qqp_row,
    bundle=FixedSplit(BundleFile("qqp/dev.tsv", read_qqp), BundleFile("qqp/test.tsv", read_qqp),
                      origin="the bundle's balanced Quora split: dev.tsv trains, test.tsv selects"),
    hub=(HubSplits("nyu-mll/glue", "qqp", "train", "validation"),), hub_train_examples=363_846,
)
