"""Where the study reads from and writes to.

Inputs (the data bundle) are read-only and default to ``../shared/data`` beside the checkout when it
exists, else to ``data/`` in the cache, where ``study data fetch`` builds the bundle from upstream.
Artifacts that are large or machine-specific (the rebuilt encoder, stage checkpoints) live in a
cache folder outside the source tree; executed notebooks and reports live under ``reports/``.
Every location can be overridden by an environment variable so that clusters can point at a
shared filesystem.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable overriding the data bundle root.
DATA_ENV = "STUDY_DATA"
#: Environment variable overriding the artifact cache (encoder, stages).
CACHE_ENV = "STUDY_CACHE"
#: Environment variable overriding where reports are written.
REPORTS_ENV = "STUDY_REPORTS"


def repo_root() -> Path:
    """The checkout this package was installed from (editable install: ``src/study/infra`` -> root)."""
    return Path(__file__).resolve().parents[3]


def default_data_root() -> Path:
    """``$STUDY_DATA`` if set, else ``../shared/data`` beside the repository if present, else ``<cache>/data``."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    shared = (repo_root().parent / "shared" / "data").resolve()
    return shared if shared.is_dir() else cache_root() / "data"


def cache_root() -> Path:
    """``$STUDY_CACHE``, else ``$XDG_CACHE_HOME/study``, else ``~/.cache/study``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "study").resolve()


def reports_root() -> Path:
    """``$STUDY_REPORTS``, else ``reports/`` in the repository."""
    env = os.environ.get(REPORTS_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return repo_root() / "reports"
