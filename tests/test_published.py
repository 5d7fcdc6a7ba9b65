"""The README's results are the committed report's numbers, not figures typed by hand."""

from __future__ import annotations

import pandas as pd

from tests.helpers import REPO

PUBLISHED = REPO / "reports" / "published" / "default-v1"
COLUMNS = {"en dev": ("en", "dev"), "en": ("en", "test"), "AVG": ("AVG", "test"),
           "pl gold": ("pl", "gold-test"), "vi gold": ("vi", "gold-test")}


def _readme_table() -> tuple[list[str], dict[str, list[float]]]:
    lines = (REPO / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| schedule | en dev |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")][1:]
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("| `"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = [float(c) for c in cells[1:]]
    return header, rows


def test_readme_results_table_is_the_published_results_averaged_over_seeds():
    results = pd.read_csv(PUBLISHED / "results.csv", keep_default_na=False)
    assert results["run"].nunique() == 18 and set(results["seed"]) == {1, 2, 3}
    f1 = results[(results.task == "srl") & (results.metric == "head_f1") & (results.label == "")]
    header, rows = _readme_table()
    assert len(rows) == 6
    for schedule, shown in rows.items():
        mine = f1[f1.schedule == schedule]
        assert mine["seed"].nunique() == 3, schedule
        for column, value in zip(header, shown, strict=True):
            language, split = COLUMNS.get(column, (column, "test"))
            cell = mine[(mine.language == language) & (mine.split == split)]["value"]
            assert len(cell) == 3, (schedule, column)
            assert round(cell.mean() * 100, 1) == value, (schedule, column, cell.mean() * 100, value)


def test_readme_run_level_results_are_computed_from_the_published_results():
    from study.analysis.compare import default_family, primary_pair, run_level_table, srl_scores
    from study.config import load_params

    results = pd.read_csv(PUBLISHED / "results.csv", keep_default_na=False, dtype={"label": str})
    scores = srl_scores(results)
    config = load_params(PUBLISHED / "params.yaml")  # the design that produced it, not today's default
    family = default_family(config, scores[(scores.language == "en") & (scores.split == "dev")])
    table = run_level_table(scores, family, primary_pair(config))
    avg = table[table.target == "AVG"].set_index(["a", "b"])
    readme = (REPO / "README.md").read_text()
    primary = avg.loc[("joint:mnli+squad_v1", "seq:mnli>squad_v1")]
    assert primary.role == "primary" and not primary.significant
    shown = (f"**{primary.delta:+.2f} F1 points, 95% CI [{primary.ci_low:+.2f}, {primary.ci_high:+.2f}],\n"
             f"  p = {primary.p_permutation:.1g} over {primary.n_a} + {primary.n_b} runs: inconclusive.**")
    assert shown in readme
    from study.analysis.run_level import permutation_power, runs_needed

    n, power = primary["runs_needed_0.5pt"], permutation_power(0.5, primary.sd_runs, 4)
    assert (f"{n} runs per schedule is the smallest design that can\n  reach it ({100 * power:.0f}% power for 0.5 "
            f"points at the pooled run-to-run SD of this pair, {primary.sd_runs:.2f})") in readme
    assert f"(0.26) 0.5 points need {runs_needed(0.5, 0.26)} runs per schedule for 80%" in readme
    other = avg.loc[("joint:mnli+squad_v1", "seq:squad_v1>mnli")]
    assert (f"`seq:squad_v1>mnli`: {other.delta:+.2f} [{other.ci_low:+.2f}, {other.ci_high:+.2f}], "
            f"p = {other.p_permutation:.1g}") in readme
    versus_none = avg.xs("none", level="b")
    assert not versus_none.significant.any() and (versus_none.ci_low < 0).all() and (versus_none.ci_high > 0).all()
    assert f"from {versus_none.delta.min():+.2f} for joint" in readme
    assert f"to {versus_none.delta.max():+.2f} for\n  `single:squad_v1`" in readme
def test_published_report_is_one_code_version_and_links_every_run():
    results = pd.read_csv(PUBLISHED / "results.csv", keep_default_na=False, dtype={"code_version": str})
    assert results["code_version"].nunique() == 1 and results["params_hash"].nunique() == 1
    index = (PUBLISHED / "index.html").read_text()
    for run in results["run"].unique():
        for page in ("02_intermediate.html", "03_srl_transfer.html"):
            assert f'href="runs/{run}/{page}"' in index and (PUBLISHED / "runs" / run / page).is_file()
