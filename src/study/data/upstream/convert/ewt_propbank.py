"""English EWT PropBank on UD tokens: PropBank's ``gold_skel`` annotation carried onto the UD trees.

Per document (in the order of UD's split list) sentences are paired with their PropBank twin; a pair is
kept only when the tokens align one to one, and PropBank's bracketed argument spans become UD word-id
spans with a dependency head each.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from study.data.upstream.convert.conllu import COLUMNS_LINE, blocks, word_rows, write_sentence

UD_LISTS = "not-to-release/file-lists"
UD_SOURCES = "not-to-release/sources"
PROPBANK_DOCS = "data/google/ewt"
# gold_skel columns (0-based): 4 POS tag, 7 roleset or "-", 8.. one bracket column per predicate
_POS, _ROLESET, _FIRST_ARGS = 4, 7, 8


def build_split(split: str, ud_tree: Path, propbank_tree: Path) -> bytes:
    """``srl/en/<split>.conllu`` from the extracted UD_English-EWT and propbank-release members."""
    out = [COLUMNS_LINE]
    for doc in (ud_tree / UD_LISTS / f"files.{split}").read_bytes().decode("utf-8").split():
        genre, name = doc.split("/")
        skel = propbank_tree / PROPBANK_DOCS / genre / "00" / (name.removesuffix(".conllu") + ".gold_skel")
        if not skel.is_file():
            continue  # a document PropBank never annotated
        for ud_block, pb_block in pair_sentences(blocks((ud_tree / UD_SOURCES / doc).read_bytes()),
                                                 blocks(skel.read_bytes())):
            sentence = convert_sentence(ud_block, pb_block)
            if sentence is not None:
                out.append(sentence)
    return b"".join(out)


def pair_sentences(ud: list[list[bytes]], pb: list[list[bytes]]) -> list[tuple[list[bytes], list[bytes]]]:
    """In order when the counts agree; else the ``equal`` blocks of a diff over each sentence's POS tags."""
    if len(ud) == len(pb):
        return list(zip(ud, pb, strict=True))
    ud_tags = [tuple(row[4] for row in word_rows(block)) for block in ud]
    pb_tags = [tuple(line.split()[_POS] for line in block) for block in pb]
    pairs = []
    matcher = difflib.SequenceMatcher(a=ud_tags, b=pb_tags, autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend((ud[i1 + k], pb[j1 + k]) for k in range(i2 - i1))
    return pairs


def convert_sentence(ud_block: list[bytes], pb_block: list[bytes]) -> bytes | None:
    """The 13-column sentence, or None when tokens or predicate columns do not line up."""
    rows = [line.decode("utf-8").split() for line in pb_block]
    words = word_rows(ud_block)
    predicates = [i for i, row in enumerate(rows) if row[_ROLESET] != "-"]
    if len(words) != len(rows) or len(predicates) != len(rows[0]) - _FIRST_ARGS:
        return None
    heads = {int(w[0]): int(w[6]) for w in words}
    depth = {w: _depth(w, heads) for w in heads}
    srl = {}
    for column, row_index in enumerate(predicates):
        args = sorted(((start + 1, end + 1, map_label(label))
                       for label, start, end in bracket_spans([r[_FIRST_ARGS + column] for r in rows])
                       if label not in {"V", "C-V"}), key=lambda a: (a[0], a[1]))
        arg_heads = "|".join(f"{label}:{span_head(s, e, heads, depth)}" for s, e, label in args) or "_"
        arg_spans = "|".join(f"{label}:{s}-{e}" for s, e, label in args) or "_"
        srl[str(row_index + 1).encode()] = f"{rows[row_index][_ROLESET]}\t{arg_heads}\t{arg_spans}".encode()
    return write_sentence(ud_block, srl)


def bracket_spans(column: list[str]) -> list[tuple[str, int, int]]:
    """CoNLL bracket notation (``(ARG0*``, ``*``, ``*)``, ``(V*)``) as (label, first, last) token indices."""
    spans, opened = [], None
    for i, tag in enumerate(column):
        if tag.startswith("("):
            opened = (tag[1:tag.index("*")], i)
        if tag.endswith(")") and opened is not None:
            spans.append((opened[0], opened[1], i))
            opened = None
    return spans


def map_label(label: str) -> str:
    """PropBank to UP label names: ``ARGM-LOC`` -> ``AM-LOC``, ``C-ARG1`` -> ``C-A1``, ``ARGA`` -> ``AA``."""
    return label.replace("ARGM-", "AM-").replace("ARG", "A")


def span_head(start: int, end: int, heads: dict[int, int], depth: dict[int, int]) -> int:
    """The span word whose head lies outside the span; of several, the one nearest the root, then the leftmost."""
    outside = [w for w in range(start, end + 1) if not start <= heads[w] <= end]
    return min(outside, key=lambda w: (depth[w], w))


def _depth(word: int, heads: dict[int, int]) -> int:
    steps = 0
    while word != 0 and steps <= len(heads):  # the bound stops a cycle in a malformed tree
        word = heads[word]
        steps += 1
    return steps
