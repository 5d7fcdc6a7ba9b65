"""The conversions on tiny inputs: the rules the bundle README states, one by one."""

from __future__ import annotations

import bz2
import json

import pytest

from study.data.upstream.convert.conllu import COLUMNS_LINE
from study.data.upstream.convert.ewt_propbank import (
    bracket_spans,
    convert_sentence,
    map_label,
    pair_sentences,
    span_head,
)
from study.data.upstream.convert.hellaswag import build_hellaswag
from study.data.upstream.convert.up_join import join_up_with_ud
from study.infra.errors import DataError

UD = (b"# sent_id = s1\n# text = Dogs bark loudly\n"
      b"1\tDogs\tdog\tNOUN\tNNS\t_\t2\tnsubj\t_\t_\n"
      b"2\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\t_\n"
      b"3\tloudly\tloudly\tADV\tRB\t_\t2\tadvmod\t_\tSpaceAfter=No\n\n")


def test_up_join_appends_up_columns_by_id_and_writes_one_columns_line():
    up = (b"# global.columns = ID UP:PRED UP:ARGHEADS UP:ARGSPANS\n# sent_id = s1\n"
          b"1\t_\t_\t_\n2\tbark.01\tA0:1|AM-MNR:3\tA0:1-1|AM-MNR:3-3\n3\t_\t_\t_\n\n")
    out = join_up_with_ud(b"# global.columns = ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC\n" + UD, up)
    lines = out.split(b"\n")
    assert lines[0] + b"\n" == COLUMNS_LINE and out.count(b"global.columns") == 1
    assert lines[4].endswith(b"\tbark.01\tA0:1|AM-MNR:3\tA0:1-1|AM-MNR:3-3")
    assert lines[3].endswith(b"\t_\t_\t_") and out.endswith(b"\n\n")


def test_up_join_refuses_files_that_do_not_belong_together():
    with pytest.raises(DataError, match="1 UP sentences but 2 UD sentences"):
        join_up_with_ud(UD + UD, b"1\t_\t_\t_\n")


def _skel(rows: list[tuple[str, str, str]]) -> list[bytes]:
    """gold_skel lines: (POS, roleset, one bracket column)."""
    return [f"doc 0 {i} [WORD] {pos} * - {roleset} {arg}".encode() for i, (pos, roleset, arg) in enumerate(rows)]


def test_english_sentence_gets_spans_heads_and_mapped_labels():
    ud = UD.rstrip(b"\n").split(b"\n")
    out = convert_sentence(ud, _skel([("NNS", "-", "(ARG0*)"), ("VBP", "bark.01", "(V*)"),
                                      ("RB", "-", "(ARGM-MNR*)")]))
    assert b"\tbark.01\tA0:1|AM-MNR:3\tA0:1-1|AM-MNR:3-3\n" in out


def test_english_sentence_with_other_tokens_or_columns_is_dropped():
    ud = UD.rstrip(b"\n").split(b"\n")
    assert convert_sentence(ud, _skel([("NNS", "-", "*"), ("VBP", "bark.01", "(V*)")])) is None
    assert convert_sentence(ud, _skel([("NNS", "-", "*"), ("VBP", "-", "(V*)"), ("RB", "-", "*")])) is None


def test_bracket_spans_labels_and_heads():
    assert bracket_spans(["(ARG0*", "*)", "(V*)", "*", "(C-ARG1*", "*)"]) == [
        ("ARG0", 0, 1), ("V", 2, 2), ("C-ARG1", 4, 5)]
    assert [map_label(x) for x in ("ARG0", "ARGM-LOC", "R-ARGM-TMP", "C-ARG1", "ARGA", "ARG1-DSP")] == [
        "A0", "AM-LOC", "R-AM-TMP", "C-A1", "AA", "A1-DSP"]
    heads = {1: 2, 2: 0, 3: 4, 4: 2, 5: 4}
    depth = {1: 2, 2: 1, 3: 3, 4: 2, 5: 3}
    assert span_head(3, 5, heads, depth) == 4  # 4's head (2) is outside the span
    assert span_head(1, 1, heads, depth) == 1


def test_sentences_are_paired_by_pos_tags_when_the_counts_differ():
    a = [[b"1\tx\tx\tX\tNN\t_\t0\troot\t_\t_"], [b"1\ty\ty\tX\tVB\t_\t0\troot\t_\t_"]]
    b = [[b"d 0 0 [WORD] JJ * - - *"], [b"d 0 0 [WORD] VB * - - *"], [b"d 0 0 [WORD] NN * - - *"]]
    assert pair_sentences(a, b) == [(a[0], b[2])]  # the longest common run of tag tuples
    assert pair_sentences(a, b[1:]) == list(zip(a, b[1:], strict=True))  # equal counts: in order


def test_hellaswag_six_lines_per_example():
    text = "ctx é\n2\ne0\ne1\ne2\ne3\n"
    out = build_hellaswag(bz2.compress(text.encode()))
    assert json.loads(out) == {"ctx": "ctx é", "label": 2, "endings": ["e0", "e1", "e2", "e3"]}
    assert "é".encode() in out
    with pytest.raises(DataError, match="not a multiple of 6"):
        build_hellaswag(bz2.compress(b"a\n1\nb\n"))
