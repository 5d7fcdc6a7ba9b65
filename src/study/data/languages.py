"""Which target languages a study scores: the bundle's ``srl/<lang>/`` folders, checked against params."""

from __future__ import annotations

from pathlib import Path

from study.config import StudyConfig
from study.infra.errors import ParamsError


def bundle_languages(data_root: Path) -> list[str]:
    """Target languages present in the bundle: ``srl/<lang>/test.conllu``, English excluded."""
    srl = Path(data_root) / "srl"
    return sorted(p.parent.name for p in srl.glob("*/test.conllu") if p.parent.name != "en")


def resolve_languages(config: StudyConfig, data_root: Path, source: str = "<params>") -> list[str]:
    """The target languages a study scores, checked against the bundle (no code per language)."""
    available = bundle_languages(data_root)
    if config.srl.languages == "all":
        return available
    for code in config.srl.languages:
        if code not in available:
            raise ParamsError(
                f"{source}: key 'srl.languages': unknown language '{code}'; languages in {data_root}: "
                f"{', '.join(available)} (add srl/{code}/test.conllu to the data to use a new one)"
            )
    for code in config.srl.gold_sets:
        if not (Path(data_root) / "srl" / code / "gold-test.conllup").is_file():
            raise ParamsError(
                f"{source}: key 'srl.gold_sets': no gold set for '{code}' "
                f"(expected {Path(data_root) / 'srl' / code / 'gold-test.conllup'})"
            )
    return list(config.srl.languages)
