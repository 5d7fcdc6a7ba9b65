"""The tokenizer cache returns the tokenizer transformers builds, and rebuilds whenever it cannot vouch for it."""

from __future__ import annotations

import os

import pytest

from study.encoder.load import load_tokenizer
from study.encoder.tokenizer_cache import cache_files, tokenizer_key

WORDS = ["Hola", "mundo", "日本語", "x\u00a0y", "naïve", "  ", "", "l'été", "ＦＵＬＬ"]


def _built(folder):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


@pytest.fixture
def local_copy(tmp_path, encoder_dir, monkeypatch):
    """A local checkpoint folder (hard links to the built encoder) and a private, empty study cache."""
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    for f in encoder_dir.iterdir():
        if f.name != "study-build.json":
            os.link(f, folder / f.name)
    monkeypatch.setenv("STUDY_CACHE", str(tmp_path / "cache"))
    return folder


def _never_built(monkeypatch):
    import transformers

    def refuse(*args, **kwargs):
        raise AssertionError("built from the files although an intact cached tokenizer exists")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", refuse)


def test_a_cached_tokenizer_is_the_one_transformers_builds_and_is_not_rebuilt(local_copy, monkeypatch):
    reference = _built(local_copy)
    first = load_tokenizer(str(local_copy))
    assert cache_files(tokenizer_key(local_copy))[0].is_file()
    _never_built(monkeypatch)
    again = load_tokenizer(str(local_copy))
    assert type(again) is type(reference)
    assert again.backend_tokenizer.to_str() == reference.backend_tokenizer.to_str()
    for tok in (first, again):
        assert tok(WORDS, add_special_tokens=False)["input_ids"] == reference(WORDS, add_special_tokens=False)[
            "input_ids"]
        # the intermediate tasks' path: pairs, truncation of the second text, overflow windows, offsets
        pair = dict(truncation="only_second", max_length=24, stride=4, return_overflowing_tokens=True,
                    return_offsets_mapping=True)
        question, context = "Who wrote it?", "It was written in 1851 by Herman Melville, who lived in New York. " * 3
        assert tok(question, context, **pair) == reference(question, context, **pair)
        assert (tok.pad_token_id, tok.cls_token_id, tok.sep_token_id, tok.model_max_length) == (
            reference.pad_token_id, reference.cls_token_id, reference.sep_token_id, reference.model_max_length)


def test_a_damaged_cache_file_is_rebuilt_not_unpickled(local_copy):
    load_tokenizer(str(local_copy))
    blob = cache_files(tokenizer_key(local_copy))[0]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    tok = load_tokenizer(str(local_copy))
    assert tok.backend_tokenizer.to_str() == _built(local_copy).backend_tokenizer.to_str()
    assert blob.read_bytes() != bytes(data)  # rewritten intact


def test_any_change_to_a_tokenizer_file_is_a_new_key(local_copy):
    load_tokenizer(str(local_copy))
    before = tokenizer_key(local_copy)
    config = local_copy / "tokenizer_config.json"
    text = config.read_text().replace('"model_max_length": 512', '"model_max_length": 128')
    assert text != config.read_text()
    config.unlink()  # break the hard link: the user's own checkpoint stays intact
    config.write_text(text)
    assert tokenizer_key(local_copy) != before
    assert load_tokenizer(str(local_copy)).model_max_length == 128


def test_an_unwritable_cache_still_loads(local_copy, tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("STUDY_CACHE", str(blocked))
    assert load_tokenizer(str(local_copy)).pad_token_id == _built(local_copy).pad_token_id
