"""A damaged encoder checkpoint is named in one line, never loaded or reported under its recorded checksum."""

from __future__ import annotations

import os
import shutil

import pytest

from study.encoder.load import encoder_fingerprint, load_encoder, load_tokenizer
from study.infra.errors import EncoderError
from study.infra.hashing import sha256_file
from tests.helpers import study

NAME = "multilingual-e5-small-q4"


@pytest.fixture
def cache_copy(tmp_path, encoder_dir, monkeypatch):
    """A private cache whose encoder folder links the built files; a test replaces what it damages."""
    folder = tmp_path / "cache" / "encoders" / encoder_dir.name
    folder.mkdir(parents=True)
    for f in encoder_dir.iterdir():
        os.link(f, folder / f.name)
    monkeypatch.setenv("STUDY_CACHE", str(tmp_path / "cache"))
    return folder


def _replace(path, data: bytes) -> None:
    path.unlink()  # break the hard link first: the user's own cache must stay intact
    path.write_bytes(data)


def test_an_intact_copy_reports_the_files_own_checksum(cache_copy):
    assert encoder_fingerprint(NAME)["weights_sha256"] == sha256_file(cache_copy / "model.safetensors")


def test_a_deleted_tokenizer_file_is_named_instead_of_loading_a_stub_tokenizer(cache_copy):
    (cache_copy / "tokenizer.json").unlink()
    with pytest.raises(EncoderError, match=r"tokenizer\.json: missing from the encoder checkpoint; run `study model"):
        load_tokenizer(NAME)


def test_a_truncated_weights_file_gives_one_line_not_a_safetensors_traceback(cache_copy):
    weights = cache_copy / "model.safetensors"
    head = weights.read_bytes()[: 1 << 20]
    _replace(weights, head)
    with pytest.raises(EncoderError, match=r"model\.safetensors: does not match the checksum its build recorded"):
        load_encoder(NAME)


def test_one_flipped_byte_in_the_weights_is_caught_by_provenance_and_model_check(cache_copy, tmp_path):
    weights = cache_copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    _replace(weights, bytes(data))
    with pytest.raises(EncoderError, match="does not match the checksum its build recorded"):
        encoder_fingerprint(NAME)
    out = study("model", "check", env={"STUDY_CACHE": str(tmp_path / "cache")})
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "model.safetensors" in out.stderr, out.stderr
    shutil.rmtree(cache_copy)  # the 470 MB copy


def test_attention_dropout_replaces_the_checkpoints_and_none_keeps_it(encoder_dir):
    from study.training.models import fresh_encoder

    def attention_p(encoder):
        return {m.dropout.p for name, m in encoder.named_modules() if name.endswith("attention.self")}

    assert attention_p(fresh_encoder(NAME, True)) == {0.1}  # e5-small's pretrained setting
    encoder = fresh_encoder(NAME, True, attention_dropout=0.0)
    assert attention_p(encoder) == {0.0} and encoder.config.attention_probs_dropout_prob == 0.0
    # only the attention probabilities: the hidden-state dropout stays as pretrained
    assert encoder.config.hidden_dropout_prob == 0.1
