"""The tables and the generated summary notebooks 02-04 show (figures: ``study.analysis.figures``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def written_summary(across: pd.DataFrame, per_language: pd.DataFrame, n_seeds: int) -> str:
    """A plain-language summary generated from the numbers (headline: joint vs sequential)."""
    if across.empty:
        return "No comparison could be made (too few completed runs)."
    lines = []
    for _, r in across.iterrows():
        direction = "higher" if r["mean_delta"] > 0 else "lower"
        verdict = ("a significant difference across languages" if r["significant"]
                   else "no significant difference across languages")
        lines.append(
            f"- **{r['a']}** vs **{r['b']}** ({r['comparison']}): mean {abs(100 * r['mean_delta']):.2f} F1 points "
            f"{direction} over {r['n_languages']} target sets; Wilcoxon p = {r['p_value']:.3g} "
            f"(Holm {r['p_holm']:.3g}), rank-biserial r = {r['rank_biserial']:.2f}: {verdict}. "
            f"{r['languages_significant_holm']} set(s) differ significantly over sentences after Holm; "
            f"replicability count {r['replicability_count']}."
        )
    headline = across[across["comparison"] == "joint vs sequential"]
    if not headline.empty:
        wins = int((headline["mean_delta"] > 0).sum())
        head = (f"**Joint vs sequential:** joint training is ahead of {wins} of {len(headline)} sequential "
                f"order(s) on average; ")
        head += ("the difference is significant for at least one order." if headline["significant"].any()
                 else "no difference is significant after correction.")
        lines.insert(0, head)
    if not per_language.empty and per_language["seeds_needed_1pt"].notna().any():
        need = per_language["seeds_needed_1pt"].dropna()
        lines.append(f"- Power: with the observed seed-to-seed variance, detecting a 1-point difference per "
                     f"language at 80% power needs a median of {int(need.median())} seeds (this study: {n_seeds}).")
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
