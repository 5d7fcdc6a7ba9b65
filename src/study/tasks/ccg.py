"""CCG supertagging from a user's own CCGbank (LDC2005T13; licensed, so nothing of it is shipped).

Reads the ``AUTO`` derivations (``data/AUTO/<section>/wsj_*.auto``): every leaf
``(<L category POS POS word predicate-argument-category>)`` gives a word and its supertag. Standard
splits: sections 02-21 train, 00 dev. Supertags seen fewer than ``min_count`` times in training are
mapped to ``UNK`` (the usual 425-tag inventory uses 10), and counted.

Only the loader exists: a CCG stage would train through the tagging head that SRL and POS use,
which the intermediate-stage trainer does not yet wire to word-level tasks.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from study.errors import DataError

LEAF = re.compile(r"\(<L (\S+) (\S+) (\S+) (\S+) (\S+)>\)")
TRAIN_SECTIONS = tuple(f"{i:02d}" for i in range(2, 22))
DEV_SECTIONS = ("00",)


@dataclass(frozen=True)
class TaggedSentence:
    words: tuple[str, ...]
    tags: tuple[str, ...]
    sid: str


def read_auto_file(path: Path) -> list[TaggedSentence]:
    """Sentences of one AUTO file; a tree line without leaves is an error naming the line."""
    out = []
    sid = ""
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("ID="):
            sid = line.split()[0][3:]
            continue
        if not line.strip():
            continue
        leaves = LEAF.findall(line)
        if not leaves:
            raise DataError(f"{path}:{lineno}: derivation line without (<L ...>) leaves")
        out.append(TaggedSentence(tuple(leaf[3] for leaf in leaves), tuple(leaf[0] for leaf in leaves), sid))
    return out


def load_ccgbank(root: Path, min_count: int = 10) -> tuple[list[TaggedSentence], list[TaggedSentence], dict]:
    """(train, dev, report) from a CCGbank directory (the one holding ``data/AUTO``)."""
    auto = Path(root) / "data" / "AUTO"
    if not auto.is_dir():
        raise DataError(f"{root}: not a CCGbank directory (expected {auto}); CCGbank is LDC-licensed and "
                        "must be supplied by the user")

    def sections(names):
        return [s for name in names for p in sorted((auto / name).glob("*.auto")) for s in read_auto_file(p)]

    train, dev = sections(TRAIN_SECTIONS), sections(DEV_SECTIONS)
    if not train:
        raise DataError(f"{auto}: no training derivations in sections 02-21")
    counts = Counter(t for s in train for t in s.tags)
    keep = {t for t, c in counts.items() if c >= min_count}

    def fold(sents):
        return [TaggedSentence(s.words, tuple(t if t in keep else "UNK" for t in s.tags), s.sid) for s in sents]

    report = {"train_sentences": len(train), "dev_sentences": len(dev), "supertags": len(keep),
              "rare_tag_tokens_mapped_to_unk": sum(c for t, c in counts.items() if t not in keep)}
    return fold(train), fold(dev), report
