"""The one task registry: every module in :mod:`study.tasks.lib` that defines ``SPEC`` is a task.

Params are validated against it, the stages build heads from it and ``study plan`` counts from it;
a task defined elsewhere (a user's own, a test's) joins with :func:`register`.
"""

from __future__ import annotations

import importlib
import pkgutil

from study.tasks import lib
from study.tasks.spec import TaskSpec

TASKS: dict[str, TaskSpec] = {}


def register(spec: TaskSpec) -> TaskSpec:
    """Add ``spec`` to the registry (a second, different spec under the same name is refused)."""
    known = TASKS.get(spec.name)
    if known is not None and known != spec:
        raise ValueError(f"task '{spec.name}' is registered already (by {known.row.__module__})")
    TASKS[spec.name] = spec
    return spec


def get_task(name: str) -> TaskSpec:
    if name not in TASKS:
        raise KeyError(f"unknown task '{name}'; tasks: {', '.join(TASKS)}")
    return TASKS[name]


def task_names() -> tuple[str, ...]:
    return tuple(TASKS)


def _register_builtin() -> None:
    for info in sorted(pkgutil.iter_modules(lib.__path__), key=lambda m: m.name):
        register(importlib.import_module(f"{lib.__name__}.{info.name}").SPEC)


_register_builtin()
