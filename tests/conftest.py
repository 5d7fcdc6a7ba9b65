"""Shared fixtures: tiny committed inputs, params from smoke.yaml, the real bundle and the real encoder.

Unit tests run on ``tests/fixtures`` and need nothing outside the clone. A test that needs the data
bundle asks for the ``data_root`` fixture (or carries ``@pytest.mark.needs_data``): it is marked
``needs_data`` and skipped, with the reason, when no bundle is found. No mocks: the end-to-end tests
use the real bundle and the real offline encoder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers import FIXTURE_BUNDLE, smoke_params

# Property-based tests: a quick profile by default, a longer one in CI (`make test` sets HYPOTHESIS_PROFILE=ci).
settings.register_profile("fast", max_examples=40, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

# Never reach for the hub from the tests: loading must work offline or fail with our message.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

NEEDS_DATA_FIXTURES = {"data_root", "mini_bundle"}


def _bundle_or_reason() -> tuple[Path | None, str]:
    from study.data.bundle import resolve_data_root
    from study.infra.errors import StudyError

    try:
        return resolve_data_root(), ""
    except StudyError as exc:
        return None, str(exc)


def pytest_collection_modifyitems(config, items):
    """Mark every test that uses the bundle; skip them, saying why, when there is none."""
    root, reason = _bundle_or_reason()
    for item in items:
        if NEEDS_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.needs_data)
        if root is None and item.get_closest_marker("needs_data"):
            item.add_marker(pytest.mark.skip(reason=f"needs the data bundle: {reason}"))


@pytest.fixture(scope="session")
def data_root() -> Path:
    root, reason = _bundle_or_reason()
    if root is None:
        pytest.skip(f"needs the data bundle: {reason}")
    return root


@pytest.fixture(scope="session")
def fixture_bundle() -> Path:
    """Tiny real files in the bundle's layout (``tests/fixtures/bundle``), committed."""
    return FIXTURE_BUNDLE


@pytest.fixture(scope="session")
def encoder_dir() -> Path:
    """The offline encoder, built once into the user cache from the pip-installed packages."""
    from study.encoder.build import build_encoder

    return build_encoder().path


@pytest.fixture(scope="session")
def encoder_and_tokenizer(encoder_dir):
    from study.encoder.load import load_encoder, load_tokenizer

    return load_encoder("multilingual-e5-small-q4"), load_tokenizer("multilingual-e5-small-q4")


@pytest.fixture(scope="session")
def tokenizer(encoder_dir):
    """The study's XLM-R tokenizer (the encoder is built from pip-installed packages, no bundle needed)."""
    from study.encoder.load import load_tokenizer

    return load_tokenizer("multilingual-e5-small-q4")


@pytest.fixture
def tiny_params():
    """``tiny_params(srl={"budget": {...}})``: params/smoke.yaml with nested overrides, validated."""
    from study.config import validate_params

    def make(**overrides):
        return validate_params(smoke_params(**overrides), source="params/smoke.yaml + overrides")

    return make


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
