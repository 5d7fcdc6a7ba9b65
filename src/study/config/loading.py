"""Reading params files: YAML (duplicate keys refused) -> :class:`StudyConfig`, errors as one line each.

``load_params`` is the only way params enter the study, so nothing downstream re-checks them.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from study.config.schema import IntermediateConfig, StudyConfig, TaskConfig, section_model
from study.infra.errors import ParamsError
from study.tasks.registry import task_names


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict:
    """Read a params file into a dict; syntax errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ParamsError(f"{where}: invalid YAML: {exc.problem or exc.context}") from exc
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def load_params(path: Path, overrides: dict | None = None) -> StudyConfig:
    """Load and validate ``path`` (plus optional overrides, e.g. papermill parameters)."""
    data = read_yaml(path)
    if overrides:
        data = deep_merge(data, overrides)
    return validate_params(data, source=str(path))


def validate_params(data: dict, source: str = "<params>") -> StudyConfig:
    """Validate a params dict; raise :class:`ParamsError` with one readable line per problem."""
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise ParamsError(format_validation_error(exc, source)) from None


def deep_merge(base: dict, extra: dict) -> dict:
    """``base`` with ``extra`` merged in, nested mappings key by key (papermill overrides, test params)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that owns the location ``loc`` (for listing allowed keys)."""
    model: Any = StudyConfig
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            if isinstance(part, str) and part in task_names() and model is IntermediateConfig:
                continue
            return None
        ann = field.annotation
        model = section_model(ann)
        if model is None and isinstance(part, str) and part == "tasks":
            model = TaskConfig
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _printable(text: str) -> str:
    """``text`` with control and line-break characters escaped, so a key from the file stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def format_validation_error(exc: ValidationError, source: str) -> str:
    """Turn pydantic's errors into lines like ``params.yaml: key 'srl.formulaton': ...``."""
    lines = []
    seen = set()
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p not in {"[key]"} and not _is_branch_tag(p))
        key = ".".join(str(p) for p in loc) or "<top level>"
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(loc[:-1])
            allowed = sorted(parent.model_fields) if parent else []
            bad = str(loc[-1])
            hint = difflib.get_close_matches(bad, allowed, n=1)
            msg = f"unknown key '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
            msg += f"; allowed keys here: {', '.join(allowed)}"
        elif kind == "missing":
            msg = f"required key '{key}' is missing"
        elif kind == "value_error":  # our own validators: the message already quotes the value
            text = err["msg"].removeprefix("Value error, ")
            msg = f"key '{key}': {text}" if key != "<top level>" else text
        else:
            msg = f"key '{key}': {err['msg']} (got {err.get('input')!r})"
        msg = _printable(msg)  # a key or value from the file may hold a line break (U+0085, \r)
        if msg not in seen:
            seen.add(msg)
            lines.append(f"{source}: {msg}")
    return "\n".join(lines)


def _is_branch_tag(part: Any) -> bool:
    """pydantic inserts union-branch names (``list[...]``, ``literal[...]``) into locations."""
    return isinstance(part, str) and ("[" in part or part in {"int", "str", "float", "bool", "none"})

