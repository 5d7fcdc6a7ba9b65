"""English SRL training with selection on English dev, then zero-shot prediction (XTREME protocol)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from study.config import StudyConfig
from study.target.job import TargetJob
from study.target.srl.data import (
    InstanceStats,
    SrlSplit,
    build_srl_instances,
    build_srl_sentence_instances,
    label_inventory,
    load_split,
    srl_path,
    subsample_split,
)
from study.target.srl.model import SrlModel
from study.training.batching import SeededBatchStream, collate_sentences, collate_tagging
from study.training.engine import Engine, TrainResult, budget_steps
from study.training.heads import srl_head, tagging_loss
from study.training.models import EncoderWithHead, fresh_encoder
from study.training.wordpieces import WordPieceEncoder


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
    stream: SeededBatchStream  # the seeded batch order ``batches`` draws from


@dataclass
class SrlData:
    """English SRL train/dev with labels and encoded training instances (shared by SRL-only and joint+srl)."""

    wordpieces: WordPieceEncoder
    train_split: SrlSplit
    dev_split: SrlSplit
    labels: list[str]
    instances: list
    stats: InstanceStats
    encoding: str
    pad_id: int

    def stream(self, batch_size: int, seed: int, group_by_length: bool) -> SeededBatchStream:
        return SeededBatchStream([len(x.input_ids) for x in self.instances], batch_size, seed,
                                 group_by_length=group_by_length)

    def collate(self, idx) -> dict[str, torch.Tensor]:
        chosen = [self.instances[i] for i in idx]
        if self.encoding == "per_sentence":
            return collate_sentences(chosen, self.pad_id)
        return collate_tagging(chosen, self.pad_id, mark_predicate=True)


def prepare_srl_data(config: StudyConfig, data_root: Path, tokenizer, train_sentences: int | None = None,
                     seed: int = 0) -> SrlData:
    """Read English train/dev under ``config.srl``'s scope and caps; encode the training instances.

    ``train_sentences``: train on that many sentences drawn with ``seed`` (a target-size regime).
    """
    cfg = config.srl
    wordpieces = WordPieceEncoder(tokenizer, cfg.optim.max_length)
    train = load_split(srl_path(data_root, "en", "train"), "en", "train", cfg.predicate_scope, cfg.max_train_sentences)
    if train_sentences is not None:
        train = subsample_split(train, train_sentences, seed, cfg.predicate_scope)
    dev = load_split(srl_path(data_root, "en", "dev"), "en", "dev", cfg.predicate_scope, cfg.max_dev_sentences)
    labels = label_inventory([train], cfg.formulation)
    label_ids = {label: i for i, label in enumerate(labels)}
    build = build_srl_sentence_instances if cfg.encoding == "per_sentence" else build_srl_instances
    instances, stats = build(train, wordpieces, label_ids, cfg.formulation)
    return SrlData(wordpieces, train, dev, labels, instances, stats, cfg.encoding, tokenizer.pad_token_id)


def srl_dev_metrics(srl: SrlModel, dev: SrlSplit) -> dict:
    """The selection metric (English dev head F1; span F1 too for the span formulation)."""
    scores, _, _ = srl.evaluate(dev)
    out = {"dev_head_f1": scores["head"].f1}
    if "span" in scores:
        out["dev_span_f1"] = scores["span"].f1
    return out


def setup_srl_training(job: TargetJob) -> SrlSetup:
    """Read English train/dev, build instances, model and engine for ``job.config.srl``."""
    config, seed = job.config, job.seed
    cfg = config.srl
    data = prepare_srl_data(config, job.data_root, job.tokenizer, job.train_sentences, seed)
    torch.manual_seed(seed)  # head initialisation
    encoder = fresh_encoder(config.encoder.name, config.encoder.freeze_word_embeddings, job.init_encoder_state,
                            config.encoder.freeze_bottom_layers, config.encoder.attention_dropout)
    model = EncoderWithHead(encoder, srl_head(encoder.config.hidden_size, len(data.labels), cfg.encoding,
                                                     cfg.word_pooling))
    srl = SrlModel(model, data.labels, data.wordpieces, cfg.formulation, cfg.predicate_scope, data.pad_id,
                   cfg.optim.eval_batch_size, cfg.encoding, config.runtime.mixed_precision)

    # with per_sentence encoding a batch holds batch_size sentences (all of their predicates)
    steps = budget_steps(cfg.budget, len(data.instances), cfg.optim.batch_size)
    stream = data.stream(cfg.optim.batch_size, seed, cfg.optim.group_by_length)
    engine = Engine(model, cfg.optim, steps, seed, cfg.eval_every, select_metric="dev_head_f1",
                    checkpoint_dir=job.checkpoint_dir, patience=cfg.early_stopping_patience,
                    progress=job.progress, runtime=config.runtime)
    srl.model = engine.unwrapped

    def batches(start: int):
        for idx in stream.iterate(start):
            yield data.collate(engine.shard(idx))

    def loss_fn(m, batch):
        return tagging_loss(m(batch), batch["labels"])

    return SrlSetup(srl, engine, data.instances, data.stats, data.train_split, data.dev_split, batches, loss_fn,
                    lambda _m: srl_dev_metrics(srl, data.dev_split), stream)


def train_srl(job: TargetJob) -> SrlTraining:
    """Train SRL on English train from ``job.init_encoder_state`` (or the pretrained encoder), select on dev."""
    setup = setup_srl_training(job)
    result = setup.engine.fit(setup.batches, setup.loss_fn, setup.evaluate)
    setup.srl.model = setup.engine.unwrapped
    return SrlTraining(setup.srl, result, setup.stats, setup.train_split, setup.dev_split)
