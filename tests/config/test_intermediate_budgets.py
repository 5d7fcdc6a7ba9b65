"""The intermediate budget as a grid axis (``intermediate.budget.per_task: [300, 1200]``)."""

from __future__ import annotations

import pytest

from study.config import expand_runs, run_budget, run_config, validate_params
from study.infra.errors import ParamsError
from study.intermediate.stage_cache import plan_stages, stage_ingredients
from tests.helpers import smoke_params

ENCODER = {"weights_sha256": "e"}


def budget(per_task) -> dict:
    return {"budget": {"unit": "steps", "per_task": per_task}}


def test_every_schedule_with_intermediate_tasks_runs_at_each_budget_and_none_once(tiny_params):
    config = tiny_params(seeds=[1], schedules=["none", "single:mnli", "joint+srl:mnli+squad_v1"],
                         intermediate=budget([2, 8]), srl={"train_sentences": [100, "all"]})
    ids = [r.run_id for r in expand_runs(config)]
    assert ids == ["none__n100__seed1", "single-mnli__n100__i2__seed1", "joint-srl-mnli-squad_v1__n100__i2__seed1",
                   "single-mnli__n100__i8__seed1", "joint-srl-mnli-squad_v1__n100__i8__seed1",
                   "none__seed1", "single-mnli__i2__seed1", "joint-srl-mnli-squad_v1__i2__seed1",
                   "single-mnli__i8__seed1", "joint-srl-mnli-squad_v1__i8__seed1"]
    budgets = {r.run_id: run_budget(config, r) for r in expand_runs(config)}
    assert budgets["none__seed1"] is None and budgets["single-mnli__i8__seed1"] == 8
    # each run computes with its own budget, a plain number, as a study without the axis would
    for run in expand_runs(config):
        per_task = run_config(config, run).intermediate.budget.per_task
        assert per_task == (budgets[run.run_id] or 2)


def test_a_run_keys_its_stages_as_a_study_with_that_one_budget_does(tiny_params):
    axis = tiny_params(schedules=["seq:mnli>squad_v1"], intermediate=budget([2, 8]))
    plain = {n: tiny_params(schedules=["seq:mnli>squad_v1"], intermediate=budget(n)) for n in (2, 8)}
    for run in expand_runs(axis):
        keys = [s.key for s in plan_stages(run_config(axis, run), run.schedule, run.seed, ENCODER, "d")]
        (same,) = [r for r in expand_runs(plain[run.intermediate_budget])]
        assert keys == [s.key for s in plan_stages(plain[run.intermediate_budget], same.schedule, same.seed,
                                                   ENCODER, "d")]
        assert [s.budget.per_task for s in plan_stages(run_config(axis, run), run.schedule, run.seed, ENCODER,
                                                       "d")] == [run.intermediate_budget] * 2
    short, long = expand_runs(axis)
    assert plan_stages(run_config(axis, short), short.schedule, 1, ENCODER, "d")[0].key != plan_stages(
        run_config(axis, long), long.schedule, 1, ENCODER, "d")[0].key
    with pytest.raises(ValueError, match="one intermediate budget"):
        stage_ingredients(axis, ("mnli",), None, 1, ENCODER, "d")  # the study's axis is not a stage's budget


def test_one_budget_keeps_the_run_ids_and_the_hash_and_a_list_of_one_is_that_budget(tiny_params):
    plain = tiny_params(intermediate=budget(2))
    assert tiny_params(intermediate=budget([2])).params_hash() == plain.params_hash()
    assert [r.run_id for r in expand_runs(plain)] == [r.run_id for r in expand_runs(tiny_params(
        intermediate=budget([2])))]
    assert all("__i" not in r.run_id for r in expand_runs(plain))
    assert tiny_params(intermediate=budget([2, 8])).params_hash() != plain.params_hash()


@pytest.mark.parametrize("bad, message", [([300, 300], "a budget is listed twice"),
                                          ([300, 0], "greater than 0"), ([], "at least 2")])
def test_bad_budgets_are_refused_naming_the_key(bad, message):
    with pytest.raises(ParamsError, match=r"intermediate\.budget\.per_task") as err:
        validate_params(smoke_params(intermediate=budget(bad)), source="p.yaml")
    assert message in str(err.value)
