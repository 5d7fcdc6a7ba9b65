"""The README's and docs' results are the committed reports' numbers, not figures typed by hand.

The v2 study (``reports/published/default``) is README "Results"; the v1 study
(``reports/published/default-v1``) is kept in docs/results.md under its own heading. Every claim is
recomputed here from the published ``results.csv`` with the analysis code and looked up, wording
included, in the text (whitespace-normalised, so line wrapping is free).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import REPO

V1 = REPO / "reports" / "published" / "default-v1"
V2 = REPO / "reports" / "published" / "default"
README = REPO / "README.md"
DOCS = REPO / "docs" / "results.md"
COLUMNS = {"en dev": ("en", "dev"), "en": ("en", "test"), "AVG": ("AVG", "test"),
           "pl gold": ("pl", "gold-test"), "vi gold": ("vi", "gold-test")}
SIZES = {"1,000": "1000", "all": "all"}


def _text(path: Path) -> str:
    return " ".join(path.read_text().split())


def _results(study: Path) -> pd.DataFrame:
    return pd.read_csv(study / "results.csv", keep_default_na=False, dtype={"label": str, "code_version": str})


def _markdown_table(path: Path, header_start: str) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("| `"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return header, rows


def _check_means(f1: pd.DataFrame, header: list[str], cells: list[str], seeds: int, where: tuple) -> None:
    for column, value in zip(header, cells, strict=True):
        language, split = COLUMNS.get(column, (column, "test"))
        cell = f1[(f1.language == language) & (f1.split == split)]["value"]
        assert len(cell) == seeds, (where, column)
        assert f"{cell.mean() * 100:.1f}" == value, (where, column, cell.mean() * 100, value)


def _signed(value: float) -> str:
    from study.analysis.tables import signed_points

    return signed_points(value)


def _ci(low: float, high: float) -> str:
    return f"[{_signed(low)}, {_signed(high)}]"


# ---- v2: README "Results" ---------------------------------------------------------------------------

@cache
def _v2_analysis(study: Path = V2):
    from study.analysis.compare import default_family, interaction_table, primary_pair, run_level_table, srl_scores
    from study.analysis.tables import hypotheses, intermediate_strength
    from study.config import load_params

    results = _results(study)
    scores = srl_scores(results)
    config = load_params(study / "params.yaml")  # the design that produced it
    dev = scores[(scores.language == "en") & (scores.split == "dev")]
    family = default_family(config, dev)
    table = run_level_table(scores, family, primary_pair(config), config.analysis.alpha)
    interactions = interaction_table(scores, [(a, b) for a, b, _ in family], config.analysis.alpha)
    verdicts = hypotheses(table, interactions, config.analysis.alpha)
    return results, config, table, interactions, verdicts, intermediate_strength(results)


def v2_claims(study: Path = V2) -> dict[str, str]:
    """Every sentence of README "Results" that states a number or a verdict of the v2 study, as it must read."""
    from study.analysis.compare import primary_pair
    from study.analysis.tables import verdict

    _, config, table, interactions, verdicts, strength = _v2_analysis(study)
    joint, seq = primary_pair(config)
    avg = table[table.target == "AVG"].set_index(["regime", "a", "b"])
    claims, words = {}, {}
    for label, regime in SIZES.items():
        r = avg.loc[(regime, joint, seq)]
        words[label] = verdict(r)
        word = "inconclusive" if words[label] == "no difference detected" else f"joint {words[label]}"
        claims[f"primary {label}"] = (
            f"{label} sentences: **{_signed(r.delta)} F1 points, 95% CI {_ci(r.ci_low, r.ci_high)}, "
            f"p = {r.p_permutation:.2g} over {r.n_a} + {r.n_b} runs: {word}.** Resampling the target sets too: "
            f"{_ci(r.hier_ci_low, r.hier_ci_high)}. Power for 0.5 points at this pair's run-to-run SD "
            f"({r.sd_runs:.2f}): {100 * r['power_0.5pt']:.0f}%.")
    if all(w == "no difference detected" for w in words.values()):
        claims["lead"] = ("no difference detected between joint and sequential intermediate training at either "
                          "English SRL size")
    else:
        claims["lead"] = "joint against sequential intermediate training: " + "; ".join(
            f"{'no difference detected' if w == 'no difference detected' else 'joint ' + w} with {label} English "
            "SRL sentences" for label, w in words.items())
    r = interactions[(interactions.a == joint) & (interactions.b == seq)].iloc[0]
    claims["interaction"] = (f"delta at 1,000 minus delta at all: {_signed(r.interaction)} F1 points, 95% CI "
                             f"{_ci(r.ci_low, r.ci_high)}, Welch p = {r.p_welch:.2g}")
    secondary = table[(table.target == "AVG") & (table.role == "secondary")]
    claims["holm"] = f"Holm over the {len(secondary)} secondary comparisons"
    for label, regime in SIZES.items():
        parts = []
        for schedule in (seq, joint):
            v = avg.loc[(regime, schedule, "none")]
            parts.append(f"`{schedule}` {_signed(v.delta)} {_ci(v.ci_low, v.ci_high)}, p = {v.p_permutation:.2g} "
                         f"(Holm {v.p_adjusted:.2g})")
        claims[f"none {label}"] = f"at {label} sentences " + ", ".join(parts)
    summary = []
    for name in verdicts.hypothesis.unique():
        mine = verdicts[verdicts.hypothesis == name]
        claims[name.split()[0]] = f"{name}: " + "; ".join(
            f"{row.verdict} for {row.claim} ({_signed(row.estimate)} {_ci(row.ci_low, row.ci_high)})"
            for row in mine.itertuples())
        summary.append(f"{name} {' / '.join(dict.fromkeys(mine.verdict))}")
    claims["hypotheses"] = ", ".join(summary)
    for task in ("mnli", "squad_v1"):
        at = strength[strength.task == task].set_index("schedule")
        claims[task] = (f"`{task}` {at.loc[joint, 'dev score']:.1f} in the joint stages and "
                        f"{at.loc[seq, 'dev score']:.1f} in the sequential ones")
    return claims


def test_v2_readme_results_table_is_the_published_results_averaged_over_seeds():
    results = _results(V2)
    seeds = len(set(results["seed"]))
    assert results["run"].nunique() == 24 and seeds == 4
    f1 = results[(results.task == "srl") & (results.metric == "head_f1") & (results.label == "")]
    header, rows = _markdown_table(README, "| schedule | English SRL train | en dev |")
    assert len(rows) == 6
    for cells in rows:
        schedule, size = cells[0].strip("`"), SIZES[cells[1]]
        mine = f1[(f1.schedule == schedule) & (f1.train_sentences.astype(str) == size)]
        _check_means(mine, header[2:], cells[2:], seeds, (schedule, size))


#: the claims README "Results" leaves to docs/results.md (the README stays a ten-minute manual)
IN_DOCS = {"H1", "H2", "H0"}


def test_v2_readme_states_every_run_level_result_as_computed_from_the_published_results():
    readme, docs = _text(README), _text(DOCS)
    missing = {key: claim for key, claim in v2_claims().items()
               if claim not in (docs if key in IN_DOCS else readme)}
    assert not missing, missing


def test_v2_per_seed_averages_in_the_docs_are_the_published_runs():
    from study.analysis.compare import per_run_targets, srl_scores

    wide = per_run_targets(srl_scores(_results(V2)))
    docs = _text(DOCS)
    for (regime, schedule), runs in wide["AVG"].groupby(level=["regime", "schedule"]):
        label = next(k for k, v in SIZES.items() if v == regime)
        values = " / ".join(f"{v:.2f}" for v in runs.droplevel(["regime", "schedule", "run"]).sort_index())
        assert f"`{schedule}` at {label}: {values}" in docs, (regime, schedule, values)


def test_v2_readme_names_the_published_code_params_and_runs():
    results = _results(V2)
    readme = _text(README)
    code, params = results["code_version"].unique(), results["params_hash"].unique()
    assert len(code) == 1 and len(params) == 1
    assert f"code {code[0]}" in readme and f"params hash `{params[0]}`" in readme


# ---- v1: docs/results.md ----------------------------------------------------------------------------

def test_v1_results_table_is_the_published_results_averaged_over_seeds():
    results = _results(V1)
    assert results["run"].nunique() == 18 and set(results["seed"]) == {1, 2, 3}
    f1 = results[(results.task == "srl") & (results.metric == "head_f1") & (results.label == "")]
    header, rows = _markdown_table(DOCS, "| schedule | en dev |")
    assert len(rows) == 6
    for cells in rows:
        schedule = cells[0].strip("`")
        _check_means(f1[f1.schedule == schedule], header[1:], cells[1:], 3, schedule)


def test_v1_run_level_results_are_computed_from_the_published_results():
    from study.analysis.compare import default_family, primary_pair, run_level_table, srl_scores
    from study.analysis.run_level import permutation_power, runs_needed
    from study.config import load_params

    results = _results(V1)
    scores = srl_scores(results)
    config = load_params(V1 / "params.yaml")  # the design that produced it, not today's default
    family = default_family(config, scores[(scores.language == "en") & (scores.split == "dev")])
    table = run_level_table(scores, family, primary_pair(config))
    avg = table[table.target == "AVG"].set_index(["a", "b"])
    docs = _text(DOCS)
    primary = avg.loc[("joint:mnli+squad_v1", "seq:mnli>squad_v1")]
    assert primary.role == "primary" and not primary.significant
    assert (f"**{primary.delta:+.2f} F1 points, 95% CI [{primary.ci_low:+.2f}, {primary.ci_high:+.2f}], "
            f"p = {primary.p_permutation:.1g} over {primary.n_a} + {primary.n_b} runs: inconclusive.**") in docs
    n, power = primary["runs_needed_0.5pt"], permutation_power(0.5, primary.sd_runs, 4)
    assert (f"{n} runs per schedule is the smallest design that can reach it ({100 * power:.0f}% power for 0.5 "
            f"points at the pooled run-to-run SD of this pair, {primary.sd_runs:.2f})") in docs
    assert f"(0.26) 0.5 points need {runs_needed(0.5, 0.26)} runs per schedule for 80%" in docs
    other = avg.loc[("joint:mnli+squad_v1", "seq:squad_v1>mnli")]
    assert (f"`seq:squad_v1>mnli`: {other.delta:+.2f} [{other.ci_low:+.2f}, {other.ci_high:+.2f}], "
            f"p = {other.p_permutation:.1g}") in docs
    versus_none = avg.xs("none", level="b")
    assert not versus_none.significant.any() and (versus_none.ci_low < 0).all() and (versus_none.ci_high > 0).all()
    assert f"from {versus_none.delta.min():+.2f} for joint" in docs
    assert f"to {versus_none.delta.max():+.2f} for `single:squad_v1`" in docs


# ---- both ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("study", [V1, V2], ids=["v1", "v2"])
def test_published_report_is_one_code_version_and_links_every_run(study):
    results = _results(study)
    assert results["code_version"].nunique() == 1 and results["params_hash"].nunique() == 1
    index = (study / "index.html").read_text()
    for run in results["run"].unique():
        for page in ("02_intermediate.html", "03_srl_transfer.html"):
            assert f'href="runs/{run}/{page}"' in index and (study / "runs" / run / page).is_file()


def test_v2_index_opens_with_the_answer_the_readme_gives():
    from study.analysis.tables import answer

    _, config, table, interactions, _, _ = _v2_analysis()
    first = answer(table, config.analysis.alpha, interactions).split("\n\n")[0]
    index = (V2 / "index.html").read_text()
    plain = re.sub(r"<[^>]+>", "", index)
    # the first primary sentence's numbers, as the index prints them
    number = re.search(r"[+-]?\d+\.\d\d F1 points \(95% CI \[[^\]]+\]", first).group(0)
    assert number in plain
