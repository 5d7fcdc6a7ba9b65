"""The baseline a user would write for SRL: ``transformers.Trainer`` over a token-classification model.

Same encoder checkpoint, same English training predicates (same scope and label set), same batch
size, learning rate, warm-up, clipping and number of steps as the study's engine. What differs is
what a ``run_ner.py``-style script does by default: the predicate is given as a second segment
(``<s> sentence </s></s> predicate </s>``), labels sit on each word's first sub-token
(``DataCollatorForTokenClassification`` pads them with -100), one learning rate for everything, a
trainable word-embedding matrix, no length grouping. Dev F1 is computed with the study's scorer.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


def encode_pair(tokenizer, forms: list[str], predicate_word: int, tags: list[int] | None, max_length: int) -> dict:
    """Token-classification features for one predicate: labels on first sub-tokens of sentence words."""
    enc = tokenizer(forms, [forms[predicate_word - 1]], is_split_into_words=True, truncation="only_first",
                    max_length=max_length)
    labels, first = [], {}
    previous = None
    for pos, (word, seq) in enumerate(zip(enc.word_ids(), enc.sequence_ids(), strict=True)):
        if seq == 0 and word is not None and word != previous:
            first[word] = pos
            labels.append(tags[word] if tags is not None else 0)
        else:
            labels.append(-100)
        previous = word if seq == 0 else None
    features = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels}
    return features, first


def _split_features(split, tokenizer, label_ids: dict[str, int] | None, formulation: str, max_length: int):
    from study.target.srl.data import bio_labels, head_labels

    features, keys, firsts = [], [], []
    for s_idx, (sentence, preds) in enumerate(zip(split.sentences, split.predicates, strict=True)):
        for pred in preds:
            tags = None
            if label_ids is not None:
                words, _ = (head_labels if formulation == "heads" else bio_labels)(pred, len(sentence.words))
                tags = [label_ids.get(t, -100) for t in words]
            f, first = encode_pair(tokenizer, sentence.forms, pred.word, tags, max_length)
            features.append(f)
            keys.append((s_idx, pred.word, len(sentence.words)))
            firsts.append(first)
    return features, keys, firsts


@torch.inference_mode()
def _predict(model, collator, features, keys, firsts, batch_size: int = 64) -> dict:
    model.eval()
    out = {}
    order = sorted(range(len(features)), key=lambda i: len(features[i]["input_ids"]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = collator([features[i] for i in idx])
        batch.pop("labels", None)
        pred = model(**batch).logits.argmax(-1).numpy()
        for row, i in enumerate(idx):
            s_idx, word, n_words = keys[i]
            ids = np.zeros(n_words, dtype=np.int64)  # words cut off by truncation: O
            for w, pos in firsts[i].items():
                ids[w] = pred[row, pos]
            out[(s_idx, word)] = ids
    return out


@dataclass
class BaselineData:
    """What both baseline measurements train and score on: the params' English SRL train and dev."""

    config: object
    tokenizer: object
    labels: list[str]
    train_features: list[dict]
    dev: object  # the SrlSplit the study's engine selects on (the same first max_dev_sentences)
    dev_features: list[dict]
    dev_keys: list[tuple]
    dev_firsts: list[dict]

    @property
    def dev_sentences(self) -> int:
        return len(self.dev.sentence_ids)


def baseline_data(params_file: str) -> BaselineData:
    from study.config import load_params
    from study.encoder.load import load_tokenizer
    from study.infra.paths import default_data_root
    from study.target.srl.data import label_inventory, load_split, srl_path

    config = load_params(Path(params_file))
    cfg = config.srl
    root = default_data_root()
    tokenizer = load_tokenizer(config.encoder.name)
    train = load_split(srl_path(root, "en", "train"), "en", "train", cfg.predicate_scope, cfg.max_train_sentences)
    dev = load_split(srl_path(root, "en", "dev"), "en", "dev", cfg.predicate_scope, cfg.max_dev_sentences)
    labels = label_inventory([train], cfg.formulation)
    label_ids = {label: i for i, label in enumerate(labels)}
    features, _, _ = _split_features(train, tokenizer, label_ids, cfg.formulation, cfg.optim.max_length)
    dev_features, keys, firsts = _split_features(dev, tokenizer, None, cfg.formulation, cfg.optim.max_length)
    return BaselineData(config, tokenizer, labels, features, dev, dev_features, keys, firsts)


def build_trainer(data: BaselineData, steps: int, batch_size: int, seed: int, output_dir: str,
                  callbacks: list | None = None, collator=None):
    """``Trainer`` as a ``run_ner.py`` user sets it up, with the study's lr, warm-up, clipping and steps."""
    from datasets import Dataset
    from transformers import (
        AutoModelForTokenClassification,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
    )

    from study.encoder.load import ensure_available, resolve_encoder

    config, cfg = data.config, data.config.srl
    torch.manual_seed(seed)
    location = ensure_available(resolve_encoder(config.encoder.name))
    model = AutoModelForTokenClassification.from_pretrained(location, num_labels=len(data.labels))
    args = TrainingArguments(
        output_dir=output_dir, max_steps=steps, per_device_train_batch_size=batch_size, learning_rate=cfg.optim.lr,
        weight_decay=cfg.optim.weight_decay, warmup_steps=cfg.optim.warmup_ratio, max_grad_norm=cfg.optim.grad_clip,
        lr_scheduler_type="linear", seed=seed, use_cpu=True, report_to="none", save_strategy="no",
        logging_strategy="no", disable_tqdm=True, include_num_input_tokens_seen="non_padding",
        dataloader_num_workers=0,
        bf16=config.runtime.mixed_precision == "bf16",  # the same precision as the study's engine
    )
    return Trainer(model=model, args=args, train_dataset=Dataset.from_list(data.train_features),
                   data_collator=collator or DataCollatorForTokenClassification(data.tokenizer), callbacks=callbacks)


def dev_head_f1(model, data: BaselineData) -> float:
    """English dev head F1 of the token-classification model, by the study's own scorer."""
    from transformers import DataCollatorForTokenClassification

    from study.target.srl.metrics import score
    from study.target.srl.predict import predictions_for_split

    cfg = data.config.srl
    by_key = _predict(model, DataCollatorForTokenClassification(data.tokenizer), data.dev_features, data.dev_keys,
                      data.dev_firsts, cfg.optim.eval_batch_size)
    predicted = predictions_for_split(data.dev, by_key, data.labels, cfg.formulation)
    return score(data.dev.predicates, predicted, "head").f1


def run_trainer_baseline(params_file: str, steps: int, batch_size: int, seed: int) -> dict:
    """Train with ``Trainer`` for ``steps`` steps; return throughput and English dev head F1."""
    data = baseline_data(params_file)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(data, steps, batch_size, seed, tmp)
        t0 = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - t0
        tokens = int(trainer.state.num_input_tokens_seen)
    t1 = time.perf_counter()
    dev_f1 = dev_head_f1(trainer.model, data)
    predicates = steps * batch_size
    return {
        "steps": steps, "batch_size": batch_size, "train_seconds": seconds, "predicates": predicates,
        "tokens": tokens, "predicates_per_second": predicates / seconds, "tokens_per_second": tokens / seconds,
        "dev_head_f1": dev_f1, "dev_seconds": time.perf_counter() - t1,
        "train_instances_available": len(data.train_features),
    }
