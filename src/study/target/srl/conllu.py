"""Read and write the SRL CoNLL-U Plus files.

Two layouts, each declared by its ``# global.columns`` line:

* 13 columns (English and UP 2.0): ``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC UP:PRED
  UP:ARGHEADS UP:ARGSPANS``;
* 10 columns (UP 2.0 gold): ``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL GOLD:PRED GOLD:ARGHEADS``
  (argument heads only).

On a predicate's row the PRED column holds its roleset (``get.01``), ARGHEADS ``LABEL:head|...``
and ARGSPANS ``LABEL:start-end|...`` in the same order. Multiword-token ranges (``3-4``) and empty
nodes (``8.1``) are kept verbatim but are neither predicates nor arguments.

Every line is kept, so writing what was read reproduces the file byte for byte; predictions are
written by replacing the SRL columns only. Problems raise :class:`~study.infra.errors.DataError` with
``file:line`` and what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from study.infra.atomic import write_text
from study.infra.errors import DataError
from study.target.srl.labels import is_valid_label, tolerates_malformed

COLUMNS_13 = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC",
              "UP:PRED", "UP:ARGHEADS", "UP:ARGSPANS")
COLUMNS_10 = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "GOLD:PRED", "GOLD:ARGHEADS")
_ID_WORD = re.compile(r"^[1-9][0-9]*$")
_ID_RANGE = re.compile(r"^([1-9][0-9]*)-([1-9][0-9]*)$")
_ID_EMPTY = re.compile(r"^([0-9]+)\.([1-9][0-9]*)$")


@dataclass(frozen=True)
class Argument:
    """One argument of a predicate: label, head word id and (where the file has spans) its span."""

    label: str
    head: int
    span: tuple[int, int] | None = None
    malformed: bool = False  # tolerated malformed item (see study.target.srl.labels): kept, never scored
    raw: str | None = None  # the item's text when malformed, written back verbatim


@dataclass(frozen=True)
class Predicate:
    """A predicate (gold, as SRL here uses gold predicates): its word id, roleset and arguments."""

    word: int
    sense: str
    arguments: tuple[Argument, ...] = ()


@dataclass(frozen=True)
class Word:
    """A syntactic word (integer id) with the UD fields the study uses."""

    id: int
    form: str
    lemma: str
    upos: str
    head: str
    deprel: str


@dataclass
class Sentence:
    """A sentence: its comment lines, every token row as read, its words and predicates."""

    comments: list[str]
    rows: list[list[str]]
    words: list[Word]
    predicates: list[Predicate]
    line: int  # line number of the sentence's first line in its file
    sent_id: str = ""
    #: SRL annotation follows an empty node (``8.1``). The UP 2.0 silver layers were joined to the UD
    #: trees by row position, so in such sentences their word ids are shifted (see ``srl.data``).
    annotation_after_empty_node: bool = False
    #: Why the SRL annotation could not be validated (only when ``annotation_after_empty_node``).
    alignment_problem: str = ""
    #: Blank lines after the sentence in its file (1 normally), kept for exact round trips.
    blank_lines_after: int = 1

    @property
    def forms(self) -> list[str]:
        return [w.form for w in self.words]


@dataclass
class SrlFile:
    """A parsed file: its column layout and sentences."""

    path: Path
    columns: tuple[str, ...]
    sentences: list[Sentence] = field(default_factory=list)
    #: Tolerated irregularities (``file:line: what``), e.g. a trailing tab; reported, never silent.
    warnings: list[str] = field(default_factory=list)
    leading_blank_lines: int = 0
    #: how the file was written (a byte-order mark, CRLF line ends), kept so that it is written back alike
    bom: bool = False
    newline: str = "\n"

    @property
    def has_spans(self) -> bool:
        return "UP:ARGSPANS" in self.columns


def _srl_columns(columns: tuple[str, ...]) -> tuple[int, int, int | None]:
    pred = next(i for i, c in enumerate(columns) if c.endswith(":PRED"))
    heads = next(i for i, c in enumerate(columns) if c.endswith(":ARGHEADS"))
    spans = next((i for i, c in enumerate(columns) if c.endswith(":ARGSPANS")), None)
    return pred, heads, spans


def read_srl_file(path: Path, max_sentences: int | None = None) -> SrlFile:
    """Parse a CoNLL-U Plus SRL file; raise :class:`DataError` naming ``file:line`` on any problem.

    ``max_sentences`` parses only the first sentences (smoke runs); such a file is not for writing back.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: invalid UTF-8 ({exc.reason})") from exc
    # a UTF-8 byte-order mark and Windows line ends are legitimate: read through, written back alike
    bom = text.startswith("\ufeff")
    text = text.removeprefix("\ufeff")
    newline = "\r\n" if "\r\n" in text and "\n" not in text.replace("\r\n", "") else "\n"
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise DataError(f"{path}: empty file, expected CoNLL-U Plus sentences")
    columns = _declared_columns(text, path)
    tolerated = tolerates_malformed(data)
    srl = SrlFile(path, columns, bom=bom, newline=newline)
    srl.leading_blank_lines = len(text) - len(text.lstrip("\n"))
    for start, block, blank_after in _blocks(text):
        sentence = _parse_sentence(block, start, path, columns, tolerated, srl.warnings)
        sentence.blank_lines_after = blank_after
        srl.sentences.append(sentence)
        if max_sentences is not None and len(srl.sentences) >= max_sentences:
            return srl
    if not srl.sentences:
        raise DataError(f"{path}: no sentences found")
    if not text.endswith("\n"):
        raise DataError(f"{path}:{text.count(chr(10)) + 1}: file is truncated (no final newline)")
    return srl


def _declared_columns(text: str, path: Path) -> tuple[str, ...]:
    for lineno, line in enumerate(text.split("\n"), start=1):
        if line.startswith("# global.columns"):
            cols = tuple(line.split("=", 1)[1].split())
            if not any(c.endswith(":PRED") for c in cols) or not any(c.endswith(":ARGHEADS") for c in cols):
                raise DataError(f"{path}:{lineno}: global.columns declares no PRED/ARGHEADS columns: {cols}")
            if cols[0].rpartition(":")[2] != "ID":  # "ID" or a prefixed "STANZA:ID" (pl gold)
                raise DataError(f"{path}:{lineno}: global.columns must start with an ID column, got {cols[0]}")
            return cols
        if line and not line.startswith("#"):
            break
    raise DataError(
        f"{path}:1: missing '# global.columns = ...' header; expected 13 columns {' '.join(COLUMNS_13)} "
        f"or 10 columns {' '.join(COLUMNS_10)}"
    )


def _blocks(text: str) -> Iterator[tuple[int, list[str], int]]:
    """Yield (first line number, lines, blank lines after it) per blank-line separated block."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline terminates the last line
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        start = i
        while i < len(lines) and lines[i].strip():
            i += 1
        end = i
        while i < len(lines) and not lines[i].strip():
            i += 1
        yield start + 1, lines[start:end], i - end


def _parse_sentence(
    lines: list[str], start: int, path: Path, columns: tuple[str, ...], tolerated: bool,
    warnings: list[str],
) -> Sentence:
    ncol = len(columns)
    pred_col, heads_col, spans_col = _srl_columns(columns)
    comments: list[str] = []
    rows: list[list[str]] = []
    words: list[Word] = []
    pending: list[tuple[int, int, list[str]]] = []  # (line, word id, row) of predicate rows
    sent_id = ""
    seen_empty = False
    annotation_after_empty = False
    for offset, line in enumerate(lines):
        lineno = start + offset
        if line.startswith("#"):
            if rows:
                raise DataError(f"{path}:{lineno}: comment line inside a sentence's token rows")
            comments.append(line)
            if line.startswith("# sent_id"):
                sent_id = line.split("=", 1)[1].strip() if "=" in line else ""
            continue
        cells = line.split("\t")
        if len(cells) > ncol and not any(cells[ncol:]):
            # a trailing tab (one row of vi/gold-test.conllup): kept verbatim for round trips
            warnings.append(f"{path}:{lineno}: trailing tab (empty extra column) ignored")
        elif len(cells) != ncol:
            raise DataError(f"{path}:{lineno}: wrong column count: {len(cells)} columns, expected {ncol} "
                            f"({' '.join(columns)})")
        rows.append(cells)
        tok_id = cells[0]
        if _ID_WORD.match(tok_id):
            wid = int(tok_id)
            if wid != len(words) + 1:
                raise DataError(f"{path}:{lineno}: bad id '{tok_id}': expected word id {len(words) + 1}")
            words.append(Word(wid, cells[1], cells[2], cells[3], cells[6], cells[7]))
            has_args = cells[heads_col] != "_" or (spans_col is not None and cells[spans_col] != "_")
            if cells[pred_col] not in {"_", ""}:
                pending.append((lineno, wid, cells))
                annotation_after_empty |= seen_empty
            elif cells[pred_col] == "" or has_args:
                problem = "empty PRED cell" if cells[pred_col] == "" else "arguments on a row without a roleset"
                if not tolerated:
                    raise DataError(f"{path}:{lineno}: {problem}")
                warnings.append(f"{path}:{lineno}: {problem}: row kept, not a predicate, excluded from scoring")
        elif m := _ID_RANGE.match(tok_id):
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo != len(words) + 1 or hi < lo:
                raise DataError(f"{path}:{lineno}: bad multiword range id '{tok_id}'")
            _no_srl(cells, pred_col, heads_col, spans_col, path, lineno, "multiword-token range")
        elif m := _ID_EMPTY.match(tok_id):
            if int(m.group(1)) != len(words):
                raise DataError(f"{path}:{lineno}: bad empty-node id '{tok_id}' after word {len(words)}")
            _no_srl(cells, pred_col, heads_col, spans_col, path, lineno, "empty node")
            seen_empty = True
        else:
            raise DataError(f"{path}:{lineno}: bad id '{tok_id}' (expected N, N-M or N.M)")
    if not words:
        raise DataError(f"{path}:{start}: sentence without token rows")
    n = len(words)
    # In a sentence whose annotation follows an empty node, ids may be shifted (see Sentence); an id
    # out of range there is recorded, not raised, so the file still reads and the sentence can be
    # excluded by policy. Everywhere else it is an error.
    limit = None if annotation_after_empty else n
    problem = ""
    predicates = []
    for lineno, wid, cells in pending:
        args = _parse_arguments(cells, heads_col, spans_col, limit, path, lineno, tolerated, warnings)
        if any(a.head > n or (a.span and a.span[1] > n) for a in args) and not problem:
            problem = f"{path}:{lineno}: argument outside the sentence ({n} words) after an empty node"
        predicates.append(Predicate(wid, cells[pred_col], args))
    return Sentence(comments, rows, words, predicates, start, sent_id, annotation_after_empty, problem)


def _no_srl(cells, pred_col, heads_col, spans_col, path, lineno, what) -> None:
    srl = [cells[pred_col], cells[heads_col]] + ([cells[spans_col]] if spans_col is not None else [])
    if any(c != "_" for c in srl):
        raise DataError(f"{path}:{lineno}: a {what} cannot carry SRL annotation")


def _parse_arguments(
    cells: list[str], heads_col: int, spans_col: int | None, n: int | None, path: Path, lineno: int,
    tolerated: bool, warnings: list[str],
) -> tuple[Argument, ...]:
    heads = [] if cells[heads_col] == "_" else cells[heads_col].split("|")
    spans = [] if spans_col is None or cells[spans_col] == "_" else cells[spans_col].split("|")
    # ARGSPANS "_" with heads present: spans unknown (a heads-only prediction file), not an error
    if spans_col is not None and spans and len(spans) != len(heads):
        raise DataError(f"{path}:{lineno}: {len(heads)} argument heads but {len(spans)} spans")
    args = []
    for i, item in enumerate(heads):
        label, sep, head_txt = item.rpartition(":")
        problem = ""
        if not sep or not label or not _ID_WORD.match(head_txt):
            problem = f"malformed argument '{item}' (expected LABEL:headId)"
        elif not is_valid_label(label):
            problem = f"unknown label '{label}' in argument '{item}'"
        if problem:
            if not tolerated or spans:
                raise DataError(f"{path}:{lineno}: {problem}")
            warnings.append(f"{path}:{lineno}: {problem}: kept, excluded from scoring")
            args.append(Argument(label or item, 0, None, malformed=True, raw=item))
            continue
        head = int(head_txt)
        if n is not None and head > n:
            raise DataError(f"{path}:{lineno}: argument '{item}' points to word {head}, sentence has {n} words")
        span = None
        if spans:
            s_label, s_sep, rng = spans[i].rpartition(":")
            m = re.fullmatch(r"([1-9][0-9]*)-([1-9][0-9]*)", rng)
            if not s_sep or not m:
                raise DataError(f"{path}:{lineno}: malformed span '{spans[i]}' (expected LABEL:start-end)")
            if s_label != label:
                raise DataError(f"{path}:{lineno}: span '{spans[i]}' does not match argument '{item}'")
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo or (n is not None and hi > n):
                raise DataError(f"{path}:{lineno}: span '{spans[i]}' lies outside the sentence ({n} words)")
            span = (lo, hi)
        args.append(Argument(label, head, span))
    return tuple(args)


# --------------------------------------------------------------------------- writing


def format_sentence(sentence: Sentence, columns: tuple[str, ...], predicates: Iterable[Predicate] | None = None) -> str:
    """Serialise a sentence as read or, with ``predicates`` (e.g. predictions), with the SRL columns
    of every word row rewritten from them."""
    out = list(sentence.comments)
    if predicates is None:  # the sentence as read, byte for byte
        out.extend("\t".join(cells) for cells in sentence.rows)
        return "\n".join(out) + "\n"
    pred_col, heads_col, spans_col = _srl_columns(columns)
    by_word = {p.word: p for p in predicates}
    for cells in sentence.rows:
        if _ID_WORD.match(cells[0]):
            cells = list(cells)
            pred = by_word.get(int(cells[0]))
            cells[pred_col] = pred.sense if pred else "_"
            cells[heads_col] = _join([a.raw or f"{a.label}:{a.head}" for a in pred.arguments]) if pred else "_"
            if spans_col is not None:
                cells[spans_col] = (
                    _join([f"{a.label}:{a.span[0]}-{a.span[1]}" for a in pred.arguments if a.span])
                    if pred else "_"
                )
        out.append("\t".join(cells))
    return "\n".join(out) + "\n"


def _join(items: list[str]) -> str:
    return "|".join(items) if items else "_"


def format_srl_file(srl: SrlFile, predictions: list[list[Predicate]] | None = None) -> str:
    """The whole file as text (sentences separated by one blank line, ending with one)."""
    parts = ["\n" * srl.leading_blank_lines]
    for i, sentence in enumerate(srl.sentences):
        preds = predictions[i] if predictions is not None else None
        parts.append(format_sentence(sentence, srl.columns, preds) + "\n" * sentence.blank_lines_after)
    text = "".join(parts).replace("\n", srl.newline)
    return "\ufeff" + text if srl.bom else text


def write_srl_file(srl: SrlFile, path: Path, predictions: list[list[Predicate]] | None = None) -> Path:
    """Atomically write ``srl`` (with ``predictions`` in the SRL columns, if given) to ``path``."""
    if predictions is not None and len(predictions) != len(srl.sentences):
        raise ValueError(f"{len(predictions)} prediction lists for {len(srl.sentences)} sentences")
    write_text(Path(path), format_srl_file(srl, predictions))
    return Path(path)

