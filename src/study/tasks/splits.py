"""Deterministic group-wise train/dev splits of dev-derived task data.

Most intermediate tasks are available here only as their official dev split, so the study makes
its own train/dev from it. Splitting by example would leak: an NLI premise appears with three
hypotheses, a SQuAD article with dozens of questions. Each *group* (premise, article, context) goes
wholly to one side, decided by a hash of the group key, so the split does not depend on file order
or on how many examples are capped later, and is identical on every machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def group_fraction(group: str, salt: str = "study-split-v1") -> float:
    """A stable number in [0, 1) for a group key."""
    digest = hashlib.sha256(f"{salt}\x00{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_group(examples: Sequence[T], dev_fraction: float, group_of=lambda e: e.group) -> tuple[list[T], list[T]]:
    """(train, dev): groups whose hash falls below ``dev_fraction`` go to dev."""
    train, dev = [], []
    for ex in examples:
        (dev if group_fraction(group_of(ex)) < dev_fraction else train).append(ex)
    return train, dev


def cap(examples: Sequence[T], limit: int | None, seed: int = 0) -> list[T]:
    """The first ``limit`` examples after a seeded shuffle (a fixed random subset; None keeps all)."""
    import numpy as np

    if limit is None or limit >= len(examples):
        return list(examples)
    order = np.random.default_rng(seed).permutation(len(examples))[:limit]
    return [examples[i] for i in sorted(order)]
