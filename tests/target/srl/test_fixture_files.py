"""Reader, policies, scope and metrics on the committed fixture files (no bundle needed).

The fixtures are real sentences cut from the bundle (``tests/fixtures/make_fixtures.py``): a German
file with a multiword token, Dutch with an empty node before and one after which the UP layer is
shifted, English PropBank EWT, and the 10-column Vietnamese gold layout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from study.infra.errors import DataError
from study.target.srl.conllu import read_srl_file, write_srl_file
from study.target.srl.data import load_split
from study.target.srl.metrics import score
from study.target.srl.scope import count_scope, in_scope
from tests.helpers import FIXTURE_BUNDLE

SRL = FIXTURE_BUNDLE / "srl"
FILES = sorted(SRL.glob("*/*.conllu*"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_files_round_trip_to_the_byte(path: Path, tmp_path):
    srl = read_srl_file(path)
    assert write_srl_file(srl, tmp_path / path.name).read_bytes() == path.read_bytes()


def test_multiword_tokens_are_rows_but_not_words():
    srl = read_srl_file(SRL / "de/test.conllu")
    sentence = next(s for s in srl.sentences if any("-" in row[0] for row in s.rows))
    ranges = [row for row in sentence.rows if "-" in row[0]]
    assert ranges and all(isinstance(w.id, int) for w in sentence.words)
    assert [w.id for w in sentence.words] == list(range(1, len(sentence.words) + 1))
    assert len(sentence.rows) == len(sentence.words) + len(ranges)


def test_empty_nodes_are_not_words_and_shifted_annotation_is_excluded_outside_english():
    srl = read_srl_file(SRL / "nl/dev.conllu")
    with_empty = [s for s in srl.sentences if any("." in row[0] for row in s.rows)]
    assert len(with_empty) == 2
    assert [s.annotation_after_empty_node for s in with_empty] == [False, True]
    assert load_split(SRL / "nl/dev.conllu", "nl", "dev", "all").report.sentences_excluded == 1
    kept_as_english = load_split(SRL / "nl/dev.conllu", "en", "dev", "all")  # the rule is per language
    assert kept_as_english.report.sentences_excluded == 0


def test_ten_column_gold_has_heads_only():
    srl = read_srl_file(SRL / "vi/gold-test.conllup")
    assert len(srl.columns) == 10 and not srl.has_spans and not srl.warnings
    assert all(a.head for s in srl.sentences for p in s.predicates for a in p.arguments)


def test_a_malformed_label_is_an_error_with_its_line_outside_the_one_tolerated_file(tmp_path):
    text = (SRL / "vi/gold-test.conllup").read_text(encoding="utf-8")
    lines = text.split("\n")
    i = next(i for i, line in enumerate(lines) if line.count("\t") == 9 and ":" in line.split("\t")[9])
    cells = lines[i].split("\t")
    cells[9] = cells[9].replace("A0:", "AMR-MNR:", 1) if "A0:" in cells[9] else "AMR-MNR:1"
    lines[i] = "\t".join(cells)
    path = tmp_path / "vi" / "gold-test.conllup"  # the same name and folder as the tolerated file: not enough
    path.parent.mkdir()
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match=rf"gold-test\.conllup:{i + 1}: unknown label 'AMR-MNR'"):
        read_srl_file(path)


def test_scope_keeps_verbs_and_copulas_only():
    srl = read_srl_file(SRL / "en/dev.conllu")
    counts = count_scope(srl.sentences, "verbal_and_copula")
    assert counts.kept + counts.dropped == sum(len(s.predicates) for s in srl.sentences)
    for sentence in srl.sentences:
        for p in sentence.predicates:
            verb_or_copula = sentence.words[p.word - 1].upos == "VERB" or p.sense == "be.01"
            assert in_scope(p, sentence, "verbal_and_copula") == verb_or_copula
    assert set(counts.kept_by_upos) >= {"VERB"} and counts.dropped_by_upos


@pytest.mark.parametrize("kind", ["head", "span"])
def test_gold_scores_one_against_itself_and_less_with_one_argument_dropped(kind):
    split = load_split(SRL / "de/test.conllu", "de", "test", "verbal_and_copula")
    gold = split.predicates
    perfect = score(gold, gold, kind)
    assert perfect.total.f1 == 1.0
    first = next(i for i, ps in enumerate(gold) if ps and ps[0].arguments)
    damaged = [list(ps) for ps in gold]
    p = damaged[first][0]
    damaged[first][0] = type(p)(**{**vars(p), "arguments": p.arguments[1:]})
    worse = score(gold, damaged, kind)
    n_gold = perfect.total.gold
    assert worse.total.tp == n_gold - 1 and worse.total.pred == n_gold - 1
    assert worse.total.f1 == pytest.approx(2 * (n_gold - 1) / (2 * n_gold - 1))


@pytest.mark.parametrize("variant", ["crlf", "bom", "bom+crlf"])
def test_crlf_line_ends_and_a_byte_order_mark_read_alike_and_write_back_alike(tmp_path, variant):
    source = SRL / "de/test.conllu"
    data = source.read_bytes()
    if "crlf" in variant:
        data = data.replace(b"\n", b"\r\n")
    if "bom" in variant:
        data = b"\xef\xbb\xbf" + data
    path = tmp_path / "de" / "test.conllu"
    path.parent.mkdir()
    path.write_bytes(data)
    plain, other = read_srl_file(source), read_srl_file(path)
    assert [s.rows for s in other.sentences] == [s.rows for s in plain.sentences]
    assert [s.predicates for s in other.sentences] == [s.predicates for s in plain.sentences]
    assert write_srl_file(other, tmp_path / "out.conllu").read_bytes() == data


def test_gold_labels_the_model_never_saw_are_reported_with_their_counts():
    from study.target.srl.data import label_inventory, unseen_labels

    vi = load_split(SRL / "vi/gold-test.conllup", "vi", "gold-test", "all")
    everything = label_inventory([vi])
    assert unseen_labels(vi, everything) == {}
    without_tmp = [tag for tag in everything if tag != "AM-TMP"]
    n_tmp = sum(a.label == "AM-TMP" and not a.malformed for ps in vi.predicates for p in ps for a in p.arguments)
    assert n_tmp and unseen_labels(vi, without_tmp) == {"AM-TMP": n_tmp}
    assert unseen_labels(vi, ["O", "B-A0", "I-A0"])["A1"] > 0  # span (BIO) inventories read alike
