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


def test_the_answer_figure_is_saved_for_the_index_the_same_for_the_same_numbers_and_shown_under_the_answer(tmp_path):
    import json

    import numpy as np

    from study.analysis.compare import per_run_targets, run_level_table
    from study.analysis.figures import plot_size_deltas, save_answer_figure
    from study.analysis.tables import save_answer
    from study.orchestration.grid import _TEMPLATES, _answer
    from tests.analysis.test_compare import PAIR, sized_scores

    rng = np.random.default_rng(6)
    scores = sized_scores({"1000": (52 + 0.1 * rng.standard_normal(4), 50 + 0.1 * rng.standard_normal(4)),
                           "all": (55 + 0.1 * rng.standard_normal(4), 55 + 0.1 * rng.standard_normal(4))})
    table = run_level_table(scores, [(*PAIR, "joint vs sequential")], PAIR, n_boot=50)
    path = save_answer_figure(plot_size_deltas(table, per_run_targets(scores)), tmp_path)
    first = path.read_text()
    assert path.name == "answer.svg" and first.lstrip().startswith("<?xml") and "<dc:date>" not in first
    save_answer_figure(plot_size_deltas(table, per_run_targets(scores)), tmp_path)
    assert path.read_text() == first  # no date, fixed ids: the same numbers give the same file
    save_answer(tmp_path, table)
    answer_html, rows, listed = _answer(tmp_path)
    page = _TEMPLATES.get_template("index.html").render(answer=answer_html, answer_rows=rows, hypotheses=listed,
                                                        answer_figure=path.is_file(), analysis="ok", runs=[])
    assert page.index("<table>") < page.index('<img src="answer.svg"')
    assert save_answer_figure(None, tmp_path) is None and not path.exists()  # no comparison: no stale figure
    assert json.loads((tmp_path / "answer.json").read_text())["table"]


def test_the_regime_figure_names_each_pair_once_and_lists_the_regimes_smallest_first_above_the_plot():
    import numpy as np

    from study.analysis.compare import per_run_targets, run_level_table
    from study.analysis.figures import plot_size_deltas
    from tests.analysis.test_compare import PAIR, sized_scores

    rng = np.random.default_rng(7)
    scores = sized_scores({"1000": (52 + 0.1 * rng.standard_normal(4), 50 + 0.1 * rng.standard_normal(4)),
                           "all": (55 + 0.1 * rng.standard_normal(4), 55 + 0.1 * rng.standard_normal(4))})
    ax = plot_size_deltas(run_level_table(scores, [(*PAIR, "joint vs sequential")], PAIR, n_boot=50),
                          per_run_targets(scores)).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{PAIR[0]} - {PAIR[1]}"]
    assert ax.get_yticks().tolist() == [0.5]  # between its two regimes' rows
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["1,000 English SRL train sentences",
                                                          "all English SRL train sentences"]
    assert legend.get_bbox_to_anchor().y0 >= ax.get_window_extent().y1 - 1  # above the axes, over no point
