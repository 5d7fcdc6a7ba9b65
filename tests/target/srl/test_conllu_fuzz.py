"""Property-based: the CoNLL-U Plus reader never crashes and never silently reads a broken structure.

Any damage to a real file (truncation, byte flips, a lost or extra tab, swapped columns, another
encoding) either reads (the damage left the structure valid) or raises ``DataError`` naming the file
and line; no other exception ever escapes. Bounded by the hypothesis profile (``tests/conftest.py``).
"""

from __future__ import annotations

import re
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from study.infra.errors import DataError
from study.target.srl.conllu import read_srl_file
from tests.helpers import FIXTURE_BUNDLE

SOURCES = sorted((FIXTURE_BUNDLE / "srl").glob("*/*.conllu*"))
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _read(tmp_path, source, data: bytes):
    path = tmp_path / source.parent.name / source.name  # srl/<lang>/<file>, as in the bundle
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    try:
        return read_srl_file(path), None
    except DataError as exc:
        return None, str(exc)


def _token_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.split("\n")) if line and not line.startswith("#")]


@FUZZ
@given(source=st.sampled_from(SOURCES), cut=st.floats(0.0, 1.0), flips=st.lists(
    st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4))
def test_truncated_or_byte_flipped_files_read_or_fail_with_file_and_line(tmp_path, source, cut, flips):
    data = bytearray(source.read_bytes()[: int(cut * source.stat().st_size)])
    for where, mask in flips:
        if data:
            data[int(where * (len(data) - 1))] ^= mask
    _, error = _read(tmp_path, source, bytes(data))
    if error is not None:
        assert error.startswith(str(tmp_path / source.parent.name / source.name)), error


@FUZZ
@given(source=st.sampled_from(SOURCES), pick=st.floats(0.0, 1.0), damage=st.sampled_from(["drop_tab", "extra_cell"]))
def test_a_token_row_with_the_wrong_column_count_is_refused_with_its_line(tmp_path, source, pick, damage):
    text = source.read_text(encoding="utf-8")
    lines = text.split("\n")
    rows = _token_lines(text)
    i = rows[int(pick * (len(rows) - 1))]
    lines[i] = lines[i].replace("\t", " ", 1) if damage == "drop_tab" else lines[i] + "\tX"
    srl, error = _read(tmp_path, source, "\n".join(lines).encode())
    assert srl is None, "a row with the wrong column count was accepted"
    assert re.search(rf":{i + 1}: wrong column count", error), error


@FUZZ
@given(source=st.sampled_from(SOURCES), pick=st.floats(0.0, 1.0), a=st.integers(0, 9), b=st.integers(0, 9))
def test_swapped_columns_read_or_fail_cleanly(tmp_path, source, pick, a, b):
    text = source.read_text(encoding="utf-8")
    lines = text.split("\n")
    rows = _token_lines(text)
    i = rows[int(pick * (len(rows) - 1))]
    cells = lines[i].split("\t")
    cells[a % len(cells)], cells[b % len(cells)] = cells[b % len(cells)], cells[a % len(cells)]
    lines[i] = "\t".join(cells)
    _read(tmp_path, source, "\n".join(lines).encode())  # DataError or a parse; nothing else escapes


@FUZZ
@given(source=st.sampled_from(SOURCES), encoding=st.sampled_from(["utf-16", "latin-1", "cp1252", "utf-8-sig"]))
def test_other_encodings_read_or_fail_cleanly(tmp_path, source, encoding):
    text = source.read_text(encoding="utf-8")
    data = text.encode(encoding, errors="replace")
    _read(tmp_path, source, data)


def test_the_fixtures_themselves_read(tmp_path):
    for source in SOURCES:
        (tmp_path / source.parent.name).mkdir()
        shutil.copy(source, tmp_path / source.parent.name / source.name)
        assert read_srl_file(tmp_path / source.parent.name / source.name).sentences
