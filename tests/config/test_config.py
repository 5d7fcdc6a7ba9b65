"""Params validation: every shipped file is valid; every kind of mistake gets a precise message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from study.config import expand_runs, load_params, validate_params
from study.config.schedules import ScheduleError, parse_schedule
from study.data.languages import resolve_languages
from study.infra.errors import ParamsError
from tests.helpers import REPO

PARAMS = sorted((REPO / "params").glob("*.yaml"))


def smoke_dict() -> dict:
    return yaml.safe_load((REPO / "params" / "smoke.yaml").read_text())


@pytest.mark.parametrize("path", PARAMS, ids=[p.stem for p in PARAMS])
def test_shipped_params_validate(path: Path):
    assert expand_runs(load_params(path))


@pytest.mark.parametrize("path", PARAMS, ids=[p.stem for p in PARAMS])
def test_shipped_params_name_languages_the_bundle_has(path: Path, data_root):
    config = load_params(path)
    if config.intermediate.source == "bundle":
        resolve_languages(config, data_root, str(path))


def test_default_grid_is_the_designed_one():
    config = load_params(REPO / "params" / "default.yaml")
    runs = expand_runs(config)
    assert len(runs) == 3 * 4 * 2
    assert {r.schedule.text for r in runs} == {"none", "seq:mnli>squad_v1", "joint:mnli+squad_v1"}
    assert {r.regime for r in runs} == {"1000", "all"} and not config.pos.enabled
    assert tuple(config.analysis.primary) == ("joint:mnli+squad_v1", "seq:mnli>squad_v1")
    assert len({r.run_id for r in runs}) == len(runs)
    # seed-major: a grid stopped after its first 6 runs holds every schedule at both sizes once
    assert {r.seed for r in runs[:6]} == {1} and len({(r.schedule.text, r.regime) for r in runs[:6]}) == 6


def test_params_hash_is_stable_and_sensitive():
    a = validate_params(smoke_dict())
    b = validate_params(smoke_dict())
    assert a.params_hash() == b.params_hash()
    changed = smoke_dict()
    changed["srl"]["budget"]["per_task"] = 7
    assert validate_params(changed).params_hash() != a.params_hash()
    # defaults written out explicitly give the same hash as leaving them implicit
    explicit = smoke_dict()
    explicit["runtime"] = {"device": "auto"}
    assert validate_params(explicit).params_hash() == a.params_hash()


def test_analysis_settings_do_not_change_what_runs_are_made_with():
    """A finished study can be re-analysed with other test settings without retraining every run."""
    base = validate_params(smoke_dict())
    other = smoke_dict()
    other["analysis"] = {"alpha": 0.01, "aso_iterations": 50}
    other["description"] = "same runs, stricter tests"
    changed = validate_params(other)
    assert changed.params_hash() == base.params_hash()
    assert changed.full_hash() != base.full_hash()  # a saved copy of the params still tells them apart


def error_for(change: dict) -> str:
    data = smoke_dict()

    def merge(base, extra):
        for k, v in extra.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                merge(base[k], v)
            else:
                base[k] = v

    merge(data, change)
    with pytest.raises(ParamsError) as info:
        validate_params(data, source="params/x.yaml")
    msg = str(info.value)
    assert msg.startswith("params/x.yaml: ")
    return msg


def test_typo_in_a_key_names_it_and_suggests():
    msg = error_for({"srl": {"formulaton": "heads"}})
    assert "unknown key 'srl.formulaton'" in msg and "did you mean 'formulation'" in msg
    assert "predicate_scope" in msg  # lists the allowed keys


def test_wrong_type_names_key_and_value():
    msg = error_for({"seeds": "1,2"})
    assert "key 'seeds'" in msg and "'1,2'" in msg


def test_unknown_schedule_lists_forms():
    msg = error_for({"schedules": ["none", "sequential:mnli>squad_v1"]})
    assert "'sequential:mnli>squad_v1' is not a schedule" in msg and "joint:A+B" in msg


def test_unknown_task_in_schedule_lists_tasks():
    msg = error_for({"schedules": ["single:mlni"]})
    assert "unknown task 'mlni'" in msg and "mnli" in msg and "squad_v1" in msg


def test_unknown_task_key_suggests():
    msg = error_for({"intermediate": {"tasks": {"squad1": {}}}})
    assert "unknown task 'squad1'" in msg and "did you mean 'squad_v1'" in msg


def test_schedule_task_without_config_is_explained():
    msg = error_for({"schedules": ["single:rte"]})
    assert "rte" in msg and "intermediate.tasks" in msg


@pytest.mark.parametrize("change,key", [
    ({"intermediate": {"budget": {"per_task": -10}}}, "intermediate.budget.per_task"),
    ({"srl": {"budget": {"per_task": 0}}}, "srl.budget.per_task"),
    ({"srl": {"optim": {"batch_size": -1}}}, "srl.optim.batch_size"),
])
def test_non_positive_budgets_are_refused(change, key):
    msg = error_for(change)
    assert f"key '{key}'" in msg and "greater than 0" in msg


def test_bad_enum_value_lists_allowed():
    msg = error_for({"srl": {"formulation": "span"}})
    assert "'heads' or 'spans'" in msg and "'span'" in msg


def test_bad_language_code_is_refused():
    assert "'German' is not a language code" in error_for({"srl": {"languages": ["German"]}})


def test_unknown_language_lists_the_bundle_languages(data_root):
    data = smoke_dict()
    data["srl"]["languages"] = ["de", "xx"]
    config = validate_params(data)
    with pytest.raises(ParamsError, match=r"unknown language 'xx'.*cs, de, es"):
        resolve_languages(config, data_root, "params/x.yaml")


def test_exponent_floats_without_dot_are_numbers():
    data = smoke_dict()
    data["srl"]["optim"]["lr"] = "3e-5"  # how PyYAML reads `lr: 3e-5`
    assert validate_params(data).srl.optim.lr == pytest.approx(3e-5)


def test_yaml_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("study_name: x\nseeds: [1\nschedules: [none]\n")
    with pytest.raises(ParamsError, match=r"bad.yaml:\d+:\d+: invalid YAML"):
        load_params(bad)
    dup = tmp_path / "dup.yaml"
    dup.write_text("study_name: x\nseeds: [1]\nschedules: [none]\nseeds: [2]\n")
    with pytest.raises(ParamsError, match=r"dup.yaml:4:1: invalid YAML: duplicate key 'seeds' \(first on line 2\)"):
        load_params(dup)
    with pytest.raises(ParamsError, match="params file not found"):
        load_params(tmp_path / "missing.yaml")


@pytest.mark.parametrize("text,kind,tasks", [
    ("none", "none", ()),
    ("single:mnli", "single", ("mnli",)),
    ("seq:mnli>squad_v1>hellaswag", "seq", ("mnli", "squad_v1", "hellaswag")),
    ("joint:mnli+squad_v1", "joint", ("mnli", "squad_v1")),
    ("joint+srl:mnli", "joint+srl", ("mnli",)),
])
def test_schedule_forms_parse(text, kind, tasks):
    s = parse_schedule(text)
    assert (s.kind, s.tasks, s.text) == (kind, tasks, text)


@pytest.mark.parametrize("text", ["seq:mnli", "joint:mnli", "single:mnli+qqp", "seq:mnli>mnli", "joint:", "mnli"])
def test_malformed_schedules_fail(text):
    with pytest.raises(ScheduleError):
        parse_schedule(text)


def test_stages_of_schedules():
    assert parse_schedule("seq:mnli>squad_v1").stages == (("mnli",), ("squad_v1",))
    assert parse_schedule("joint:mnli+squad_v1").stages == (("mnli", "squad_v1"),)
    assert parse_schedule("none").stages == ()


def test_declared_comparisons_must_name_schedules_of_the_study():
    msg = error_for({"analysis": {"comparisons": [["joint:mnli+squad_v1", "seq:squad_v1>mnli"]]}})
    assert "'seq:squad_v1>mnli', which is not among the schedules" in msg
    data = smoke_dict()
    data["analysis"]["comparisons"] = [["joint:mnli+squad_v1", "seq:mnli>squad_v1"]]
    assert validate_params(data).analysis.comparisons == [["joint:mnli+squad_v1", "seq:mnli>squad_v1"]]


def test_a_params_file_injected_by_papermill_f_is_opened_like_the_file(tmp_path, monkeypatch):
    from study.orchestration.notebook_params import params_from_notebook

    monkeypatch.setenv("STUDY_CACHE", str(tmp_path))
    assert params_from_notebook("params/default.yaml", {"run_id": "x", "data_root": None}) == \
        Path("params/default.yaml")  # nothing injected: the parameter itself
    injected = {**yaml.safe_load((REPO / "params" / "smoke.yaml").read_text()), "run_id": "none__seed1"}
    path = params_from_notebook("params/default.yaml", injected)
    assert load_params(path).params_hash() == load_params(REPO / "params" / "smoke.yaml").params_hash()
    assert params_from_notebook("params/default.yaml", injected) == path  # same content, same file
    injected["srl"] = {**injected["srl"], "formulaton": "heads"}
    with pytest.raises(ParamsError, match=r"papermill -f.*srl\.formulaton"):
        params_from_notebook("params/default.yaml", injected)


def test_options_at_their_hash_neutral_values_keep_the_hash_from_before_the_options_existed():
    from study.config import HASH_NEUTRAL, NOT_IN_RUN_HASH
    from study.infra.hashing import stable_hash

    smoke = load_params(REPO / "params" / "smoke.yaml")  # the code defaults: fused AdamW, deterministic kernels
    assert (smoke.runtime.optimizer, smoke.runtime.deterministic) == ("fused", True)
    data = smoke_dict()
    for (section, key), neutral in HASH_NEUTRAL.items():
        data.setdefault(section, {})[key] = neutral
    legacy = validate_params(data)
    dump = legacy.model_dump(mode="json", exclude=set(NOT_IN_RUN_HASH))
    for section, key in HASH_NEUTRAL:
        del dump[section][key]  # the resolved config as it was before these options existed
    assert legacy.params_hash() == stable_hash(dump)
    # settings whose neutral value is also the code default, and one other value of each
    other_values = {("srl", "train_sentences"): [100, "all"], ("encoder", "attention_dropout"): 0.0}
    for (section, key), neutral in HASH_NEUTRAL.items():
        other = other_values.get((section, key), getattr(getattr(smoke, section), key))
        assert other != neutral
        changed = {**data, section: {**data[section], key: other}}
        assert validate_params(changed).params_hash() != legacy.params_hash(), (section, key)


def test_the_published_study_pins_the_runtime_its_runs_used_and_v2_the_code_defaults():
    published = load_params(REPO / "reports" / "published" / "default-v1" / "params.yaml")
    assert published.schedules[0] == "none" and len(published.schedules) == 6
    default = load_params(REPO / "params" / "default.yaml")
    # v2 runs repeat to the bit even on a shared machine (deterministic kernels), with fused AdamW
    assert default.runtime.optimizer == "fused" and default.runtime.deterministic


def test_every_params_key_is_documented_in_the_schema():
    from study.config.explain import field_lines

    rows = field_lines()
    undocumented = [key for key, _, _, text in rows if not text]
    assert not undocumented
    keys = {key for key, *_ in rows}
    assert {"srl.word_pooling", "runtime.deterministic", "intermediate.tasks.<task>.dev_fraction"} <= keys


def test_params_explain_prints_a_section_with_its_own_defaults():
    from tests.helpers import study

    out = study("params", "explain", "srl.optim")
    assert out.returncode == 0, out.stderr
    assert "srl.optim.batch_size: int = 32" in out.stdout  # SrlConfig's default, not Optimisation's 16
    assert "srl.word_pooling" not in out.stdout
    bad = study("params", "explain", "srl.wordpooling")
    assert bad.returncode == 2 and bad.stderr.startswith("study: error: no params key 'srl.wordpooling'")


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e400"])
@pytest.mark.parametrize("key", ["lr", "head_lr", "grad_clip", "weight_decay"])
def test_non_finite_numbers_are_refused_with_their_key(key, value, tmp_path):
    text = (REPO / "params" / "smoke.yaml").read_text().replace(
        "optim: {lr: 5.0e-5, head_lr: 1.0e-3, batch_size: 4, max_length: 64}",
        "optim: {lr: 5.0e-5, head_lr: 1.0e-3, batch_size: 4, max_length: 64, " + f"{key}: {value}" + "}"
        if key not in ("lr", "head_lr") else
        "optim: {" + ("lr: " + value + ", head_lr: 1.0e-3" if key == "lr" else "lr: 5.0e-5, head_lr: " + value)
        + ", batch_size: 4, max_length: 64}")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ParamsError, match=rf"key 'intermediate\.optim\.{key}'"):
        load_params(path)


def test_seeds_beyond_what_the_generators_take_are_refused():
    with pytest.raises(ParamsError, match="seeds must be between 0 and 2147483647"):
        validate_params({**smoke_dict(), "seeds": [1, 10**20]})


@pytest.mark.parametrize("char", ["\x85", "\r", "\n", "\u2028"])
def test_a_key_with_a_line_break_in_it_still_gives_one_line(char):
    with pytest.raises(ParamsError) as info:
        validate_params({**smoke_dict(), "intermediate": {f"bad{char}key": 0}}, source="p.yaml")
    assert len(str(info.value).splitlines()) == 1 and "unknown key 'intermediate.bad" in str(info.value)


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_resolves_on_load_into_the_params_hash(tiny_params, monkeypatch, native):
    # resolved when loading, so the hash (run keys, stage keys, the stale-study check) names the
    # precision actually used: a study resumed on a CPU that resolves differently is refused, not mixed
    from study.infra import hardware

    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: native)
    monkeypatch.setattr(hardware, "cuda_available", lambda: False)
    auto = tiny_params(runtime={"mixed_precision": "auto"})
    expected = "bf16" if native else "no"
    assert auto.runtime.mixed_precision == expected
    assert auto.params_hash() == tiny_params(runtime={"mixed_precision": expected}).params_hash()
    other = "no" if native else "bf16"
    assert auto.params_hash() != tiny_params(runtime={"mixed_precision": other}).params_hash()
