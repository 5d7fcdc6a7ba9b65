"""SRL scoring with gold predicates.

* Head-based labelled P/R/F1 (CoNLL-2009 style): micro over (predicate, argument head, label).
* Span-based labelled exact P/R/F1 (CoNLL-2005 style): (predicate, start, end, label).

Both count multisets, so a gold argument listed twice must be predicted twice to be fully
recalled. Senses are not scored (predicates are given). Counts are kept per sentence so that
significance tests can resample sentences and recompute corpus F1 from summed counts (F1 is not a
mean of sentence scores).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from study.target.srl.conllu import Predicate


@dataclass
class Counts:
    """True positives, predicted and gold totals."""

    tp: int = 0
    pred: int = 0
    gold: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.pred += other.pred
        self.gold += other.gold

    @property
    def precision(self) -> float:
        return self.tp / self.pred if self.pred else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        return f1_from_counts(self.tp, self.pred, self.gold)


def f1_from_counts(tp, pred, gold):
    """F1 = 2 tp / (pred + gold); 0 when both are 0 (works on numpy arrays too)."""
    denom = np.asarray(pred) + np.asarray(gold)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(denom > 0, 2.0 * np.asarray(tp) / np.where(denom > 0, denom, 1), 0.0)
    return float(out) if np.ndim(out) == 0 else out


@dataclass
class SrlScore:
    """Corpus score of one file: totals, per-label counts and per-sentence counts."""

    kind: str  # "head" or "span"
    total: Counts = field(default_factory=Counts)
    by_label: dict[str, Counts] = field(default_factory=dict)
    per_sentence: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))

    @property
    def f1(self) -> float:
        return self.total.f1


def _tuples(predicates: Iterable[Predicate], kind: str) -> Counter:
    out: Counter = Counter()
    for p in predicates:
        for a in p.arguments:
            if a.malformed:
                continue
            if kind == "head":
                out[(p.word, a.head, a.label)] += 1
            elif a.span is not None:
                out[(p.word, a.span[0], a.span[1], a.label)] += 1
    return out


def score(
    gold: Sequence[Sequence[Predicate]], predicted: Sequence[Sequence[Predicate]], kind: str = "head"
) -> SrlScore:
    """Score sentence-aligned gold and predicted predicates (same predicates, gold-predicate SRL).

    ``gold[i]`` and ``predicted[i]`` are the in-scope predicates of sentence ``i``.
    """
    if kind not in {"head", "span"}:
        raise ValueError(f"kind must be 'head' or 'span', got {kind!r}")
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    result = SrlScore(kind)
    rows = []
    for g_preds, p_preds in zip(gold, predicted, strict=True):
        g, p = _tuples(g_preds, kind), _tuples(p_preds, kind)
        common = g & p
        c = Counts(sum(common.values()), sum(p.values()), sum(g.values()))
        result.total.add(c)
        rows.append((c.tp, c.pred, c.gold))
        for key, n in g.items():
            result.by_label.setdefault(key[-1], Counts()).gold += n
        for key, n in p.items():
            result.by_label.setdefault(key[-1], Counts()).pred += n
        for key, n in common.items():
            result.by_label[key[-1]].tp += n
    result.per_sentence = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    return result



def leading_sentences(gold: Sequence[Sequence[Predicate]], n_instances: int) -> int:
    """How many leading sentences hold the first ``n_instances`` predicate instances (whole sentences).

    Used to score "the first N instances of a file", the basis on which the issue's prototype reported.
    """
    total = 0
    for i, preds in enumerate(gold):
        if total >= n_instances:
            return i
        total += len(preds)
    return len(gold)
