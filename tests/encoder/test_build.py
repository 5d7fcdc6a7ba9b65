"""The offline encoder: conversion, determinism, corrupt inputs, loading, multilingual sanity."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from study.encoder.build import build_encoder, default_sources
from study.encoder.e5bin import read_e5_file
from study.infra.errors import EncoderError
from study.infra.hashing import sha256_file


@pytest.fixture(scope="module")
def sources() -> tuple[Path, Path]:
    return default_sources()


def damaged_copy(src: Path, dst: Path, edit) -> Path:
    data = bytearray(src.read_bytes())
    dst.write_bytes(bytes(edit(data)))
    return dst


def test_header_matches_design_facts(sources):
    e5 = read_e5_file(sources[0])
    h = e5.hyper
    assert (h.hidden, h.layers, h.heads, h.ffn, h.vocab, h.max_positions, h.type_vocab) == (
        384, 12, 12, 1536, 250037, 512, 2)
    assert len(e5.pieces) == 250002
    assert e5.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert len(e5.tensors) == 5 + 16 * 12


def test_bad_magic_is_refused(sources, tmp_path):
    bad = damaged_copy(sources[0], tmp_path / "bad.bin", lambda d: b"GGUF" + d[4:])
    with pytest.raises(EncoderError, match="bad magic"):
        read_e5_file(bad)


@pytest.mark.parametrize("keep", [3, 100, 2_000_000])
def test_truncated_header_is_a_short_read(sources, tmp_path, keep):
    bad = damaged_copy(sources[0], tmp_path / "short.bin", lambda d: d[:keep])
    with pytest.raises(EncoderError, match=r"short read|truncated"):
        read_e5_file(bad)


def test_truncated_tensor_data_is_refused(sources, tmp_path):
    bad = damaged_copy(sources[0], tmp_path / "cut.bin", lambda d: d[: len(d) - 5000])
    with pytest.raises(EncoderError, match="truncated"):
        read_e5_file(bad)


def test_trailing_bytes_are_a_size_mismatch(sources, tmp_path):
    bad = damaged_copy(sources[0], tmp_path / "long.bin", lambda d: d + b"\x00" * 64)
    with pytest.raises(EncoderError, match="size mismatch"):
        read_e5_file(bad)


def test_tensor_byte_length_mismatch_is_refused(sources, tmp_path):
    def edit(d: bytearray) -> bytearray:
        name = b"emb.pos"
        at = d.index(struct.pack("<H", len(name)) + name) + 2 + len(name)
        # entry: u8 dtype, u32 count, u64 offset, u64 byte length -> shrink the byte length
        length_at = at + 1 + 4 + 8
        (length,) = struct.unpack_from("<Q", d, length_at)
        struct.pack_into("<Q", d, length_at, length - 4)
        return d

    bad = damaged_copy(sources[0], tmp_path / "size.bin", edit)
    with pytest.raises(EncoderError, match=r"size mismatch for tensor 'emb\.pos'"):
        read_e5_file(bad)


def test_vocabulary_mismatch_is_refused(sources, tmp_path):
    tok = json.loads(sources[1].read_text(encoding="utf-8"))
    tok["model"]["vocab"][1234][0] = "▁definitely-not-a-piece"
    altered = tmp_path / "tokenizer.json"
    altered.write_text(json.dumps(tok), encoding="utf-8")
    with pytest.raises(EncoderError, match="vocabulary mismatch at piece 1234"):
        build_encoder(out_dir=tmp_path / "enc", weights=sources[0], tokenizer=altered)
    assert not (tmp_path / "enc").exists(), "a refused build must leave nothing behind"


def test_build_is_byte_deterministic_and_skips_identical(sources, tmp_path, encoder_dir):
    out = tmp_path / "enc"
    first = build_encoder(out_dir=out, weights=sources[0], tokenizer=sources[1])
    assert first.built
    again = build_encoder(out_dir=out, weights=sources[0], tokenizer=sources[1])
    assert not again.built and again.weights_sha256 == first.weights_sha256
    # byte-identical to the independently built cache copy
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"):
        assert sha256_file(out / name) == sha256_file(encoder_dir / name), name
    # a damaged checkpoint is not reused: it is rebuilt
    (out / "config.json").write_text("{}")
    rebuilt = build_encoder(out_dir=out, weights=sources[0], tokenizer=sources[1])
    assert rebuilt.built and sha256_file(out / "config.json") == sha256_file(encoder_dir / "config.json")
    shutil.rmtree(out)


def test_checkpoint_loads_offline_and_tokenises_three_languages(encoder_dir):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(encoder_dir))
    model = AutoModel.from_pretrained(str(encoder_dir))
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 12
    en = tok("The cat sleeps on the mat.").tokens()
    de = tok("Die Katze schläft auf der Matte.").tokens()
    zh = tok("猫在垫子上睡觉。").tokens()
    assert en[0] == "<s>" and en[-1] == "</s>" and "▁cat" in en
    assert de[1:3] == ["▁Die", "▁Kat"] and "ze" in de
    assert "猫" in zh and tok.unk_token not in zh
    assert tok.pad_token_id == 1 and tok.cls_token_id == 0


def test_translations_are_closer_than_unrelated_sentences(encoder_and_tokenizer):
    from study.encoder.sanity import translation_similarity

    check = translation_similarity(*encoder_and_tokenizer)
    assert check.separates, (check.min_translation, check.max_unrelated)
    assert check.min_translation > 0.8


def test_hub_name_offline_fails_with_instructions(monkeypatch):
    from study.encoder.load import load_encoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EncoderError) as info:
        load_encoder("xlm-roberta-base")
    msg = str(info.value)
    assert "FacebookAI/xlm-roberta-base" in msg and "offline" in msg and "study model build" in msg


def test_unknown_and_unbuilt_encoders_are_explained(tmp_path, monkeypatch):
    from study.encoder.load import ensure_available, resolve_encoder

    with pytest.raises(EncoderError, match="unknown encoder 'bert-large-uncasedd'"):
        resolve_encoder("bert-large-uncasedd")
    monkeypatch.setenv("STUDY_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(EncoderError, match="study model build"):
        ensure_available(resolve_encoder("multilingual-e5-small-q4"))
