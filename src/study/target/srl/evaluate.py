"""Zero-shot scoring of a trained SRL model on every target file, with prediction files.

For each file: predictions are written in the file's own CoNLL-U Plus layout (gold predicates,
predicted arguments in the SRL columns; out-of-scope predicates and excluded sentences keep their
gold roleset with no arguments, so an external scorer applying the same scope gets the same
numbers), and tidy metric rows are returned: head P/R/F1, span F1 where the file has spans and the
model predicts spans, per-label F1, and the counts behind them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from study.infra import layout
from study.infra.live import live
from study.target.srl.conllu import Predicate, write_srl_file
from study.target.srl.data import SrlSplit, load_split, prediction_path, srl_path, unseen_labels
from study.target.srl.metrics import SrlScore
from study.target.srl.model import SrlModel


def target_files(data_root: Path, languages: list[str], splits: list[str], gold_sets: list[str]) -> list[tuple]:
    """(language, split, path) of every file to score: English dev and test first as the reference."""
    out = [("en", "dev", srl_path(data_root, "en", "dev")), ("en", "test", srl_path(data_root, "en", "test"))]
    out += [(lang, split, srl_path(data_root, lang, split)) for lang in languages for split in splits]
    out += [(lang, "gold-test", srl_path(data_root, lang, "gold-test")) for lang in gold_sets]
    return out


def full_predictions(split: SrlSplit, predicted: list[list[Predicate]]) -> list[list[Predicate]]:
    """Predictions for every sentence of the file (unscored ones: gold rolesets, no arguments)."""
    by_sentence = dict(zip(split.sentence_ids, predicted, strict=True))
    out = []
    for i, sentence in enumerate(split.file.sentences):
        scored = {p.word: p for p in by_sentence.get(i, [])}
        out.append([scored.get(p.word, Predicate(p.word, p.sense, ())) for p in sentence.predicates])
    return out


def score_rows(language: str, split: str, scores: dict[str, SrlScore]) -> list[dict]:
    """Tidy rows for one file: one per (metric, label)."""
    rows = []
    for kind, sc in scores.items():
        t = sc.total
        for metric, value in (("f1", t.f1), ("precision", t.precision), ("recall", t.recall),
                              ("tp", t.tp), ("n_pred", t.pred), ("n_gold", t.gold)):
            rows.append({"task": "srl", "language": language, "split": split, "metric": f"{kind}_{metric}",
                         "label": "", "value": float(value)})
        for label, counts in sorted(sc.by_label.items()):
            rows.append({"task": "srl", "language": language, "split": split, "metric": f"{kind}_f1",
                         "label": label, "value": counts.f1})
            rows.append({"task": "srl", "language": language, "split": split, "metric": f"{kind}_n_gold",
                         "label": label, "value": float(counts.gold)})
    return rows


def evaluate_srl(
    srl: SrlModel,
    files: list[tuple[str, str, Path]],
    predictions_dir: Path,
    max_sentences: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Score every file; write predictions; return (metric rows, per-file policy reports)."""
    rows, reports = [], []
    progress_bar = live()
    progress_bar.phase("scoring", total=len(files), unit="file")
    for k, (language, split_name, path) in enumerate(files):
        progress_bar.update(k, detail=f"{language}/{split_name}")
        split = load_split(path, language, split_name, srl.scope, max_sentences)
        scores, predicted, stats = srl.evaluate(split)
        out = prediction_path(predictions_dir, language, split_name)
        write_srl_file(split.file, out, full_predictions(split, predicted))
        rows += score_rows(language, split_name, scores)
        unseen = unseen_labels(split, srl.labels)
        reports.append({"language": language, "split": split_name, "predictions": out.name,
                        **asdict(split.report), **{f"instances_{k}": v for k, v in asdict(stats).items()},
                        "labels_unseen_in_training": unseen})
        if progress:
            note = f"; {sum(unseen.values())} gold argument(s) with labels never seen in training" if unseen else ""
            progress(f"scored {language}/{split_name}: head F1 {100 * scores['head'].f1:.1f}{note}")
    progress_bar.update(len(files), detail="")
    return rows, reports


def prefix_scores(run_dir: Path, data_root: Path, languages: list[str], scope: str, n_instances: int = 500,
                  split: str = "test", max_sentences: int | None = None) -> list[dict]:
    """Head F1 of a finished run on the first ``n_instances`` predicates of each language's file.

    Read back from the run's prediction files, so it needs no model: the issue's prototype reported
    zero-shot F1 on this basis (first 500 instances), which differs from whole-file F1.
    """
    from study.target.srl.conllu import read_srl_file
    from study.target.srl.metrics import leading_sentences, score

    rows = []
    for language in languages:
        gold = load_split(srl_path(data_root, language, split), language, split, scope, max_sentences)
        predicted_file = read_srl_file(prediction_path(layout.predictions_dir(run_dir), language, split))
        predicted = []
        for sentence_id, gold_preds in zip(gold.sentence_ids, gold.predicates, strict=True):
            words = {p.word for p in gold_preds}
            predicted.append([p for p in predicted_file.sentences[sentence_id].predicates if p.word in words])
        k = leading_sentences(gold.predicates, n_instances)
        first = score(gold.predicates[:k], predicted[:k], "head")
        rows.append({"language": language, "split": split, "instances": sum(len(p) for p in gold.predicates[:k]),
                     "head_f1_first": first.f1,
                     "head_f1_file": score(gold.predicates, predicted, "head").f1})
    return rows
