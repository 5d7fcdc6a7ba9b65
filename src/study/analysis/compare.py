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
from study.analysis.run_level import (
    hierarchical_bootstrap,
    interaction_interval,
    permutation_power,
    pooled_sd,
    run_level_test,
    runs_needed,
)
from study.analysis.stats import holm, seed_test, seeds_needed, sentence_test, wilcoxon_across
from study.config import ALL, StudyConfig
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
    return with_regimes(df)


#: joins a regime's target size and intermediate budget where the budget is an axis ("1000@1200")
BUDGET_MARK = "@"


def with_regimes(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a ``regime`` column, the cell of the grid's size x budget axes a row belongs to.

    The regime is the target size (``train_sentences``) where the study has one intermediate budget,
    so such studies keep their tables; where ``intermediate.budget.per_task`` is an axis it is
    ``<size>@<budget>``, and the rows of schedules without intermediate tasks (``none``, no budget)
    are repeated in every budget's regime: they are every budget's comparator. Runs from before
    the axes existed trained on all of English train at the study's one budget.
    """
    df = df.copy()
    df["train_sentences"] = (df["train_sentences"].astype(str).replace("", ALL) if "train_sentences" in df
                             else ALL)
    df["intermediate_budget"] = df["intermediate_budget"].astype(str) if "intermediate_budget" in df else ""
    budgets = sorted({b for b in df["intermediate_budget"] if b}, key=float)
    if len(budgets) <= 1:
        return df.assign(regime=df["train_sentences"])
    plain = df[df["intermediate_budget"] == ""]
    df = pd.concat([df[df["intermediate_budget"] != ""]] + [plain.assign(intermediate_budget=b) for b in budgets],
                   ignore_index=True)
    return df.assign(regime=df["train_sentences"] + BUDGET_MARK + df["intermediate_budget"])


def split_regime(regime: str) -> tuple[str, str]:
    """(target size, intermediate budget or "") of a regime key."""
    size, _, budget = str(regime).partition(BUDGET_MARK)
    return size, budget


def _regime_order(regime: str) -> tuple:
    size, budget = split_regime(regime)
    return (size == ALL, int(size) if size != ALL else 0, float(budget) if budget else 0.0)


def regimes(frame: pd.DataFrame) -> list[str]:
    """The regimes present: smallest target size first (``all`` last), then by intermediate budget."""
    if "regime" not in frame and "regime" in (frame.index.names or []):
        frame = frame.reset_index()
    values = set(frame["regime"]) if "regime" in frame else set(with_regimes(frame)["regime"])
    return sorted(values, key=_regime_order)


def regime_contrasts(keys: list[str]) -> list[tuple[str, str, str]]:
    """(factor, smaller, larger) regime pairs whose difference in a delta is an interaction.

    Per budget, the smallest target size against the largest ("target size"); per size, the
    smallest budget against the largest ("intermediate budget").
    """
    keys = sorted(keys, key=_regime_order)
    parsed = [split_regime(k) for k in keys]
    sizes = list(dict.fromkeys(s for s, _ in parsed))
    budgets = sorted({b for _, b in parsed}, key=lambda b: float(b) if b else 0.0)
    key = dict(zip(parsed, keys, strict=True))
    out = []
    for b in budgets:
        at = [s for s in sizes if (s, b) in key]
        if len(at) > 1:
            out.append(("target size", key[(at[0], b)], key[(at[-1], b)]))
    for s in sizes:
        at = [b for b in budgets if (s, b) in key]
        if len(at) > 1:
            out.append(("intermediate budget", key[(s, at[0])], key[(s, at[-1])]))
    return out


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
    """SRL head F1 per run and scored file (target languages, gold sets, English test and dev), with regimes."""
    sel = df[(df.task == "srl") & (df.metric == "head_f1") & (df.label == "") & (df.language != "AVG")]
    sel = sel if "regime" in sel else with_regimes(sel)
    return sel[["run", "schedule", "seed", "regime", "train_sentences", "intermediate_budget", "language", "split",
                "value"]].reset_index(drop=True)


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


def primary_pair(config: StudyConfig) -> tuple[str, str] | None:
    """The comparison the study answers: ``analysis.primary``, else the first joint vs its first sequential."""
    if config.analysis.primary != "default":
        return tuple(config.analysis.primary)  # type: ignore[return-value]
    schedules = config.parsed_schedules()
    for j in (s for s in schedules if s.kind == "joint"):
        for q in (s for s in schedules if s.kind == "seq" and set(s.tasks) == set(j.tasks)):
            return j.text, q.text
    return None


def per_run_targets(scores: pd.DataFrame) -> pd.DataFrame:
    """Runs x targets (F1 points): each target set (test splits and gold sets) and AVG over the test sets.

    AVG is each run's own macro average (XTREME), so it is one number per run, as the runs are the
    replicates; index (regime, schedule, seed, run).
    """
    targets = scores[(scores.language != "en") & scores.split.isin(["test", "gold-test"])]
    targets = (targets if "regime" in targets else with_regimes(targets)).copy()
    targets["target"] = targets.language + np.where(targets.split == "test", "", "/" + targets.split)
    wide = targets.pivot_table(index=["regime", "schedule", "seed", "run"], columns="target",
                               values="value") * 100
    wide.insert(0, "AVG", wide[test_set_columns(wide)].mean(axis=1))
    return wide


def test_set_columns(wide: pd.DataFrame) -> list[str]:
    """The target test files among :func:`per_run_targets`' columns (gold sets are ``lang/gold-test``)."""
    return [c for c in wide.columns if c != "AVG" and "/" not in c]


def run_level_table(scores: pd.DataFrame, family: list[tuple[str, str, str]], primary: tuple[str, str] | None,
                    alpha: float = 0.05, n_boot: int = 2000) -> pd.DataFrame:
    """Every comparison of the family (and the primary) over runs, per regime, on AVG and each target set.

    In F1 points. The primary pair's AVG row of each regime (target size, and budget where that is an
    axis) is tested alone at ``alpha`` (declared before the runs, per size: docs/preregistration.md);
    the other AVG rows are Holm-corrected among themselves across regimes; per-set rows are
    Holm-corrected within their pair and regime and are descriptive. Power and runs needed use the
    pooled run-to-run SD of the two schedules.
    """
    wide = per_run_targets(scores)
    pairs = list(family)
    if primary and not any((a, b) == primary for a, b, _ in pairs):
        pairs.insert(0, (primary[0], primary[1], "primary"))
    rows = []
    for regime in regimes(wide.reset_index()):
        rows += _run_level_rows(wide.xs(regime, level="regime"), pairs, primary, alpha, n_boot, regime)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adjusted"] = np.nan
    table["adjustment"] = ""
    avg = table.target == "AVG"
    primary_rows = avg & (table.role == "primary")
    table.loc[primary_rows, "p_adjusted"] = table.loc[primary_rows, "p_permutation"]
    table.loc[primary_rows, "adjustment"] = "none (primary, declared)"
    secondary = avg & (table.role == "secondary")
    if secondary.any():
        table.loc[secondary, "p_adjusted"] = holm(table.loc[secondary, "p_permutation"].tolist(), alpha)[1]
        table.loc[secondary, "adjustment"] = f"Holm over {int(secondary.sum())} secondary comparisons"
    for (regime, a, b), idx in table[~avg].groupby(["regime", "a", "b"]).groups.items():
        table.loc[idx, "p_adjusted"] = holm(table.loc[idx, "p_permutation"].tolist(), alpha)[1]
        table.loc[idx, "adjustment"] = f"Holm over the {len(idx)} sets of {a} vs {b} ({regime_label(regime)})"
    table["ci_excludes_zero"] = (table.ci_low > 0) | (table.ci_high < 0)
    table["significant"] = (table.p_adjusted <= alpha) & table.ci_excludes_zero
    return table


def regime_label(regime: str) -> str:
    """How a regime reads in tables and the report: its target size, and its budget where that is an axis."""
    size, budget = split_regime(regime)
    text = "all English SRL train sentences" if size == ALL else f"{int(size):,} English SRL train sentences"
    return text + (f", intermediate budget {float(budget):,g} per task" if budget else "")


def _run_level_rows(wide: pd.DataFrame, pairs: list[tuple[str, str, str]], primary: tuple[str, str] | None,
                    alpha: float, n_boot: int, regime: str) -> list[dict]:
    """The run-level rows of one target size (``wide``: runs x targets of that size)."""
    rows = []
    test_sets = test_set_columns(wide)
    schedules = set(wide.index.get_level_values("schedule"))
    for a, b, why in pairs:
        if a not in schedules or b not in schedules:
            continue
        wa, wb = wide.xs(a, level="schedule"), wide.xs(b, level="schedule")
        role = "primary" if (a, b) == primary else "secondary"
        for target in wide.columns:
            va, vb = wa[target].dropna().to_numpy(), wb[target].dropna().to_numpy()
            if len(va) == 0 or len(vb) == 0:
                continue
            # the regime joins the seed only off the full size, so studies without the axis keep their numbers
            base_seed = int(stable_hash([a, b, target] + ([regime] if regime != ALL else []), 8), 16)
            t = run_level_test(va, vb, alpha, base_seed)
            sd = pooled_sd(va, vb)
            n = min(len(va), len(vb))
            row = {"regime": regime, "a": a, "b": b, "comparison": why,
                   "role": role if target == "AVG" else "per set", "target": target, **asdict(t), "sd_runs": sd,
                   "power_0.5pt": permutation_power(0.5, sd, n, alpha),
                   "power_1pt": permutation_power(1.0, sd, n, alpha),
                   "runs_needed_observed": runs_needed(t.delta, sd, alpha),
                   "runs_needed_0.5pt": runs_needed(0.5, sd, alpha), "runs_needed_1pt": runs_needed(1.0, sd, alpha)}
            if target == "AVG":  # "for new languages like these": runs, then target test sets resampled
                _, lo, hi = hierarchical_bootstrap(wa[test_sets].to_numpy(), wb[test_sets].to_numpy(), n_boot,
                                                   base_seed, alpha)
                row.update(hier_ci_low=lo, hier_ci_high=hi)
            rows.append(row)
    return rows


def interaction_table(scores: pd.DataFrame, pairs: list[tuple[str, str]], alpha: float = 0.05) -> pd.DataFrame:
    """Does a pair's AVG delta change with a factor? delta(smaller level) - delta(larger level), per pair.

    The factors are the target size (smallest against largest, at each budget) and, where it is an
    axis, the intermediate budget (smallest against largest, at each size): ``factor``, ``small``
    and ``large`` name the contrast. Welch-Satterthwaite CI and p over the four groups of runs (F1
    points); empty with one regime.
    """
    wide = per_run_targets(scores)
    rows = []
    contrasts = regime_contrasts(regimes(wide))
    for (factor, small, large), (a, b) in ((c, p) for c in contrasts for p in dict.fromkeys(pairs)):
        groups = {}
        for regime in (small, large):
            at = wide.xs(regime, level="regime")
            present = set(at.index.get_level_values("schedule"))
            if a in present and b in present:
                groups[regime] = (at.xs(a, level="schedule")["AVG"].dropna().to_numpy(),
                                  at.xs(b, level="schedule")["AVG"].dropna().to_numpy())
        if len(groups) != 2:
            continue
        estimate, lo, hi, p = interaction_interval(groups, alpha)
        deltas = {r: float(x.mean() - y.mean()) for r, (x, y) in groups.items()}
        rows.append({"factor": factor, "a": a, "b": b, "small": small, "large": large, "delta_small": deltas[small],
                     "delta_large": deltas[large], "interaction": estimate, "ci_low": lo, "ci_high": hi,
                     "p_welch": p, "ci_excludes_zero": bool(lo > 0 or hi < 0)})
    return pd.DataFrame(rows)


@dataclass
class Comparison:
    """All test tables of a study: run-level (the inference), then sentence- and set-level descriptives."""

    per_language: pd.DataFrame
    across_languages: pd.DataFrame
    provenance: pd.DataFrame
    family: list[tuple[str, str, str]]
    run_level: pd.DataFrame
    primary: tuple[str, str] | None
    #: per pair, how its AVG delta changes with target size (empty with one size)
    interactions: pd.DataFrame


def compare_schedules(
    config: StudyConfig, study_dir: Path, data_root: Path, allow_mixed: bool = False,
    family: list[tuple[str, str, str]] | None = None,
) -> Comparison:
    """Run every test of the family on every target file (test splits and gold sets)."""
    df = load_results(study_dir)
    provenance = check_provenance(df, allow_mixed)
    scores = srl_scores(df)
    sizes = regimes(scores)
    # the best single task is chosen on English dev at the largest size, one family for every regime
    largest = split_regime(sizes[-1])[0]
    dev = scores[(scores.language == "en") & (scores.split == "dev") & (scores.train_sentences == largest)]
    if family is None:
        family = (default_family(config, dev) if config.analysis.comparisons == "default"
                  else [(a, b, "declared") for a, b in config.analysis.comparisons])
    targets = scores[(scores.language != "en") & scores.split.isin(["test", "gold-test"])]
    files = sorted(set(zip(targets.language, targets.split, strict=True)))
    a_cfg = config.analysis
    n_tests = max(1, len(family) * len(files) * len(sizes))
    confidence = 1 - a_cfg.alpha / n_tests  # Bonferroni for ASO, passed explicitly
    in_family = {s for pair in family for s in pair[:2]}
    runs_per_file: dict[tuple[str, str], set[str]] = {}
    for row in targets[targets.schedule.isin(in_family)].itertuples():
        runs_per_file.setdefault((row.language, row.split), set()).add(row.run)
    counts = prediction_counts(study_dir, data_root, {k: sorted(v) for k, v in runs_per_file.items()},
                               config.srl.predicate_scope, config.srl.max_eval_sentences, a_cfg.workers)
    rows = []
    for regime, a, b, why, language, split in ((r, a, b, why, lang, sp) for r in sizes for a, b, why in family
                                               for lang, sp in files):
        at = targets[(targets.regime == regime) & (targets.language == language)
                     & (targets.split == split)]
        fa, fb = at[at.schedule == a], at[at.schedule == b]
        seeds = sorted(set(fa.seed) & set(fb.seed))
        if not seeds:
            continue
        va = fa.set_index("seed").loc[seeds, "value"].to_numpy()
        vb = fb.set_index("seed").loc[seeds, "value"].to_numpy()
        # stable per test, any order; the regime joins it off the full size (earlier studies keep their numbers)
        base_seed = int(stable_hash([a, b, language, split] + ([regime] if regime != ALL else []), 8), 16)
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
            "regime": regime, "a": a, "b": b, "comparison": why, "language": language, "split": split,
            **{f"seeds_{k}": v for k, v in asdict(seed_res).items()},
            **{f"sent_{k}": v for k, v in asdict(sent).items()},
            "sd_of_differences": sd, "aso_confidence": confidence,
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
    for regime, a, b, why in ((r, a, b, why) for r in sizes for a, b, why in family):
        if per_language.empty:
            continue
        sub = per_language[(per_language.regime == regime) & (per_language.a == a) & (per_language.b == b)]
        if sub.empty:
            continue
        stat, p, rb = wilcoxon_across(sub["seeds_delta"].to_numpy())
        across.append({"regime": regime, "a": a, "b": b, "comparison": why, "n_languages": len(sub),
                       "mean_delta": float(sub["seeds_delta"].mean()),
                       "median_delta": float(sub["seeds_delta"].median()),
                       "wilcoxon_statistic": stat, "p_value": p, "rank_biserial": rb,
                       "languages_significant_holm": int(sub["significant"].sum())})
    across_df = pd.DataFrame(across)
    if not across_df.empty:
        reject, adjusted = holm(across_df["p_value"].tolist(), a_cfg.alpha)
        across_df["p_holm"] = adjusted
        across_df["significant"] = reject
    primary = primary_pair(config)
    run_level = run_level_table(scores, family, primary, a_cfg.alpha, a_cfg.bootstrap_samples)
    pairs = ([primary] if primary else []) + [(a, b) for a, b, _ in family]
    interactions = interaction_table(scores, pairs, a_cfg.alpha)
    return Comparison(per_language, across_df, provenance, family, run_level, primary, interactions)
