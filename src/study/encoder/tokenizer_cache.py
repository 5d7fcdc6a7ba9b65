"""Keep a built tokenizer ready to unpickle: building XLM-R's from its files costs seconds per process.

transformers 5 builds ``XLMRobertaTokenizer`` by parsing the 17 MB ``tokenizer.json`` several times and
rebuilding its 250,002-piece Unigram model in Python (about 2.7 s on 2 cores); unpickling the built
object restores the same class with the same Rust backend from its own serialization (about 0.65 s).
Every notebook kernel and every ``study srl score`` loads the tokenizer, so this is fixed start-up time.

The pickle is keyed by the checkpoint folder, the sha256 of every file in it that is not a weights
file, and the transformers and tokenizers versions: any change rebuilds it. Only a tokenizer whose
pickle restores an identical backend is cached, and the pickle's own sha256 is checked before it is
unpickled, so a damaged cache file is rebuilt rather than loaded. The cache is an optimisation only:
an unwritable cache leaves loading as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from study.infra.atomic import write_bytes, write_text
from study.infra.hashing import sha256_file_remembered, stable_hash
from study.infra.paths import cache_root

#: files a tokenizer never reads; everything else in the folder is part of the key
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack", ".ckpt", ".onnx")


def tokenizer_key(folder: Path) -> str:
    """What makes a built tokenizer what it is: its folder, its files' contents, the building libraries."""
    import tokenizers
    import transformers

    folder = Path(folder).resolve()
    files = {f.name: sha256_file_remembered(f) for f in sorted(folder.iterdir())
             if f.is_file() and not f.name.endswith(WEIGHT_SUFFIXES)}
    return stable_hash({"folder": str(folder), "files": files, "transformers": transformers.__version__,
                        "tokenizers": tokenizers.__version__}, length=24)


def cache_files(key: str) -> tuple[Path, Path]:
    """(pickle, its sha256 record) of ``key`` under the study cache."""
    base = cache_root() / "tokenizers"
    return base / f"{key}.pickle", base / f"{key}.json"


def cached_tokenizer(folder: Path, build: Callable[[], Any]) -> Any:
    """The tokenizer of checkpoint ``folder``: unpickled from the cache when intact, else ``build()`` and cached."""
    blob_path, record_path = cache_files(tokenizer_key(folder))
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, pickle.UnpicklingError):
        record = json.loads(record_path.read_text(encoding="utf-8"))
        blob = blob_path.read_bytes()
        if hashlib.sha256(blob).hexdigest() == record["sha256"]:
            return pickle.loads(blob)  # our own file, its checksum verified above
    tokenizer = build()
    blob = pickle.dumps(tokenizer, protocol=pickle.HIGHEST_PROTOCOL)
    made = _backend(tokenizer)
    if made is not None and _backend(pickle.loads(blob)) == made:
        with contextlib.suppress(OSError):
            write_bytes(blob_path, blob)
            write_text(record_path, json.dumps({"sha256": hashlib.sha256(blob).hexdigest(),
                                                "folder": str(Path(folder).resolve())}) + "\n")
    return tokenizer


def _backend(tokenizer: Any) -> str | None:
    """The Rust tokenizer's full serialization (vocabulary, normalizer, pre-tokenizer, post-processor)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend.to_str() if backend is not None else None
