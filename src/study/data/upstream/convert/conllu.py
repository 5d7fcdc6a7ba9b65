"""The CoNLL-U pieces the SRL conversions share, kept as bytes."""

from __future__ import annotations

#: the one columns line at the top of every 13-column SRL file of the bundle
COLUMNS_LINE = (b"# global.columns = ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC "
                b"UP:PRED UP:ARGHEADS UP:ARGSPANS\n")
NO_SRL = b"_\t_\t_"


def blocks(data: bytes) -> list[list[bytes]]:
    """Sentences: runs of non-blank lines (comments included), without line ends."""
    out: list[list[bytes]] = []
    current: list[bytes] = []
    for line in data.split(b"\n"):
        if line.strip():
            current.append(line)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def is_columns_line(line: bytes) -> bool:
    return line.startswith(b"# global.columns")


def word_rows(block: list[bytes]) -> list[list[bytes]]:
    """The fields of a sentence's syntactic words (integer ids: no multiword ranges, no empty nodes)."""
    return [line.split(b"\t") for line in block if not line.startswith(b"#") and line.split(b"\t", 1)[0].isdigit()]


def write_sentence(block: list[bytes], srl_columns: dict[bytes, bytes]) -> bytes:
    """A UD sentence with three SRL columns appended to every token line (``_ _ _`` where none is given).

    ``srl_columns`` maps a token line's ID string to its three tab-joined columns; the sentence's own
    ``# global.columns`` line is dropped (the file has one at its top).
    """
    out = []
    for line in block:
        if is_columns_line(line):
            continue
        if line.startswith(b"#"):
            out.append(line + b"\n")
        else:
            out.append(line + b"\t" + srl_columns.get(line.split(b"\t", 1)[0], NO_SRL) + b"\n")
    out.append(b"\n")
    return b"".join(out)
