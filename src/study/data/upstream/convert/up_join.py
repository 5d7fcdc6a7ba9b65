"""A non-English SRL file: the UP 2.0 layer joined with the text and trees of its UD r2.9 treebank."""

from __future__ import annotations

from study.data.upstream.convert.conllu import COLUMNS_LINE, blocks, write_sentence
from study.infra.errors import DataError


def join_up_with_ud(ud: bytes, up: bytes, name: str = "UP layer") -> bytes:
    """Both files list the same sentences in the same order; UP's columns are matched by ID string."""
    ud_blocks, up_blocks = blocks(ud), blocks(up)
    if len(ud_blocks) != len(up_blocks):
        raise DataError(f"{name}: {len(up_blocks)} UP sentences but {len(ud_blocks)} UD sentences; "
                        "the two files do not belong together (check the pinned commits in sources.tsv)")
    out = [COLUMNS_LINE]
    for ud_block, up_block in zip(ud_blocks, up_blocks, strict=True):
        srl = {}
        for line in up_block:
            if not line.startswith(b"#"):
                fields = line.split(b"\t")
                srl[fields[0]] = b"\t".join(fields[1:4])
        out.append(write_sentence(ud_block, srl))
    return b"".join(out)
