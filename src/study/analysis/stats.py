"""Significance tests comparing schedules (docs/design.md, "Statistics").

* Over seeds, per language: Almost Stochastic Order (``deepsig.aso``'s numbers, computed by
  :mod:`study.analysis.aso`) with the Bonferroni-corrected confidence passed explicitly (deepsig's
  ``num_comparisons`` is not Bonferroni for 3+ comparisons), and the mean difference over matched
  seeds with a bootstrap confidence interval.
* Over sentences, per language: a *paired* bootstrap and an approximate-randomisation test on the
  pooled per-sentence counts of matched seeds, recomputing corpus F1 from summed counts on every
  resample (F1 is not a mean of sentence scores).
* Across languages: Wilcoxon signed-rank on per-language mean differences with the matched-pairs
  rank-biserial effect size. These are descriptives: sets and sentences of the same runs are not
  independent replicates; :mod:`study.analysis.run_level` compares schedules over runs.
* Holm over the declared family (``statsmodels``), and a power estimate: how many seeds the
  observed seed-to-seed variance needs to detect a given difference.

Every function takes an explicit seed; nothing here draws from global random state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from study.analysis.aso import aso
from study.target.srl.metrics import f1_from_counts


def f1_statistic(sums: np.ndarray) -> np.ndarray:
    """Corpus F1 from summed (tp, pred, gold) columns, for any number of resamples [m, 3] -> [m]."""
    return np.asarray(f1_from_counts(sums[:, 0], sums[:, 1], sums[:, 2]), dtype=float)


def ratio_statistic(sums: np.ndarray) -> np.ndarray:
    """sum(x) / sum(n) from summed (x, n) columns: accuracy, or a plain mean with n = 1 per sentence."""
    return sums[:, 0] / sums[:, 1]


def corpus_f1(counts: np.ndarray) -> float:
    """Corpus F1 from per-sentence (tp, pred, gold) rows."""
    return float(f1_statistic(np.asarray(counts).sum(0, keepdims=True))[0])


@dataclass(frozen=True)
class SentenceTest:
    """Paired comparison over sentences of system A vs B on the same gold."""

    delta: float  # F1(A) - F1(B)
    ci_low: float
    ci_high: float
    p_bootstrap: float
    p_permutation: float
    n_sentences: int


def paired_bootstrap(
    counts_a: np.ndarray, counts_b: np.ndarray, n: int = 1000, seed: int = 0, alpha: float = 0.05,
    chunk: int = 200, statistic=f1_statistic,
) -> tuple[float, float, float, float]:
    """Paired bootstrap of F1(A) - F1(B): (delta, CI low, CI high, two-sided p).

    Both systems are resampled with the *same* sentence indices. The p-value is the share of
    resampled deltas at least as far from the observed delta as the observed delta is from 0
    (the bootstrap distribution shifted to the null; Berg-Kirkpatrick et al. 2012 style).
    """
    a, b = np.asarray(counts_a, dtype=float), np.asarray(counts_b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired test needs the same sentences: {a.shape} vs {b.shape}")
    observed = float(statistic(a.sum(0, keepdims=True))[0] - statistic(b.sum(0, keepdims=True))[0])
    rng = np.random.default_rng(seed)
    deltas = np.empty(n)
    rows = len(a)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        index = rng.integers(0, rows, size=(m, rows))
        # how often each sentence was drawn, then one matrix product per system: the same sums as
        # a[index].sum(1) (integer counts, exact in float64) without an m x rows x 3 copy
        offsets = (index + rows * np.arange(m)[:, None]).ravel()
        weights = np.bincount(offsets, minlength=m * rows).reshape(m, rows).astype(float)
        deltas[start : start + m] = statistic(weights @ a) - statistic(weights @ b)
    low, high = np.quantile(deltas, [alpha / 2, 1 - alpha / 2])
    p = float(np.mean(np.abs(deltas - observed) >= abs(observed) - 1e-12))
    return observed, float(low), float(high), p


def permutation_test(counts_a: np.ndarray, counts_b: np.ndarray, n: int = 1000, seed: int = 0,
                     chunk: int = 200, statistic=f1_statistic) -> tuple[float, float]:
    """Approximate randomisation: swap A/B per sentence with probability 1/2; (delta, p with +1 smoothing)."""
    a, b = np.asarray(counts_a, dtype=float), np.asarray(counts_b, dtype=float)
    observed = float(statistic(a.sum(0, keepdims=True))[0] - statistic(b.sum(0, keepdims=True))[0])
    rng = np.random.default_rng(seed)
    total_a, total_b, moved = a.sum(0), b.sum(0), b - a
    hits = 0
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        swap = (rng.random((m, len(a))) < 0.5).astype(float)
        shift = swap @ moved  # swapping a sentence moves its (b - a) counts from B's side to A's
        deltas = statistic(total_a + shift) - statistic(total_b - shift)
        hits += int(np.sum(np.abs(deltas) >= abs(observed) - 1e-12))
    return observed, (hits + 1) / (n + 1)


def sentence_test(counts_a: np.ndarray, counts_b: np.ndarray, n_boot: int, n_perm: int, seed: int,
                  alpha: float = 0.05) -> SentenceTest:
    delta, low, high, p_boot = paired_bootstrap(counts_a, counts_b, n_boot, seed, alpha)
    _, p_perm = permutation_test(counts_a, counts_b, n_perm, seed + 1)
    return SentenceTest(delta, low, high, p_boot, p_perm, len(counts_a))


@dataclass(frozen=True)
class SeedTest:
    """Comparison over seeds: mean difference with a bootstrap CI, and ASO's eps_min."""

    mean_a: float
    mean_b: float
    delta: float
    ci_low: float
    ci_high: float
    eps_min: float | None
    n_seeds: int


def mean_difference_ci(a: np.ndarray, b: np.ndarray, n: int = 1000, seed: int = 0, alpha: float = 0.05
                       ) -> tuple[float, float, float]:
    """Mean of matched-seed differences A - B with a percentile bootstrap CI over seeds."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, len(d), size=(n, len(d)))].mean(axis=1)
    low, high = np.quantile(boots, [alpha / 2, 1 - alpha / 2])
    return float(d.mean()), float(low), float(high)


def aso_eps_min(a: np.ndarray, b: np.ndarray, confidence_level: float, iterations: int, seed: int) -> float | None:
    """ASO's eps_min that A is stochastically larger than B (None with fewer than 2 seeds).

    ``confidence_level`` must already be Bonferroni-corrected by the caller (1 - alpha / M).
    Computed by :mod:`study.analysis.aso`, which gives deepsig's numbers for the same seed in ~1/30 of the time.
    """
    if len(a) < 2 or len(b) < 2:
        return None
    return aso(a, b, confidence_level=confidence_level, num_bootstrap_iterations=iterations, seed=seed)


def seed_test(a: np.ndarray, b: np.ndarray, confidence_level: float, aso_iterations: int, n_boot: int,
              seed: int, alpha: float = 0.05) -> SeedTest:
    delta, low, high = mean_difference_ci(a, b, n_boot, seed, alpha)
    eps = aso_eps_min(a, b, confidence_level, aso_iterations, seed)
    return SeedTest(float(np.mean(a)), float(np.mean(b)), delta, low, high, eps, len(a))


def wilcoxon_across(deltas: np.ndarray) -> tuple[float, float, float]:
    """(statistic, two-sided p, matched-pairs rank-biserial correlation) of per-language deltas."""
    d = np.asarray(deltas, dtype=float)
    nz = d[d != 0]
    if len(nz) == 0:
        return 0.0, 1.0, 0.0
    res = st.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    ranks = st.rankdata(np.abs(nz))
    r_plus, r_minus = ranks[nz > 0].sum(), ranks[nz < 0].sum()
    return float(res.statistic), float(res.pvalue), float((r_plus - r_minus) / ranks.sum())


def holm(p_values: list[float], alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm step-down over a family: (reject, adjusted p-values), via statsmodels."""
    from statsmodels.stats.multitest import multipletests

    if not p_values:
        return np.zeros(0, dtype=bool), np.zeros(0)
    reject, adjusted, _, _ = multipletests(p_values, alpha=alpha, method="holm")
    return reject, adjusted


def paired_t_power(effect: float, n: int, alpha: float = 0.05) -> float:
    """Power of a two-sided paired t-test on ``n`` pairs for a standardised effect, from the noncentral t.

    Computed directly with scipy: statsmodels' ``TTestPower.power`` returns NaN for large effects
    (e.g. effect 10 at n = 3), which made a NaN >= 0.8 comparison false and the seed count overshoot.
    """
    from scipy.stats import nct
    from scipy.stats import t as student_t

    df = n - 1
    noncentrality = effect * math.sqrt(n)
    critical = student_t.ppf(1 - alpha / 2, df)
    return float(nct.sf(critical, df, noncentrality) + nct.cdf(-critical, df, noncentrality))


def seeds_needed(sd_of_differences: float, delta: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Matched seeds a paired t-test needs to detect ``delta`` given the seed-to-seed SD of differences."""
    if delta == 0:
        return None
    if sd_of_differences <= 0:
        return 2
    effect = abs(delta) / sd_of_differences
    return smallest_enough(lambda n: paired_t_power(effect, n, alpha) >= power, start=2, cap=10**8)


def smallest_enough(enough, start: int, cap: int) -> int | None:
    """The smallest n >= ``start`` with ``enough(n)``, for a predicate that stays true once true (power
    rises with n): doubling, then bisection. None if it is still false beyond ``cap``."""
    hi = start
    while not enough(hi):
        hi *= 2
        if hi > cap:
            return None
    lo = max(start, hi // 2)
    if lo == hi:
        return hi
    while hi - lo > 1:  # enough(hi) and not enough(lo)
        mid = (lo + hi) // 2
        hi, lo = (mid, lo) if enough(mid) else (hi, mid)
    return hi
