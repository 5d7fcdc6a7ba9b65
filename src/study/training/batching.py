"""Seeded batch order and dynamic padding for pre-encoded instances.

The order of batch ``k`` is a pure function of (seed, k), so a resumed run replays exactly the
batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch


class SeededBatchStream:
    """Endless stream of index batches: a fresh seeded permutation per epoch.

    With ``group_by_length`` the permutation is cut into chunks of ``batch_size * 50``, each chunk is
    sorted by length and split into batches, and the batches are shuffled: far less padding, while
    every batch is still a random draw of similar-length instances.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, group_by_length: bool = False) -> None:
        if len(lengths) == 0:
            raise ValueError("no training instances")
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group_by_length = group_by_length

    def epoch_batches(self, epoch: int) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.lengths))
        if not self.group_by_length:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        chunk = self.batch_size * 50
        batches = []
        for start in range(0, len(order), chunk):
            part = order[start : start + chunk]
            part = part[np.argsort(-self.lengths[part], kind="stable")]
            batches.extend(part[i : i + self.batch_size] for i in range(0, len(part), self.batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def iterate(self, start_step: int = 0) -> Iterator[np.ndarray]:
        """Batches from global step ``start_step`` on (epochs roll over)."""
        step, epoch = 0, 0
        while True:
            batches = self.epoch_batches(epoch)
            if step + len(batches) <= start_step:
                step += len(batches)
                epoch += 1
                continue
            yield from batches[max(0, start_step - step):]
            step = max(step + len(batches), start_step)
            epoch += 1


def collate_tagging(instances: Sequence, pad_id: int, mark_predicate: bool, pad_to: int = 0
                    ) -> dict[str, torch.Tensor]:
    """Pad a list of :class:`~study.target.srl.data.TaggingInstance` into tensors (to the longest, or ``pad_to``)."""
    n = len(instances)
    t = max(pad_to, *(len(x.input_ids) for x in instances))
    w = max(len(x.word_index) for x in instances)
    input_ids = torch.full((n, t), pad_id, dtype=torch.long)
    attention = torch.zeros((n, t), dtype=torch.long)
    token_type = torch.zeros((n, t), dtype=torch.long)
    word_index = torch.full((n, w), -1, dtype=torch.long)
    labels = torch.full((n, w), -100, dtype=torch.long)
    predicate = torch.zeros(n, dtype=torch.long)
    for i, x in enumerate(instances):
        k = len(x.input_ids)
        input_ids[i, :k] = torch.from_numpy(x.input_ids)
        attention[i, :k] = 1
        word_index[i, : len(x.word_index)] = torch.from_numpy(x.word_index)
        labels[i, : len(x.labels)] = torch.from_numpy(x.labels)
        if mark_predicate and x.predicate >= 0:
            predicate[i] = x.predicate
            token_type[i, x.predicate] = 1
    labels[word_index < 0] = -100
    return {"input_ids": input_ids, "attention_mask": attention, "token_type_ids": token_type,
            "word_index": word_index, "labels": labels, "predicate": predicate}


def collate_sentences(instances: Sequence, pad_id: int, pad_to: int = 0) -> dict[str, torch.Tensor]:
    """Pad sentence instances (``study.target.srl.data``): one encoder row a sentence, one label row a predicate.

    ``predicate_rows`` [P, 2] holds (batch row, piece index) of every predicate in the batch, in
    instance order, so the head can pair each predicate with the words of its own sentence.
    """
    n = len(instances)
    t = max(pad_to, *(len(x.input_ids) for x in instances))
    w = max(len(x.word_index) for x in instances)
    p = sum(len(x.predicates) for x in instances)
    input_ids = torch.full((n, t), pad_id, dtype=torch.long)
    attention = torch.zeros((n, t), dtype=torch.long)
    word_index = torch.full((n, w), -1, dtype=torch.long)
    labels = torch.full((p, w), -100, dtype=torch.long)
    rows = torch.zeros((p, 2), dtype=torch.long)
    k = 0
    for i, x in enumerate(instances):
        m = len(x.input_ids)
        input_ids[i, :m] = torch.from_numpy(x.input_ids)
        attention[i, :m] = 1
        word_index[i, : len(x.word_index)] = torch.from_numpy(x.word_index)
        q = len(x.predicates)
        labels[k : k + q, : x.labels.shape[1]] = torch.from_numpy(x.labels)
        rows[k : k + q, 0] = i
        rows[k : k + q, 1] = torch.from_numpy(x.predicates).clamp(min=0)
        labels[k : k + q][:, (word_index[i] < 0)] = -100
        k += q
    return {"input_ids": input_ids, "attention_mask": attention, "word_index": word_index, "labels": labels,
            "predicate_rows": rows}
