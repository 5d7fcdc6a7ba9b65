"""Notebook parameters: a params file path, or a params file injected by ``papermill -f``.

``papermill notebooks/03_srl_transfer.ipynb out.ipynb -f params/smoke.yaml -p run_id none__seed1``
injects every top-level key of the YAML (``study_name``, ``schedules``, ``srl``, ...) as a notebook
variable. :func:`params_from_notebook` collects those, validates them like a params file, and writes
them to a canonical YAML in the cache (same content -> same file, same params hash as the original
file), which the notebook then opens instead of ``params_file``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from study.config import StudyConfig, validate_params
from study.infra.atomic import write_text
from study.infra.paths import cache_root, repo_root


def injected_params(namespace: Mapping) -> dict:
    """The study-config keys among a notebook's variables, if ``papermill -f`` injected a params file.

    ``study_name`` (required in every params file, never a notebook parameter) tells an injected
    file apart from notebook parameters that share a name with a config key (01's ``data_root``).
    """
    if "study_name" not in namespace:
        return {}
    return {key: namespace[key] for key in StudyConfig.model_fields if key in namespace}


def checkout_relative(path: Path) -> Path:
    """A relative path that is not there from here is taken from the checkout's root.

    papermill runs the notebooks from the checkout, JupyterLab from ``notebooks/``: the notebooks'
    default ``params/default.yaml`` must open in both.
    """
    if path.is_absolute() or path.exists():
        return path
    return repo_root() / path


def params_from_notebook(params_file: str | Path, namespace: Mapping) -> Path:
    """``params_file``, unless a whole params file was injected: then a validated copy of that."""
    injected = injected_params(namespace)
    if not injected:
        return checkout_relative(Path(params_file))
    config = validate_params(injected, source="parameters injected with papermill -f")
    path = cache_root() / "params" / f"{config.study_name}-{config.full_hash()[:12]}.yaml"
    if not path.exists():
        write_text(path, yaml.safe_dump(injected, sort_keys=False))
    return path
