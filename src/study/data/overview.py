"""Tables and figures about the data bundle and the planned grid, for the data notebook (01)."""

from __future__ import annotations

import pandas as pd

from study.config import StudyConfig, expand_runs
from study.data.bundle import BundleReport


def inventory_frame(report: BundleReport) -> pd.DataFrame:
    """One row per bundle data file: group, task/language, split, file, examples, unit."""
    rows = [
        {"group": f.group, "name": f.name, "split": f.split, "file": f.relpath, "examples": f.examples,
         "unit": f.unit}
        for f in report.files
        if f.group != "doc"
    ]
    return pd.DataFrame(rows)


def runs_frame(config: StudyConfig) -> pd.DataFrame:
    """The grid the study executes: run id, schedule, kind, stages, seed, English SRL train sentences."""
    return pd.DataFrame(
        [
            {
                "run": r.run_id,
                "schedule": r.schedule.text,
                "kind": r.schedule.kind,
                "stages": " -> ".join("+".join(s) for s in r.schedule.stages) or "-",
                "seed": r.seed,
                "English SRL train": r.regime,
            }
            for r in expand_runs(config)
        ]
    )


def plot_srl_sizes(inventory: pd.DataFrame):
    """Bar chart of SRL sentences per language and split (log scale: English train dwarfs the rest)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    srl = inventory[inventory["group"] == "srl"].copy()
    srl = srl[srl["unit"] == "sentences"]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    sns.barplot(data=srl, x="name", y="examples", hue="split", ax=ax)
    ax.set_yscale("log")
    ax.set_xlabel("language")
    ax.set_ylabel("sentences (log scale)")
    ax.set_title("SRL data per language and split (English: train/dev/test; others: zero-shot only)")
    fig.tight_layout()
    return fig


def plot_similarity(check) -> object:
    """Heatmap of cosine similarities of the encoder probe sentences."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    sns.heatmap(check.matrix, xticklabels=check.labels, yticklabels=check.labels, annot=True, fmt=".2f",
                cmap="viridis", ax=ax, vmin=0.5, vmax=1.0)
    ax.set_title("Encoder sanity: cosine of mean-pooled embeddings")
    fig.tight_layout()
    return fig
