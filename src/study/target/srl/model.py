"""A trained SRL tagger and how it labels any file (the object training returns, saved and scored)."""

from __future__ import annotations

from dataclasses import dataclass

from study.target.srl.data import InstanceStats, SrlSplit, build_srl_instances, build_srl_sentence_instances
from study.target.srl.metrics import SrlScore, score
from study.target.srl.predict import (
    keyed_label_ids,
    predict_label_ids,
    predict_sentence_label_ids,
    predictions_for_split,
)
from study.training.engine import inference_precision
from study.training.models import EncoderWithHead
from study.training.wordpieces import WordPieceEncoder


@dataclass
class SrlModel:
    """A trained SRL tagger with what is needed to apply it to any file."""

    model: EncoderWithHead
    labels: list[str]
    wordpieces: WordPieceEncoder
    formulation: str
    scope: str
    pad_id: int
    eval_batch_size: int

    encoding: str = "per_predicate"
    #: the autocast of its training (``runtime.mixed_precision``), used for every prediction
    precision: str = "no"

    def predict(self, split: SrlSplit):
        with inference_precision(self.precision, self.model):
            if self.encoding == "per_sentence":
                sentences, stats = build_srl_sentence_instances(split, self.wordpieces, None, self.formulation)
                by_key = predict_sentence_label_ids(self.model, sentences, self.pad_id, self.eval_batch_size)
            else:
                instances, stats = build_srl_instances(split, self.wordpieces, None, self.formulation)
                ids = predict_label_ids(self.model, instances, self.pad_id, self.eval_batch_size)
                by_key = keyed_label_ids(instances, ids)
        return predictions_for_split(split, by_key, self.labels, self.formulation), stats

    def evaluate(self, split: SrlSplit) -> tuple[dict[str, SrlScore], list, InstanceStats]:
        predicted, stats = self.predict(split)
        scores = {"head": score(split.predicates, predicted, "head")}
        if self.formulation == "spans" and split.file.has_spans:
            scores["span"] = score(split.predicates, predicted, "span")
        return scores, predicted, stats
