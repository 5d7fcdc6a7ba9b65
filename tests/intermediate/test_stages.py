"""Stage mechanics that need no encoder: the seeded joint-task sampler."""

from __future__ import annotations

import numpy as np


def test_sampler_probabilities_follow_their_formulas():
    from study.config import Sampler
    from study.intermediate.stages import sampler_probabilities, task_schedule

    sizes = [9000, 1000]
    np.testing.assert_allclose(sampler_probabilities(Sampler(kind="uniform"), sizes), [0.5, 0.5])
    np.testing.assert_allclose(sampler_probabilities(Sampler(kind="proportional"), sizes), [0.9, 0.1])
    np.testing.assert_allclose(sampler_probabilities(Sampler(kind="capped", cap=3000), sizes), [0.75, 0.25])
    t = sampler_probabilities(Sampler(kind="temperature", temperature=2.0), sizes)
    np.testing.assert_allclose(t, np.sqrt(sizes) / np.sqrt(sizes).sum())
    plan = task_schedule(np.array([0.9, 0.1]), seed=3, steps=20000)
    assert abs((plan == 0).mean() - 0.9) < 0.01
    assert (task_schedule(np.array([0.9, 0.1]), 3, 500) == plan[:500]).all()  # seeded, prefix-stable
    assert not (task_schedule(np.array([0.5, 0.5]), 4, 500) == task_schedule(np.array([0.5, 0.5]), 5, 500)).all()
