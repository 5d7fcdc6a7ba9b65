"""Compare schedules across the whole study: the results table in, tidy test tables out.

Reads only the runs' ``results.csv`` files (complete runs only) and their prediction files. Refuses
to compare runs whose code version, data checksums or encoder differ unless told to
(``allow_mixed``); the provenance of every run is listed either way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis.prediction_counts import prediction_counts
from study.analysis.stats import holm, replicability_count, seed_test, seeds_needed, sentence_test, wilcoxon_across
from study.config import StudyConfig
from study.infra.errors import StudyError
from study.infra.hashing import stable_hash
from study.infra.layout import run_dir_is_complete

PROVENANCE_COLUMNS = ("code_version", "params_hash", "data_sha256sums", "encoder_sha256")


def load_results(study_dir: Path) -> pd.DataFrame:
    """All complete runs' results (complete as ``study.infra.layout`` defines it, as the runner does)."""
    frames = []
    for run_dir in sorted((Path(study_dir) / "runs").glob("*")):
        if run_dir_is_complete(run_dir):
            frames.append(pd.read_csv(run_dir / "results.csv", keep_default_na=False,
                                      dtype={"label": str, "code_version": str}))
    if not frames:
        raise StudyError(f"{study_dir}: no completed runs to analyse (run `study run` first)")
    df = pd.concat(frames, ignore_index=True)
    df["value"] = df["value"].astype(float)
    return df


def check_provenance(df: pd.DataFrame, allow_mixed: bool = False) -> pd.DataFrame:
    """One row per distinct provenance; raises if runs differ and ``allow_mixed`` is False.

    Uncommitted changes (``-dirty``) are listed but do not by themselves stop the comparison.
    """
    table = df.groupby(list(PROVENANCE_COLUMNS))["run"].unique().reset_index()
    table["runs"] = table["run"].map(lambda r: ", ".join(sorted(r)))
    table = table.drop(columns="run")
    differing = [c for c in ("code_version", "data_sha256sums", "encoder_sha256") if table[c].nunique() > 1]
    if differing and not allow_mixed:
        raise StudyError(
            f"runs differ in {', '.join(differing)}; comparing them would mix experiments. Re-run the "
            "stale runs, or pass allow_mixed=True (the report then lists every provenance)."
        )
    return table


def srl_scores(df: pd.DataFrame) -> pd.DataFrame:
    """SRL head F1 per run and scored file (target languages, gold sets, English test and dev)."""
    sel = df[(df.task == "srl") & (df.metric == "head_f1") & (df.label == "") & (df.language != "AVG")]
    return sel[["run", "schedule", "seed", "language", "split", "value"]].reset_index(drop=True)


def default_family(config: StudyConfig, dev_scores: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(A, B, why) pairs: joint vs sequential over the same tasks; each vs none; each vs best single.

    The best single-task schedule is chosen on English dev SRL F1 (XTREME: select on English dev only).
    """
    schedules = [s for s in config.parsed_schedules()]
    texts = {s.text for s in schedules}
    pairs: list[tuple[str, str, str]] = []
    for j in (s for s in schedules if s.kind == "joint"):
        for q in (s for s in schedules if s.kind == "seq" and set(s.tasks) == set(j.tasks)):
            pairs.append((j.text, q.text, "joint vs sequential"))
    for m in (s for s in schedules if s.kind == "joint+srl"):  # multi-task including the target task
        for q in (s for s in schedules if s.kind in {"seq", "joint"} and set(s.tasks) == set(m.tasks)):
            pairs.append((m.text, q.text, f"joint+srl vs {'sequential' if q.kind == 'seq' else 'joint'}"))
    if "none" in texts:
        pairs += [(s.text, "none", "vs no intermediate task") for s in schedules if s.kind != "none"]
    singles = [s.text for s in schedules if s.kind == "single"]
    if singles and not dev_scores.empty:
        dev = dev_scores[dev_scores.schedule.isin(singles)].groupby("schedule")["value"].mean()
        if not dev.empty:
            best = str(dev.idxmax())
            pairs += [(s.text, best, "vs best single (English dev)") for s in schedules
                      if s.kind in {"seq", "joint", "joint+srl"}]
    return pairs


@dataclass
class Comparison:
    """All test tables of a study."""

    per_language: pd.DataFrame
    across_languages: pd.DataFrame
    provenance: pd.DataFrame
    family: list[tuple[str, str, str]]


def compare_schedules(
    config: StudyConfig, study_dir: Path, data_root: Path, allow_mixed: bool = False,
    family: list[tuple[str, str, str]] | None = None,
) -> Comparison:
    """Run every test of the family on every target file (test splits and gold sets)."""
    df = load_results(study_dir)
    provenance = check_provenance(df, allow_mixed)
    scores = srl_scores(df)
    dev = scores[(scores.language == "en") & (scores.split == "dev")]
    if family is None:
        family = (default_family(config, dev) if config.analysis.comparisons == "default"
                  else [(a, b, "declared") for a, b in config.analysis.comparisons])
    targets = scores[(scores.language != "en") & scores.split.isin(["test", "gold-test"])]
    files = sorted(set(zip(targets.language, targets.split, strict=True)))
    a_cfg = config.analysis
    n_tests = max(1, len(family) * len(files))
    confidence = 1 - a_cfg.alpha / n_tests  # Bonferroni for ASO, passed explicitly
    in_family = {s for pair in family for s in pair[:2]}
    runs_per_file: dict[tuple[str, str], set[str]] = {}
    for row in targets[targets.schedule.isin(in_family)].itertuples():
        runs_per_file.setdefault((row.language, row.split), set()).add(row.run)
    counts = prediction_counts(study_dir, data_root, {k: sorted(v) for k, v in runs_per_file.items()},
                               config.srl.predicate_scope, config.srl.max_eval_sentences, a_cfg.workers)
    rows = []
    for a, b, why in family:
        for language, split in files:
            fa = targets[(targets.schedule == a) & (targets.language == language) & (targets.split == split)]
            fb = targets[(targets.schedule == b) & (targets.language == language) & (targets.split == split)]
            seeds = sorted(set(fa.seed) & set(fb.seed))
            if not seeds:
                continue
            va = fa.set_index("seed").loc[seeds, "value"].to_numpy()
            vb = fb.set_index("seed").loc[seeds, "value"].to_numpy()
            base_seed = int(stable_hash([a, b, language, split], 8), 16)  # stable per test, any order
            seed_res = seed_test(va, vb, confidence, a_cfg.aso_iterations, a_cfg.bootstrap_samples, base_seed,
                                 a_cfg.alpha)
            run_a = fa.set_index("seed").loc[seeds, "run"].tolist()
            run_b = fb.set_index("seed").loc[seeds, "run"].tolist()
            ca = np.concatenate([counts[(r, language, split)] for r in run_a])
            cb = np.concatenate([counts[(r, language, split)] for r in run_b])
            sent = sentence_test(ca, cb, a_cfg.bootstrap_samples, a_cfg.permutation_samples, base_seed, a_cfg.alpha)
            d = va - vb
            sd = float(np.std(d, ddof=1)) if len(d) > 1 else float("nan")
            rows.append({
                "a": a, "b": b, "comparison": why, "language": language, "split": split,
                **{f"seeds_{k}": v for k, v in asdict(seed_res).items()},
                **{f"sent_{k}": v for k, v in asdict(sent).items()},
                "sd_of_differences": sd,
                "seeds_needed_1pt": seeds_needed(sd, 0.01, a_cfg.alpha) if len(d) > 1 else None,
            })
    per_language = pd.DataFrame(rows)
    if not per_language.empty:
        reject, adjusted = holm(per_language["sent_p_permutation"].tolist(), a_cfg.alpha)
        per_language["p_holm"] = adjusted
        per_language["significant"] = reject
        per_language["aso_a_better"] = per_language["seeds_eps_min"].map(
            lambda e: e is not None and not pd.isna(e) and e < a_cfg.aso_threshold)
    across = []
    for a, b, why in family:
        sub = per_language[(per_language.a == a) & (per_language.b == b)] if not per_language.empty else per_language
        if sub.empty:
            continue
        stat, p, rb = wilcoxon_across(sub["seeds_delta"].to_numpy())
        across.append({"a": a, "b": b, "comparison": why, "n_languages": len(sub),
                       "mean_delta": float(sub["seeds_delta"].mean()),
                       "median_delta": float(sub["seeds_delta"].median()),
                       "wilcoxon_statistic": stat, "p_value": p, "rank_biserial": rb,
                       "replicability_count": replicability_count(sub["sent_p_permutation"].to_numpy(), a_cfg.alpha),
                       "languages_significant_holm": int(sub["significant"].sum())})
    across_df = pd.DataFrame(across)
    if not across_df.empty:
        reject, adjusted = holm(across_df["p_value"].tolist(), a_cfg.alpha)
        across_df["p_holm"] = adjusted
        across_df["significant"] = reject
    return Comparison(per_language, across_df, provenance, family)
