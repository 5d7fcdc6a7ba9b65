"""UD part-of-speech tagging beside SRL: an XTREME task Phang et al. report, from the same UD files.

Trained on English UPOS (EWT train, selected on EWT dev), scored zero-shot as word accuracy on the
UPOS column of every target language's test file, so each schedule is also measured on a task of
the paper. Multiword-token ranges and empty nodes are not words and are not tagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from study.target.job import TargetJob
from study.target.srl.conllu import read_srl_file
from study.target.srl.data import TaggingInstance, srl_path
from study.target.srl.predict import predict_label_ids
from study.training.batching import SeededBatchStream, collate_tagging
from study.training.engine import Engine, TrainResult, budget_steps
from study.training.heads import TaggingHead, tagging_loss
from study.training.models import EncoderWithHead, fresh_encoder
from study.training.wordpieces import WordPieceEncoder

#: The 17 universal POS tags.
UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X")


@dataclass
class PosData:
    """Sentences of one file as word lists and gold tags."""

    language: str
    split: str
    words: list[list[str]]
    tags: list[list[str]]


def load_pos(path: Path, language: str, split: str, max_sentences: int | None = None) -> PosData:
    """UPOS of every word of a file (reusing the validated SRL reader)."""
    srl = read_srl_file(path, max_sentences)
    sentences = srl.sentences
    return PosData(language, split, [s.forms for s in sentences], [[w.upos for w in s.words] for s in sentences])


def build_pos_instances(data: PosData, wordpieces: WordPieceEncoder) -> list[TaggingInstance]:
    """One instance per sentence; unknown tags (``_``) are not trained or scored."""
    index = {t: i for i, t in enumerate(UPOS)}
    out = []
    for i, (words, tags) in enumerate(zip(data.words, data.tags, strict=True)):
        enc = wordpieces.encode(words)
        labels = np.asarray([index.get(t, -100) for t in tags], dtype=np.int64)
        out.append(TaggingInstance(enc.input_ids, enc.word_index, labels, -1, i, 0, enc.truncated_words))
    return out


def accuracy(model, instances: list[TaggingInstance], pad_id: int, batch_size: int) -> tuple[float, int, int]:
    """Word accuracy over tagged words (cut-off words count as errors): (accuracy, correct, total)."""
    predicted = predict_label_ids(model, instances, pad_id, batch_size, mark_predicate=False)
    correct = total = 0
    for inst, pred in zip(instances, predicted, strict=True):
        mask = inst.labels >= 0
        ok = (pred == inst.labels) & mask & (inst.word_index >= 0)
        correct += int(ok.sum())
        total += int(mask.sum())
    return (correct / total if total else 0.0), correct, total


@dataclass
class PosTraining:
    model: EncoderWithHead
    wordpieces: WordPieceEncoder
    result: TrainResult
    pad_id: int
    eval_batch_size: int


def train_pos(job: TargetJob) -> PosTraining:
    """Train English UPOS tagging from the job's encoder weights; select on English dev accuracy."""
    config, data_root, seed, tokenizer = job.config, job.data_root, job.seed, job.tokenizer
    cfg = config.pos
    wordpieces = WordPieceEncoder(tokenizer, cfg.optim.max_length)
    train = build_pos_instances(
        load_pos(srl_path(data_root, "en", "train"), "en", "train", config.srl.max_train_sentences), wordpieces)
    dev = build_pos_instances(
        load_pos(srl_path(data_root, "en", "dev"), "en", "dev", config.srl.max_dev_sentences), wordpieces)
    torch.manual_seed(seed)
    encoder = fresh_encoder(config.encoder.name, config.encoder.freeze_word_embeddings, job.init_encoder_state,
                            config.encoder.freeze_bottom_layers, config.encoder.attention_dropout)
    model = EncoderWithHead(encoder, TaggingHead(encoder.config.hidden_size, len(UPOS), conditioned=False))
    pad_id = tokenizer.pad_token_id
    steps = budget_steps(cfg.budget, len(train), cfg.optim.batch_size)
    stream = SeededBatchStream([len(x.input_ids) for x in train], cfg.optim.batch_size, seed,
                               group_by_length=cfg.optim.group_by_length)
    engine = Engine(model, cfg.optim, steps, seed, cfg.eval_every, "dev_accuracy", job.checkpoint_dir,
                    progress=job.progress, runtime=config.runtime)

    def batches(start: int):
        for idx in stream.iterate(start):
            yield collate_tagging([train[i] for i in engine.shard(idx)], pad_id, mark_predicate=False)

    def evaluate(m) -> dict:
        return {"dev_accuracy": accuracy(m, dev, pad_id, cfg.optim.eval_batch_size)[0]}

    result = engine.fit(batches, lambda m, b: tagging_loss(m(b), b["labels"]), evaluate)
    return PosTraining(engine.unwrapped, wordpieces, result, pad_id, cfg.optim.eval_batch_size)


def evaluate_pos(training: PosTraining, data_root: Path, languages: list[str], max_sentences: int | None = None):
    """Tidy accuracy rows for English test and every target language's test file."""
    rows = []
    for lang in ["en", *languages]:
        data = load_pos(srl_path(data_root, lang, "test"), lang, "test", max_sentences)
        acc, correct, total = accuracy(training.model, build_pos_instances(data, training.wordpieces),
                                       training.pad_id, training.eval_batch_size)
        for metric, value in (("accuracy", acc), ("n_correct", correct), ("n_words", total)):
            rows.append({"task": "pos", "language": lang, "split": "test", "metric": metric, "label": "",
                         "value": float(value)})
    return rows
