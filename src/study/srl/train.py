"""English SRL training with selection on English dev, then zero-shot prediction (XTREME protocol)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from study.batching import SeededBatchStream, collate_sentences, collate_tagging
from study.config import StudyConfig
from study.engine import Engine, TrainResult, budget_steps
from study.heads import srl_head, tagging_loss
from study.models import EncoderWithHead, fresh_encoder
from study.srl.data import (
    InstanceStats,
    SrlSplit,
    build_srl_instances,
    build_srl_sentence_instances,
    label_inventory,
    load_split,
    srl_path,
)
from study.srl.metrics import SrlScore, score
from study.srl.predict import (
    keyed_label_ids,
    predict_label_ids,
    predict_sentence_label_ids,
    predictions_for_split,
)
from study.wordpieces import WordPieceEncoder


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

    def predict(self, split: SrlSplit):
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


@dataclass
class SrlTraining:
    """The outcome of English SRL training."""

    srl: SrlModel
    result: TrainResult
    train_stats: InstanceStats
    train_split: SrlSplit
    dev_split: SrlSplit


@dataclass
class SrlSetup:
    """Everything English SRL training needs, built but not run (the benchmark times ``engine.fit`` alone)."""

    srl: SrlModel
    engine: Engine
    instances: list
    stats: InstanceStats
    train_split: SrlSplit
    dev_split: SrlSplit
    batches: Callable[[int], Iterator[dict[str, torch.Tensor]]]
    loss_fn: Callable
    evaluate: Callable[[torch.nn.Module], dict]


def setup_srl_training(
    config: StudyConfig,
    data_root: Path,
    seed: int,
    tokenizer,
    init_encoder_state: dict[str, torch.Tensor] | None = None,
    checkpoint_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> SrlSetup:
    """Read English train/dev, build instances, model and engine for ``config.srl``."""
    cfg = config.srl
    wordpieces = WordPieceEncoder(tokenizer, cfg.optim.max_length)
    train = load_split(srl_path(data_root, "en", "train"), "en", "train", cfg.predicate_scope, cfg.max_train_sentences)
    dev = load_split(srl_path(data_root, "en", "dev"), "en", "dev", cfg.predicate_scope, cfg.max_dev_sentences)
    labels = label_inventory([train], cfg.formulation)
    label_ids = {label: i for i, label in enumerate(labels)}
    per_sentence = cfg.encoding == "per_sentence"
    build = build_srl_sentence_instances if per_sentence else build_srl_instances
    instances, stats = build(train, wordpieces, label_ids, cfg.formulation)

    torch.manual_seed(seed)  # head initialisation
    encoder = fresh_encoder(config.encoder.name, config.encoder.freeze_word_embeddings, init_encoder_state,
                            config.encoder.freeze_bottom_layers)
    model = EncoderWithHead(encoder, srl_head(encoder.config.hidden_size, len(labels), cfg.encoding))
    pad_id = tokenizer.pad_token_id
    srl = SrlModel(model, labels, wordpieces, cfg.formulation, cfg.predicate_scope, pad_id, cfg.optim.eval_batch_size,
                   cfg.encoding)

    # with per_sentence encoding a batch holds batch_size sentences (all of their predicates)
    steps = budget_steps(cfg.budget, len(instances), cfg.optim.batch_size)
    stream = SeededBatchStream([len(x.input_ids) for x in instances], cfg.optim.batch_size, seed,
                               group_by_length=cfg.optim.group_by_length)
    engine = Engine(model, cfg.optim, steps, seed, cfg.eval_every, select_metric="dev_head_f1",
                    checkpoint_dir=checkpoint_dir, patience=cfg.early_stopping_patience,
                    mixed_precision=config.runtime.mixed_precision, progress=progress)
    srl.model = engine.unwrapped

    def batches(start: int):
        for idx in stream.iterate(start):
            chosen = [instances[i] for i in idx]
            yield collate_sentences(chosen, pad_id) if per_sentence else collate_tagging(chosen, pad_id, True)

    def loss_fn(m, batch):
        return tagging_loss(m(batch), batch["labels"])

    def evaluate(_m) -> dict:
        scores, _, _ = srl.evaluate(dev)
        out = {"dev_head_f1": scores["head"].f1}
        if "span" in scores:
            out["dev_span_f1"] = scores["span"].f1
        return out

    return SrlSetup(srl, engine, instances, stats, train, dev, batches, loss_fn, evaluate)


def train_srl(
    config: StudyConfig,
    data_root: Path,
    seed: int,
    tokenizer,
    init_encoder_state: dict[str, torch.Tensor] | None = None,
    checkpoint_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> SrlTraining:
    """Train SRL on English train from ``init_encoder_state`` (or the pretrained encoder), select on dev."""
    setup = setup_srl_training(config, data_root, seed, tokenizer, init_encoder_state, checkpoint_dir, progress)
    result = setup.engine.fit(setup.batches, setup.loss_fn, setup.evaluate)
    setup.srl.model = setup.engine.unwrapped
    return SrlTraining(setup.srl, result, setup.stats, setup.train_split, setup.dev_split)
