"""The analysis layer: provenance refusal, the default comparison family, generated summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from study.analysis.compare import check_provenance, default_family, run_level_table
from study.analysis.tables import answer, answer_table, written_summary
from study.config import load_params
from study.infra.errors import StudyError
from tests.helpers import REPO


def frame(code_versions):
    return pd.DataFrame({"run": [f"r{i}" for i in range(len(code_versions))], "code_version": code_versions,
                         "params_hash": "p", "data_sha256sums": "d", "encoder_sha256": "e"})


def test_runs_with_different_code_are_not_compared_unless_allowed():
    with pytest.raises(StudyError, match="runs differ in code_version"):
        check_provenance(frame(["abc123", "def456"]))
    table = check_provenance(frame(["abc123", "def456"]), allow_mixed=True)
    assert len(table) == 2 and set(table["runs"]) == {"r0", "r1"}
    assert len(check_provenance(frame(["abc123", "abc123"]))) == 1


def test_default_family_selects_best_single_on_english_dev():
    config = load_params(REPO / "reports" / "published" / "default-v1" / "params.yaml")  # six schedules, two singles
    dev = pd.DataFrame({"schedule": ["single:mnli", "single:squad_v1"] * 3, "value": [0.70, 0.72] * 3})
    family = default_family(config, dev)
    assert ("joint:mnli+squad_v1", "seq:mnli>squad_v1", "joint vs sequential") in family
    assert ("joint:mnli+squad_v1", "seq:squad_v1>mnli", "joint vs sequential") in family
    assert ("single:mnli", "none", "vs no intermediate task") in family
    best = [b for a, b, why in family if why.startswith("vs best single")]
    assert set(best) == {"single:squad_v1"} and len(best) == 3


def synthetic_scores(a_runs: np.ndarray, b_runs: np.ndarray, sets: tuple[str, ...] = ("de", "fr", "zh")
                     ) -> pd.DataFrame:
    """A results-shaped SRL table: every run scores every set at its AVG plus a fixed per-set offset."""
    rows = []
    for schedule, values in (("joint:mnli+squad_v1", a_runs), ("seq:mnli>squad_v1", b_runs)):
        for seed, v in enumerate(values, start=1):
            for k, lang in enumerate(sets):
                rows.append({"run": f"{schedule}-{seed}", "schedule": schedule, "seed": seed, "language": lang,
                             "split": "test", "value": (v + 2 * (k - 1)) / 100})
    return pd.DataFrame(rows)


PAIR = ("joint:mnli+squad_v1", "seq:mnli>squad_v1")


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7), st.integers(2, 7), st.floats(-3, 3), st.floats(0.01, 2), st.integers(0, 10**6))
def test_the_answer_never_claims_a_direction_its_interval_does_not_support(n_a, n_b, delta, sd, seed):
    rng = np.random.default_rng(seed)
    scores = synthetic_scores(55 + delta + sd * rng.standard_normal(n_a), 55 + sd * rng.standard_normal(n_b))
    table = run_level_table(scores, [(*PAIR, "joint vs sequential")], PAIR, n_boot=100)
    row = table[(table.role == "primary")].iloc[0]
    text = answer(table)
    claims = " is higher" in text or " is lower" in text
    assert claims == bool(row.significant)
    if row.ci_low <= 0 <= row.ci_high or row.p_permutation > 0.05:
        assert not claims and "Inconclusive" in text
    assert "F1 points" in text and f"{row.n_a} + {row.n_b} runs" in text


def test_three_runs_a_side_give_an_inconclusive_answer_that_names_the_floor():
    scores = synthetic_scores(np.array([56.0, 56.1, 56.2]), np.array([50.0, 50.1, 50.2]))
    table = run_level_table(scores, [], PAIR)
    text = answer(table)
    assert "Inconclusive" in text and "smallest p this design can give is 0.1" in text
    assert answer_table(table).loc[0, "verdict"] == "no difference detected"


def test_a_clear_difference_over_enough_runs_is_stated_with_its_direction():
    rng = np.random.default_rng(4)
    scores = synthetic_scores(54 + 0.2 * rng.standard_normal(6), 55 + 0.2 * rng.standard_normal(6))
    text = answer(run_level_table(scores, [], PAIR))
    assert f"**{PAIR[0]} is lower**" in text


def test_set_level_summary_is_labelled_descriptive_and_claims_no_direction():
    across = pd.DataFrame([{"a": "joint:x+y", "b": "seq:x>y", "comparison": "joint vs sequential", "n_languages": 15,
                            "mean_delta": -0.012, "p_value": 0.01, "p_holm": 0.03, "rank_biserial": -0.8,
                            "significant": True, "languages_significant_holm": 4}])
    text = written_summary(across, pd.DataFrame(), 3)
    assert text.startswith("Descriptive, not the inference")
    assert "-1.20 F1 points" in text
    assert not any(word in text for word in (" lower", " higher", " better", " worse", "significant difference"))


def test_runs_are_the_unit_per_set_rows_are_holm_corrected_within_their_pair():
    rng = np.random.default_rng(5)
    scores = synthetic_scores(55 + rng.standard_normal(4), 55 + rng.standard_normal(4))
    table = run_level_table(scores, [(*PAIR, "joint vs sequential")], PAIR)
    avg = table[table.target == "AVG"].iloc[0]
    assert avg.n_a == 4 and avg.relabellings == 70 and avg.adjustment.startswith("none (primary")
    sets = table[table.target != "AVG"]
    assert set(sets.target) == {"de", "fr", "zh"} and (sets.p_adjusted >= sets.p_permutation).all()
def test_default_family_compares_joint_srl_with_both_other_schedules_over_its_tasks():
    data = load_params(REPO / "params" / "smoke.yaml").model_dump(mode="json")
    data["schedules"] = ["none", "seq:mnli>squad_v1", "joint:mnli+squad_v1", "joint+srl:mnli+squad_v1",
                         "joint+srl:mnli"]
    from study.config import validate_params

    family = default_family(validate_params(data), pd.DataFrame())
    assert ("joint+srl:mnli+squad_v1", "seq:mnli>squad_v1", "joint+srl vs sequential") in family
    assert ("joint+srl:mnli+squad_v1", "joint:mnli+squad_v1", "joint+srl vs joint") in family
    assert not [p for p in family if p[0] == "joint+srl:mnli" and p[1] != "none"]  # no schedule over {mnli} alone


def _study_with_predictions(tmp_path, data_root):
    """Two runs scored on the real German and French test files: one perfect, one missing arguments."""
    from dataclasses import replace

    from study.target.srl.conllu import read_srl_file, write_srl_file
    from study.target.srl.data import srl_path

    for lang in ("de", "fr"):
        gold = read_srl_file(srl_path(data_root, lang, "test"))
        perfect = tmp_path / "runs" / "perfect" / "predictions"
        write_srl_file(gold, perfect / f"{lang}-test.conllu")
        # the worse run loses the arguments of every predicate in its first 20 sentences
        worse = [[replace(p, arguments=()) if i < 20 else p for p in s.predicates]
                 for i, s in enumerate(gold.sentences)]
        write_srl_file(gold, tmp_path / "runs" / "worse" / "predictions" / f"{lang}-test.conllu", worse)
    return tmp_path


def test_prediction_counts_are_recomputed_from_files_the_same_with_any_number_of_workers(tmp_path, data_root):
    from study.analysis.prediction_counts import prediction_counts
    from study.target.srl.data import load_split, srl_path

    study = _study_with_predictions(tmp_path, data_root)
    wanted = {("de", "test"): ["perfect", "worse"], ("fr", "test"): ["perfect", "worse"]}
    one = prediction_counts(study, data_root, wanted, "verbal_and_copula", workers=1)
    two = prediction_counts(study, data_root, wanted, "verbal_and_copula", workers=2)
    assert one.keys() == two.keys() and len(one) == 4
    for key in one:
        assert np.array_equal(one[key], two[key])
    for lang in ("de", "fr"):
        gold = load_split(srl_path(data_root, lang, "test"), lang, "test", "verbal_and_copula")
        perfect, worse = one[("perfect", lang, "test")], one[("worse", lang, "test")]
        assert perfect.shape == (len(gold.sentence_ids), 3)
        assert np.array_equal(perfect[:, 0], perfect[:, 2]) and np.array_equal(perfect[:, 1], perfect[:, 2])
        # exactly the in-scope gold arguments of the emptied sentences are lost, nothing else
        emptied = [k for k, i in enumerate(gold.sentence_ids) if i < 20]
        lost = sum(1 for k in emptied for p in gold.predicates[k] for a in p.arguments if not a.malformed)
        assert perfect[:, 0].sum() - worse[:, 0].sum() == lost > 0
        assert np.array_equal(worse[:, 2], perfect[:, 2])


def test_a_missing_prediction_file_is_named_even_from_a_worker(tmp_path, data_root):
    from study.analysis.prediction_counts import prediction_counts

    study = _study_with_predictions(tmp_path, data_root)
    (study / "runs" / "worse" / "predictions" / "fr-test.conllu").unlink()
    wanted = {("de", "test"): ["perfect", "worse"], ("fr", "test"): ["perfect", "worse"]}
    with pytest.raises(StudyError, match=r"worse/predictions/fr-test.conllu: prediction file missing"):
        prediction_counts(study, data_root, wanted, "verbal_and_copula", workers=2)


def test_parallel_counts_work_from_a_script_without_a_main_guard(tmp_path, data_root):
    """multiprocessing children re-import the caller's script; the fresh worker interpreters must not."""
    import subprocess
    import sys

    study = _study_with_predictions(tmp_path, data_root)
    script = tmp_path / "quick_look.py"
    script.write_text(
        "from study.analysis.prediction_counts import prediction_counts\n"
        f"counts = prediction_counts({str(study)!r}, {str(data_root)!r}, "
        "{('de', 'test'): ['perfect'], ('fr', 'test'): ['worse']}, 'verbal_and_copula', workers=2)\n"
        "print(sorted(counts))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[('perfect', 'de', 'test'), ('worse', 'fr', 'test')]"


def sized_scores(by_size: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """:func:`synthetic_scores` at several target sizes (results' ``train_sentences`` column)."""
    frames = []
    for size, (a_runs, b_runs) in by_size.items():
        part = synthetic_scores(a_runs, b_runs).assign(train_sentences=size)
        frames.append(part.assign(run=part.run + f"-n{size}"))
    return pd.concat(frames, ignore_index=True)


def test_each_target_size_gets_its_primary_test_and_the_interaction_is_the_difference_of_deltas():
    from study.analysis.compare import interaction_table
    from study.analysis.tables import hypotheses

    rng = np.random.default_rng(7)
    noise = lambda: 0.2 * rng.standard_normal(6)  # noqa: E731
    scores = sized_scores({"1000": (57 + noise(), 55 + noise()), "all": (55 + noise(), 55 + noise())})
    table = run_level_table(scores, [(*PAIR, "joint vs sequential")], PAIR, n_boot=200)
    primaries = table[table.role == "primary"].set_index("regime")
    assert set(primaries.index) == {"1000", "all"}
    assert (primaries.adjustment == "none (primary, declared)").all()
    assert primaries.loc["1000", "significant"] and primaries.loc["1000", "delta"] > 1.5
    interactions = interaction_table(scores, [PAIR])
    row = interactions.iloc[0]
    assert (row.small, row.large) == ("1000", "all")
    assert row.interaction == pytest.approx(primaries.loc["1000", "delta"] - primaries.loc["all", "delta"])
    assert row.ci_low > 0
    text = answer(table, interactions=interactions)
    assert "With 1,000 English SRL train sentences: " in text and "With all English SRL train sentences: " in text
    assert f"**{PAIR[0]} is higher**" in text and "grows with less English data" in text
    assert list(answer_table(table)["English SRL train"]) == ["1,000", "all"]
    verdicts = hypotheses(table, interactions).set_index("claim")["verdict"]
    assert verdicts[f"{PAIR[0]} > {PAIR[1]} at 1,000 English SRL train sentences"] == "held"
    assert verdicts[f"{PAIR[0]} < {PAIR[1]} at all English SRL train sentences"] == "inconclusive"
    assert verdicts[f"{PAIR[0]} = {PAIR[1]} at 1,000 English SRL train sentences"] == "rejected"


def test_a_partial_study_states_the_interaction_estimate_and_does_not_call_it_no_change():
    from study.analysis.compare import interaction_table

    # one run per schedule and size, as a study reports after its first seed
    scores = sized_scores({"1000": (np.array([51.1]), np.array([50.7])), "all": (np.array([54.9]), np.array([54.8]))})
    (row,) = interaction_table(scores, [PAIR]).itertuples()
    assert row.interaction == pytest.approx(0.3) and np.isnan(row.ci_low) and np.isnan(row.p_welch)
    table = run_level_table(scores, [(*PAIR, "joint vs sequential")], PAIR, n_boot=50)
    text = answer(table, interactions=interaction_table(scores, [PAIR]))
    assert "minus delta at all English SRL train sentences: +0.30 F1 points (CI needs 2" in text
    assert "nan" not in text and "No change" not in text and "Not testable yet" in text


def test_a_study_without_the_axis_is_analysed_as_before():
    rng = np.random.default_rng(5)
    runs = (55 + rng.standard_normal(4), 55 + rng.standard_normal(4))
    before = run_level_table(synthetic_scores(*runs), [(*PAIR, "joint vs sequential")], PAIR)
    after = run_level_table(sized_scores({"all": runs}), [(*PAIR, "joint vs sequential")], PAIR)
    cols = ["target", "delta", "ci_low", "ci_high", "p_permutation", "p_adjusted", "hier_ci_low", "hier_ci_high"]
    pd.testing.assert_frame_equal(before[cols], after[cols])
    assert "With " not in answer(before)


def test_intermediate_strength_is_each_stage_s_dev_score_over_runs():
    from study.analysis.tables import intermediate_strength

    rows = [{"run": f"r{seed}", "schedule": "seq:mnli>squad_v1", "seed": seed, "task": "intermediate",
             "language": "en", "split": "dev", "metric": f"dev_{task}", "label": label, "value": value}
            for seed, (m, q) in enumerate([(0.60, 0.30), (0.64, 0.34)], start=1)
            for task, label, value in (("mnli", "stage 1 of 2: mnli (300 steps of mnli)", m),
                                       ("squad_v1", "stage 2 of 2: squad_v1 (300 steps of squad_v1)", q))]
    rows.append({"run": "r1", "schedule": "none", "seed": 1, "task": "srl", "language": "en", "split": "dev",
                 "metric": "head_f1", "label": "", "value": 0.75})
    table = intermediate_strength(pd.DataFrame(rows))
    assert list(table.task) == ["mnli", "squad_v1"] and list(table["dev score"]) == [62.0, 32.0]
    assert list(table.stages) == [2, 2] and table.stage.iloc[1] == "stage 2 of 2: squad_v1"
    assert list(table.steps) == ["300", "300"]
    assert intermediate_strength(pd.DataFrame(rows[-1:])).empty  # runs from before it was recorded


def test_a_stage_shared_by_both_target_sizes_counts_once_and_a_joint_stage_s_steps_are_a_range():
    from study.analysis.tables import intermediate_strength, strength_label

    # seed 1 and 2 each train one joint stage, reused by the 1,000-sentence and the full run;
    # the sampler gave mnli 296 and 312 of its 600 steps
    rows = [{"run": f"joint-{size}-{seed}", "schedule": "joint:mnli+squad_v1", "seed": seed,
             "train_sentences": size, "intermediate_budget": 300, "task": "intermediate", "language": "en",
             "split": "dev", "metric": f"dev_{task}", "value": value,
             "label": f"stage 1 of 1: mnli+squad_v1 ({steps} steps of {task})"}
            for size in ("1000", "all")
            for seed, task, steps, value in ((1, "mnli", 296, 0.625), (1, "squad_v1", 304, 0.388),
                                             (2, "mnli", 312, 0.655), (2, "squad_v1", 288, 0.388))]
    table = intermediate_strength(pd.DataFrame(rows))
    assert list(table.task) == ["mnli", "squad_v1"] and list(table.stages) == [2, 2]
    assert list(table.steps) == ["296-312", "288-304"] and list(table["dev score"]) == [64.0, 38.8]
    assert table.sd.iloc[0] == pytest.approx(2.1) and table.sd.iloc[1] == 0.0
    assert "intermediate budget" not in table  # one budget: not an axis
    assert strength_label(table, "joint:mnli+squad_v1") == "mnli 64.0, squad_v1 38.8"


def test_with_an_intermediate_budget_axis_each_effect_shows_the_stages_of_its_own_budget():
    from study.analysis.tables import intermediate_strength

    rows = [{"run": f"seq-{budget}-{seed}", "schedule": "seq:mnli>squad_v1", "seed": seed,
             "intermediate_budget": budget, "task": "intermediate", "language": "en", "split": "dev",
             "metric": "dev_mnli", "label": f"stage 1 of 2: mnli ({budget} steps of mnli)",
             "value": value + seed / 100}
            for budget, value in ((300, 0.55), (1200, 0.70)) for seed in range(1, 6)]
    strength = intermediate_strength(pd.DataFrame(rows))
    assert list(strength["intermediate budget"]) == ["300", "1,200"] and list(strength.stages) == [5, 5]
    rng = np.random.default_rng(3)
    none = 55 + 0.2 * rng.standard_normal(5)
    scores = budget_scores({"300": 55 + 0.2 * rng.standard_normal(5), "1200": 57 + 0.2 * rng.standard_normal(5)},
                           none)
    pair = ("seq:mnli>squad_v1", "none")
    from study.analysis.compare import with_regimes

    table = run_level_table(with_regimes(scores), [(*pair, "vs no intermediate task")], pair, n_boot=50)
    shown = answer_table(table, strength)
    assert list(shown["intermediate A (en dev)"]) == ["mnli 58.0", "mnli 73.0"]
    assert list(shown["intermediate B (en dev)"]) == ["none", "none"]


def budget_scores(seq_by_budget: dict[str, np.ndarray], none_runs: np.ndarray) -> pd.DataFrame:
    """A results-shaped table of a study whose intermediate budget is an axis: seq at each budget, none once."""
    frames = [synthetic_scores(none_runs, none_runs).query("schedule == 'joint:mnli+squad_v1'")
              .assign(schedule="none", run=lambda f: "none-" + f.seed.astype(str), intermediate_budget="")]
    for budget, values in seq_by_budget.items():
        part = synthetic_scores(values, values).query("schedule == 'seq:mnli>squad_v1'")
        frames.append(part.assign(run=part.run + f"-i{budget}", intermediate_budget=budget))
    return pd.concat(frames, ignore_index=True).assign(train_sentences="all")


def test_each_budget_is_a_regime_with_none_as_its_shared_comparator_and_the_budget_effect_is_an_interaction():
    from study.analysis.compare import interaction_table, regimes, with_regimes
    from study.analysis.tables import hypotheses

    rng = np.random.default_rng(3)
    noise = lambda: 0.2 * rng.standard_normal(5)  # noqa: E731
    none = 55 + noise()
    scores = with_regimes(budget_scores({"300": 55 + noise(), "1200": 57 + noise()}, none))
    assert regimes(scores) == ["all@300", "all@1200"]  # by budget as a number, not as text
    # the none runs are not trained per budget: the same five runs are the comparator of both
    for regime in ("all@300", "all@1200"):
        at = scores[(scores.regime == regime) & (scores.schedule == "none")]
        assert sorted(set(at.run)) == [f"none-{s}" for s in range(1, 6)]
    pair = ("seq:mnli>squad_v1", "none")
    table = run_level_table(scores, [(*pair, "vs no intermediate task")], pair, n_boot=200)
    primaries = table[table.role == "primary"].set_index("regime")
    assert list(primaries.n_b) == [5, 5] and not primaries.loc["all@300", "significant"]
    assert primaries.loc["all@1200", "significant"] and primaries.loc["all@1200", "delta"] > 1.5
    interactions = interaction_table(scores, [pair])
    (row,) = interactions.itertuples()
    assert (row.factor, row.small, row.large) == ("intermediate budget", "all@300", "all@1200")
    assert row.interaction == pytest.approx(primaries.loc["all@300", "delta"] - primaries.loc["all@1200", "delta"])
    text = answer(table, interactions=interactions)
    assert "With all English SRL train sentences, intermediate budget 1,200 per task: " in text
    assert "Does it depend on intermediate budget?" in text and "shrinks with a smaller intermediate budget" in text
    shown = answer_table(table)
    assert list(shown["intermediate budget"]) == ["300", "1,200"] and list(shown["English SRL train"]) == ["all"] * 2
    assert hypotheses(table, interactions).query("hypothesis.str.startswith('H2')").empty  # H2 is about size


def test_a_grid_of_sizes_and_budgets_contrasts_each_factor_at_every_level_of_the_other():
    from study.analysis.compare import regime_contrasts

    keys = ["all@1200", "1000@300", "all@300", "1000@1200"]
    assert regime_contrasts(keys) == [("target size", "1000@300", "all@300"), ("target size", "1000@1200", "all@1200"),
                                      ("intermediate budget", "1000@300", "1000@1200"),
                                      ("intermediate budget", "all@300", "all@1200")]
    assert regime_contrasts(["1000", "all"]) == [("target size", "1000", "all")]
    assert regime_contrasts(["all"]) == []


def test_a_flat_table_shows_no_row_numbers_and_numbers_without_padding():
    from study.analysis.tables import flat

    frame = pd.DataFrame({"stage": ["mnli", "squad_v1"], "steps_mnli": [300.0, np.nan], "dev": [0.5634, 0.38]})
    shown = flat(frame).to_html()
    assert "row_heading" not in shown and ">0<" not in shown
    assert ">300<" in shown and ">0.5634<" in shown and "nan" not in shown and "300.000000" not in shown


def test_each_effect_in_the_answer_table_stands_next_to_both_sides_intermediate_dev_scores():
    from study.analysis.tables import intermediate_strength

    rng = np.random.default_rng(2)
    table = run_level_table(synthetic_scores(55 + rng.standard_normal(4), 55 + rng.standard_normal(4)),
                            [(*PAIR, "joint vs sequential")], PAIR, n_boot=50)
    rows = [{"run": f"{schedule}-{seed}", "schedule": schedule, "seed": seed, "task": "intermediate",
             "language": "en", "split": "dev", "metric": f"dev_{task}", "label": label, "value": value + seed / 100}
            for seed in (1, 2) for schedule, task, label, value in (
                ("joint:mnli+squad_v1", "mnli", "stage 1 of 1: mnli+squad_v1", 0.62),
                ("joint:mnli+squad_v1", "squad_v1", "stage 1 of 1: mnli+squad_v1", 0.38),
                ("seq:mnli>squad_v1", "mnli", "stage 1 of 2: mnli", 0.56),
                ("seq:mnli>squad_v1", "squad_v1", "stage 2 of 2: squad_v1", 0.35))]
    shown = answer_table(table, intermediate_strength(pd.DataFrame(rows)))
    assert shown.loc[0, "intermediate A (en dev)"] == "mnli 63.5, squad_v1 39.5"
    assert shown.loc[0, "intermediate B (en dev)"] == "mnli 57.5, squad_v1 36.5"
    assert "intermediate A (en dev)" not in answer_table(table)  # without the scores, as before
