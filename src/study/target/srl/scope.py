"""Which predicates the study trains on and scores: the predicate scope.

English Unified PropBank also annotates auxiliaries (``be.03``, ``have.01``, ``do.01``) and nominal
and adjectival predicates, while the UP 2.0 target files label almost only verbs and copulas
(bundle README). Training on everything and scoring on verbs would measure a mismatch, not
transfer, so one scope is applied to English training and to every scored file alike:

* ``verbal_and_copula`` (default): predicates whose word is a ``VERB``, plus copular ``be.01``
  whatever its tag (UD tags copulas ``AUX``); auxiliary senses and nominal/adjectival predicates out.
* ``verbal``: ``VERB`` only.
* ``all``: every annotated predicate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from study.target.srl.conllu import Predicate, Sentence

SCOPES = ("verbal_and_copula", "verbal", "all")
COPULA_SENSE = "be.01"


def in_scope(predicate: Predicate, sentence: Sentence, scope: str) -> bool:
    """Whether ``predicate`` of ``sentence`` is trained/scored under ``scope``."""
    if scope == "all":
        return True
    upos = sentence.words[predicate.word - 1].upos
    if scope == "verbal":
        return upos == "VERB"
    if scope == "verbal_and_copula":
        return upos == "VERB" or predicate.sense == COPULA_SENSE
    raise ValueError(f"unknown predicate scope '{scope}'; allowed: {', '.join(SCOPES)}")


@dataclass(frozen=True)
class ScopeCounts:
    """Kept and dropped predicates of one file, with the dropped ones by UPOS (for the report)."""

    kept: int
    dropped: int
    dropped_by_upos: dict[str, int]
    kept_by_upos: dict[str, int]


def count_scope(sentences: list[Sentence], scope: str) -> ScopeCounts:
    """How many predicates ``scope`` keeps and drops in ``sentences``."""
    kept: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for sentence in sentences:
        for pred in sentence.predicates:
            upos = sentence.words[pred.word - 1].upos
            (kept if in_scope(pred, sentence, scope) else dropped)[upos] += 1
    return ScopeCounts(sum(kept.values()), sum(dropped.values()), dict(dropped), dict(kept))
