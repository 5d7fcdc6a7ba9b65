"""Property-based: any damage to a params file gives a valid study or a ``ParamsError``, nothing else.

Starting from params/smoke.yaml, a key is misspelt or a value replaced by one of any type (huge
ints, non-finite floats, strings, lists, mappings, None). Validation must either accept the result
(and then every float in it is finite and its hash computes) or refuse it with one line per problem
naming the source; no other exception escapes, and a misspelt key is always named.
"""

from __future__ import annotations

import copy
import math

from hypothesis import given
from hypothesis import strategies as st

from study.config import validate_params
from study.infra.errors import ParamsError
from tests.helpers import smoke_params

BASE = smoke_params()


def _paths(tree: dict, prefix: tuple = ()) -> list[tuple]:
    out = []
    for key, value in tree.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out += _paths(value, (*prefix, key))
    return out


PATHS = _paths(BASE)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=5)), max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers(-3, 3), max_size=3),
)


def _at(tree: dict, path: tuple) -> dict:
    for key in path[:-1]:
        tree = tree[key]
    return tree


def _finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _outcome(data: dict):
    try:
        config = validate_params(data, source="fuzz.yaml")
    except ParamsError as exc:
        lines = str(exc).splitlines()
        assert lines and all(line.startswith("fuzz.yaml") for line in lines), str(exc)
        return None, str(exc)
    assert _finite(config.model_dump(mode="python")) and config.params_hash()
    return config, None


@given(path=st.sampled_from(PATHS), value=VALUES)
def test_any_value_anywhere_validates_or_is_refused_with_its_source(path, value):
    data = copy.deepcopy(BASE)
    _at(data, path)[path[-1]] = value
    _outcome(data)


@given(path=st.sampled_from(PATHS), where=st.integers(0, 30), kind=st.sampled_from(["drop", "double", "swap", "case"]))
def test_a_misspelt_key_is_named(path, where, kind):
    data = copy.deepcopy(BASE)
    parent, key = _at(data, path), path[-1]
    i = where % len(key)
    typo = {"drop": key[:i] + key[i + 1:], "double": key[:i] + key[i] + key[i:],
            "swap": key[:i] + key[i + 1:i + 2] + key[i:i + 1] + key[i + 2:], "case": key[:i] + key[i:].upper()}[kind]
    if typo == key or typo in parent or not typo:
        return
    parent[typo] = parent.pop(key)
    config, error = _outcome(data)
    if path[:2] != ("intermediate", "tasks"):  # a task name typo is reported as an unknown task, below
        assert config is None and f"'{'.'.join((*path[:-1], typo))}'" in error, error
    else:
        assert config is None and (f"unknown task '{typo}'" in error or "no entry under intermediate.tasks" in error
                                   or f"'{'.'.join((*path[:-1], typo))}'" in error), error
