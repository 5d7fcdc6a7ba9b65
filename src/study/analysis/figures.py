"""The report's figures: learning curves, per-language scores, schedule means and deltas (seaborn)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def plot_curves(long: pd.DataFrame, title: str):
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(8, 3.5))
    if not long.empty:
        sns.lineplot(data=long, x="step", y="value", hue="metric", style="curve", marker="o", ax=ax)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_language_scores(table: pd.DataFrame, title: str):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 3.6))
    data = table.reset_index()
    data["file"] = data["language"] + "/" + data["split"]
    ax.bar(data["file"], data["head_f1"], color=["#444" if lang == "en" else "#4c72b0" for lang in data["language"]])
    ax.set_ylabel("SRL head F1")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


def plot_schedules(scores: pd.DataFrame, order: list[str]):
    """Per-language SRL F1 by schedule (mean over seeds, 95% bootstrap CI)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = scores[scores.split.isin(["test", "gold-test"])].copy()
    data["file"] = data["language"] + np.where(data["split"] == "gold-test", " (gold)", "")
    data["F1"] = data["value"] * 100
    fig, ax = plt.subplots(figsize=(12, 4))
    # seaborn divides the dodge by (schedules - 1): a one-schedule study is not dodged
    sns.pointplot(data=data, x="file", y="F1", hue="schedule", hue_order=order, dodge=0.5 if len(order) > 1 else False,
                  linestyle="none",
                  errorbar=("ci", 95), n_boot=1000, seed=0, ax=ax, markersize=4)
    ax.set_title("Zero-shot SRL head F1 per language and schedule (mean over seeds, 95% CI)")
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    return fig


def plot_deltas(per_language: pd.DataFrame):
    """Heatmap of mean F1 differences (points) per comparison and language, * where Holm-significant."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    if per_language.empty:
        fig, ax = plt.subplots()
        ax.set_title("no comparisons")
        return fig
    df = per_language.copy()
    df["pair"] = df["a"] + "  vs  " + df["b"]
    df["file"] = df["language"] + np.where(df["split"] == "gold-test", "*g", "")
    mat = df.pivot_table(index="pair", columns="file", values="seeds_delta") * 100
    sig = df.pivot_table(index="pair", columns="file", values="significant", aggfunc="first")
    annot = mat.round(1).astype(str) + np.where(sig.reindex_like(mat).fillna(False).astype(bool), "*", "")
    fig, ax = plt.subplots(figsize=(12, 0.5 * len(mat) + 2))
    sns.heatmap(mat, annot=annot, fmt="", cmap="RdBu", center=0, ax=ax, cbar_kws={"label": "delta F1 (points)"})
    ax.set_title("A - B in SRL head F1 (points); * = significant after Holm (permutation test over sentences)")
    fig.tight_layout()
    return fig
