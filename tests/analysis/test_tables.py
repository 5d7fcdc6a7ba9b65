"""How notebook 04 shows its tables: F1 points everywhere, counts whole, nothing missing printed as 'nan'."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from study.analysis.tables import in_points, points_table


def test_per_set_descriptives_are_shown_in_f1_points_like_the_run_level_table():
    per_set = pd.DataFrame({"language": ["de", "fr"], "seeds_delta": [-0.0027, 0.0110],
                            "seeds_ci_low": [-0.0050, 0.0011], "seeds_ci_high": [0.0004, 0.0200],
                            "sent_delta": [-0.0026, 0.0105], "sent_p_permutation": [0.6513, 0.1149],
                            "seeds_needed_1pt": [np.nan, 7.0], "aso_confidence": [0.999706, 0.999706]})
    shown = in_points(per_set)
    assert list(shown.seeds_delta.round(2)) == [-0.27, 1.10] and list(shown.sent_delta.round(2)) == [-0.26, 1.05]
    assert per_set.seeds_delta.iloc[0] == -0.0027  # the analysis' own frame is left on its scale
    html = points_table(shown).to_html()
    assert ">-0.27<" in html and ">1.10<" in html and ">0.651<" in html
    assert ">0.999706<" in html and ">7<" in html and ">-<" in html and "nan" not in html and "0.0027" not in html


def test_run_level_table_shows_counts_whole_power_as_percent_and_no_row_numbers():
    run_level = pd.DataFrame({"a": ["joint"], "b": ["seq"], "n_a": [4], "n_b": [4], "delta": [0.3941],
                              "ci_low": [np.nan], "p_permutation": [0.02857], "power_0.5pt": [0.994],
                              "runs_needed_0.5pt": [4.0], "hier_ci_low": [-0.198]})
    html = points_table(run_level, ["a", "b", "n_a", "n_b", "delta", "ci_low", "p_permutation", "power_0.5pt",
                                    "runs_needed_0.5pt", "hier_ci_low"]).to_html()
    assert ">0.39<" in html and ">0.0286<" in html and ">99%<" in html and ">-0.20<" in html
    assert ">4<" in html and "4.000" not in html and ">-<" in html and "row_heading" not in html


def test_the_index_lists_the_hypotheses_verdicts_after_the_answer(tmp_path):
    import json

    from study.analysis.compare import interaction_table, run_level_table
    from study.analysis.tables import hypotheses, save_answer
    from study.orchestration.grid import _TEMPLATES, _answer
    from tests.analysis.test_compare import PAIR, sized_scores

    rng = np.random.default_rng(4)
    runs = lambda mean: mean + 0.1 * rng.standard_normal(4)  # noqa: E731
    scores = sized_scores({"1000": (runs(52.0), runs(50.0)), "all": (runs(55.0), runs(55.0))})
    table = run_level_table(scores, [(*PAIR, "joint vs sequential")], PAIR, n_boot=50)
    verdicts = hypotheses(table, interaction_table(scores, [PAIR]))
    save_answer(tmp_path, table, 0.05, None, None, verdicts)
    saved = json.loads((tmp_path / "answer.json").read_text())["hypotheses"]
    assert [h["verdict"] for h in saved] == ["held", "inconclusive", "rejected", "not rejected"]
    first = saved[0]
    assert first["claim"] == "joint:mnli+squad_v1 > seq:mnli>squad_v1 at 1,000 English SRL train sentences"
    assert first["estimate"].startswith("+2.") and first["95% CI"].startswith("[+") and first["p"] == "0.0286"
    answer_html, rows, listed = _answer(tmp_path)
    page = _TEMPLATES.get_template("index.html").render(answer=answer_html, answer_rows=rows, hypotheses=listed,
                                                        analysis="ok", runs=[])
    assert page.index("Answer") < page.index("Pre-registered hypotheses") < page.index("<td>held</td>")
    assert not re.search(r"\bnan\b", page)


def test_the_index_table_prints_points_at_two_decimals_and_no_negative_zero(tmp_path):
    import json

    from study.analysis.compare import run_level_table
    from study.analysis.tables import answer, save_answer, signed_points
    from tests.analysis.test_compare import PAIR, sized_scores

    rng = np.random.default_rng(5)
    runs = lambda mean: mean + 0.1 * rng.standard_normal(4)  # noqa: E731
    table = run_level_table(sized_scores({"all": (runs(51.1), runs(51.1))}), [(*PAIR, "joint vs sequential")], PAIR,
                            n_boot=50)
    primary = (table.target == "AVG") & (table.role == "primary")
    table.loc[primary, ["mean_a", "delta", "ci_low", "ci_high"]] = [51.1, -0.001, -0.30, 0.0004]
    save_answer(tmp_path, table, 0.05)
    row = json.loads((tmp_path / "answer.json").read_text())["table"][0]
    assert row["AVG A"] == "51.10" and row["delta"] == "0.00" and row["95% CI"] == "[-0.30, 0.00]"
    assert isinstance(row["p (runs)"], str) and not row["p (runs)"].endswith(".0")
    assert "-0.00" not in answer(table) and "0.00 F1 points" in answer(table)
    assert [signed_points(x) for x in (0.004, -0.004, 0.005001, -1.234)] == ["0.00", "0.00", "+0.01", "-1.23"]
