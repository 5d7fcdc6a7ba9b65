"""The default study's cost as the study recorded it, for a grid longer than one sitting of the suite.

``study bench --default-study`` runs the default study inside the suite; on 2 cores it takes about
ten hours and is finished over several sittings instead. Each run still records its own cost: its
notebooks carry papermill's start time and duration, its ``history.json`` the seconds of SRL
training and of scoring. This reads those from a study folder, complete or not, so the suite can
state the study's end-to-end time, the per-run overhead of real runs and the cost model's error
from the record (named as such in the table).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from study.infra import layout

RUN_NOTEBOOKS = ("02_intermediate", "03_srl_transfer")
STUDY_NOTEBOOKS = ("01_data", "04_analysis")
#: a run whose 02 notebook took less than this trained no intermediate stage (it loaded or skipped them)
NO_STAGE_SECONDS = 60.0


def _papermill(notebook: Path) -> tuple[str, float] | None:
    try:
        meta = json.loads(notebook.read_text())["metadata"]["papermill"]
        return str(meta["start_time"]), float(meta["duration"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recorded_study(study_dir: Path, grid_runs: int | None = None) -> dict:
    """Seconds per complete run (its notebooks), the study notebooks' last render, and their sum.

    Per-run overhead (wall time that is neither SRL training with its dev evaluations nor scoring)
    is taken on the runs that trained no stage, where the notebooks hold nothing else.
    """
    study_dir = Path(study_dir)
    runs: dict[str, dict] = {}
    for run_dir in sorted((study_dir / layout.RUNS).glob("*")):
        if not layout.run_dir_is_complete(run_dir):
            continue
        timed = {nb: _papermill(run_dir / f"{nb}.ipynb") for nb in RUN_NOTEBOOKS}
        if any(t is None for t in timed.values()):
            continue
        history = json.loads((run_dir / "history.json").read_text())
        compute = history["srl"][-1]["seconds"] + history.get("srl_scoring_seconds", 0.0)
        if history.get("pos"):
            compute += history["pos"][-1]["seconds"] + history.get("pos_scoring_seconds", 0.0)
        seconds = sum(d for _, d in timed.values())
        runs[run_dir.name] = {"seconds": seconds, "started": timed[RUN_NOTEBOOKS[0]][0],
                              "notebooks": {nb: d for nb, (_, d) in timed.items()},
                              "training_and_scoring_seconds": compute,
                              "scoring_seconds": history.get("srl_scoring_seconds"),
                              "trained_stages": timed[RUN_NOTEBOOKS[0]][1] >= NO_STAGE_SECONDS}
    study_notebooks = {nb: t[1] for nb in STUDY_NOTEBOOKS if (t := _papermill(study_dir / f"{nb}.ipynb"))}
    plain = [r for r in runs.values() if not r["trained_stages"]]
    overheads = [r["seconds"] - r["training_and_scoring_seconds"] for r in plain]
    days = sorted({r["started"][:10] for r in runs.values()})
    scoring = [r["scoring_seconds"] for r in runs.values() if r["scoring_seconds"] is not None]
    return {
        "study_dir": str(study_dir), "runs": runs, "runs_complete": len(runs), "grid_runs": grid_runs,
        "study_notebooks": study_notebooks,
        "seconds": sum(r["seconds"] for r in runs.values()) + sum(study_notebooks.values()),
        "days": days,
        "overhead": {"runs": len(plain),
                     "per_run_seconds_median": statistics.median(overheads) if overheads else None,
                     "share_median": (statistics.median(o / r["seconds"] for o, r in zip(overheads, plain,
                                                                                          strict=True))
                                      if overheads else None)},
        "scoring": {"runs": len(scoring), "median_seconds": statistics.median(scoring) if scoring else None,
                    "min_seconds": min(scoring, default=None), "max_seconds": max(scoring, default=None)},
    }


#: the cost model's parts of one run, grouped as its record can tell them apart (a stage's forecast is
#: all of it: its training, dev evaluations and data preparation are in the notebook that trained it)
STAGES, FITS, SCORING, REST = ("intermediate stages", "English SRL fits (dev evaluations included)",
                               "zero-shot scoring", "the rest (data preparation, kernels, rendering)")
PART_GROUPS = {FITS: ("SRL training", "SRL dev evaluation"), SCORING: ("SRL zero-shot scoring",),
               REST: ("data preparation", "per-run overhead")}


def forecast_by_part(record: dict, ctx, rates: dict) -> dict[str, dict[str, float]]:
    """The cost model's forecast for each recorded run, against its record, summed per part.

    Per run: its SRL fit against ``history.json``'s fit seconds, its scoring against the scoring
    seconds, the stages it trained (its 02 notebook took a minute or more) against that notebook's
    duration, and the rest of its notebooks against data preparation and per-run overhead. A total
    within 25% can hide parts that are off in opposite directions; this shows each.
    """
    from study.orchestration.cost import forecast

    specs = {spec.run_id: spec for spec in ctx.runs()}
    sums = {group: {"predicted": 0.0, "recorded": 0.0, "runs": 0} for group in (STAGES, *PART_GROUPS)}

    def add(group: str, predicted: float, recorded: float) -> None:
        sums[group]["predicted"] += predicted
        sums[group]["recorded"] += recorded
        sums[group]["runs"] += 1

    for name, run in record["runs"].items():
        spec = specs.get(name)
        if spec is None or run["scoring_seconds"] is None:
            continue
        parts = forecast(ctx, rates, [], [spec]).parts
        predicted = {group: sum(parts.get(p, 0.0) for p in names) for group, names in PART_GROUPS.items()}
        stage_seconds = run["notebooks"][RUN_NOTEBOOKS[0]] if run["trained_stages"] else 0.0
        if run["trained_stages"]:
            add(STAGES, forecast(ctx, rates, ctx.stages(spec), []).seconds, stage_seconds)
        add(FITS, predicted[FITS], run["training_and_scoring_seconds"] - run["scoring_seconds"])
        add(SCORING, predicted[SCORING], run["scoring_seconds"])
        add(REST, predicted[REST], run["seconds"] - stage_seconds - run["training_and_scoring_seconds"])
    return {group: s for group, s in sums.items() if s["runs"]}


def main(argv: list[str] | None = None) -> int:
    """``python -m study.bench.recorded STUDY_DIR``: the record as JSON (without the per-run entries)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m study.bench.recorded", description=main.__doc__)
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("--runs", action="store_true", help="also print every run's entry")
    args = parser.parse_args(argv)
    record = recorded_study(args.study_dir)
    print(json.dumps(record if args.runs else {k: v for k, v in record.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
