"""Task heads over the one shared encoder (jiant-style: one head per task, never shared).

The e5 encoder's last layer is strongly anisotropic (measured: mean token norm 4.96, of which
4.37 is a shared mean direction); raw features left an SRL head at all-``O`` for ~160 steps. Every
head therefore first removes the per-sentence mean over real tokens and applies a LayerNorm
(:class:`CenteredNorm`), which made the same head learn from step ~50 in the prototype.
"""

from __future__ import annotations

import torch
from torch import nn


class CenteredNorm(nn.Module):
    """Subtract the mean over real tokens of each sequence, then LayerNorm."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1, keepdim=True) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return self.norm(hidden - mean)


WORD_POOLINGS = ("first", "mean")


def check_word_pooling(pooling: str) -> str:
    """``pooling`` if it is one of :data:`WORD_POOLINGS` (heads check at construction, not mid-training)."""
    if pooling not in WORD_POOLINGS:
        raise ValueError(f"unknown word pooling {pooling!r}; expected one of {WORD_POOLINGS}")
    return pooling


def word_vectors(
    h: torch.Tensor,  # [B, T, H]
    word_index: torch.Tensor,  # [B, W], first content piece of each word, -1 for padding / cut-off words
    attention_mask: torch.Tensor,  # [B, T]
    pooling: str,
) -> torch.Tensor:  # [B, W, H]
    """One vector per word: its first content piece (``first``) or the mean of its pieces (``mean``).

    A word's pieces run from its own first piece to the next word's first piece, or to ``</s>`` for
    the last word in the window, so the span needs no extra input. ``mean`` exists because the first
    piece of a long German compound is often a prefix that carries little of the word; measured, it
    gains German 1.4 F1 and loses Korean 2.0 and Chinese 0.8, the macro average unchanged
    (docs/results.md, "How the SRL recipe was chosen").
    """
    idx = word_index.clamp(min=0)
    hidden = h.size(-1)
    if check_word_pooling(pooling) == "first":
        return h.gather(1, idx.unsqueeze(-1).expand(-1, -1, hidden))
    following = torch.cat([word_index[:, 1:], torch.full_like(word_index[:, :1], -1)], dim=1)
    sep = attention_mask.sum(1, keepdim=True).long() - 1
    end = torch.where(following >= 0, following, sep.expand_as(following))
    end = torch.maximum(end, idx + 1)  # padded words: a one-piece span, never read
    sums = torch.cat([torch.zeros_like(h[:, :1], dtype=torch.float32), h.float().cumsum(1)], dim=1)
    span_end = end.unsqueeze(-1).expand(-1, -1, hidden)
    total = sums.gather(1, span_end) - sums.gather(1, idx.unsqueeze(-1).expand(-1, -1, hidden))
    return (total / (end - idx).unsqueeze(-1).to(total.dtype)).to(h.dtype)


def predicate_vectors(
    h: torch.Tensor,  # [B, T, H], what ``words`` was pooled from
    words: torch.Tensor,  # [B, W, H], :func:`word_vectors` of ``h``
    word_index: torch.Tensor,  # [B, W]
    rows: torch.Tensor,  # [P] batch row of each predicate
    piece: torch.Tensor,  # [P] the predicate's first piece
    pooling: str,
) -> torch.Tensor:  # [P, H]
    """Each predicate's vector, pooled as its sentence's words are (the same choice on both sides of a pair)."""
    if pooling == "first":
        return h[rows, piece.clamp(min=0)]
    word = (word_index[rows] == piece.unsqueeze(1)).to(torch.long).argmax(1)  # the word starting at ``piece``
    return words[rows, word]


class TaggingHead(nn.Module):
    """Label every word from its word vector (see :func:`word_vectors`); optionally conditioned on a predicate.

    SRL (``conditioned=True``): each word's vector is concatenated with the predicate's vector (the
    predicate is also marked in the input with token type 1). POS: the word vector alone.
    """

    def __init__(self, hidden: int, n_labels: int, conditioned: bool, dropout: float = 0.1,
                 pooling: str = "first") -> None:
        super().__init__()
        self.conditioned = conditioned
        self.pooling = check_word_pooling(pooling)
        self.center = CenteredNorm(hidden)
        width = 2 * hidden if conditioned else hidden
        self.mlp = nn.Sequential(
            nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_labels)
        )

    def forward(
        self,
        hidden: torch.Tensor,  # [B, T, H]
        attention_mask: torch.Tensor,  # [B, T]
        word_index: torch.Tensor,  # [B, W], -1 for padding / cut-off words
        predicate: torch.Tensor | None = None,  # [B] piece index of the predicate
    ) -> torch.Tensor:  # [B, W, L]
        h = self.center(hidden, attention_mask)
        words = word_vectors(h, word_index, attention_mask, self.pooling)
        if self.conditioned:
            if predicate is None:
                raise ValueError("a conditioned tagging head needs predicate positions")
            rows = torch.arange(h.size(0), device=h.device)
            pred = predicate_vectors(h, words, word_index, rows, predicate, self.pooling)
            words = torch.cat([words, pred.unsqueeze(1).expand_as(words)], dim=-1)
        return self.mlp(words)


class PairwiseTaggingHead(nn.Module):
    """Label every (predicate, word) pair of sentences encoded once, without a predicate mark.

    Used by ``srl.encoding: per_sentence``: the encoder runs once per sentence instead of once per
    predicate (English has ~2.5 in-scope predicates per sentence), and the predicate enters only
    here, as the features ``[word; predicate; word * predicate]`` of each pair.
    """

    def __init__(self, hidden: int, n_labels: int, dropout: float = 0.1, pooling: str = "first") -> None:
        super().__init__()
        self.pooling = check_word_pooling(pooling)
        self.center = CenteredNorm(hidden)
        self.mlp = nn.Sequential(
            nn.Linear(3 * hidden, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_labels)
        )

    def forward(
        self,
        hidden: torch.Tensor,  # [B, T, H]
        attention_mask: torch.Tensor,  # [B, T]
        word_index: torch.Tensor,  # [B, W]
        predicate_rows: torch.Tensor,  # [P, 2]: (batch row, piece index)
    ) -> torch.Tensor:  # [P, W, L]
        h = self.center(hidden, attention_mask)
        words = word_vectors(h, word_index, attention_mask, self.pooling)  # [B, W, H]
        row, piece = predicate_rows[:, 0], predicate_rows[:, 1]
        w = words[row]  # [P, W, H]
        # pieces are >= 0 here (collate_sentences): the clamp in predicate_vectors changes nothing
        p = predicate_vectors(h, words, word_index, row, piece, self.pooling).unsqueeze(1).expand_as(w)
        return self.mlp(torch.cat([w, p, w * p], dim=-1))


def srl_head(hidden: int, n_labels: int, encoding: str, pooling: str = "first") -> nn.Module:
    """The SRL head for an encoding mode (``per_predicate`` or ``per_sentence``) and a word pooling."""
    if encoding == "per_sentence":
        return PairwiseTaggingHead(hidden, n_labels, pooling=pooling)
    if encoding == "per_predicate":
        return TaggingHead(hidden, n_labels, conditioned=True, pooling=pooling)
    raise ValueError(f"unknown SRL encoding {encoding!r}")


def tagging_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over labelled words (label -100 is ignored)."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over real tokens (the e5 pooling), [B, T, H] -> [B, H]."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class ClassificationHead(nn.Module):
    """Sentence(-pair) classification from the centred, mean-pooled sequence."""

    def __init__(self, hidden: int, n_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.center = CenteredNorm(hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_labels))

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor, **_: torch.Tensor) -> torch.Tensor:
        return self.mlp(masked_mean(self.center(hidden, attention_mask), attention_mask))


class MultipleChoiceHead(nn.Module):
    """Scores each (context, choice) sequence; logits are reshaped to [B, n_choices]."""

    def __init__(self, hidden: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.center = CenteredNorm(hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, 1))

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor, n_choices: int = 4, **_) -> torch.Tensor:
        scores = self.mlp(masked_mean(self.center(hidden, attention_mask), attention_mask)).squeeze(-1)
        return scores.view(-1, n_choices)


class ExtractiveQAHead(nn.Module):
    """Start/end logits per token; position 0 (``<s>``) stands for "no answer" (SQuAD 2.0)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.center = CenteredNorm(hidden)
        self.proj = nn.Linear(hidden, 2)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor, **_) -> torch.Tensor:
        logits = self.proj(self.center(hidden, attention_mask))  # [B, T, 2]
        return logits.masked_fill(attention_mask.unsqueeze(-1) == 0, -1e4)


def qa_loss(logits: torch.Tensor, start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """Mean of start and end cross-entropy over positions."""
    ce = nn.functional.cross_entropy
    return (ce(logits[..., 0], start) + ce(logits[..., 1], end)) / 2
