"""SRL files -> training and scoring instances, with every policy applied and counted.

Policies (each reported per file by :class:`FileReport`):

* **Predicate scope** (:mod:`study.target.srl.scope`) on training and scoring alike.
* **Shifted annotation after empty nodes**: the UP 2.0 silver layers were joined to UD trees by
  row position, so in a sentence where SRL annotation follows an empty node (``8.1``) the word ids
  are off by the number of empty nodes before them (checked by hand in nl/dev line 10,790: the
  roleset ``wound.01`` sits on a comma). Such sentences are excluded from non-English files
  (18-23 sentences in cs and fi, at most 2 elsewhere). English was built by word id and keeps them.
* **Malformed gold items** (vi gold): kept in the file, excluded from scoring (:mod:`study.target.srl.labels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from study.target.srl.conllu import Predicate, Sentence, SrlFile, read_srl_file
from study.target.srl.scope import count_scope, in_scope
from study.training.wordpieces import WordPieceEncoder

OUTSIDE = "O"


@dataclass
class FileReport:
    """What a file contributed and what each policy removed."""

    path: str
    sentences: int
    sentences_excluded: int
    predicates_kept: int
    predicates_dropped: int
    dropped_by_upos: dict[str, int]
    arguments: int
    malformed_items: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class SrlSplit:
    """A file with the sentences and predicates the study uses from it."""

    file: SrlFile
    language: str
    split: str
    sentence_ids: list[int]  # indices into file.sentences that are used
    predicates: list[list[Predicate]]  # in-scope gold predicates of each used sentence
    report: FileReport

    @property
    def sentences(self) -> list[Sentence]:
        return [self.file.sentences[i] for i in self.sentence_ids]


def srl_path(data_root: Path, language: str, split: str) -> Path:
    """``srl/<lang>/<split>.conllu`` (``gold-test`` -> ``.conllup``)."""
    suffix = ".conllup" if split.startswith("gold") else ".conllu"
    return Path(data_root) / "srl" / language / f"{split}{suffix}"


def prediction_path(predictions_dir: Path, language: str, split: str) -> Path:
    """A run's predictions for ``srl_path(language, split)``: ``<language>-<split>`` + that file's suffix."""
    return Path(predictions_dir) / f"{language}-{split}{srl_path(Path(), language, split).suffix}"


def scored_against(data_root: Path, prediction: Path) -> Path:
    """The bundle file a prediction file was scored against (``de-test.conllu`` -> ``srl/de/test.conllu``)."""
    language, _, split = Path(prediction).name.split(".")[0].partition("-")
    return srl_path(data_root, language, split)


def count_sentences(path: Path) -> int:
    """Sentences in a CoNLL-U file without parsing it (each ends with a blank line)."""
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if not line.strip())


def load_split(path: Path, language: str, split: str, scope: str, max_sentences: int | None = None) -> SrlSplit:
    """Read ``path`` and apply the policies above; ``max_sentences`` keeps a prefix (smoke runs)."""
    # a prefix is enough when only a prefix is used (excluded sentences may need a few more)
    srl = read_srl_file(path, None if max_sentences is None else 2 * max_sentences + 50)
    exclude_shifted = language != "en"
    ids, preds = [], []
    excluded = 0
    for i, sentence in enumerate(srl.sentences):
        if exclude_shifted and sentence.annotation_after_empty_node:
            excluded += 1
            continue
        ids.append(i)
        preds.append([p for p in sentence.predicates if in_scope(p, sentence, scope)])
    if max_sentences is not None:
        ids, preds = ids[:max_sentences], preds[:max_sentences]
    return _split(srl, path, language, split, scope, ids, preds, excluded)


def _split(srl: SrlFile, path: Path, language: str, split: str, scope: str, ids: list[int],
           preds: list[list[Predicate]], excluded: int) -> SrlSplit:
    used = [srl.sentences[i] for i in ids]
    counts = count_scope(used, scope)
    report = FileReport(
        path=str(path),
        sentences=len(ids),
        sentences_excluded=excluded,
        predicates_kept=counts.kept,
        predicates_dropped=counts.dropped,
        dropped_by_upos=counts.dropped_by_upos,
        arguments=sum(1 for ps in preds for p in ps for a in p.arguments if not a.malformed),
        malformed_items=sum(1 for ps in preds for p in ps for a in p.arguments if a.malformed),
        warnings=list(srl.warnings),
    )
    return SrlSplit(srl, language, split, ids, preds, report)


def subsample_split(split: SrlSplit, n: int, seed: int, scope: str) -> SrlSplit:
    """``n`` of the split's sentences drawn at random with ``seed``, in file order (a target-size regime).

    The draw depends only on the seed, the size and the split, so every schedule of a seed trains on
    the same sentences (paired), and another seed draws another subset (the replicates then vary the
    training data too, as the question "with n sentences" implies).
    """
    total = len(split.sentence_ids)
    if n > total:
        raise ValueError(f"{split.report.path}: srl.train_sentences {n} is more than the {total} sentences "
                         "this split has; use a smaller size or 'all'")
    chosen = np.sort(np.random.default_rng([seed, n, 0x5E7]).choice(total, size=n, replace=False))
    return _split(split.file, Path(split.report.path), split.language, split.split, scope,
                  [split.sentence_ids[i] for i in chosen], [split.predicates[i] for i in chosen],
                  split.report.sentences_excluded)


# --------------------------------------------------------------------------- instances


@dataclass
class TaggingInstance:
    """One training/inference example for a word-tagging head.

    For SRL one instance is one predicate of a sentence (``predicate`` is its word position);
    for POS one instance is one sentence (``predicate`` is -1).
    """

    input_ids: np.ndarray
    word_index: np.ndarray
    labels: np.ndarray  # label id per word, -100 where not trained
    predicate: int  # piece index of the predicate's representative piece, -1 for none
    sentence: int  # index into the split's used sentences
    predicate_word: int  # 1-based word id of the predicate (0 for POS)
    truncated_words: int


@dataclass
class InstanceStats:
    """What building instances had to resolve (reported, never silent)."""

    instances: int = 0
    duplicate_heads: int = 0  # a word heading two arguments of one predicate: first label trained
    truncated_instances: int = 0
    arguments_beyond_window: int = 0
    predicate_beyond_window: int = 0


def head_labels(predicate: Predicate, n_words: int) -> tuple[list[str], int]:
    """Per-word label (argument heads) of one predicate, and how many duplicate heads were seen."""
    labels = [OUTSIDE] * n_words
    dup = 0
    for arg in predicate.arguments:
        if arg.malformed or not (1 <= arg.head <= n_words):
            continue
        if labels[arg.head - 1] != OUTSIDE:
            dup += 1
            continue
        labels[arg.head - 1] = arg.label
    return labels, dup


def bio_labels(predicate: Predicate, n_words: int) -> tuple[list[str], int]:
    """Per-word BIO tags from argument spans; overlapping spans keep the first (counted)."""
    labels = [OUTSIDE] * n_words
    conflicts = 0
    for arg in predicate.arguments:
        if arg.malformed or arg.span is None:
            continue
        lo, hi = arg.span
        if any(labels[i - 1] != OUTSIDE for i in range(lo, hi + 1)):
            conflicts += 1
            continue
        labels[lo - 1] = f"B-{arg.label}"
        for i in range(lo + 1, hi + 1):
            labels[i - 1] = f"I-{arg.label}"
    return labels, conflicts


def _word_labels(
    pred: Predicate, enc, n_words: int, label_ids: dict[str, int] | None, formulation: str, stats: InstanceStats,
) -> tuple[np.ndarray, int]:
    """Label ids over the words of one predicate (-100 where untrained), its piece; counts into ``stats``."""
    tags, dup = head_labels(pred, n_words) if formulation == "heads" else bio_labels(pred, n_words)
    stats.duplicate_heads += dup
    pred_piece = int(enc.word_index[pred.word - 1])
    if pred_piece < 0:
        stats.predicate_beyond_window += 1
    if enc.truncated_words:
        stats.truncated_instances += 1
        stats.arguments_beyond_window += sum(1 for i, t in enumerate(tags) if t != OUTSIDE and enc.word_index[i] < 0)
    if label_ids is None:
        labels = np.full(n_words, -100, dtype=np.int64)
    else:
        labels = np.asarray(
            [label_ids.get(t, -100) if enc.word_index[i] >= 0 else -100 for i, t in enumerate(tags)], dtype=np.int64
        )
    stats.instances += 1
    return labels, pred_piece


def build_srl_instances(
    split: SrlSplit, encoder: WordPieceEncoder, label_ids: dict[str, int] | None, formulation: str = "heads",
) -> tuple[list[TaggingInstance], InstanceStats]:
    """One instance per in-scope predicate; ``label_ids`` None builds unlabelled (inference) instances."""
    stats = InstanceStats()
    out: list[TaggingInstance] = []
    for s_idx, (sentence, preds) in enumerate(zip(split.sentences, split.predicates, strict=True)):
        if not preds:
            continue
        enc = encoder.encode(sentence.forms)
        n = len(sentence.words)
        for pred in preds:
            labels, pred_piece = _word_labels(pred, enc, n, label_ids, formulation, stats)
            out.append(TaggingInstance(enc.input_ids, enc.word_index, labels, pred_piece, s_idx, pred.word,
                                       enc.truncated_words))
    return out, stats


@dataclass
class SentenceInstance:
    """All in-scope predicates of one sentence, encoded once (``srl.encoding: per_sentence``).

    The encoder sees the sentence without a predicate mark; the head pairs every word with every
    predicate (:class:`study.training.heads.PairwiseTaggingHead`). ``labels`` is [predicates, words].
    """

    input_ids: np.ndarray
    word_index: np.ndarray
    labels: np.ndarray
    predicates: np.ndarray  # piece index of each predicate's representative piece (-1: beyond the window)
    predicate_words: list[int]  # 1-based word ids
    sentence: int
    truncated_words: int


def build_srl_sentence_instances(
    split: SrlSplit, encoder: WordPieceEncoder, label_ids: dict[str, int] | None, formulation: str = "heads",
) -> tuple[list[SentenceInstance], InstanceStats]:
    """One instance per sentence with at least one in-scope predicate; stats count predicates."""
    stats = InstanceStats()
    out: list[SentenceInstance] = []
    for s_idx, (sentence, preds) in enumerate(zip(split.sentences, split.predicates, strict=True)):
        if not preds:
            continue
        enc = encoder.encode(sentence.forms)
        n = len(sentence.words)
        rows, pieces = [], []
        for pred in preds:
            labels, pred_piece = _word_labels(pred, enc, n, label_ids, formulation, stats)
            rows.append(labels)
            pieces.append(pred_piece)
        out.append(SentenceInstance(enc.input_ids, enc.word_index, np.stack(rows), np.asarray(pieces, dtype=np.int64),
                                    [p.word for p in preds], s_idx, enc.truncated_words))
    return out, stats


def label_inventory(splits: list[SrlSplit], formulation: str = "heads") -> list[str]:
    """Sorted label set seen in (English training) ``splits``, ``O`` first."""
    seen: set[str] = set()
    for split in splits:
        for sentence, preds in zip(split.sentences, split.predicates, strict=True):
            for pred in preds:
                tags, _ = (head_labels if formulation == "heads" else bio_labels)(pred, len(sentence.words))
                seen.update(tags)
    seen.discard(OUTSIDE)
    return [OUTSIDE, *sorted(seen)]


def unseen_labels(split: SrlSplit, inventory: list[str]) -> dict[str, int]:
    """Gold argument labels of ``split`` the model never saw in training (``inventory``), with counts.

    A model cannot predict them, so every such argument is a miss; scoring reports them instead of
    leaving the lower recall unexplained.
    """
    known = {tag.split("-", 1)[1] if tag[:2] in ("B-", "I-") else tag for tag in inventory}
    unseen: dict[str, int] = {}
    for preds in split.predicates:
        for pred in preds:
            for arg in pred.arguments:
                if not arg.malformed and arg.label not in known:
                    unseen[arg.label] = unseen.get(arg.label, 0) + 1
    return dict(sorted(unseen.items()))
