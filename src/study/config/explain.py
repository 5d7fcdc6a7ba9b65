"""``study params explain``: every params key with its type, default and meaning, read off the schema."""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from study.config.schema import StudyConfig, section_model
from study.infra.errors import ParamsError


def _type_name(annotation: Any) -> str:
    """A short readable type: ``int | None``, ``'heads' | 'spans'``, ``list[str]``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (Union, UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _default(info, current: Any) -> str:
    if current is not PydanticUndefined:
        return repr(current)
    if info.default_factory is not None:
        return repr(info.default_factory())
    if info.default is PydanticUndefined:
        return "required"
    return repr(info.default)


def field_lines(model: type[BaseModel] = StudyConfig, prefix: str = "",
                defaults: BaseModel | None = None) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) of every setting, depth-first in schema order.

    ``defaults`` is the section's default instance: a section's own defaults can differ from its
    class's (``srl.optim.batch_size`` is 32, ``intermediate.optim.batch_size`` 16).
    """
    rows = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        section = section_model(info.annotation)
        current = getattr(defaults, name) if defaults is not None else PydanticUndefined
        if name == "tasks":
            rows.append((key, "mapping task -> settings", "{}", info.description or ""))
            rows += field_lines(section, key + ".<task>.")
        elif section is not None:
            instance = current if isinstance(current, BaseModel) else (
                info.default if isinstance(info.default, BaseModel) else None)
            rows.append((key, "section", "", info.description or ""))
            rows += field_lines(section, key + ".", instance)
        else:
            rows.append((key, _type_name(info.annotation), _default(info, current), info.description or ""))
    return rows


def explain(key: str | None = None) -> str:
    """The documentation of ``key`` and everything under it (every key when None)."""
    rows = field_lines()
    if key:
        rows = [r for r in rows if r[0] == key or r[0].startswith(key + ".")]
        if not rows:
            known = sorted({r[0].split(".")[0] for r in field_lines()})
            raise ParamsError(f"no params key '{key}'; top-level keys: {', '.join(known)}")
    out = []
    for name, kind, default, text in rows:
        head = f"{name}  ({kind})" if kind == "section" else f"{name}: {kind} = {default}"
        out.append(head + (f"\n    {text}" if text else ""))
    return "\n".join(out)
