"""``hellaswag_val_full.jsonl`` from the bz2 text dump: six lines per example (ctx, label, four endings)."""

from __future__ import annotations

import bz2
import json

from study.infra.errors import DataError


def build_hellaswag(compressed: bytes) -> bytes:
    lines = bz2.decompress(compressed).decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) % 6:
        raise DataError(f"hellaswag_val_full.txt.bz2: {len(lines)} lines is not a multiple of 6 "
                        "(ctx, label, 4 endings)")
    out = []
    for i in range(0, len(lines), 6):
        example = {"ctx": lines[i], "label": int(lines[i + 1]), "endings": lines[i + 2:i + 6]}
        out.append(json.dumps(example, ensure_ascii=False) + "\n")
    return "".join(out).encode("utf-8")
