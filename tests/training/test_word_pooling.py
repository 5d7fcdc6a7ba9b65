"""Word vectors from pieces (``srl.word_pooling``): first piece or the mean over the word's pieces."""

from __future__ import annotations

import json

import pytest
import torch

from study.training.heads import PairwiseTaggingHead, TaggingHead, srl_head, word_vectors

# one sentence: <s> [w1: pieces 1,2] [w2: piece 3] [w3: pieces 4,5,6] </s> at 7, one padding position at 8;
# a second, shorter sentence whose last word is cut off by the window (-1).
HIDDEN = torch.randn(2, 9, 4, generator=torch.Generator().manual_seed(0))
MASK = torch.tensor([[1] * 8 + [0], [1] * 5 + [0] * 4])
WORDS = torch.tensor([[1, 3, 4], [1, 2, -1]])  # sentence 2: w1 piece 1, w2 pieces 2-3, </s> at 4


def test_first_pooling_reads_each_words_first_piece():
    out = word_vectors(HIDDEN, WORDS, MASK, "first")
    torch.testing.assert_close(out[0], HIDDEN[0, [1, 3, 4]])


def test_mean_pooling_averages_exactly_the_words_own_pieces():
    out = word_vectors(HIDDEN, WORDS, MASK, "mean")
    torch.testing.assert_close(out[0, 0], HIDDEN[0, 1:3].mean(0))
    torch.testing.assert_close(out[0, 1], HIDDEN[0, 3])
    torch.testing.assert_close(out[0, 2], HIDDEN[0, 4:7].mean(0))  # ends at </s>, never reads it
    torch.testing.assert_close(out[1, 0], HIDDEN[1, 1])
    torch.testing.assert_close(out[1, 1], HIDDEN[1, 2:4].mean(0))  # the word before a cut-off one ends at </s>


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="unknown word pooling 'max'"):
        word_vectors(HIDDEN, WORDS, MASK, "max")
    with pytest.raises(ValueError, match="unknown word pooling"):
        srl_head(2, 3, "per_sentence", "last")


@pytest.mark.parametrize("pooling", ["first", "mean"])
def test_pairwise_head_pairs_words_with_the_predicates_pooled_vector(pooling):
    torch.manual_seed(0)
    head = PairwiseTaggingHead(4, 3, pooling=pooling).eval()
    seen = {}
    head.mlp.register_forward_hook(lambda _m, args, _out: seen.update(x=args[0]))
    head(HIDDEN, MASK, WORDS, torch.tensor([[0, 4]]))  # predicate: word 3 of sentence 1
    centred = head.center(HIDDEN, MASK)
    words = word_vectors(centred, WORDS, MASK, pooling)
    features = seen["x"][0]  # [W, 3H]: word, predicate, product
    torch.testing.assert_close(features[:, :4], words[0])
    torch.testing.assert_close(features[:, 4:8], words[0, 2].expand(3, 4))


def test_per_predicate_head_uses_the_predicates_pooled_vector():
    torch.manual_seed(0)
    head = TaggingHead(4, 3, conditioned=True, pooling="mean").eval()
    seen = {}
    head.mlp.register_forward_hook(lambda _m, args, _out: seen.update(x=args[0]))
    head(HIDDEN, MASK, WORDS, torch.tensor([1, 2]))  # predicates: word 1 of sentence 1, word 2 of sentence 2
    words = word_vectors(head.center(HIDDEN, MASK), WORDS, MASK, "mean")
    torch.testing.assert_close(seen["x"][0, :, 4:], words[0, 0].expand(3, 4))
    torch.testing.assert_close(seen["x"][1, :, 4:], words[1, 1].expand(3, 4))


def test_pooling_changes_the_scores_of_multi_piece_words_only():
    torch.manual_seed(0)
    first = PairwiseTaggingHead(4, 3, pooling="first").eval()
    mean = PairwiseTaggingHead(4, 3, pooling="mean").eval()
    mean.load_state_dict(first.state_dict())
    pred = torch.tensor([[0, 3]])  # the one-piece word 2 is the predicate
    a, b = first(HIDDEN, MASK, WORDS, pred), mean(HIDDEN, MASK, WORDS, pred)
    torch.testing.assert_close(a[0, 1], b[0, 1])  # one-piece word, one-piece predicate: same input
    assert not torch.allclose(a[0, 0], b[0, 0])  # two-piece word: another vector


def test_saved_model_keeps_its_pooling_and_older_models_load_as_first(data_root, encoder_dir, tmp_path):
    from study.encoder.load import load_tokenizer
    from study.target.srl.data import label_inventory, load_split, srl_path
    from study.target.srl.model import SrlModel
    from study.target.srl.saved import META, load_srl_model, save_srl_model
    from study.training.models import EncoderWithHead, fresh_encoder
    from study.training.wordpieces import WordPieceEncoder

    tokenizer = load_tokenizer("multilingual-e5-small-q4")
    dev = load_split(srl_path(data_root, "en", "dev"), "en", "dev", "verbal_and_copula", 8)
    labels = label_inventory([dev])
    torch.manual_seed(0)
    head = srl_head(384, len(labels), "per_sentence", "mean")
    model = EncoderWithHead(fresh_encoder("multilingual-e5-small-q4", True), head).eval()
    srl = SrlModel(model, labels, WordPieceEncoder(tokenizer, 96), "heads", "verbal_and_copula",
                   tokenizer.pad_token_id, 8, "per_sentence")
    saved = save_srl_model(srl, tmp_path / "m", "multilingual-e5-small-q4", True)
    loaded = load_srl_model(saved)
    assert loaded.model.head.pooling == "mean"
    assert loaded.predict(dev)[0] == srl.predict(dev)[0]

    meta = json.loads((saved / META).read_text())
    del meta["word_pooling"]  # as written before the key existed
    (saved / META).write_text(json.dumps(meta))
    assert load_srl_model(saved).model.head.pooling == "first"
