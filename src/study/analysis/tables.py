"""The tables and the generated summary notebooks 02-04 show (figures: ``study.analysis.figures``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis.compare import regime_label, regimes, split_regime, with_regimes
from study.config import ALL
from study.infra import layout
from study.infra.atomic import write_text
from study.orchestration.run import StageReport


def flat(frame: pd.DataFrame):
    """``frame`` as a report shows it: no pandas row numbers, numbers without trailing zeros, missing cells blank."""
    return frame.style.hide(axis="index").format(_number, na_rep="")


def _number(value):
    return f"{value:.6g}" if isinstance(value, float) else value


#: Per-set and across-set descriptives that :func:`study.analysis.compare.compare_schedules` keeps
#: on the 0-1 scale of results.csv; :func:`in_points` shows them in F1 points like everything else.
FRACTION_COLUMNS = ("seeds_mean_a", "seeds_mean_b", "seeds_delta", "seeds_ci_low", "seeds_ci_high",
                    "sent_delta", "sent_ci_low", "sent_ci_high", "mean_delta", "median_delta", "sd_of_differences")
#: Columns in F1 points (after :func:`in_points`): two decimals.
POINT_COLUMNS = {"mean_a", "mean_b", "delta", "ci_low", "ci_high", "hier_ci_low", "hier_ci_high", "sd_runs",
                 "delta_small", "delta_large", "interaction", "mean", *FRACTION_COLUMNS}
#: Counts: whole numbers.
COUNT_COLUMNS = {"n_a", "n_b", "runs_needed_observed", "runs_needed_0.5pt", "runs_needed_1pt", "seeds_needed_1pt",
                 "n_languages", "languages_significant_holm", "seeds", "runs", "sent_n_sentences",
                 "wilcoxon_statistic"}


def in_points(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the F1 differences of :data:`FRACTION_COLUMNS` in points (x100)."""
    out = frame.copy()
    for column in FRACTION_COLUMNS:
        if column in out:
            out[column] = out[column].astype(float) * 100
    return out


def points_table(frame: pd.DataFrame, columns: list[str] | None = None):
    """``frame`` as the report shows it: F1 points at 2 decimals, counts whole, power as a percentage,
    p-values and other ratios at 3 significant digits, missing cells as '-', no row numbers."""
    frame = frame.reindex(columns=columns) if columns is not None else frame
    formats = {}
    for column in frame.columns:
        if column in POINT_COLUMNS:
            formats[column] = "{:.2f}"
        elif column in COUNT_COLUMNS:
            formats[column] = "{:.0f}"
        elif str(column).startswith("power_"):
            formats[column] = "{:.0%}"
        elif str(column).endswith("confidence"):  # a Bonferroni level such as 0.9995 must not read as 1
            formats[column] = "{:.6g}"
        elif pd.api.types.is_float_dtype(frame[column]):
            formats[column] = "{:.3g}"
    return frame.style.hide(axis="index").format(formats, na_rep="-")


def stages_frame(reports: list[StageReport]) -> pd.DataFrame:
    """One row per stage of a run: trained now or reused, steps and examples per task, dev scores."""
    rows = []
    for r in reports:
        rec = r.record
        rows.append({
            "stage": r.spec.label, "key": r.spec.key[:10], "status": "trained" if r.trained else "reused from cache",
            "best_step": rec.get("best_step"),
            **{f"steps_{t}": c["steps"] for t, c in rec.get("consumed", {}).items()},
            **{k: round(v, 4) for k, v in rec.get("best_metrics", {}).items()},
            "train_seconds": round(rec.get("seconds", 0.0), 1),
        })
    return pd.DataFrame(rows)


def history_frame(history: list[dict], label: str) -> pd.DataFrame:
    """Long-format learning curve: step, metric, value."""
    df = pd.DataFrame(history)
    if df.empty:
        return df
    long = df.melt(id_vars=["step"], value_vars=[c for c in df.columns if c not in {"step", "seconds", "eval_seconds"}],
                   var_name="metric", value_name="value")
    long["curve"] = label
    return long


def scores_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per file: SRL head P/R/F1 (x100) and POS accuracy, English first."""
    srl = results[(results.task == "srl") & (results.label == "") &
                  results.metric.isin(["head_f1", "head_precision", "head_recall"])]
    table = srl.pivot_table(index=["language", "split"], columns="metric", values="value").mul(100).round(1)
    pos = results[(results.task == "pos") & (results.metric == "accuracy")].set_index(["language", "split"])["value"]
    table["pos_accuracy"] = (pos * 100).round(1)
    order = sorted(table.index, key=lambda k: (k[0] != "en", k[1] != "dev", k))
    return table.loc[order]


def schedule_means(scores: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Mean over seeds with a bootstrap 95% CI, per regime, schedule and file, plus the macro average."""
    if "regime" not in scores:
        scores = with_regimes(scores)
    target = scores[(scores.language != "en") & (scores.split == "test")]
    macro = target.groupby(["regime", "schedule", "seed"])["value"].mean().reset_index()
    macro["language"], macro["split"] = "AVG", "test"
    data = pd.concat([scores, macro], ignore_index=True)
    rng = np.random.default_rng(seed)
    rows = []
    for (regime, schedule, language, split), grp in data.groupby(["regime", "schedule", "language", "split"]):
        v = grp["value"].to_numpy() * 100
        boots = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(1)
        rows.append({"regime": regime, "schedule": schedule, "language": language, "split": split,
                     "mean": v.mean(), "ci_low": np.quantile(boots, 0.025), "ci_high": np.quantile(boots, 0.975),
                     "seeds": len(v)})
    return pd.DataFrame(rows)


def signed_points(value: float) -> str:
    """A difference in F1 points at 2 decimals with its sign; one that rounds to zero is "0.00", not "-0.00"."""
    text = f"{value:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text


def _ci(row) -> str:
    if pd.isna(row["ci_low"]):
        return "not available: it needs 2 or more runs per schedule"
    return f"[{signed_points(row['ci_low'])}, {signed_points(row['ci_high'])}]"


def verdict(row) -> str:
    """"higher" / "lower" only where the adjusted p is at most alpha *and* the CI excludes zero."""
    if row["significant"]:
        return "higher" if row["delta"] > 0 else "lower"
    return "no difference detected"


def _primary_rows(run_level: pd.DataFrame) -> pd.DataFrame:
    rows = run_level[run_level.role == "primary"]
    if "regime" not in rows:
        return rows
    return rows.set_index("regime").loc[regimes(rows)].reset_index()


def answer(run_level: pd.DataFrame, alpha: float = 0.05, interactions: pd.DataFrame | None = None) -> str:
    """The study's answer in a few sentences, generated from the primary run-level rows (F1 points).

    One sentence per regime (target size, and budget where that is an axis: the primary pair is
    declared per regime), then whether the difference changes with each factor (the interactions),
    each with its CI.
    """
    if run_level is None or run_level.empty or not (run_level.role == "primary").any():
        return "No answer yet: the primary comparison needs finished runs of both schedules."
    primaries = _primary_rows(run_level)
    per_size = "regime" in primaries and (len(primaries) > 1 or primaries.regime.iloc[0] != ALL)
    sentences = [_primary_sentence(r, alpha, per_size) for _, r in primaries.iterrows()]
    if interactions is not None and not interactions.empty:
        r = primaries.iloc[0]
        hit = interactions[(interactions.a == r["a"]) & (interactions.b == r["b"])]
        sentences += [_interaction_sentence(row, alpha) for _, row in hit.iterrows()]
    return "\n\n".join(sentences)


def _primary_sentence(r: pd.Series, alpha: float, per_size: bool) -> str:
    says = verdict(r)
    level = f"{100 * (1 - alpha):.0f}%"
    where = f"With {regime_label(r['regime'])}: " if per_size else ""
    head = (f"{where}**{r['a']}** vs **{r['b']}** on the average zero-shot SRL head F1 over the target test sets: "
            f"{signed_points(r['delta'])} F1 points ({level} CI {_ci(r)}, exact permutation p = "
            f"{r['p_permutation']:.3g} over {r['n_a']} + {r['n_b']} runs).")
    if says == "no difference detected":
        floor = (f" With {r['n_a']} + {r['n_b']} runs the smallest p this design can give is {r['p_floor']:.3g}."
                 if r["p_floor"] > alpha else "")
        tail = f" **Inconclusive: no difference detected at alpha {alpha:g}.**{floor}"
    else:
        tail = f" **{r['a']} is {says}** (the CI excludes zero and p <= {alpha:g})."
    power = r.get("power_0.5pt")
    if power is not None and not pd.isna(power) and not pd.isna(r["sd_runs"]):
        tail += (f" Power to detect 0.5 points with the observed run-to-run SD ({r['sd_runs']:.2f}): "
                 f"{100 * power:.0f}%; 80% needs {r['runs_needed_0.5pt']} runs per schedule.")
    return head + tail


def _interaction_sentence(r: pd.Series, alpha: float) -> str:
    level = f"{100 * (1 - alpha):.0f}%"
    change = (f"{signed_points(r['interaction'])} F1 points ({level} CI {_ci(r)}, Welch p = {r['p_welch']:.3g})"
              if not pd.isna(r["ci_low"])
              else f"{signed_points(r['interaction'])} F1 points (CI needs 2 or more runs per group)")
    factor = r.get("factor", "target size")
    less = "less English data" if factor == "target size" else "a smaller intermediate budget"
    if pd.isna(r["ci_low"]):
        tail = " **Not testable yet.**"
    elif r["ci_excludes_zero"] and r["p_welch"] <= alpha:
        tail = (f" **The difference {'grows' if r['interaction'] > 0 else 'shrinks'} with {less}** "
                "(the CI excludes zero).")
    else:
        tail = f" **No change with {factor} detected** (the CI includes zero or p > alpha)."
    return (f"Does it depend on {factor}? delta at {regime_label(r['small'])} minus delta at "
            f"{regime_label(r['large'])}: {change}.{tail}")


def hypotheses(run_level: pd.DataFrame, interactions: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The pre-registered hypotheses (docs/preregistration.md), each judged by its decision rule.

    A part "held" where its run-level CI excludes zero in the predicted direction and its adjusted p is
    at most alpha, "failed" where the CI excludes zero the other way, else "inconclusive".
    """
    rows = []
    if run_level is None or run_level.empty or "regime" not in run_level:
        return pd.DataFrame(rows)
    avg = run_level[run_level.target == "AVG"]
    keys = regimes(avg)
    sizes = list(dict.fromkeys(split_regime(k)[0] for k in keys))
    multi = [(r.a, r.b) for r in avg.itertuples() if r.a.startswith("joint") and r.b.startswith("seq:")]
    for a, b in dict.fromkeys(multi):
        for key in keys if len(sizes) > 1 else []:
            hit = avg[(avg.a == a) & (avg.b == b) & (avg.regime == key)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            # multi-task ahead with less target data, behind with more
            predicted = 1 if split_regime(key)[0] == sizes[0] else -1
            rows.append({"hypothesis": "H1 (Weller et al. 2022)", "claim": f"{a} {'>' if predicted > 0 else '<'} {b} "
                         f"at {regime_label(key)}", "estimate": r["delta"], "ci_low": r["ci_low"],
                         "ci_high": r["ci_high"], "p": r["p_adjusted"],
                         "verdict": _rule(r["delta"], r["ci_low"], r["ci_high"], r["p_adjusted"], predicted, alpha)})
    if interactions is not None and not interactions.empty:
        by_size = interactions[interactions.b == "none"]
        if "factor" in by_size:
            by_size = by_size[by_size.factor == "target size"]
        for r in by_size.itertuples():
            rows.append({"hypothesis": "H2 (STILTs; Vu et al. 2020)", "claim": f"{r.a} - none larger at "
                         f"{regime_label(r.small)} than at {regime_label(r.large)}", "estimate": r.interaction,
                         "ci_low": r.ci_low, "ci_high": r.ci_high, "p": r.p_welch,
                         "verdict": _rule(r.interaction, r.ci_low, r.ci_high, r.p_welch, 1, alpha)})
    for r in _primary_rows(run_level).itertuples():
        rejected = bool(r.significant)
        rows.append({"hypothesis": "H0", "claim": f"{r.a} = {r.b} at {regime_label(r.regime)}",
                     "estimate": r.delta, "ci_low": r.ci_low, "ci_high": r.ci_high, "p": r.p_adjusted,
                     "verdict": "rejected" if rejected else "not rejected"})
    return pd.DataFrame(rows)


def _rule(estimate: float, low: float, high: float, p: float, predicted: int, alpha: float) -> str:
    if pd.isna(low) or pd.isna(p):
        return "inconclusive"
    if (low > 0 or high < 0) and p <= alpha:
        return "held" if np.sign(estimate) == predicted else "failed"
    return "inconclusive"


def hypothesis_rows(table: pd.DataFrame | None) -> list[dict]:
    """The hypotheses (:func:`hypotheses`) as the index page lists them: F1 points, '-' where not available."""
    if table is None or table.empty:
        return []
    return [{"hypothesis": r.hypothesis, "claim": r.claim, "estimate": signed_points(r.estimate),
             "95% CI": "-" if pd.isna(r.ci_low) else f"[{signed_points(r.ci_low)}, {signed_points(r.ci_high)}]",
             "p": "-" if pd.isna(r.p) else f"{r.p:.3g}", "verdict": r.verdict} for r in table.itertuples()]


def save_answer(study_dir: Path, run_level: pd.DataFrame, alpha: float = 0.05,
                interactions: pd.DataFrame | None = None, strength: pd.DataFrame | None = None,
                hypotheses: pd.DataFrame | None = None) -> None:
    """``<study>/answer.json``: the answer, its table and the hypotheses' verdicts, which the index opens with."""
    table = answer_table(run_level, strength)
    write_text(Path(study_dir) / layout.ANSWER, json.dumps(
        {"answer": answer(run_level, alpha, interactions), "table": display_rows(table),
         "hypotheses": hypothesis_rows(hypotheses)}, indent=2) + "\n")


def display_rows(table: pd.DataFrame) -> list[dict]:
    """The answer table's rows as the index prints them: means at 2 decimals ("51.10", not 51.1), the delta
    signed, p-values at 3 significant digits, '-' where missing."""
    def cell(column: str, value):
        if not isinstance(value, float):
            return value
        if pd.isna(value):
            return "-"
        if column == "delta":
            return signed_points(value)
        return f"{value:.3g}" if column.startswith("p ") else f"{value:.2f}"
    return [{k: cell(k, v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def answer_table(run_level: pd.DataFrame, strength: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per regime and comparison on AVG: means, delta with its run-level CI, p, adjusted p, verdict.

    F1 points. A study whose intermediate budget is an axis gets a column for it. With ``strength``
    (:func:`intermediate_strength`), each side's intermediate tasks and their English dev scores
    stand next to the effect, so a null result can be read against how much was learned.
    """
    if run_level is None or run_level.empty:
        return pd.DataFrame()
    avg = run_level[run_level.target == "AVG"]
    keys = avg.regime if "regime" in avg else pd.Series(ALL, index=avg.index)
    sizes, budgets = keys.map(lambda k: split_regime(k)[0]), keys.map(lambda k: split_regime(k)[1])
    axes = {"English SRL train": sizes.map(lambda v: "all" if v == ALL else f"{int(v):,}")}
    if (budgets != "").any():
        axes["intermediate budget"] = budgets.map(lambda b: f"{float(b):,g}" if b else "")
    out = pd.DataFrame({
        **axes,
        "A": avg.a, "B": avg.b, "role": avg.role, "runs": avg.n_a.astype(str) + " + " + avg.n_b.astype(str),
        "AVG A": avg.mean_a.round(2), "AVG B": avg.mean_b.round(2), "delta": avg.delta.round(2),
        "95% CI": [_ci(r) for _, r in avg.iterrows()],
        "p (runs)": avg.p_permutation.round(3), "p adjusted": avg.p_adjusted.round(3),
        "verdict": [verdict(r) for _, r in avg.iterrows()]})
    if strength is not None and not strength.empty:
        out["intermediate A (en dev)"] = [strength_label(strength, s, b) for s, b in zip(avg.a, budgets, strict=True)]
        out["intermediate B (en dev)"] = [strength_label(strength, s, b) for s, b in zip(avg.b, budgets, strict=True)]
    return out.reset_index(drop=True)


def strength_label(strength: pd.DataFrame, schedule: str, budget: str = "") -> str:
    """A schedule's intermediate tasks with their English dev scores, e.g. "mnli 62.5, squad_v1 38.8".

    ``budget`` picks the stages of one intermediate budget where the study has several.
    """
    mine = strength[strength.schedule == schedule]
    if budget and "intermediate budget" in mine:
        mine = mine[mine["intermediate budget"] == _budget_text(budget)]
    if mine.empty:
        return "none" if schedule == "none" else "not recorded"
    return ", ".join(f"{task} {score:.1f}" for task, score in zip(mine["task"], mine["dev score"], strict=True))


_STEPS = r" \((\d+) steps of [^)]*\)$"


def _budget_text(budget) -> str:
    return f"{float(budget):,g}" if str(budget) not in ("", "nan") else ""


def _step_range(steps: pd.Series) -> str:
    if steps.isna().all():  # a label without its steps
        return ""
    low, high = int(steps.min()), int(steps.max())
    return f"{low}" if low == high else f"{low}-{high}"


def intermediate_strength(results: pd.DataFrame) -> pd.DataFrame:
    """Per schedule and stage: each intermediate task's English dev score (selected checkpoint), over stages.

    Accuracy for classification and multiple choice, exact match for QA, as x100; from the rows runs
    write since intermediate strength is recorded (older runs have none). One seed's stage serves
    the runs of every target size, so it counts once: mean, SD and ``stages`` are over the stages
    trained, not over the runs that reuse them. A joint stage's sampler gives each task a number of
    steps that varies by seed, shown as a range.
    """
    columns = ["schedule", "stage", "task", "steps", "dev score", "sd", "stages"]
    rows = results[results.task == "intermediate"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    budgets = (rows["intermediate_budget"].map(_budget_text) if "intermediate_budget" in rows
               else pd.Series("", index=rows.index))
    rows = rows.assign(task_name=rows.metric.str.removeprefix("dev_"), value=rows.value.astype(float) * 100,
                       stage=rows.label.str.replace(_STEPS, "", regex=True),
                       steps=pd.to_numeric(rows.label.str.extract(_STEPS)[0]), budget=budgets)
    trained = rows.drop_duplicates(["schedule", "budget", "seed" if "seed" in rows else "run", "stage", "task_name"])
    keys = ["schedule", "budget", "stage", "task_name"]
    grouped = trained.groupby(keys, sort=False)
    table = grouped["value"].agg(["mean", "std", "count"]).reset_index()
    table.insert(4, "steps", grouped["steps"].agg(_step_range).to_numpy())
    table = table.rename(columns={"budget": "intermediate budget", "task_name": "task", "mean": "dev score",
                                  "std": "sd", "count": "stages"}).round({"dev score": 1, "sd": 1})
    if table["intermediate budget"].nunique() <= 1:
        table = table.drop(columns="intermediate budget")
    return table


def written_summary(across: pd.DataFrame, per_language: pd.DataFrame, n_seeds: int) -> str:
    """Secondary descriptives over target sets and sentences, labelled as such (signed numbers, no verdicts).

    The sets share each run's encoder, so a test with sets (or sentences) as units is not evidence
    about schedules: the run-level table answers that (:func:`answer`).
    """
    if across.empty:
        return "No comparison could be made (too few completed runs)."
    lines = ["Descriptive, not the inference (target sets and sentences of the same runs are not independent "
             "replicates; the run-level table above is):"]
    for _, r in across.iterrows():
        lines.append(
            f"- {r['a']} vs {r['b']} ({r['comparison']}): mean difference {100 * r['mean_delta']:+.2f} F1 points over "
            f"{r['n_languages']} target sets (Wilcoxon over sets p = {r['p_value']:.3g}, rank-biserial "
            f"r = {r['rank_biserial']:+.2f}); {r['languages_significant_holm']} set(s) with a sentence-level "
            "p below alpha after Holm.")
    if not per_language.empty and per_language["seeds_needed_1pt"].notna().any():
        need = per_language["seeds_needed_1pt"].dropna()
        lines.append(f"- Per set, with the observed seed-to-seed variance, a 1-point difference at 80% power needs a "
                     f"median of {int(need.median())} matched seeds (this study: {n_seeds}).")
    return "\n".join(lines)


def no_stage_message(schedule) -> str:
    """What notebook 02 says for a schedule without cached intermediate stages."""
    if schedule.kind == "joint+srl":
        return (f"{schedule.text}: the intermediate tasks are trained together with English SRL in one mixture "
                "(notebook 03), not as cached stages")
    return f"schedule {schedule.text}: no intermediate stage"


def prefix_table(rows: list[dict]) -> pd.DataFrame:
    """Head F1 on each file's first instances and on the whole file, in F1 points (notebook 03).

    The prototype the SRL bar came from reported de/fr/es/zh only; a study scoring none of them gets
    an empty table with the same columns, not an error.
    """
    frame = pd.DataFrame(rows, columns=["language", "split", "instances", "head_f1_first", "head_f1_file"])
    return frame.assign(head_f1_first=(100 * frame.head_f1_first.astype(float)).round(1),
                        head_f1_file=(100 * frame.head_f1_file.astype(float)).round(1))
