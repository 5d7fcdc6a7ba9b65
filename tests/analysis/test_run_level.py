"""Run-level inference: simulated studies check size, power and coverage; scipy and statsmodels check the numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from study.analysis.run_level import (
    hierarchical_bootstrap,
    interaction_interval,
    label_permutation_p,
    permutation_power,
    pooled_sd,
    run_level_test,
    runs_needed,
    two_sample_power,
    welch_interval,
)

SIMULATIONS = 1000


def simulated_avg(rng, runs: int, delta: float, sd: float = 0.26, sims: int = SIMULATIONS):
    """Per-run AVG scores of two schedules in ``sims`` simulated grids (the published AVG SD is 0.09-0.26)."""
    base = 55.0
    a = base + delta + sd * rng.standard_normal((sims, runs))
    b = base + sd * rng.standard_normal((sims, runs))
    return a, b


def batched_permutation_p(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The p of every simulated grid in one call: grids as columns share the relabellings."""
    return label_permutation_p(a.T, b.T)[0]


def test_exact_p_equals_scipy_permutation_test():
    rng = np.random.default_rng(3)
    a, b = 55 + rng.standard_normal(5), 54.5 + rng.standard_normal(6)
    p, used, exact = label_permutation_p(a, b)
    # two-sided as |mean difference| >= observed (scipy's "two-sided" doubles the smaller tail instead)
    ref = st.permutation_test((a, b), lambda x, y: abs(np.mean(x) - np.mean(y)), permutation_type="independent",
                              n_resamples=np.inf, alternative="greater")
    assert exact and used == math.comb(11, 5)
    assert p[0] == pytest.approx(ref.pvalue, abs=1e-12)


def test_three_against_three_runs_cannot_go_below_one_tenth():
    # the published study's design: however far apart, 20 relabellings, two of them as extreme
    test = run_level_test(np.array([56.0, 56.1, 56.2]), np.array([50.0, 50.1, 50.2]))
    assert test.p_permutation == pytest.approx(0.1) and test.p_floor == pytest.approx(0.1)


@pytest.mark.parametrize("n_a, n_b", [(2, 1), (1, 3), (4, 2), (3, 3), (4, 4)])
def test_the_floor_is_the_smallest_p_the_design_attains(n_a, n_b):
    far = run_level_test(60 + np.arange(n_a) / 10, 50 + np.arange(n_b) / 10)  # every A run above every B run
    assert far.p_permutation == pytest.approx(far.p_floor)
    rng = np.random.default_rng(n_a * 10 + n_b)
    for _ in range(200):
        test = run_level_test(rng.normal(55, 1, n_a), rng.normal(55, 1, n_b))
        assert test.p_permutation >= test.p_floor - 1e-12


def test_welch_interval_equals_statsmodels():
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    rng = np.random.default_rng(5)
    a, b = 55 + 0.3 * rng.standard_normal(6), 54.8 + 0.2 * rng.standard_normal(7)
    low, high, p = welch_interval(a, b)
    cm = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    ref_low, ref_high = cm.tconfint_diff(alpha=0.05, usevar="unequal")
    assert (low, high) == pytest.approx((ref_low, ref_high), abs=1e-10)
    assert p == pytest.approx(cm.ttest_ind(usevar="unequal")[1], abs=1e-10)


def test_under_no_difference_the_permutation_test_rejects_at_about_alpha():
    rng = np.random.default_rng(11)
    a, b = simulated_avg(rng, runs=6, delta=0.0)
    rate = float(np.mean(batched_permutation_p(a, b) <= 0.05))
    assert 0.03 <= rate <= 0.06, rate


def test_under_a_true_difference_its_power_matches_the_formula():
    rng = np.random.default_rng(12)
    sd, delta, runs = 0.26, 0.4, 6
    a, b = simulated_avg(rng, runs=runs, delta=delta, sd=sd)
    rate = float(np.mean(batched_permutation_p(a, b) <= 0.05))
    formula = two_sample_power(delta, sd, runs)
    assert 0.5 < formula < 0.8  # a point where a wrong formula would show
    assert abs(rate - formula) <= 0.05, (rate, formula)


def test_the_welch_interval_covers_the_true_difference_at_its_nominal_rate():
    rng = np.random.default_rng(13)
    delta = 0.3
    a, b = simulated_avg(rng, runs=5, delta=delta)
    covered = 0
    for x, y in zip(a, b, strict=True):
        low, high, _ = welch_interval(x, y)
        covered += low <= delta <= high
    assert 0.93 <= covered / SIMULATIONS <= 0.97


def test_the_hierarchical_bootstrap_covers_the_languages_mean_difference_with_enough_runs():
    # true per-language deltas spread around 0.3; runs add noise; 20 runs x 15 sets per schedule
    rng = np.random.default_rng(14)
    sims, runs, sets, mean_delta = 300, 20, 15, 0.3
    covered = 0
    for i in range(sims):
        set_effect = rng.normal(55, 5, sets)
        set_delta = rng.normal(mean_delta, 0.4, sets)
        a = set_effect + set_delta + rng.normal(0, 0.5, (runs, sets)) + rng.normal(0, 0.3, (runs, 1))
        b = set_effect + rng.normal(0, 0.5, (runs, sets)) + rng.normal(0, 0.3, (runs, 1))
        _, low, high = hierarchical_bootstrap(a, b, n=500, seed=i)
        covered += low <= mean_delta <= high
    assert 0.90 <= covered / sims <= 0.98


def test_interaction_interval_is_a_four_group_contrast():
    rng = np.random.default_rng(15)
    groups = {"1k": (56 + 0.3 * rng.standard_normal(6), 55 + 0.3 * rng.standard_normal(6)),
              "all": (60 + 0.3 * rng.standard_normal(6), 60.2 + 0.3 * rng.standard_normal(6))}
    est, low, high, p = interaction_interval(groups)
    means = {k: (x.mean() - y.mean()) for k, (x, y) in groups.items()}
    assert est == pytest.approx(means["1k"] - means["all"])
    assert low < est < high and p < 0.01
    # simulated no-interaction: the interval covers 0 at about its nominal rate
    covered = 0
    for _ in range(400):
        g = {"1k": (56 + 0.3 * rng.standard_normal(6), 55 + 0.3 * rng.standard_normal(6)),
             "all": (61 + 0.3 * rng.standard_normal(6), 60 + 0.3 * rng.standard_normal(6))}
        _, lo, hi, _ = interaction_interval(g)
        covered += lo <= 0 <= hi
    assert 0.92 <= covered / 400 <= 0.98


def test_power_and_runs_needed_agree_with_statsmodels():
    from statsmodels.stats.power import TTestIndPower

    for delta, sd, n in ((0.5, 0.26, 6), (0.5, 0.37, 10), (1.0, 0.5, 4)):
        ref = TTestIndPower().power(effect_size=delta / sd, nobs1=n, alpha=0.05, ratio=1.0)
        assert two_sample_power(delta, sd, n) == pytest.approx(ref, abs=1e-6)
    n = runs_needed(0.5, 0.26)
    assert two_sample_power(0.5, 0.26, n) >= 0.8 > two_sample_power(0.5, 0.26, n - 1)
    assert runs_needed(0.0, 0.26) is None


def test_power_is_finite_and_monotone_for_large_effects():
    # scipy's nct.cdf is NaN far in the lower tail (0.5 points at SD 0.09, 5 runs): power must not be
    powers = [two_sample_power(0.5, 0.09, n) for n in range(2, 12)]
    assert all(math.isfinite(p) for p in powers)
    assert powers == sorted(powers) and powers[-1] == pytest.approx(1.0)
    assert all(math.isfinite(two_sample_power(d, 0.05, 5)) for d in (0.5, 1.0, 5.0))


def test_a_design_whose_smallest_p_is_above_alpha_has_no_power():
    # 3 + 3 runs: 20 relabellings, p >= 0.1; the t formula alone would promise 90% for 0.5 points
    assert two_sample_power(0.5, 0.14, 3) > 0.8
    assert permutation_power(0.5, 0.14, 3) == 0.0
    assert runs_needed(0.5, 0.14) == 4 and runs_needed(5.0, 0.01) == 4


def test_pooled_sd_is_the_within_schedule_spread():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([10.0, 12.0])
    assert pooled_sd(a, b) == pytest.approx(math.sqrt((2 + 2) / 3))


def test_columns_share_relabellings_and_match_one_column_at_a_time():
    rng = np.random.default_rng(16)
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 4)) + 0.5
    together = label_permutation_p(a, b)[0]
    alone = [label_permutation_p(a[:, j], b[:, j])[0][0] for j in range(4)]
    assert together == pytest.approx(alone)


def test_beyond_the_exact_limit_random_relabellings_are_seeded():
    rng = np.random.default_rng(17)
    a, b = rng.standard_normal(8), rng.standard_normal(8)
    p1, used, exact = label_permutation_p(a, b, seed=1, max_exact=100, n_random=5000)
    p2, _, _ = label_permutation_p(a, b, seed=1, max_exact=100, n_random=5000)
    exact_p = label_permutation_p(a, b)[0]
    assert not exact and used == 5000 and p1 == p2
    assert abs(p1[0] - exact_p[0]) < 0.03


def test_a_percentile_bootstrap_over_five_runs_undercovers_which_is_why_welch_is_primary():
    # measured: 5 runs a side cover 87%, 3 runs 82%, 10 runs 94% (500 simulated grids each)
    rng = np.random.default_rng(18)
    delta = 0.3
    a, b = simulated_avg(rng, runs=5, delta=delta, sims=500)
    covered = 0
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        # unpaired: resample each schedule's runs, as hierarchical_bootstrap does with one set
        _, low, high = hierarchical_bootstrap(x[:, None], y[:, None], n=1000, seed=i)
        covered += low <= delta <= high
    assert covered / 500 < 0.90
