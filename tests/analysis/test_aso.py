"""study.analysis.aso must give deepsig's ASO numbers (the cited reference) on the same inputs and seed."""

import warnings

import numpy as np
import pytest
from deepsig import aso as deepsig_aso

from study.analysis.aso import aso, violation_ratios


def _reference(a, b, **kw) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deepsig warns on ties and on confidence levels below 0.95
        return deepsig_aso(list(map(float, a)), list(map(float, b)), show_progress=False, **kw)


def test_matches_deepsig_on_random_inputs():
    rng = np.random.default_rng(2024)
    for _ in range(40):
        na, nb = (int(x) for x in rng.integers(1, 9, 2))
        # rounding makes ties, the case where quantile functions have flat parts
        a = rng.normal(rng.normal(0, 1), 1, na).round(int(rng.integers(0, 3)))
        b = rng.normal(0, 1, nb).round(int(rng.integers(0, 3)))
        conf = 1 - 0.05 / int(rng.integers(1, 200))
        iterations, seed = int(rng.integers(5, 80)), int(rng.integers(0, 10**6))
        expected = _reference(a, b, confidence_level=conf, num_bootstrap_iterations=iterations, seed=seed)
        got = aso(a, b, confidence_level=conf, num_bootstrap_iterations=iterations, seed=seed)
        assert got == pytest.approx(expected, abs=1e-12), (a, b, conf, iterations, seed)


def test_study_shaped_inputs_match_deepsig_with_its_default_iterations():
    a, b = [0.561, 0.572, 0.558], [0.549, 0.556, 0.551]  # three seeds of F1, as the study compares
    expected = _reference(a, b, confidence_level=1 - 0.05 / 170, num_bootstrap_iterations=1000, seed=7)
    assert aso(a, b, confidence_level=1 - 0.05 / 170, num_bootstrap_iterations=1000, seed=7) == pytest.approx(
        expected, abs=1e-12)


def test_known_answers():
    better, worse = np.arange(10) + 10.0, np.arange(10) * 1.0
    assert aso(better, worse, num_bootstrap_iterations=200, seed=0) == 0.0  # A above B everywhere
    assert aso(worse, better, num_bootstrap_iterations=200, seed=0) > 0.99  # (deepsig drops t = dt)
    same = [0.5, 0.6, 0.7]
    assert violation_ratios(np.sort(same), np.sort(same))[0] == 0.5  # no distance: undecided
    assert aso(same, same, num_bootstrap_iterations=200, seed=0) > 0.2  # never "A better"


def test_seeded_and_independent_of_global_random_state():
    a, b = [1.0, 2.5, 3.0, 2.2], [0.5, 2.0, 2.9]
    np.random.seed(1)
    first = aso(a, b, num_bootstrap_iterations=100, seed=3)
    np.random.seed(99)
    state = np.random.get_state()[1].copy()
    assert aso(a, b, num_bootstrap_iterations=100, seed=3) == first
    assert np.array_equal(np.random.get_state()[1], state)  # the global generator is not touched
    assert aso(a, b, num_bootstrap_iterations=100, seed=4) != first


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one score"):
        aso([], [1.0])
    with pytest.raises(ValueError, match="must be positive"):
        aso([1.0], [2.0], num_bootstrap_iterations=0)
