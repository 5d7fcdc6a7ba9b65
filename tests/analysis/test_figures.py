"""Figures' labels say what they show (rendering itself is checked by the e2e study's pages)."""

from __future__ import annotations

import pandas as pd


def test_the_delta_heatmap_names_gold_sets_as_gold_and_keeps_the_star_for_significance():
    from study.analysis.figures import plot_deltas

    rows = [{"a": "joint", "b": "seq", "language": lang, "split": split, "seeds_delta": delta, "significant": sig}
            for lang, split, delta, sig in (("de", "test", 0.012, True), ("pl", "gold-test", -0.02, False),
                                            ("pl", "test", 0.004, False))]
    fig = plot_deltas(pd.DataFrame(rows))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["de", "pl", "pl (gold)"]
    assert sorted(t.get_text() for t in ax.texts) == ["-2.0", "0.4", "1.2*"]
