"""A quick check that an encoder is a working multilingual model, not garbage weights.

Mean-pooled sentence embeddings of translations should be closer than those of unrelated
sentences. Used by the tests and shown in the data report, so a broken conversion is caught
before hours of training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (English, German, Chinese) translations of two unrelated sentences.
PROBE_SENTENCES = {
    "weather": ("The weather is nice today.", "Das Wetter ist heute schön.", "今天天气很好。"),
    "engine": (
        "I need to repair the engine of my car.",
        "Ich muss den Motor meines Autos reparieren.",
        "我需要修理我汽车的发动机。",
    ),
}
PROBE_LANGS = ("en", "de", "zh")


@dataclass(frozen=True)
class SimilarityCheck:
    """Cosine similarities of probe sentences and the summary the tests assert on."""

    labels: list[str]
    matrix: np.ndarray
    min_translation: float
    max_unrelated: float

    @property
    def separates(self) -> bool:
        return self.min_translation > self.max_unrelated


def mean_pooled_embeddings(model, tokenizer, sentences: list[str]) -> np.ndarray:
    """L2-normalised mean of the last layer over real tokens (the e5 recipe)."""
    import torch

    batch = tokenizer([f"query: {s}" for s in sentences], padding=True, return_tensors="pt")
    model.eval()
    with torch.inference_mode():
        hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def translation_similarity(model, tokenizer) -> SimilarityCheck:
    """Cosine similarity of every probe pair; translations vs unrelated sentences."""
    labels, sentences, groups = [], [], []
    for group, triple in PROBE_SENTENCES.items():
        for lang, text in zip(PROBE_LANGS, triple, strict=True):
            labels.append(f"{group}/{lang}")
            sentences.append(text)
            groups.append(group)
    emb = mean_pooled_embeddings(model, tokenizer, sentences)
    sim = emb @ emb.T
    same = np.array([[a == b for b in groups] for a in groups])
    off_diag = ~np.eye(len(groups), dtype=bool)
    return SimilarityCheck(
        labels=labels,
        matrix=sim,
        min_translation=float(sim[same & off_diag].min()),
        max_unrelated=float(sim[~same].max()),
    )
