"""The tables and the generated summary notebooks 02-04 show (figures: ``study.analysis.figures``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from study.infra import layout
from study.infra.atomic import write_text
from study.orchestration.run import StageReport


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
    long = df.melt(id_vars=["step"], value_vars=[c for c in df.columns if c not in {"step", "seconds"}],
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
    """Mean over seeds with a bootstrap 95% CI, per schedule and file, plus the macro average."""
    target = scores[(scores.language != "en") & (scores.split == "test")]
    macro = target.groupby(["schedule", "seed"])["value"].mean().reset_index()
    macro["language"], macro["split"] = "AVG", "test"
    data = pd.concat([scores, macro], ignore_index=True)
    rng = np.random.default_rng(seed)
    rows = []
    for (schedule, language, split), grp in data.groupby(["schedule", "language", "split"]):
        v = grp["value"].to_numpy() * 100
        boots = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(1)
        rows.append({"schedule": schedule, "language": language, "split": split, "mean": v.mean(),
                     "ci_low": np.quantile(boots, 0.025), "ci_high": np.quantile(boots, 0.975), "seeds": len(v)})
    return pd.DataFrame(rows)


def _ci(row) -> str:
    if pd.isna(row["ci_low"]):
        return "not available: it needs 2 or more runs per schedule"
    return f"[{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"


def verdict(row) -> str:
    """"higher" / "lower" only where the adjusted p is at most alpha *and* the CI excludes zero."""
    if row["significant"]:
        return "higher" if row["delta"] > 0 else "lower"
    return "no difference detected"


def answer(run_level: pd.DataFrame, alpha: float = 0.05) -> str:
    """The study's answer in a sentence or two, generated from the primary run-level row (F1 points)."""
    if run_level is None or run_level.empty or not (run_level.role == "primary").any():
        return "No answer yet: the primary comparison needs finished runs of both schedules."
    r = run_level[run_level.role == "primary"].iloc[0]
    says = verdict(r)
    level = f"{100 * (1 - alpha):.0f}%"
    head = (f"**{r['a']}** vs **{r['b']}** on the average zero-shot SRL head F1 over the target test sets: "
            f"{r['delta']:+.2f} F1 points ({level} CI {_ci(r)}, exact permutation p = {r['p_permutation']:.3g} over "
            f"{r['n_a']} + {r['n_b']} runs).")
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


def save_answer(study_dir: Path, run_level: pd.DataFrame, alpha: float = 0.05) -> None:
    """``<study>/answer.json``: the answer and its table, which the index page opens with."""
    table = answer_table(run_level)
    write_text(Path(study_dir) / layout.ANSWER, json.dumps(
        {"answer": answer(run_level, alpha), "table": table.to_dict(orient="records")}, indent=2) + "\n")


def answer_table(run_level: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison on AVG: means, delta with its run-level CI, p, adjusted p, verdict (F1 points)."""
    if run_level is None or run_level.empty:
        return pd.DataFrame()
    avg = run_level[run_level.target == "AVG"]
    out = pd.DataFrame({
        "A": avg.a, "B": avg.b, "role": avg.role, "runs": avg.n_a.astype(str) + " + " + avg.n_b.astype(str),
        "AVG A": avg.mean_a.round(2), "AVG B": avg.mean_b.round(2), "delta": avg.delta.round(2),
        "95% CI": [_ci(r) for _, r in avg.iterrows()],
        "p (runs)": avg.p_permutation.round(3), "p adjusted": avg.p_adjusted.round(3),
        "verdict": [verdict(r) for _, r in avg.iterrows()]})
    return out.reset_index(drop=True)


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
