"""Which upstream files each bundle file is made from, and how.

Copies come from the ``copy_to`` column of the source list; the UP/UD joins are derived from it by
treebank name; the English files, the rolesets, SQuAD and HellaSwag are conversions of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from study.data.upstream.convert.ewt_propbank import build_split
from study.data.upstream.convert.hellaswag import build_hellaswag
from study.data.upstream.convert.rolesets import build_rolesets
from study.data.upstream.convert.squad_explorer import build_squad
from study.data.upstream.convert.up_join import join_up_with_ud
from study.data.upstream.sources import Source

#: a source's local copy: a file for a raw source, the extracted members' folder for an archive
Fetched = dict[Source, Path]


@dataclass(frozen=True)
class Recipe:
    """One bundle file: the sources it reads and the function that makes its bytes from them."""

    relpath: str
    sources: tuple[Source, ...]
    make: Callable[[Fetched], bytes]

    def describe(self) -> str:
        return ", ".join(f"{s.slug}@{s.commit[:10]}:{s.path}" for s in self.sources)


def bundle_recipes(sources: list[Source]) -> list[Recipe]:
    """Every file the bundle holds (licence files excluded: they are copied beside it)."""
    recipes = [_copy(s) for s in sources if s.copy_to and not s.copy_to.startswith("LICENSES/")]
    recipes += _up_joins(sources)
    ewt, propbank = _one(sources, "UniversalDependencies/UD_English-EWT", "archive"), \
        _one(sources, "propbank/propbank-release", "archive")
    for split in ("train", "dev", "test"):
        recipes.append(Recipe(f"srl/en/{split}.conllu", (ewt, propbank),
                              lambda got, s=split: build_split(s, got[ewt], got[propbank])))
    frames = _one(sources, "propbank/propbank-frames", "archive")
    recipes.append(Recipe("srl/en/propbank-3.1-rolesets.tsv", (frames,),
                          lambda got: build_rolesets(got[frames] / "frames")))
    squad = _one(sources, "rajpurkar/SQuAD-explorer", "archive")
    for rel, folder, version, v2 in (("intermediate/squad_v1/dev-v1.1.json", "1.1", "1.1", False),
                                     ("intermediate/squad_v2/dev-v2.0.json", "v2.0", "v2.0", True)):
        recipes.append(Recipe(rel, (squad,), lambda got, f=folder, v=version, w=v2: build_squad(
            got[squad] / "explore" / f / "dev", v, f"SQuAD-explorer gh-pages explore/{f}/dev", w)))
    hellaswag = next(s for s in sources if s.path == "hellaswag_val_full.txt.bz2")
    recipes.append(Recipe("intermediate/hellaswag/hellaswag_val_full.jsonl", (hellaswag,),
                          lambda got: build_hellaswag(got[hellaswag].read_bytes())))
    return recipes


def licence_copies(sources: list[Source]) -> list[Source]:
    """Upstream LICENSE files, copied under ``LICENSES/`` beside the bundle files."""
    return [s for s in sources if s.copy_to and s.copy_to.startswith("LICENSES/")]


def _copy(source: Source) -> Recipe:
    return Recipe(source.copy_to or "", (source,), lambda got: got[source].read_bytes())


def _up_joins(sources: list[Source]) -> list[Recipe]:
    """``srl/<lang>/<split>.conllu`` for every UP layer ``<tb>-up-<split>.conllup`` and its UD twin."""
    ud_files = {(s.repo, s.path): s for s in sources if s.owner == "UniversalDependencies" and s.kind == "raw"}
    recipes = []
    for up in sources:
        if up.owner != "UniversalPropositions" or not up.path.endswith(".conllup") or "-up-" not in up.path:
            continue
        treebank, split = up.path.removesuffix(".conllup").split("-up-")
        ud = ud_files[("UD_" + up.repo.removeprefix("UP_"), f"{treebank}-ud-{split}.conllu")]
        recipes.append(Recipe(f"srl/{treebank.split('_')[0]}/{split}.conllu", (up, ud),
                              lambda got, u=up, d=ud: join_up_with_ud(got[d].read_bytes(), got[u].read_bytes(),
                                                                      name=u.path)))
    return recipes


def _one(sources: list[Source], slug: str, kind: str) -> Source:
    return next(s for s in sources if s.slug == slug and s.kind == kind)
