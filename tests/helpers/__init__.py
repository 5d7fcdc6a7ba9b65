"""Plain helpers the test modules share (fixtures live in ``tests/conftest.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
#: a bundle-shaped folder of tiny real files (``tests/fixtures/make_fixtures.py``); no SHA256SUMS
FIXTURE_BUNDLE = FIXTURES / "bundle"


def study(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the ``study`` command as a user does; output captured."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "study.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=full_env, timeout=900)


def isolated_study_env(root: Path, encoder_dir: Path) -> dict:
    """The environment of a study run under ``root``: its own cache and reports, the built encoder linked in.

    The encoder is shared with the user cache (building it is tested elsewhere), never rebuilt per test.
    """
    encoders = root / "cache" / "encoders"
    encoders.mkdir(parents=True, exist_ok=True)
    if not (encoders / encoder_dir.name).exists():
        os.symlink(encoder_dir, encoders / encoder_dir.name)
    return {**os.environ, "STUDY_CACHE": str(root / "cache"), "STUDY_REPORTS": str(root / "reports")}


def smoke_params(**overrides) -> dict:
    """params/smoke.yaml as a dict, with nested ``overrides`` merged in."""
    import yaml

    from study.config.loading import deep_merge

    return deep_merge(yaml.safe_load((REPO / "params" / "smoke.yaml").read_text()), overrides)


def write_params(path: Path, **overrides) -> Path:
    """A params file: params/smoke.yaml with ``overrides``, for tests that run the study on it."""
    import yaml

    path.write_text(yaml.safe_dump(smoke_params(**overrides), sort_keys=False))
    return path
