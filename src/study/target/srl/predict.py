"""Turn a tagging model's word decisions into predicted SRL arguments."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from study.target.srl.conllu import Argument, Predicate, Sentence
from study.target.srl.data import OUTSIDE, SentenceInstance, SrlSplit, TaggingInstance
from study.training.batching import collate_sentences, collate_tagging

#: scoring pads every input to a multiple of this many pieces and batches only inputs of one padded
#: length: an input's padded length, and so (under bf16 autocast, where the attention's reduction
#: order follows it) its scores, never depend on which other sentences share its batch
PAD_MULTIPLE = 8


def scoring_batches(lengths: Sequence[int], batch_size: int) -> list[tuple[list[int], int]]:
    """(indices, padded length) of each batch: length-sorted, never mixing two padded lengths."""
    buckets: dict[int, list[int]] = {}
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        buckets.setdefault(-(-lengths[i] // PAD_MULTIPLE) * PAD_MULTIPLE, []).append(i)
    return [(idx[s : s + batch_size], padded) for padded, idx in sorted(buckets.items())
            for s in range(0, len(idx), batch_size)]


@torch.inference_mode()
def predict_label_ids(
    model, instances: Sequence[TaggingInstance], pad_id: int, batch_size: int = 64, mark_predicate: bool = True
) -> list[np.ndarray]:
    """Argmax label id per word for every instance, in large length-sorted batches (:func:`scoring_batches`)."""
    model.eval()
    out: list[np.ndarray | None] = [None] * len(instances)
    for idx, padded in scoring_batches([len(x.input_ids) for x in instances], batch_size):
        batch = collate_tagging([instances[i] for i in idx], pad_id, mark_predicate, pad_to=padded)
        pred = model(batch).argmax(-1).cpu().numpy()
        for row, i in enumerate(idx):
            n = len(instances[i].word_index)
            labels = pred[row, :n].copy()
            labels[instances[i].word_index < 0] = 0  # cut-off words: O
            out[i] = labels
    return out  # type: ignore[return-value]


@torch.inference_mode()
def sentence_batch_logits(
    model, instances: Sequence[SentenceInstance], pad_id: int, batch_size: int = 64
) -> Iterator[tuple[list[SentenceInstance], torch.Tensor]]:
    """(the batch's sentences, label logits [predicates, words, labels]) per batch, sentences encoded once.

    Logit rows follow the sentences' ``predicate_words`` in order (``predicate_keys``).
    """
    model.eval()
    for idx, padded in scoring_batches([len(x.input_ids) for x in instances], batch_size):
        batch_instances = [instances[i] for i in idx]
        yield batch_instances, model(collate_sentences(batch_instances, pad_id, pad_to=padded))


def predicate_keys(batch_instances: Sequence[SentenceInstance]) -> list[tuple[SentenceInstance, int]]:
    """(sentence, predicate word) of each logit row of a batch."""
    return [(x, word) for x in batch_instances for word in x.predicate_words]


def predict_sentence_label_ids(
    model, instances: Sequence[SentenceInstance], pad_id: int, batch_size: int = 64
) -> dict[tuple[int, int], np.ndarray]:
    """Argmax label id per word for every (sentence, predicate word)."""
    out: dict[tuple[int, int], np.ndarray] = {}
    for batch_instances, logits in sentence_batch_logits(model, instances, pad_id, batch_size):
        pred = logits.argmax(-1).cpu().numpy()
        for row, (x, word) in enumerate(predicate_keys(batch_instances)):
            labels = pred[row, : len(x.word_index)].copy()
            labels[x.word_index < 0] = 0  # cut-off words: O
            out[(x.sentence, word)] = labels
    return out


def keyed_label_ids(
    instances: Sequence[TaggingInstance], label_ids: Sequence[np.ndarray]
) -> dict[tuple[int, int], np.ndarray]:
    """Per-predicate predictions keyed by (sentence, predicate word), as the sentence mode returns them."""
    return {(x.sentence, x.predicate_word): ids for x, ids in zip(instances, label_ids, strict=True)}


def span_head(sentence: Sentence, lo: int, hi: int) -> int:
    """The word of span [lo, hi] whose syntactic head lies outside the span (bundle convention)."""
    for w in range(lo, hi + 1):
        head = sentence.words[w - 1].head
        if not head.isdigit() or not (lo <= int(head) <= hi):
            return w
    return lo


def decode_bio(tags: list[str]) -> list[tuple[int, int, str]]:
    """BIO tags -> (start, end, label) spans, 1-based inclusive; a stray I- starts a span."""
    spans: list[tuple[int, int, str]] = []
    current: list | None = None
    for i, tag in enumerate(tags, start=1):
        if tag == OUTSIDE:
            current = None
            continue
        kind, label = tag[:2], tag[2:]
        if kind == "I-" and current is not None and current[2] == label:
            current[1] = i
            continue
        current = [i, i, label]
        spans.append(current)  # type: ignore[arg-type]
    return [(s, e, lab) for s, e, lab in spans]


def predictions_for_split(
    split: SrlSplit, by_key: dict[tuple[int, int], np.ndarray], labels: list[str], formulation: str,
) -> list[list[Predicate]]:
    """Predicted predicates (gold predicates, predicted arguments) per used sentence of ``split``.

    ``by_key`` maps (sentence, predicate word) to label ids; a predicate without an entry gets no arguments.
    """
    out: list[list[Predicate]] = []
    for s_idx, (sentence, preds) in enumerate(zip(split.sentences, split.predicates, strict=True)):
        predicted = []
        for pred in preds:
            ids = by_key.get((s_idx, pred.word))
            tags = [labels[i] for i in ids] if ids is not None else [OUTSIDE] * len(sentence.words)
            if formulation == "heads":
                args = tuple(Argument(t, w) for w, t in enumerate(tags, start=1) if t != OUTSIDE)
            else:
                args = tuple(Argument(lab, span_head(sentence, s, e), (s, e)) for s, e, lab in decode_bio(tags))
            predicted.append(Predicate(pred.word, pred.sense, args))
        out.append(predicted)
    return out
