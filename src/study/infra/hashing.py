"""Checksums and stable hashes used for caching and provenance."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from study.infra.atomic import write_text
from study.infra.paths import cache_root

_CHUNK = 1 << 20
#: a file modified this recently is hashed every time (a rewrite in the same timestamp tick keeps its stat)
RACY_SECONDS = 5.0


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, streamed so that large checkpoints do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace variation: equal objects give equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def stable_hash(obj: Any, length: int = 16) -> str:
    """Short sha256 of the canonical JSON of ``obj`` (for cache keys and params hashes)."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()[:length]


def file_stat_key(path: Path) -> list[int]:
    """What changes whenever a file's content may have: size, mtime, ctime (not settable), inode."""
    st = Path(path).stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def is_racy(path: Path) -> bool:
    """True if ``path`` changed so recently that an unchanged stat would not prove unchanged content."""
    return time.time() - Path(path).stat().st_mtime <= RACY_SECONDS


def sha256_file_remembered(path: Path) -> str:
    """``sha256_file``, remembered in the cache while the file's stat is unchanged (as git's index does).

    For the large files every process checks (encoder weights, stage weights): hashing them in each
    of a grid's notebook kernels cost seconds per kernel. Any change of size, mtime, ctime or inode
    hashes again; files changed in the last few seconds are never remembered.
    """
    path = Path(path).resolve()
    memo = cache_root() / "sha256-memo" / f"{stable_hash(str(path))}.json"
    stat = file_stat_key(path)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        entry = json.loads(memo.read_text(encoding="utf-8"))
        if entry["path"] == str(path) and entry["stat"] == stat and isinstance(entry["sha256"], str):
            return entry["sha256"]
    digest = sha256_file(path)
    if not is_racy(path):
        with contextlib.suppress(OSError):
            write_text(memo, json.dumps({"path": str(path), "stat": stat, "sha256": digest}) + "\n")
    return digest
