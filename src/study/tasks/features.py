"""Examples -> token ids for each head kind, and dynamic-padding collation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from study.tasks.examples import ChoiceExample, PairExample, QaExample


@dataclass
class Features:
    """One encoded example: one or more sequences (choices) and its target."""

    input_ids: list[np.ndarray]  # one array per sequence (several for multiple choice)
    label: int  # class / choice index; for QA the start token
    end: int = 0  # QA end token (0 with start 0: no answer)
    length: int = 0  # longest sequence, for length-grouped batching


def encode_pair(ex: PairExample, tokenizer, max_length: int) -> Features:
    enc = tokenizer(ex.text_a, ex.text_b, truncation=True, max_length=max_length)
    ids = np.asarray(enc["input_ids"], dtype=np.int64)
    return Features([ids], ex.label, length=len(ids))


def encode_choice(ex: ChoiceExample, tokenizer, max_length: int) -> Features:
    first = " ".join(t for t in (ex.context, ex.question) if t)
    enc = tokenizer([first] * len(ex.choices), list(ex.choices), truncation="only_first", max_length=max_length)
    seqs = [np.asarray(ids, dtype=np.int64) for ids in enc["input_ids"]]
    return Features(seqs, ex.label, length=max(len(s) for s in seqs))


def encode_qa(ex: QaExample, tokenizer, max_length: int) -> Features | None:
    """Question + context (context truncated); None when the answer lies beyond the window."""
    enc = tokenizer(ex.question, ex.context, truncation="only_second", max_length=max_length,
                    return_offsets_mapping=True)
    ids = np.asarray(enc["input_ids"], dtype=np.int64)
    if not ex.answerable:
        return Features([ids], 0, 0, len(ids))
    seq = enc.sequence_ids()
    a_start, a_end = ex.answer_start, ex.answer_start + len(ex.answer_text)
    start = end = None
    for i, (s_id, (lo, hi)) in enumerate(zip(seq, enc["offset_mapping"], strict=True)):
        if s_id != 1 or hi <= lo:
            continue
        if start is None and hi > a_start:
            start = i
        if lo < a_end:
            end = i
    if start is None or end is None or end < start:
        return None
    return Features([ids], start, end, len(ids))


def collate(features: Sequence[Features], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad every sequence of every example to the batch maximum; flatten choices."""
    seqs = [s for f in features for s in f.input_ids]
    t = max(len(s) for s in seqs)
    input_ids = torch.full((len(seqs), t), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), t), dtype=torch.long)
    for i, s in enumerate(seqs):
        input_ids[i, : len(s)] = torch.from_numpy(s)
        mask[i, : len(s)] = 1
    return {
        "input_ids": input_ids, "attention_mask": mask,
        "labels": torch.tensor([f.label for f in features], dtype=torch.long),
        "end": torch.tensor([f.end for f in features], dtype=torch.long),
        "n_choices": torch.tensor(len(features[0].input_ids)),
    }
