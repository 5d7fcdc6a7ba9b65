"""Schedules compared with training runs as the unit of inference (docs/statistics.md).

What varies between two schedules' results is which runs were trained: every test set of a run
shares its encoder, so 17 target sets of 3 + 3 runs are 6 observations, not 17 or 51. Here each run
contributes one number per target (its AVG over the target test sets, or one set's F1), and:

* p comes from an exact permutation of the run labels between the two schedules (all C(n_a + n_b,
  n_a) relabellings; random relabellings with +1 smoothing beyond ``max_exact``): valid at any
  sample size without a normality assumption, and it shows its own floor (3 + 3 runs cannot give
  p below 0.1);
* the CI of the mean difference is Welch's t interval over runs, which a mixed model with runs as
  the random effect reduces to when the target sets are fixed (XTREME averages a fixed list of
  languages). A percentile bootstrap over so few runs covers well below its nominal rate (measured
  in the tests: docs/statistics.md), so it is not the primary interval;
* :func:`hierarchical_bootstrap` (runs within schedule, then target sets) answers a different
  question, "for a new set of languages like these", and is reported beside it, labelled so;
* power and the runs a design needs come from the noncentral t of the two-sample test, the test the
  permutation approximates (checked by simulation in the tests).

Everything takes an explicit seed; nothing draws from global random state.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from study.analysis.stats import smallest_enough

#: relabellings enumerated exactly up to this many (C(20, 10) = 184,756: 10 + 10 runs stay exact)
MAX_EXACT = 200_000


@dataclass(frozen=True)
class RunLevelTest:
    """Schedule A vs B on one target, over runs. Values in the scores' unit (F1 points in reports)."""

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    delta: float  # mean(A) - mean(B)
    ci_low: float  # Welch t interval of delta
    ci_high: float
    p_permutation: float  # two-sided, over run labels
    p_welch: float
    relabellings: int  # how many the p is computed from
    exact: bool
    p_floor: float  # the smallest p this design can give (exact: 2 / C(n_a + n_b, n_a), 1 / C(...) if n_a != n_b)
    sd_a: float
    sd_b: float


def label_permutation_p(a: np.ndarray, b: np.ndarray, seed: int = 0, max_exact: int = MAX_EXACT,
                        n_random: int = 100_000) -> tuple[np.ndarray, int, bool]:
    """Two-sided p of mean(A) - mean(B) per column, relabelling runs between A and B.

    ``a`` is [n_a] or [n_a, k] (k targets scored by the same runs; every column sees the same
    relabellings). Returns (p per column, relabellings used, exact?). The observed labelling is one
    of the enumerated ones, so an exact p is never 0.
    """
    a2, b2 = np.atleast_2d(np.asarray(a, dtype=float).T).T, np.atleast_2d(np.asarray(b, dtype=float).T).T
    if a2.ndim != 2 or a2.shape[1] != b2.shape[1]:
        raise ValueError(f"A and B must score the same targets: {a2.shape} vs {b2.shape}")
    n_a, n_b = len(a2), len(b2)
    if n_a < 1 or n_b < 1:
        raise ValueError("a permutation test needs at least one run on each side")
    pooled = np.concatenate([a2, b2])
    n = n_a + n_b
    total = pooled.sum(0)
    observed = a2.mean(0) - b2.mean(0)
    count = math.comb(n, n_a)
    exact = count <= max_exact
    if exact:
        members = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), n_a)),
                              dtype=np.int64, count=count * n_a).reshape(count, n_a)
    else:
        rng = np.random.default_rng(seed)
        members = np.argsort(rng.random((n_random, n)), axis=1)[:, :n_a]
    sum_a = pooled[members].sum(1)  # [relabellings, k]
    deltas = sum_a / n_a - (total - sum_a) / n_b
    tolerance = 1e-9 * np.maximum(1.0, np.abs(observed))
    hits = (np.abs(deltas) >= np.abs(observed) - tolerance).sum(0)
    p = hits / count if exact else (hits + 1) / (n_random + 1)
    return np.asarray(p, dtype=float), (count if exact else n_random), exact


def welch_interval(a: np.ndarray, b: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float]:
    """(low, high, p) of Welch's t for mean(A) - mean(B); NaN where a side has fewer than 2 runs."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan"), float("nan")
    delta = a.mean() - b.mean()
    if a.var(ddof=1) == 0 and b.var(ddof=1) == 0:  # identical runs: a point, not an interval
        return float(delta), float(delta), 1.0 if delta == 0 else 0.0
    res = st.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(1 - alpha)
    return float(ci.low), float(ci.high), float(res.pvalue)


def run_level_test(a: np.ndarray, b: np.ndarray, alpha: float = 0.05, seed: int = 0,
                   max_exact: int = MAX_EXACT) -> RunLevelTest:
    """A vs B on one target: per-run scores of each schedule (unpaired: runs are the replicates)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    p, used, exact = label_permutation_p(a, b, seed, max_exact)
    low, high, p_welch = welch_interval(a, b, alpha)
    # with equal sides each relabelling has its mirror (A and B swapped, the same |delta|), so the
    # observed one never stands alone; with unequal sides it can
    floor = (2 if len(a) == len(b) else 1) / math.comb(len(a) + len(b), len(a)) if exact else 1 / (used + 1)
    sd = [float(x.std(ddof=1)) if len(x) > 1 else float("nan") for x in (a, b)]
    return RunLevelTest(len(a), len(b), float(a.mean()), float(b.mean()), float(a.mean() - b.mean()), low, high,
                        float(p[0]), p_welch, used, exact, min(1.0, floor), sd[0], sd[1])


def hierarchical_bootstrap(a: np.ndarray, b: np.ndarray, n: int = 2000, seed: int = 0, alpha: float = 0.05,
                           chunk: int = 250) -> tuple[float, float, float]:
    """Percentile CI of the mean over sets of mean(A) - mean(B), resampling runs within each schedule,
    then target sets (columns, the same draw for both schedules). ``a``: [n_a, k], ``b``: [n_b, k].

    The interval of "a new set of languages like these"; with sets fixed, use :func:`welch_interval`
    on the per-run AVG.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"runs x sets matrices over the same sets expected: {a.shape} vs {b.shape}")
    rng = np.random.default_rng(seed)
    k = a.shape[1]
    out = np.empty(n)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        ra = rng.integers(0, len(a), size=(m, len(a)))
        rb = rng.integers(0, len(b), size=(m, len(b)))
        sets = rng.integers(0, k, size=(m, k))
        mean_a = a[ra].mean(1)  # [m, k]: each resample's mean over its drawn runs, per set
        mean_b = b[rb].mean(1)
        diff = mean_a - mean_b
        out[start:start + m] = np.take_along_axis(diff, sets, axis=1).mean(1)
    low, high = np.quantile(out, [alpha / 2, 1 - alpha / 2])
    return float((a.mean(0) - b.mean(0)).mean()), float(low), float(high)


def interaction_interval(groups: dict[str, tuple[np.ndarray, np.ndarray]], alpha: float = 0.05
                         ) -> tuple[float, float, float, float]:
    """(estimate, low, high, p) of delta(regime 1) - delta(regime 2), each delta mean(A) - mean(B).

    ``groups`` maps two regime names to (A runs, B runs). Welch-Satterthwaite t over the four groups
    of runs (a contrast of independent means). With one run in a group the estimate is returned
    without an interval (NaN low, high and p).
    """
    if len(groups) != 2:
        raise ValueError(f"an interaction needs exactly two regimes, got {sorted(groups)}")
    parts = [np.asarray(x, dtype=float) for pair in groups.values() for x in pair]
    if any(len(x) < 1 for x in parts):
        return float("nan"), float("nan"), float("nan"), float("nan")
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    estimate = float(sum(s * x.mean() for s, x in zip(signs, parts, strict=True)))
    if any(len(x) < 2 for x in parts):  # the estimate stands; its spread needs two runs per group
        return estimate, float("nan"), float("nan"), float("nan")
    terms = np.array([x.var(ddof=1) / len(x) for x in parts])
    se = math.sqrt(terms.sum())
    if se == 0:
        return estimate, estimate, estimate, float(estimate == 0)
    df = terms.sum() ** 2 / sum(t**2 / (len(x) - 1) for t, x in zip(terms, parts, strict=True))
    q = st.t.ppf(1 - alpha / 2, df)
    p = 2 * st.t.sf(abs(estimate) / se, df)
    return estimate, estimate - q * se, estimate + q * se, float(p)


def two_sample_power(delta: float, sd: float, runs_per_schedule: int, alpha: float = 0.05) -> float:
    """Power of a two-sided two-sample t-test with ``runs_per_schedule`` runs on each side."""
    n = runs_per_schedule
    if n < 2 or sd <= 0:
        return float("nan")
    df = 2 * n - 2
    noncentrality = abs(delta) / (sd * math.sqrt(2 / n))
    critical = st.t.ppf(1 - alpha / 2, df)
    # the wrong-direction tail as sf at -noncentrality: scipy's nct.cdf there is NaN for large
    # noncentrality (e.g. 0.5 points at SD 0.09 with 5 runs), and a NaN power never reaches a target
    return float(st.nct.sf(critical, df, noncentrality) + st.nct.sf(critical, df, -noncentrality))


def permutation_power(delta: float, sd: float, runs_per_schedule: int, alpha: float = 0.05) -> float:
    """Power of the exact run-label permutation test: the t-test's, except 0 where the design's
    smallest attainable p (2 / C(2n, n)) is above alpha (3 + 3 runs: 0.1, so no power at 0.05)."""
    n = runs_per_schedule
    if n < 1 or 2 / math.comb(2 * n, n) > alpha:
        return 0.0
    return two_sample_power(delta, sd, n, alpha)


def runs_needed(delta: float, sd: float, alpha: float = 0.05, power: float = 0.8, cap: int = 10_000) -> int | None:
    """Runs per schedule for the permutation test to reach ``power`` for ``delta`` (None above ``cap``)."""
    if delta == 0 or not math.isfinite(sd):
        return None
    n = next(n for n in range(2, 64) if 2 / math.comb(2 * n, n) <= alpha)  # below it p cannot reach alpha
    if sd <= 0:
        return n
    return smallest_enough(lambda m: permutation_power(delta, sd, m, alpha) >= power, start=n, cap=cap)


def pooled_sd(*samples: np.ndarray) -> float:
    """Run-to-run SD pooled over schedules (each schedule's runs around its own mean)."""
    used = [np.asarray(x, dtype=float) for x in samples if len(x) > 1]
    dof = sum(len(x) - 1 for x in used)
    if dof == 0:
        return float("nan")
    return float(math.sqrt(sum(((x - x.mean()) ** 2).sum() for x in used) / dof))
