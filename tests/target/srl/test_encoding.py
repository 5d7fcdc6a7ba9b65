"""SRL with sentences encoded once (``srl.encoding: per_sentence``) against the per-predicate recipe."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from study.target.srl.data import (
    build_srl_instances,
    build_srl_sentence_instances,
    label_inventory,
    load_split,
    srl_path,
)
from study.target.srl.metrics import score
from study.target.srl.model import SrlModel
from study.target.srl.saved import load_srl_model, save_srl_model
from study.training.batching import collate_sentences
from study.training.heads import PairwiseTaggingHead, srl_head, tagging_loss
from study.training.models import EncoderWithHead, fresh_encoder
from study.training.wordpieces import WordPieceEncoder


@pytest.fixture(scope="module")
def tokenizer(encoder_dir):
    from study.encoder.load import load_tokenizer

    return load_tokenizer("multilingual-e5-small-q4")


@pytest.fixture(scope="module")
def dev(data_root):
    return load_split(srl_path(data_root, "en", "dev"), "en", "dev", "verbal_and_copula", 30)


def test_sentence_instances_hold_the_same_labels_as_predicate_instances(dev, tokenizer):
    wp = WordPieceEncoder(tokenizer, 32)  # short window: some words and arguments are cut off
    labels = label_inventory([dev])
    ids = {lab: i for i, lab in enumerate(labels)}
    per_pred, stats_p = build_srl_instances(dev, wp, ids)
    per_sent, stats_s = build_srl_sentence_instances(dev, wp, ids)
    assert vars(stats_p) == vars(stats_s) and stats_p.truncated_instances > 0
    assert sum(len(x.predicate_words) for x in per_sent) == len(per_pred)
    flat = {(x.sentence, w): (x.labels[k], x.predicates[k]) for x in per_sent for k, w in enumerate(x.predicate_words)}
    for x in per_pred:
        row, piece = flat[(x.sentence, x.predicate_word)]
        np.testing.assert_array_equal(row, x.labels)
        assert piece == x.predicate


def test_collate_pairs_each_predicate_with_its_own_sentence(dev, tokenizer):
    wp = WordPieceEncoder(tokenizer, 32)
    labels = label_inventory([dev])
    per_sent, _ = build_srl_sentence_instances(dev, wp, {lab: i for i, lab in enumerate(labels)})
    chosen = per_sent[:5]
    batch = collate_sentences(chosen, tokenizer.pad_token_id)
    assert batch["input_ids"].shape[0] == 5
    assert batch["labels"].shape[0] == batch["predicate_rows"].shape[0] == sum(len(x.predicates) for x in chosen)
    k = 0
    for i, x in enumerate(chosen):
        for j in range(len(x.predicates)):
            assert batch["predicate_rows"][k, 0] == i
            assert batch["predicate_rows"][k, 1] == max(0, x.predicates[j])
            cut = batch["word_index"][i] < 0  # padding and cut-off words are never trained
            assert (batch["labels"][k][cut] == -100).all()
            n = x.labels.shape[1]
            kept = x.word_index >= 0
            assert torch.equal(batch["labels"][k, :n][torch.from_numpy(kept)], torch.from_numpy(x.labels[j][kept]))
            k += 1


def test_pairwise_head_output_depends_on_the_predicate():
    torch.manual_seed(0)
    head = PairwiseTaggingHead(8, 3).eval()
    hidden = torch.randn(2, 6, 8)
    mask = torch.ones(2, 6, dtype=torch.long)
    words = torch.tensor([[1, 2, 3], [1, 2, 4]])
    out = head(hidden, mask, words, torch.tensor([[0, 1], [0, 2], [1, 4]]))
    assert out.shape == (3, 3, 3)
    assert not torch.allclose(out[0], out[1])  # same sentence, another predicate: other scores
    with pytest.raises(ValueError, match="unknown SRL encoding"):
        srl_head(8, 3, "per_word")


def test_per_sentence_model_learns_and_survives_save_and_load(dev, tokenizer, tmp_path):
    wp = WordPieceEncoder(tokenizer, 96)
    labels = label_inventory([dev])
    inst, _ = build_srl_sentence_instances(dev, wp, {lab: i for i, lab in enumerate(labels)})
    torch.manual_seed(0)
    model = EncoderWithHead(fresh_encoder("multilingual-e5-small-q4", True), srl_head(384, len(labels), "per_sentence"))
    batch = collate_sentences(inst[:6], tokenizer.pad_token_id)
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": encoder_params, "lr": 5e-5}, {"params": model.head.parameters(), "lr": 1e-3}])
    model.train()
    losses = []
    for _ in range(8):  # fit one small batch: the loss must fall
        loss = tagging_loss(model(batch), batch["labels"])
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0], losses

    srl = SrlModel(model, labels, wp, "heads", "verbal_and_copula", tokenizer.pad_token_id, 16, "per_sentence")
    predicted, stats = srl.predict(dev)
    assert stats.instances == sum(len(p) for p in dev.predicates)
    assert [[p.word for p in ps] for ps in predicted] == [[p.word for p in ps] for ps in dev.predicates]
    assert score(dev.predicates, predicted, "head").total.pred > 0  # it labels arguments, not only O

    loaded = load_srl_model(save_srl_model(srl, tmp_path / "m", "multilingual-e5-small-q4", True))
    assert loaded.encoding == "per_sentence"
    assert loaded.predict(dev)[0] == predicted


@pytest.mark.parametrize("precision, tolerance", [("bf16", 0.05), ("no", 1e-4)])
def test_a_sentence_scores_alike_whatever_shares_its_batch(dev, tokenizer, precision, tolerance):
    """Under bf16 a sentence's logits followed its batch's padded length (attention reduces over it): scoring
    the same file alone, in halves or with another batch size flipped labels. Padded to its own bucket, never.

    What is exact is the padded length: every sentence is padded to its own bucket whatever shares its
    batch. The logits agree to rounding, not to the bit: oneDNN on AVX-512 / AMX CPUs picks its GEMM
    kernel by the number of rows (a batch of 3 sentences holds few predicates), which moves the last
    digits (measured on the AMX Xeon: 2.4e-6 in fp32, 0.012 in bf16; on the AVX2 EPYC they were equal).
    """
    from study.target.srl.predict import PAD_MULTIPLE, predicate_keys, scoring_batches, sentence_batch_logits
    from study.training.engine import inference_precision

    torch.manual_seed(0)
    encoder = fresh_encoder("multilingual-e5-small-q4", True)
    model = EncoderWithHead(encoder, srl_head(encoder.config.hidden_size, 7, "per_sentence", "mean"))
    sentences, _ = build_srl_sentence_instances(dev, WordPieceEncoder(tokenizer, 128), None)
    pad = tokenizer.pad_token_id

    def logits(instances, batch_size):
        with inference_precision(precision, model):
            return {(x.sentence, w): out[row, : len(x.word_index)].float().clone()
                    for batch, out in sentence_batch_logits(model, instances, pad, batch_size)
                    for row, (x, w) in enumerate(predicate_keys(batch))}

    everything = logits(sentences, 64)
    for other in (logits(sentences, 3), logits(sentences[::2], 64), logits(sentences[1::3], 5)):
        assert other and all(torch.allclose(everything[key], value, rtol=0, atol=tolerance)
                             for key, value in other.items())
    own = {x.sentence: -(-len(x.input_ids) // PAD_MULTIPLE) * PAD_MULTIPLE for x in sentences}
    for instances, size in ((sentences, 64), (sentences, 3), (sentences[::2], 64), (sentences[1::3], 5)):
        for idx, padded in scoring_batches([len(x.input_ids) for x in instances], size):
            assert {own[instances[i].sentence] for i in idx} == {padded}  # each padded to its own bucket
