"""SRL metrics on hand-computed cases."""

from __future__ import annotations

import random

import pytest

from study.target.srl.conllu import Argument, Predicate, Sentence, Word
from study.target.srl.metrics import score
from study.target.srl.scope import in_scope


def P(word: int, *args: tuple[str, int], spans: dict | None = None) -> Predicate:
    spans = spans or {}
    return Predicate(word, "x.01", tuple(Argument(lab, head, spans.get((lab, head))) for lab, head in args))


GOLD = [
    [P(2, ("A0", 1), ("A1", 4), ("R-A0", 3)), P(5)],  # a predicate with no arguments
    [P(1, ("A1", 2), ("C-A1", 4), ("AM-TMP", 6))],
]


def test_perfect_predictions_score_one():
    s = score(GOLD, GOLD, "head")
    assert (s.total.tp, s.total.pred, s.total.gold) == (6, 6, 6)
    assert s.f1 == 1.0 and s.by_label["C-A1"].f1 == 1.0 and s.by_label["R-A0"].f1 == 1.0


def test_hand_computed_case():
    pred = [
        [P(2, ("A0", 1), ("A2", 4)), P(5, ("A1", 6))],  # A2 wrong label, A1 on the no-arg predicate spurious
        [P(1, ("A1", 2), ("C-A1", 4))],  # AM-TMP missed
    ]
    s = score(GOLD, pred, "head")
    # tp: A0:1, A1:2, C-A1:4 = 3; predicted 5; gold 6 -> P 3/5, R 3/6, F1 6/11
    assert (s.total.tp, s.total.pred, s.total.gold) == (3, 5, 6)
    assert s.total.precision == pytest.approx(0.6) and s.total.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(6 / 11)
    assert s.by_label["A1"].tp == 1 and s.by_label["A1"].pred == 2 and s.by_label["A1"].gold == 2
    assert s.by_label["R-A0"].recall == 0.0
    assert s.per_sentence.tolist() == [[1, 3, 3], [2, 2, 3]]


def test_a_known_wrong_prediction_lowers_f1_by_the_computed_amount():
    wrong = [[P(2, ("A0", 1), ("A1", 4), ("R-A1", 3)), P(5)], GOLD[1]]  # one label changed
    s = score(GOLD, wrong, "head")
    assert s.f1 == pytest.approx(1.0 - 1 / 6)  # tp 5, pred 6, gold 6


def test_duplicate_heads_count_as_a_multiset():
    gold = [[P(2, ("A1", 3), ("A1", 3))]]
    once = [[P(2, ("A1", 3))]]
    s = score(gold, once, "head")
    assert (s.total.tp, s.total.pred, s.total.gold) == (1, 1, 2)


def test_sentence_order_does_not_matter():
    pred = [[P(2, ("A0", 1))], [P(1, ("A1", 2), ("AM-TMP", 5))]]
    base = score(GOLD, pred, "head").f1
    order = list(range(len(GOLD)))
    random.Random(0).shuffle(order)
    order = order[::-1]
    assert score([GOLD[i] for i in order], [pred[i] for i in order], "head").f1 == pytest.approx(base)


def test_span_scoring_needs_exact_boundaries():
    gold = [[P(2, ("A0", 1), ("A1", 4), spans={("A0", 1): (1, 1), ("A1", 4): (3, 5)})]]
    pred = [[P(2, ("A0", 1), ("A1", 4), spans={("A0", 1): (1, 1), ("A1", 4): (4, 5)})]]
    assert score(gold, pred, "head").f1 == 1.0
    assert score(gold, pred, "span").f1 == pytest.approx(0.5)


def test_malformed_gold_items_are_not_scored():
    gold = [[Predicate(2, "x.01", (Argument("A0", 1), Argument("TM-AMP", 0, None, True, "TM-AMP:3")))]]
    s = score(gold, [[P(2, ("A0", 1))]], "head")
    assert (s.total.tp, s.total.pred, s.total.gold) == (1, 1, 1)


def test_predicate_scope():
    words = [Word(1, "He", "he", "PRON", "2", "nsubj"), Word(2, "is", "be", "AUX", "3", "cop"),
             Word(3, "has", "have", "AUX", "4", "aux"), Word(4, "run", "run", "VERB", "0", "root"),
             Word(5, "decision", "decision", "NOUN", "4", "obj")]
    s = Sentence([], [], words, [], 1)
    cop, aux = Predicate(2, "be.01"), Predicate(3, "have.01")
    verb, noun = Predicate(4, "run.01"), Predicate(5, "decide.01")
    keep = [p.word for p in (cop, aux, verb, noun) if in_scope(p, s, "verbal_and_copula")]
    assert keep == [2, 4]
    assert [p.word for p in (cop, aux, verb, noun) if in_scope(p, s, "verbal")] == [4]
    assert len([p for p in (cop, aux, verb, noun) if in_scope(p, s, "all")]) == 4


def test_first_instances_take_whole_sentences():
    from study.target.srl.metrics import leading_sentences

    gold = [[P(1), P(2)], [P(1)], [P(3), P(4), P(5)], [P(1)]]
    assert leading_sentences(gold, 0) == 0
    assert leading_sentences(gold, 2) == 1  # exactly two instances: the first sentence
    assert leading_sentences(gold, 3) == 2
    assert leading_sentences(gold, 4) == 3  # a sentence is never cut: 6 instances
    assert leading_sentences(gold, 100) == 4


def test_prefix_scores_read_back_a_prediction_file(tmp_path, data_root):
    """Gold written as predictions scores 1.0 on the prefix and on the whole file."""
    import shutil

    from study.target.srl.data import srl_path
    from study.target.srl.evaluate import prefix_scores

    (tmp_path / "predictions").mkdir()
    shutil.copy(srl_path(data_root, "de", "test"), tmp_path / "predictions" / "de-test.conllu")
    (row,) = prefix_scores(tmp_path, data_root, ["de"], "verbal_and_copula", 500)
    assert row["head_f1_first"] == row["head_f1_file"] == 1.0
    assert 500 <= row["instances"] < 520
