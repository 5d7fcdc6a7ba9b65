"""The shared encoder with one task head, and how encoder weights move between stages.

A stage's artifact is the encoder's trainable weights only (heads never leak into the next stage,
unlike jiant's ``partial`` load mode); :func:`encoder_state` / :func:`load_encoder_state` carry it.
"""

from __future__ import annotations

import torch
from torch import nn

from study.encoder.load import load_encoder
from study.training.engine import load_trainable_state, to_device, trainable_state


class EncoderWithHead(nn.Module):
    """``encoder`` (a transformers model) plus ``head``; parameter names start with encoder./head."""

    def __init__(self, encoder: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    @property
    def head_device(self) -> torch.device:
        """Where the model lives: batches built on the CPU are moved here (evaluation, scoring)."""
        return next(self.head.parameters()).device

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        batch = to_device(batch, self.head_device)
        hidden = self.encoder(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            token_type_ids=batch.get("token_type_ids"),
        ).last_hidden_state
        if "predicate_rows" in batch:  # sentences encoded once, predicates paired in the head
            return self.head(hidden, batch["attention_mask"], batch["word_index"], batch["predicate_rows"])
        return self.head(hidden, batch["attention_mask"], batch["word_index"], batch.get("predicate"))


def fresh_encoder(name: str, freeze_word_embeddings: bool, init_state: dict[str, torch.Tensor] | None = None,
                  freeze_bottom_layers: int = 0, attention_dropout: float | None = None):
    """The pretrained encoder, optionally overwritten by a previous stage's encoder weights."""
    encoder = load_encoder(name, attention_dropout)
    if init_state:
        load_encoder_state(encoder, init_state)
    if freeze_word_embeddings:
        encoder.get_input_embeddings().weight.requires_grad_(False)
    if freeze_bottom_layers:
        layers = encoder.encoder.layer
        if freeze_bottom_layers > len(layers):
            raise ValueError(f"cannot freeze {freeze_bottom_layers} of {len(layers)} layers")
        encoder.embeddings.requires_grad_(False)
        for layer in layers[:freeze_bottom_layers]:
            layer.requires_grad_(False)
    return encoder


def encoder_state(encoder: nn.Module) -> dict[str, torch.Tensor]:
    """Every encoder weight that can differ from the pretrained one (frozen ones excluded)."""
    return trainable_state(encoder)


def load_encoder_state(encoder: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Overwrite encoder weights from a stage artifact; refuses names the encoder lacks."""
    load_trainable_state(encoder, state)
