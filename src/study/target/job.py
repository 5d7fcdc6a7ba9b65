"""What every target training takes, as one object instead of the same seven arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from study.config import StudyConfig


@dataclass(frozen=True)
class TargetJob:
    """English SRL or POS training: the settings, the data, the seed, where it starts and checkpoints."""

    config: StudyConfig
    data_root: Path
    seed: int
    tokenizer: Any
    #: encoder weights to start from (the run's last intermediate stage); None: the pretrained encoder
    init_encoder_state: dict[str, torch.Tensor] | None = None
    #: where the resume checkpoint goes (None: no checkpoints)
    checkpoint_dir: Path | None = None
    progress: Callable[[str], None] | None = None
    #: English SRL train sentences, drawn with ``seed`` (the run's target-size regime); None: all
    train_sentences: int | None = None

    def checkpoints_in(self, folder: Path | None) -> TargetJob:
        return replace(self, checkpoint_dir=folder)
