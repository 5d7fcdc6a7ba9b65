"""The report's figures: learning curves, per-language scores, schedule means and deltas (seaborn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from study.infra import layout
from study.infra.atomic import write_text


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


def plot_schedules(scores: pd.DataFrame, order: list[str], size: str | None = None):
    """Per-language SRL F1 by schedule (mean over seeds, 95% bootstrap CI), of one regime if given."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from study.analysis.compare import regime_label, with_regimes

    data = scores[scores.split.isin(["test", "gold-test"])].copy()
    if size is not None:
        data = (data if "regime" in data else with_regimes(data))
        data = data[data.regime == size]
    data["file"] = data["language"] + np.where(data["split"] == "gold-test", " (gold)", "")
    data["F1"] = data["value"] * 100
    fig, ax = plt.subplots(figsize=(12, 4))
    # seaborn divides the dodge by (schedules - 1): a one-schedule study is not dodged
    sns.pointplot(data=data, x="file", y="F1", hue="schedule", hue_order=order, dodge=0.5 if len(order) > 1 else False,
                  linestyle="none",
                  errorbar=("ci", 95), n_boot=1000, seed=0, ax=ax, markersize=4)
    ax.set_title("Zero-shot SRL head F1 per language and schedule (mean over seeds, 95% CI)"
                 + (f",\n{regime_label(size)}" if size is not None else ""))
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
    if "regime" in df and df.regime.nunique() > 1:
        df["pair"] += " (" + df.regime.astype(str) + ")"
    # gold sets as the other figures name them ("*" marks significance in the cells)
    df["file"] = df["language"] + np.where(df["split"] == "gold-test", " (gold)", "")
    mat = df.pivot_table(index="pair", columns="file", values="seeds_delta") * 100
    sig = df.pivot_table(index="pair", columns="file", values="significant", aggfunc="first")
    annot = mat.round(1).astype(str) + np.where(sig.reindex_like(mat).fillna(False).astype(bool), "*", "")
    fig, ax = plt.subplots(figsize=(12, 0.5 * len(mat) + 2))
    sns.heatmap(mat, annot=annot, fmt="", cmap="RdBu", center=0, ax=ax, cbar_kws={"label": "delta F1 (points)"})
    ax.set_title("A - B in SRL head F1 (points), mean over seeds; * = sentence-level permutation p below alpha "
                 "after Holm (descriptive)")
    fig.tight_layout()
    return fig


def plot_run_level_deltas(run_level: pd.DataFrame, runs: pd.DataFrame, a: str, b: str, size: str = "all"):
    """A - B per target (AVG first) in F1 points in one regime: each of A's runs minus B's mean
    (points), the mean difference and its run-level 95% CI; a zero line. The axis spans the deltas."""
    import matplotlib.pyplot as plt

    from study.analysis.compare import regime_label

    rows = run_level[(run_level.a == a) & (run_level.b == b) & (run_level.regime == size)]
    runs = runs.xs(size, level="regime") if size in runs.index.get_level_values("regime") else runs
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(rows) + 1.6))
    if rows.empty:
        ax.set_title(f"{a} vs {b}: no finished runs of both")
        return fig
    order = list(rows.target)
    y = np.arange(len(order))[::-1]
    wa, wb = runs.xs(a, level="schedule"), runs.xs(b, level="schedule")
    for yi, target in zip(y, order, strict=True):
        points = wa[target].dropna().to_numpy() - wb[target].mean()
        ax.scatter(points, np.full(len(points), yi + 0.18), s=10, color="#999", zorder=2,
                   label="A's runs - mean of B" if yi == y[0] else None)
    ax.errorbar(rows.delta, y, xerr=[rows.delta - rows.ci_low, rows.ci_high - rows.delta], fmt="o",
                color="#1f4e9c", capsize=3, zorder=3, label="mean difference, 95% CI over runs")
    ax.axvline(0, color="#444", lw=0.8)
    ax.set_yticks(y, order)
    ax.set_xlabel(f"{a} - {b}, SRL head F1 (points)")
    ax.set_title("Run-level differences per target set (AVG: macro average over the target test sets);\n"
                 f"{regime_label(size)}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def save_answer_figure(figure, study_dir: Path) -> Path | None:
    """``figure`` as ``<study>/answer.svg`` for the index page, or remove a stale one when there is none.

    SVG without a date and with fixed element ids, so the same numbers give the same file.
    """
    import io

    import matplotlib

    path = Path(study_dir) / layout.ANSWER_FIGURE
    if figure is None:
        path.unlink(missing_ok=True)
        return None
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "study", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    write_text(path, buffer.getvalue())
    return path


def plot_size_deltas(run_level: pd.DataFrame, runs: pd.DataFrame):
    """Every AVG comparison's delta in each regime (F1 points): A's runs minus B's mean as points,
    the mean difference with its run-level 95% CI; the primary pair first. Whether an effect moves with
    the amount of English SRL data (or the intermediate budget) is read across a row's regimes."""
    import matplotlib.pyplot as plt

    from study.analysis.compare import regime_label, regimes

    avg = run_level[run_level.target == "AVG"].copy()
    if avg.empty:
        fig, ax = plt.subplots()
        ax.set_title("no comparisons")
        return fig
    sizes = regimes(avg)
    pairs = list(dict.fromkeys(zip(avg.sort_values("role", key=lambda r: r != "primary").a,
                                   avg.sort_values("role", key=lambda r: r != "primary").b, strict=True)))
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(pairs) * len(sizes) + 1.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels, y, shown = [], 0, set()
    for a, b in reversed(pairs):
        rows = []
        for size in reversed(sizes):
            hit = avg[(avg.a == a) & (avg.b == b) & (avg.regime == size)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            at = runs.xs(size, level="regime")
            points = at.xs(a, level="schedule")["AVG"].dropna().to_numpy() - at.xs(b, level="schedule")["AVG"].mean()
            colour = colours[sizes.index(size) % len(colours)]
            ax.scatter(points, np.full(len(points), y + 0.15), s=10, color=colour, alpha=0.6, zorder=2)
            ax.errorbar([r.delta], [y], xerr=[[r.delta - r.ci_low], [r.ci_high - r.delta]], fmt="o", color=colour,
                        capsize=3, zorder=3, label=None if size in shown else regime_label(size))
            shown.add(size)
            rows.append(y)
            y += 1
        if rows:  # the pair's name once, between its regimes' rows
            labels.append((float(np.mean(rows)), f"{a} - {b}"))
        y += 0.5
    ax.axvline(0, color="#444", lw=0.8)
    ax.set_yticks([p for p, _ in labels], [t for _, t in labels], fontsize=8)
    ax.set_xlabel("delta in AVG zero-shot SRL head F1 (points); points: A's runs - mean of B")
    ax.set_title("Run-level AVG differences per regime (95% CI over runs)", pad=22)
    handles = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    names = [regime_label(s) for s in sizes if regime_label(s) in handles]  # smallest size first
    ax.legend([handles[n] for n in names], names, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0),
              ncol=len(names), frameon=False)  # above the plot: it hides no point
    fig.tight_layout()
    return fig
