"""English SRL training size as a grid axis (``srl.train_sentences``): runs, subsets, what is shared."""

from __future__ import annotations

import pytest

from study.config import expand_runs, largest_size, validate_params
from study.infra.errors import ParamsError
from study.intermediate.stage_cache import plan_stages
from study.target.srl.data import load_split, subsample_split
from tests.helpers import FIXTURE_BUNDLE, smoke_params

EN_DEV = FIXTURE_BUNDLE / "srl" / "en" / "dev.conllu"


def test_each_size_is_a_run_of_every_schedule_and_full_size_keeps_the_run_ids_from_before(tiny_params):
    config = tiny_params(seeds=[1, 2], schedules=["none", "single:mnli"], srl={"train_sentences": [100, "all"]})
    ids = [r.run_id for r in expand_runs(config)]
    assert ids == ["none__n100__seed1", "single-mnli__n100__seed1", "none__seed1", "single-mnli__seed1",
                   "none__n100__seed2", "single-mnli__n100__seed2", "none__seed2", "single-mnli__seed2"]
    assert {r.regime for r in expand_runs(config)} == {"100", "all"}
    assert largest_size(config) is None
    assert largest_size(tiny_params(srl={"train_sentences": [100, 300]})) == 300
    assert tiny_params(srl={"train_sentences": 100}).srl.train_sentences == [100]  # one size: a list of one


def test_the_axis_leaves_the_hash_of_a_study_without_it_and_changes_it_otherwise(tiny_params):
    plain = tiny_params()
    assert tiny_params(srl={"train_sentences": ["all"]}).params_hash() == plain.params_hash()
    assert tiny_params(srl={"train_sentences": [100, "all"]}).params_hash() != plain.params_hash()


@pytest.mark.parametrize("bad, message", [([100, 100], "a size is listed twice"), ([0], "not a target size"),
                                          (["al"], "'al' is not a target size"), ([], "at least 1")])
def test_bad_sizes_are_refused_naming_the_key(bad, message):
    with pytest.raises(ParamsError, match=r"srl\.train_sentences") as err:
        validate_params(smoke_params(srl={"train_sentences": bad}), source="p.yaml")
    assert message in str(err.value)


def test_intermediate_stages_are_shared_across_sizes(tiny_params):
    config = tiny_params(schedules=["seq:mnli>squad_v1"], srl={"train_sentences": [100, "all"]})
    small, full = expand_runs(config)
    keys = [[s.key for s in plan_stages(config, r.schedule, r.seed, {"weights_sha256": "e"}, "d")]
            for r in (small, full)]
    assert keys[0] == keys[1] and len(keys[0]) == 2


def test_pos_is_trained_once_per_encoder_at_the_largest_size(tiny_params):
    from study.orchestration.run import trains_pos

    config = tiny_params(schedules=["none", "joint+srl:mnli+squad_v1"], srl={"train_sentences": [100, "all"]})
    trained = {r.run_id for r in expand_runs(config) if trains_pos(config, r)}
    assert trained == {"none__seed1"}


def test_a_subset_is_drawn_per_seed_the_same_every_time_and_counted():
    split = load_split(EN_DEV, "en", "dev", "verbal_and_copula")
    assert len(split.sentence_ids) == 8
    one = subsample_split(split, 5, seed=1, scope="verbal_and_copula")
    assert one.sentence_ids == subsample_split(split, 5, seed=1, scope="verbal_and_copula").sentence_ids
    draws = {tuple(subsample_split(split, 5, seed=s, scope="verbal_and_copula").sentence_ids) for s in range(1, 9)}
    assert len(draws) > 1  # another seed, another subset
    assert one.sentence_ids == sorted(one.sentence_ids) and set(one.sentence_ids) <= set(split.sentence_ids)
    assert one.report.sentences == 5
    kept = {i: p for i, p in zip(split.sentence_ids, split.predicates, strict=True)}
    assert one.report.predicates_kept == sum(len(kept[i]) for i in one.sentence_ids)
    with pytest.raises(ValueError, match="more than the 8 sentences"):
        subsample_split(split, 9, seed=1, scope="verbal_and_copula")


def test_a_size_beyond_english_train_is_refused_before_any_run(tiny_params, tmp_path, data_root):
    from study.orchestration.run import check_target_sizes

    check_target_sizes(tiny_params(srl={"train_sentences": [400, "all"]}), data_root, tmp_path / "p.yaml")
    with pytest.raises(ParamsError, match=r"p\.yaml: srl\.train_sentences 401 is more than the 400 English train"):
        check_target_sizes(tiny_params(srl={"train_sentences": [401]}), data_root, tmp_path / "p.yaml")
