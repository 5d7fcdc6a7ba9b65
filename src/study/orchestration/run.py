"""What one run of the grid does, callable from notebooks, the CLI and the tests.

``open_study`` validates everything up front (params, bundle, encoder). For a run (schedule x seed):
``run_intermediate`` trains or reuses its stages (notebook 02), ``run_target`` fine-tunes English SRL
and UD-POS from the resulting encoder and scores every target file zero-shot (notebook 03), writing
the run's tidy ``results.csv`` and prediction files, and its marker last (``DONE.json``, or
``DONE.pending.json`` until notebook 03 completes it; see ``infra.layout``).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import torch

from study.config import (
    RunSpec,
    StudyConfig,
    expand_runs,
    largest_size,
    load_params,
    run_budget,
    run_config,
    target_sizes,
)
from study.data.bundle import require_valid_bundle
from study.data.languages import resolve_languages
from study.encoder.build import OFFLINE_ENCODER_NAME, build_encoder
from study.encoder.load import encoder_fingerprint, load_tokenizer
from study.infra import layout
from study.infra.atomic import write_text
from study.infra.errors import ParamsError, StudyError
from study.infra.hashing import sha256_file, stable_hash
from study.infra.live import live
from study.infra.paths import reports_root
from study.infra.provenance import collect_provenance
from study.intermediate.stage_cache import StageCache, StageSpec, plan_stages
from study.target.job import TargetJob
from study.target.joint_srl import train_joint_srl
from study.target.pos import evaluate_pos, train_pos
from study.target.srl.evaluate import evaluate_srl, target_files
from study.target.srl.saved import save_srl_model
from study.target.srl.train import SrlTraining, train_srl
from study.training import distributed
from study.training.engine import CHECKPOINT, set_threads

RESULT_COLUMNS = ("run", "schedule", "seed", "train_sentences", "intermediate_budget", "task", "language", "split",
                  "metric", "label", "value", "code_version", "params_hash", "data_sha256sums", "encoder_sha256")


@dataclass
class StudyContext:
    """A validated study: config, verified data, ready encoder, provenance."""

    config: StudyConfig
    params_file: Path
    data_root: Path
    data_fingerprint: str
    languages: list[str]
    encoder_id: dict
    provenance: dict
    reports_dir: Path
    stage_cache: StageCache = field(default_factory=StageCache)

    @cached_property
    def tokenizer(self):
        return load_tokenizer(self.config.encoder.name)

    @property
    def study_dir(self) -> Path:
        return layout.study_dir(self.reports_dir, self.config.study_name)

    def run_dir(self, run: RunSpec) -> Path:
        return layout.run_dir(self.study_dir, run.run_id)

    def run_cache_dir(self, run: RunSpec) -> Path:
        """Resume checkpoints and the saved SRL model of ``run``.

        Keyed by everything that makes them what they are: the params, the data and encoder checksums,
        and the run folder they belong to, so a checkpoint trained on other data or for another
        reports folder is never resumed, and a saved model a finished run names is never overwritten
        by a run elsewhere.
        """
        key = stable_hash({"params": self.config.params_hash(), "data": self.data_fingerprint,
                           "encoder": self.encoder_id.get("weights_sha256") or self.encoder_id.get("location"),
                           "run_dir": str(self.run_dir(run).resolve())})
        return layout.run_cache_dir(self.stage_cache.root.parent, self.config.study_name, key, run.run_id)

    def runs(self) -> list[RunSpec]:
        return expand_runs(self.config)

    def run(self, run_id: str) -> RunSpec:
        for run in self.runs():
            if run.run_id == run_id:
                return run
        raise StudyError(f"no run '{run_id}' in {self.params_file}; runs: {', '.join(r.run_id for r in self.runs())}")

    def run_config(self, run: RunSpec) -> StudyConfig:
        """The config ``run`` computes with (its own intermediate budget where that is an axis)."""
        return run_config(self.config, run)

    def stages(self, run: RunSpec) -> list[StageSpec]:
        return plan_stages(self.run_config(run), run.schedule, run.seed, self.encoder_id, self.data_fingerprint)


def open_study(params_file: Path, reports_dir: Path | None = None, build: bool = True) -> StudyContext:
    """Validate params (also against the bundle), verify the data, make sure the encoder exists."""
    params_file = Path(params_file)
    config = load_params(params_file)
    bundle = require_valid_bundle(config.data_root)
    languages = resolve_languages(config, bundle.root, str(params_file))
    check_target_sizes(config, bundle.root, params_file)
    if config.encoder.name == OFFLINE_ENCODER_NAME and build:
        build_encoder()
    encoder_id = encoder_fingerprint(config.encoder.name)
    set_threads(config.runtime.num_threads)
    provenance = collect_provenance(config.params_hash(), bundle.fingerprint, encoder_id)
    return StudyContext(config, params_file, bundle.root, bundle.fingerprint, languages, encoder_id, provenance,
                        Path(reports_dir or reports_root()))


def check_target_sizes(config: StudyConfig, data_root: Path, params_file: Path) -> None:
    """Every ``srl.train_sentences`` size fits English train (before any run starts, not in the one that draws it)."""
    from study.target.srl.data import count_sentences, srl_path

    sizes = [n for n in target_sizes(config) if n is not None]
    if not sizes:
        return
    available = count_sentences(srl_path(data_root, "en", "train"))
    if config.srl.max_train_sentences is not None:
        available = min(available, config.srl.max_train_sentences)
    too_many = [n for n in sizes if n > available]
    if too_many:
        raise ParamsError(f"{params_file}: srl.train_sentences {too_many[0]} is more than the {available} English "
                          "train sentences available (srl.max_train_sentences caps them); use a smaller size or "
                          "'all'")


# --------------------------------------------------------------------------- intermediate stages


@dataclass
class StageReport:
    """One stage as a run saw it: trained now or reused, and its record."""

    spec: StageSpec
    trained: bool
    record: dict
    seconds: float


def run_intermediate(ctx: StudyContext, run: RunSpec, progress: Callable[[str], None] | None = None
                     ) -> tuple[dict[str, torch.Tensor] | None, list[StageReport]]:
    """Train (or reuse from the cache) every stage of ``run``; return the final encoder weights."""
    from study.intermediate.stages import prepare_task, train_stage

    state = None
    reports = []
    stages = ctx.stages(run)
    for number, spec in enumerate(stages, start=1):
        t0 = time.perf_counter()
        live().phase(f"stage {number} of {len(stages)}: {spec.label}")

        def train(parent_state, partial_dir, spec=spec):
            config = ctx.run_config(run)
            tasks = [prepare_task(config, t, ctx.data_root, ctx.tokenizer) for t in spec.tasks]
            outcome = train_stage(config, tasks, run.seed, ctx.tokenizer.pad_token_id, parent_state,
                                  partial_dir, progress)
            record = {"history": outcome.history, "consumed": outcome.consumed, "best_step": outcome.best_step,
                      "best_metrics": outcome.best_metrics, "seconds": outcome.seconds, "data": outcome.data}
            return outcome.encoder_state, record

        if progress:
            progress(f"stage {spec.label} ({spec.key[:8]})")
        state, record, trained = ctx.stage_cache.get_or_train(spec, train, state)
        reports.append(StageReport(spec, trained, record, time.perf_counter() - t0))
    return state, reports


def final_encoder_state(ctx: StudyContext, run: RunSpec) -> dict[str, torch.Tensor] | None:
    """The encoder weights the run's target training starts from (its last stage, from the cache)."""
    stages = ctx.stages(run)
    if not stages:
        return None
    last = stages[-1]
    if not ctx.stage_cache.is_done(last.key):
        raise StudyError(f"run {run.run_id}: stage {last.label} ({last.key[:8]}) is not trained yet; "
                         "run its intermediate stages first (notebook 02 or `study run`)")
    return ctx.stage_cache.load(last.key)[0]


# --------------------------------------------------------------------------- target tasks


def train_run(ctx: StudyContext, run: RunSpec, progress: Callable[[str], None] | None = None,
              complete: bool = True) -> Path:
    """A whole run without notebooks: its stages, then English SRL/POS and the zero-shot scores.

    What ``study train-run`` executes, in one process or under ``accelerate launch`` / ``torchrun``
    (every process calls this; see :mod:`study.training.distributed`).
    """
    state, _ = run_intermediate(ctx, run, progress)
    return run_target(ctx, run, state, progress, complete)


def run_target(ctx: StudyContext, run: RunSpec, encoder_state: dict[str, torch.Tensor] | None,
               progress: Callable[[str], None] | None = None, complete: bool = True) -> Path:
    """English SRL (+ POS) from ``encoder_state``, zero-shot scores everywhere; returns results.csv.

    A run already trained with these params is not retrained: its results are returned (so the
    notebooks can render a run that ``study train-run`` trained under a multi-process launcher, or
    render again a run whose notebook failed). ``complete=False`` (notebook 03) leaves the run
    pending: the notebook's last cell completes it (``infra.layout``). Under DDP every process
    trains; the main process alone saves, scores and writes.
    """
    run_dir = ctx.run_dir(run)
    if trained_with_these_params(ctx, run):
        if progress:
            progress(f"run {run.run_id} is trained with these params: its results are shown, not recomputed")
        if complete:
            layout.mark_complete(run_dir)
        return run_dir / "results.csv"
    cache = ctx.run_cache_dir(run)
    job = TargetJob(ctx.run_config(run), ctx.data_root, run.seed, ctx.tokenizer, encoder_state, None, progress,
                    run.train_sentences)
    main = distributed.is_main()
    if main:
        layout.predictions_dir(run_dir).mkdir(parents=True, exist_ok=True)
    live().phase("SRL training" if run.schedule.kind != "joint+srl" else "joint SRL training")
    srl, consumed = train_target_srl(job, run, cache)
    t_scoring = time.perf_counter()
    rows, reports = score_target_srl(ctx, run, srl, cache / "srl_model", progress) if main else ([], [])
    rows.append(dev_selection_row(srl))
    rows += intermediate_rows(ctx, run)
    history = srl_history(srl, reports, consumed, run)
    history["srl_scoring_seconds"] = round(time.perf_counter() - t_scoring, 2)
    if trains_pos(ctx.config, run):
        live().phase("POS training")
        pos = train_pos(job.checkpoints_in(cache / "pos"))
        t_scoring = time.perf_counter()
        if main:
            rows += evaluate_pos(pos, ctx.data_root, ctx.languages, ctx.config.srl.max_eval_sentences)
        history.update({"pos": pos.result.history, "pos_best_step": pos.result.best_step,
                        "pos_scoring_seconds": round(time.perf_counter() - t_scoring, 2)})
    if not main:  # the other DDP processes wait for the main one's files
        distributed.barrier()
        return run_dir / "results.csv"
    results = write_run(ctx, run, rows, history, cache, complete)
    distributed.barrier()
    return results


def train_target_srl(job: TargetJob, run: RunSpec, cache: Path) -> tuple[SrlTraining, dict | None]:
    """English SRL for ``run``: from its encoder, or inside the multi-task mixture of a joint+srl run."""
    if run.schedule.kind == "joint+srl":  # no intermediate encoder to start from: SRL is in the mixture
        return train_joint_srl(job.checkpoints_in(cache / "srl"), run)
    return train_srl(job.checkpoints_in(cache / "srl")), None


def score_target_srl(ctx: StudyContext, run: RunSpec, srl: SrlTraining, model_dir: Path,
                     progress: Callable[[str], None] | None) -> tuple[list[dict], list[dict]]:
    """Save the SRL model, score every target file zero-shot: the result rows and the per-file reports."""
    cfg = ctx.config
    save_srl_model(srl.srl, model_dir, cfg.encoder.name, cfg.encoder.freeze_word_embeddings)
    files = target_files(ctx.data_root, ctx.languages, cfg.srl.splits, cfg.srl.gold_sets)
    rows, reports = evaluate_srl(srl.srl, files, layout.predictions_dir(ctx.run_dir(run)),
                                 cfg.srl.max_eval_sentences, progress)
    return rows + macro_average_rows(rows), reports


def intermediate_rows(ctx: StudyContext, run: RunSpec) -> list[dict]:
    """How well each of the run's stages learned its tasks: the selected checkpoint's dev score per task.

    Task ``intermediate``, metric ``dev_<task>``, label ``stage i of n: <stage> (<steps> steps of <task>)``,
    so the report can put an effect next to the strength of the intermediate training behind it.
    """
    stages = ctx.stages(run)
    rows = []
    for number, spec in enumerate(stages, start=1):
        if not ctx.stage_cache.is_done(spec.key):
            continue
        record = ctx.stage_cache.record(spec.key)
        for task in spec.tasks:
            value = record.get("best_metrics", {}).get(f"dev_{task}")
            steps = record.get("consumed", {}).get(task, {}).get("steps")
            if value is not None:
                rows.append({"task": "intermediate", "language": "en", "split": "dev", "metric": f"dev_{task}",
                             "label": f"stage {number} of {len(stages)}: {spec.label} ({steps} steps of {task})",
                             "value": value})
    return rows


def dev_selection_row(srl: SrlTraining) -> dict:
    """English dev head F1 of the selected SRL checkpoint (the only score selection looks at)."""
    return {"task": "srl", "language": "en", "split": "dev-selection", "metric": "head_f1", "label": "",
            "value": srl.result.best_metrics.get("dev_head_f1", float("nan"))}


def trains_pos(config: StudyConfig, run: RunSpec) -> bool:
    """POS measures what an intermediate encoder transfers, which the SRL size does not change.

    So it is trained once per encoder, at the largest target size; a joint+srl run has no
    intermediate encoder of its own (its encoder saw SRL).
    """
    return (config.pos.enabled and run.schedule.kind != "joint+srl"
            and run.train_sentences == largest_size(config))


def srl_history(srl: SrlTraining, file_reports: list[dict], consumed: dict | None, run: RunSpec) -> dict:
    """What ``history.json`` records of SRL: the learning curve, the selected step, policies, files scored.

    A run of a target-size regime records which English train sentences it drew (file positions).
    """
    history = {"srl_train_sentences": {"regime": run.regime, "sentences": len(srl.train_split.sentence_ids),
                                        "sentence_ids": srl.train_split.sentence_ids
                                        if run.train_sentences is not None else "all"},
               "srl": srl.result.history, "srl_best_step": srl.result.best_step,
               "srl_resumed_from": srl.result.resumed_from, "srl_examples_seen": srl.result.examples_seen,
               "processes": distributed.world_size(), "srl_train_stats": vars(srl.train_stats),
               "srl_files": file_reports}
    if consumed is not None:
        history["joint_srl_consumed"] = consumed
    return history


def write_run(ctx: StudyContext, run: RunSpec, rows: list[dict], history: dict, cache: Path,
              complete: bool = True) -> Path:
    """history.json, results.csv, the marker last (DONE.json, or pending), then drop the resume checkpoints."""
    run_dir = ctx.run_dir(run)
    for old in (layout.DONE, layout.PENDING):  # recomputed: neither an earlier marker may stand for it
        (run_dir / old).unlink(missing_ok=True)
    write_text(run_dir / "history.json", json.dumps(history, indent=2, default=str) + "\n")
    results = write_results(ctx, run, rows, run_dir / "results.csv")
    marker = {"run": run.run_id, "results_sha256": sha256_file(results), "srl_model": str(cache / "srl_model"),
              "provenance": ctx.provenance}
    write_text(run_dir / (layout.DONE if complete else layout.PENDING), json.dumps(marker, indent=2) + "\n")
    for sub in ("srl", "pos"):
        (cache / sub / CHECKPOINT).unlink(missing_ok=True)
    return results


def write_results(ctx: StudyContext, run: RunSpec, rows: list[dict], path: Path) -> Path:
    """The run's tidy results with provenance on every row."""
    prov = ctx.provenance
    budget = run_budget(ctx.config, run)
    fixed = {"run": run.run_id, "schedule": run.schedule.text, "seed": run.seed, "train_sentences": run.regime,
             "intermediate_budget": "" if budget is None else f"{budget:g}",
             "code_version": prov["code"]["describe"], "params_hash": prov["params_hash"],
             "data_sha256sums": prov["data_sha256sums"], "encoder_sha256": ctx.encoder_id.get("weights_sha256")}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**fixed, **row, "value": repr(float(row["value"]))})
    write_text(path, buf.getvalue())
    return path


def run_is_done(ctx: StudyContext, run: RunSpec) -> bool:
    """Whether ``run`` is complete: DONE marker matching its results, predictions present (``infra.layout``)."""
    return layout.run_dir_is_complete(ctx.run_dir(run))


def _made_with(ctx: StudyContext, run: RunSpec, marker: str = layout.DONE) -> str | None:
    """The params hash a run's marker (DONE or pending) names (None if unreadable)."""
    try:
        return str(json.loads((ctx.run_dir(run) / marker).read_text())["provenance"]["params_hash"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None


def trained_with_these_params(ctx: StudyContext, run: RunSpec) -> bool:
    """Whether the run's results (complete or pending) were computed with ``ctx``'s params."""
    return any(layout.run_dir_is_complete(ctx.run_dir(run), marker) and _made_with(ctx, run, marker)
               == ctx.config.params_hash() for marker in (layout.DONE, layout.PENDING))


def mark_run_complete(ctx: StudyContext, run: RunSpec) -> Path:
    """The last step of a run's notebooks: everything it promises succeeded, so it counts as complete."""
    if not distributed.is_main():
        return ctx.run_dir(run) / layout.DONE
    return layout.mark_complete(ctx.run_dir(run))


def done_with_other_params(ctx: StudyContext) -> list[tuple[str, str]]:
    """(run id, its params hash) of finished runs whose DONE marker names other params than ``ctx``'s."""
    out = []
    for run in ctx.runs():
        if not run_is_done(ctx, run):
            continue
        made_with = _made_with(ctx, run)
        if made_with is not None and made_with != ctx.config.params_hash():
            out.append((run.run_id, made_with))
    return out


def macro_average_rows(rows: list[dict]) -> list[dict]:
    """XTREME-style macro average of SRL head F1 over the target languages' test files (``AVG``)."""
    f1 = [r["value"] for r in rows if r["task"] == "srl" and r["metric"] == "head_f1" and r["label"] == ""
          and r["split"] == "test" and r["language"] != "en"]
    if not f1:
        return []
    return [{"task": "srl", "language": "AVG", "split": "test", "metric": "head_f1", "label": "",
             "value": float(sum(f1) / len(f1))}]
