"""Heads by task type: a task's head kind picks its encoding, head, loss and dev metric.

A task module only names its kind (``TaskSpec.head``); nothing else in the study branches on task
names, so a new task of an existing kind needs no code outside its own module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from study.tasks.features import Features, encode_choice, encode_pair, encode_qa
from study.tasks.spec import TaskSpec
from study.training.heads import ClassificationHead, ExtractiveQAHead, MultipleChoiceHead, qa_loss


@dataclass(frozen=True)
class HeadKind:
    """What a kind of task needs: encode an example, build the head, the loss, dev hits in a batch."""

    encode: Callable[..., Features | None]  # (example, tokenizer, max_length); None: cannot be used
    build: Callable[[int, TaskSpec], nn.Module]  # (hidden size, spec)
    loss: Callable[[torch.Tensor, dict[str, torch.Tensor]], torch.Tensor]
    correct: Callable[[torch.Tensor, dict[str, torch.Tensor]], int]  # dev accuracy / exact match numerator


def _cross_entropy(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return nn.functional.cross_entropy(logits, batch["labels"])


def _argmax_hits(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> int:
    return int((logits.argmax(-1) == batch["labels"]).sum())


def _span_loss(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return qa_loss(logits, batch["labels"], batch["end"])


def _exact_span_hits(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> int:
    start, end = best_spans(logits)
    return int(((start == batch["labels"]) & (end == batch["end"])).sum())


def best_spans(logits: torch.Tensor, max_answer: int = 30) -> tuple[torch.Tensor, torch.Tensor]:
    """Best (start <= end < start + max_answer) per row; (0, 0) when "no answer" scores higher."""
    s, e = logits[..., 0], logits[..., 1]
    t = s.size(1)
    scores = s.unsqueeze(2) + e.unsqueeze(1)  # [B, T, T]
    ones = torch.ones(t, t, dtype=torch.bool)
    allowed = ones.triu() & ~ones.triu(max_answer)  # start <= end < start + max_answer
    allowed[0, :] = False
    allowed[:, 0] = False
    scores = scores.masked_fill(~allowed, -1e9)
    flat = scores.flatten(1).argmax(-1)
    start, end = flat // t, flat % t
    best = scores.flatten(1).gather(1, flat.unsqueeze(1)).squeeze(1)
    null = s[:, 0] + e[:, 0]
    start = torch.where(null > best, torch.zeros_like(start), start)
    end = torch.where(null > best, torch.zeros_like(end), end)
    return start, end


HEAD_KINDS: dict[str, HeadKind] = {
    "classification": HeadKind(encode_pair, lambda hidden, spec: ClassificationHead(hidden, spec.n_labels),
                               _cross_entropy, _argmax_hits),
    "multiple_choice": HeadKind(encode_choice, lambda hidden, spec: MultipleChoiceHead(hidden),
                                _cross_entropy, _argmax_hits),
    "extractive_qa": HeadKind(encode_qa, lambda hidden, spec: ExtractiveQAHead(hidden), _span_loss, _exact_span_hits),
}


def head_kind(kind: str) -> HeadKind:
    if kind not in HEAD_KINDS:
        raise ValueError(f"no head for kind '{kind}'; kinds: {', '.join(HEAD_KINDS)}")
    return HEAD_KINDS[kind]
