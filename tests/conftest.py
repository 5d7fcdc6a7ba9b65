"""Shared fixtures: the real data bundle and the real offline encoder (no mocks)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Never reach for the hub from the tests: loading must work offline or fail with our message.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    from study.data.bundle import resolve_data_root

    return resolve_data_root()


@pytest.fixture(scope="session")
def encoder_dir() -> Path:
    """The offline encoder, built once into the user cache (``make test`` builds it first)."""
    from study.encoder.build import build_encoder

    return build_encoder().path


@pytest.fixture(scope="session")
def encoder_and_tokenizer(encoder_dir):
    from study.encoder.load import load_encoder, load_tokenizer

    return load_encoder("multilingual-e5-small-q4"), load_tokenizer("multilingual-e5-small-q4")


def isolated_study_env(root: Path, encoder_dir: Path) -> dict:
    """The environment of a study run under ``root``: its own cache and reports, the built encoder linked in.

    The encoder is shared with the user cache (building it is tested elsewhere), never rebuilt per test.
    """
    encoders = root / "cache" / "encoders"
    encoders.mkdir(parents=True, exist_ok=True)
    if not (encoders / encoder_dir.name).exists():
        os.symlink(encoder_dir, encoders / encoder_dir.name)
    return {**os.environ, "STUDY_CACHE": str(root / "cache"), "STUDY_REPORTS": str(root / "reports")}


@pytest.fixture
def mini_bundle(tmp_path: Path, data_root: Path) -> Path:
    """A small copy of the bundle (a few real files and their checksum lines) that tests may damage."""
    keep = ["srl/de/test.conllu", "srl/zh/test.conllu", "srl/vi/gold-test.conllup", "intermediate/rte/val.jsonl"]
    root = tmp_path / "data"
    lines = []
    sums = {
        line.split("  ", 1)[1].removeprefix("./"): line
        for line in (data_root / "SHA256SUMS").read_text().splitlines()
        if line.strip()
    }
    for rel in keep:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_root / rel, root / rel)
        lines.append(sums[rel])
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return root
