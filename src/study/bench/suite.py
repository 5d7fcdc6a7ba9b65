"""Run the benchmark phases side by side and write ``reports/bench/bench.json`` and ``bench.md``.

Every figure is a ratio of two measurements taken in the same run on the same
machine, printed with the absolute values behind it. Targets are shown next to each.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from study.bench.time_to_f1 import plot_curves, ratio_row
from study.infra.atomic import write_text
from study.infra.errors import StudyError
from study.infra.hardware import precision_label, rates_file
from study.orchestration.cost import predict_study, scoring_seconds
from study.orchestration.notebooks import portable

#: the learning curves of the time-to-quality phases, beside bench.md
LEARNING_CURVES = "time-to-f1.png"

#: glibc malloc settings tried against the default allocator (the issue saw half the CPU time in the
#: kernel): keep freed memory in the heap instead of returning it to the OS and faulting it back in.
MALLOC_TUNING = {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=4294967296:glibc.malloc.mmap_threshold=33554432"
                                   ":glibc.malloc.top_pad=268435456"}


@dataclass
class BenchOptions:
    params: str = "params/default.yaml"
    smoke_params: str = "params/smoke.yaml"
    steps: int = 100
    batch_size: int = 32  # predicates per step (per-predicate encoding and the Trainer baseline)
    sentence_batch_size: int = 12  # sentences per step with per-sentence encoding (~31 predicates)
    seed: int = 1
    target_f1: float = 0.6  # time to quality: English dev head F1 each trainer trains to
    time_to_f1_max_seconds: float = 2400.0  # ... or until this much training time (the stated cap)
    default_study: bool = False
    #: a study folder whose own record stands for the default study (run over sittings, not in the suite)
    default_study_record: str | None = None
    skip: list[str] = field(default_factory=list)
    reuse: bool = False  # keep phase results already in <out>/phases (resume an interrupted suite)


def _run_phase(name: str, out_dir: Path, args: list[str], env: dict | None = None, log=print,
               reuse: bool = False) -> dict:
    out = out_dir / f"{name}.json"
    if reuse and out.is_file():  # --reuse: an interrupted suite keeps the phases it finished
        result = json.loads(out.read_text())
        log(f"bench: {name}: reusing {out}")
        return {**result, "reused_from": str(portable(out))}  # committed records name no machine's folders
    cmd = [sys.executable, "-m", "study.bench.phases", *args, "--out", str(out)]
    log(f"bench: {name} ...")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StudyError(f"benchmark phase {name} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                         f"{(proc.stdout + proc.stderr)[-3000:]}")
    result = json.loads(out.read_text())
    # which code measured it and when: a later `--reuse` suite reports kept phases with their origin
    from study.infra.provenance import code_version

    result["measured_with"] = {"code": code_version().get("describe", "?"),
                               "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    write_text(out, json.dumps(result, indent=2) + "\n")
    log(f"bench: {name} done in {time.perf_counter() - t0:.0f} s")
    return result


def _row(figure: str, value: str, target: str, met: bool | None, basis: str) -> dict:
    return {"figure": figure, "value": value, "target": target, "met": met, "basis": basis}


def run_bench(options: BenchOptions, out_dir: Path, log: Callable[[str], None] = print) -> dict:
    """All phases, then the comparison table; returns the JSON written to ``out_dir/bench.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    phases_dir = out_dir / "phases"
    phases_dir.mkdir(exist_ok=True)
    models = out_dir / "models"
    common = ["--params", options.params, "--steps", str(options.steps), "--seed", str(options.seed)]
    r: dict[str, dict] = {}
    other = other_precision(options.params)
    r["gemm"] = _run_phase("gemm", phases_dir, ["gemm"], log=log, reuse=options.reuse)
    r["engine_per_predicate"] = _run_phase("engine_per_predicate", phases_dir, [
        "srl_engine", *common, "--encoding", "per_predicate", "--batch-size", str(options.batch_size),
        "--save-model", str(models / "per_predicate")], log=log, reuse=options.reuse)
    r["engine_per_sentence"] = _run_phase("engine_per_sentence", phases_dir, [
        "srl_engine", *common, "--encoding", "per_sentence", "--batch-size", str(options.sentence_batch_size),
        "--save-model", str(models / "per_sentence")], log=log, reuse=options.reuse)
    if "malloc" not in options.skip:
        r["engine_per_sentence_malloc"] = _run_phase("engine_per_sentence_malloc", phases_dir, [
            "srl_engine", *common, "--encoding", "per_sentence", "--batch-size", str(options.sentence_batch_size)],
            env=MALLOC_TUNING, log=log, reuse=options.reuse)
    if "options" not in options.skip:  # the other speed options, each against the per-sentence default
        sentence = ["srl_engine", *common, "--encoding", "per_sentence",
                    "--batch-size", str(options.sentence_batch_size)]
        r["engine_per_sentence_no_grouping"] = _run_phase("engine_per_sentence_no_grouping", phases_dir, [
            *sentence, "--no-group-by-length"], log=log, reuse=options.reuse)
        r["engine_per_sentence_trainable_embeddings"] = _run_phase("engine_per_sentence_trainable_embeddings",
                                                                   phases_dir, [*sentence, "--trainable-embeddings"],
                                                                   log=log, reuse=options.reuse)
        if other is not None:
            r["engine_per_sentence_other_precision"] = _run_phase("engine_per_sentence_other_precision", phases_dir, [
                *sentence, "--mixed-precision", other], log=log, reuse=options.reuse)
        r["engine_per_sentence_other_optimizer"] = _run_phase("engine_per_sentence_other_optimizer", phases_dir, [
            *sentence, "--optimizer", other_optimizer(options.params)], log=log, reuse=options.reuse)
        r["engine_per_sentence_other_determinism"] = _run_phase("engine_per_sentence_other_determinism",
                                                                phases_dir, [*sentence, "--deterministic",
                                                                             other_determinism(options.params)],
                                                                log=log, reuse=options.reuse)
    if "trainer" not in options.skip:
        r["trainer"] = _run_phase("trainer", phases_dir, [
            "trainer", *common, "--batch-size", str(options.batch_size)], log=log, reuse=options.reuse)
    if "time_to_f1" not in options.skip:  # speed to quality: training time to English dev F1 60, both trainers
        for contestant in ("engine", "trainer"):
            r[f"time_to_f1_{contestant}"] = _run_phase(f"time_to_f1_{contestant}", phases_dir, [
                "time_to_f1", "--params", options.params, "--seed", str(options.seed), "--contestant", contestant,
                "--batch-size", str(options.batch_size), "--target-f1", str(options.target_f1),
                "--max-seconds", str(options.time_to_f1_max_seconds)], log=log, reuse=options.reuse)
        plot_curves([r["time_to_f1_engine"], r["time_to_f1_trainer"]], out_dir / LEARNING_CURVES)
    if "scoring" not in options.skip:
        for mode in ("per_predicate", "per_sentence"):
            r[f"scoring_{mode}"] = _run_phase(f"scoring_{mode}", phases_dir, [
                "scoring", "--params", options.params, "--model", str(models / mode)], log=log, reuse=options.reuse)
        if other is not None:
            r["scoring_per_sentence_other_precision"] = _run_phase("scoring_per_sentence_other_precision",
                                                                   phases_dir, [
                "scoring", "--params", options.params, "--model", str(models / "per_sentence"),
                "--mixed-precision", other], log=log, reuse=options.reuse)
        r["srl_score"] = _run_phase("srl_score", phases_dir, ["srl_score", "--model", str(models / "per_sentence")],
                                    log=log, reuse=options.reuse)
    r["stage_reuse"] = _stage_reuse(options.params)
    if "smoke" not in options.skip:
        r["smoke_study"] = _run_phase("smoke_study", phases_dir, ["study", "--params", options.smoke_params],
                                      log=log, reuse=options.reuse)
    if "cost" not in options.skip:
        r["rates"] = _run_phase("rates", phases_dir, ["rates", "--params", options.params], log=log,
                                reuse=options.reuse)
        if "smoke_study" in r:  # kernels, notebooks and rendering per run, measured on the smoke study
            r["rates"]["overheads"] = {**r["smoke_study"]["overheads"], "measured_on": options.smoke_params}
        write_text(rates_file(out_dir, r["rates"]["machine"]), json.dumps(r["rates"], indent=2) + "\n")
        check = write_check_params(Path(options.params), out_dir / "cost-check.yaml")
        r["cost_check_study"] = _run_phase("cost_check_study", phases_dir, ["study", "--params", str(check)],
                                           log=log, reuse=options.reuse)
        r["forecasts"] = {name: asdict(predict_study(Path(params), r["rates"])) for name, params in
                          (("cost_check_study", check), ("default_study", options.params))}
    if "profile" not in options.skip:  # where each training shape's step goes, and the fused-attention option
        r["profile"] = _run_phase("profile", phases_dir, ["profile", "--params", options.params, "--steps", "3"],
                                  log=log, reuse=options.reuse)
        if r["profile"]["attention_dropout"] != 0:
            r["profile_attention_dropout_0"] = _run_phase("profile_attention_dropout_0", phases_dir, [
                "profile", "--params", options.params, "--steps", "3", "--attention-dropout", "0"],
                log=log, reuse=options.reuse)
    if options.default_study:
        r["default_study"] = _run_phase("default_study", phases_dir, ["study", "--params", options.params],
                                        log=log, reuse=options.reuse)
    elif options.default_study_record:
        from study.bench.recorded import forecast_by_part, recorded_study
        from study.orchestration.run import open_study

        ctx = open_study(Path(options.params), build=False)
        r["default_study"] = {**recorded_study(Path(options.default_study_record), len(ctx.runs())),
                              "recorded": options.default_study_record}
        if "rates" in r:
            r["default_study"]["by_part"] = forecast_by_part(r["default_study"], ctx, r["rates"])
    # the GEMM rate again at the end: on a shared machine it drifts; MFU uses the better of the two
    r["gemm_end"] = _run_phase("gemm_end", phases_dir, ["gemm"], log=log)
    from study.infra.provenance import code_version, package_versions

    report = {"machine": _machine(r["gemm"]), "code": code_version(), "packages": package_versions(),
              "options": vars(options), "phases": r, "table": _table(r)}
    write_text(out_dir / "bench.json", json.dumps(report, indent=2) + "\n")
    write_text(out_dir / "bench.md", format_markdown(report) + "\n")
    return report


#: the cost model's out-of-sample check: the params' shapes and schedules, one seed, short budgets
CHECK_OVERRIDES = {"study_name": "cost-check", "seeds": [1],
                   "intermediate": {"budget": {"unit": "steps", "per_task": 10}, "eval_every": 10},
                   "srl": {"budget": {"unit": "steps", "per_task": 60}, "eval_every": 30, "max_eval_sentences": 100},
                   "pos": {"budget": {"unit": "steps", "per_task": 20}, "eval_every": 10}}


def write_check_params(params: Path, out: Path) -> Path:
    """``params`` with :data:`CHECK_OVERRIDES`, none and the primary pair only: a study of minutes, not hours.

    It is not the study the rates were measured on, so its measured time tests the forecast; it
    shares the shapes (batch sizes, lengths, encoder, precision), which the rates are per.
    """
    import yaml

    from study.analysis.compare import primary_pair
    from study.config import load_params, read_yaml
    from study.config.loading import deep_merge

    config = load_params(params)
    data = deep_merge(read_yaml(params), CHECK_OVERRIDES)
    wanted = ["none", *(primary_pair(config) or ())]
    data["schedules"] = [s.text for s in config.parsed_schedules() if s.text in wanted] or data["schedules"][:3]
    data.pop("data_root", None)
    write_text(out, yaml.safe_dump(data, sort_keys=False))
    return out


def other_precision(params: str) -> str | None:
    """The precision ``params`` does not train in, where measuring it is worth it: fp32 against bf16 always,
    bf16 against fp32 only on a CPU with native bf16 (emulated, 100 steps would take hours)."""
    from study.config import load_params
    from study.infra.hardware import cpu_has_native_bf16

    used = load_params(Path(params)).runtime.mixed_precision
    if used == "bf16":
        return "no"
    return "bf16" if cpu_has_native_bf16() else None


def other_optimizer(params: str) -> str:
    """The AdamW implementation ``params`` does not use (the bench measures it against the one it does)."""
    from study.config import load_params

    return "for_loop" if load_params(Path(params)).runtime.optimizer == "fused" else "fused"


def other_determinism(params: str) -> str:
    """``on`` or ``off``: the ``runtime.deterministic`` setting ``params`` does not use."""
    from study.config import load_params

    return "off" if load_params(Path(params)).runtime.deterministic else "on"


def _stage_reuse(params: str) -> dict:
    from study.orchestration.plan import plan_study

    plan = plan_study(Path(params))
    return {"steps_with_reuse": plan.steps_with_reuse, "steps_from_scratch": plan.steps_from_scratch,
            "ratio": plan.steps_with_reuse / max(1, plan.steps_from_scratch), "stages": len(plan.stages),
            "runs": plan.runs}


def _machine(gemm: dict) -> dict:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "torch_threads": gemm["threads"], "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _table(r: dict) -> list[dict]:
    rows = []
    peak = {"fp32": max(r["gemm"]["gemm_flops"], r.get("gemm_end", {}).get("gemm_flops", 0.0)),
            "bf16": max(r["gemm"].get("gemm_flops_bf16", 0.0), r.get("gemm_end", {}).get("gemm_flops_bf16", 0.0))}
    # MFU against the fastest matrix product this machine has (bf16 where native, else fp32): the
    # rate the engine could reach in the best precision available to it
    fastest = max(peak, key=peak.get)
    pp, ps = r["engine_per_predicate"], r["engine_per_sentence"]
    for name, e in (("per-predicate", pp), ("per-sentence", ps)):
        rows.append(_row(f"SRL engine ({name}): throughput",
                         f"{e['predicates_per_second']:.1f} predicates/s, {e['tokens_per_second']:.0f} tokens/s",
                         "", None, f"{e['steps']} steps, {e['predicates']} predicates in {e['train_seconds']:.1f} s "
                         f"({precision_label(e.get('mixed_precision'))})"))
        mfu = e["flops_per_second"] / peak[fastest]
        value = f"{100 * mfu:.0f}% of the {fastest} GEMM rate"
        if fastest != "fp32":
            value += f" ({100 * e['flops_per_second'] / peak['fp32']:.0f}% of fp32)"
        native = r["gemm"].get("bf16_native")
        bf16_note = "" if native is None else (" native" if native else " emulated")
        rows.append(_row(f"SRL engine ({name}): model FLOPs utilisation", value,
                         ">= 50% of the fastest GEMM", mfu >= 0.5,
                         f"{e['flops_per_second'] / 1e9:.1f} GFLOP/s of model work vs {peak['fp32'] / 1e9:.1f} "
                         f"GFLOP/s fp32 GEMM, bf16 GEMM{bf16_note} {peak['bf16'] / 1e9:.1f}"))
        rows.append(_row(f"SRL engine ({name}): English dev head F1 after {e['predicates']} predicates",
                         f"{100 * e['dev_head_f1']:.1f}", "", None, f"{e['dev_sentences']} dev sentences"))
    speed = ps["predicates_per_second"] / pp["predicates_per_second"]
    rows.append(_row("per-sentence / per-predicate encoding: speed", f"{speed:.2f}x", "", None,
                     f"F1 {100 * ps['dev_head_f1']:.1f} vs {100 * pp['dev_head_f1']:.1f}"))
    if "trainer" in r:
        t = r["trainer"]
        best = max((pp, ps), key=lambda e: e["predicates_per_second"])
        ratio = best["predicates_per_second"] / t["predicates_per_second"]
        # descriptive: after a fixed number of steps the two stand at different F1 (the Trainer near 0),
        # so speed to quality is the time-to-F1 row's
        rows.append(_row(f"SRL engine ({best['encoding']}) / transformers.Trainer: throughput", f"{ratio:.2f}x",
                         "", None,
                         f"{best['predicates_per_second']:.1f} vs {t['predicates_per_second']:.1f} predicates/s; "
                         f"dev F1 {100 * best['dev_head_f1']:.1f} vs {100 * t['dev_head_f1']:.1f} after "
                         f"{best['predicates']} vs {t['predicates']} predicates"))
    if "time_to_f1_engine" in r and "time_to_f1_trainer" in r:
        engine = r["time_to_f1_engine"]
        value, met, basis = ratio_row(engine, r["time_to_f1_trainer"])
        rows.append(_row(f"time to English dev head F1 {100 * engine['target_f1']:.0f}: transformers.Trainer / "
                         "SRL engine", value, ">= 5x", met, f"{basis}; curves in {LEARNING_CURVES}"))
    if "engine_per_sentence_malloc" in r:
        m = r["engine_per_sentence_malloc"]
        gain = m["predicates_per_second"] / ps["predicates_per_second"]
        rows.append(_row("glibc malloc tuning (per-sentence): speed", f"{gain:.2f}x", "", None,
                         f"system CPU {m['system_seconds']:.0f} s vs {ps['system_seconds']:.0f} s; "
                         f"peak RSS {m['peak_rss_mb']:.0f} vs {ps['peak_rss_mb']:.0f} MB"))
    other_optimizer_used = r.get("engine_per_sentence_other_optimizer", {}).get("optimizer")
    other_kernels = {True: "deterministic", False: "non-deterministic"}
    other_deterministic = r.get("engine_per_sentence_other_determinism", {}).get("deterministic")
    for key, what, against in (
        ("engine_per_sentence_no_grouping", "without length-grouped batches", "default"),
        ("engine_per_sentence_trainable_embeddings", "with trainable word embeddings", "default"),
        ("engine_per_sentence_other_precision",
         f"in {precision_label(r.get('engine_per_sentence_other_precision', {}).get('mixed_precision'))}",
         f"default ({precision_label(ps.get('mixed_precision'))})"),
        ("engine_per_sentence_other_optimizer", f"with {other_optimizer_used} AdamW (runtime.optimizer)",
         f"default ({ps.get('optimizer', 'for_loop')} AdamW)"),
        ("engine_per_sentence_other_determinism", f"with {other_kernels.get(other_deterministic)} kernels "
         "(runtime.deterministic)", f"default ({other_kernels.get(ps.get('deterministic', False))} kernels)"),
    ):
        if key in r:
            o = r[key]
            rows.append(_row(f"per-sentence {what}: speed vs {against}",
                             f"{o['predicates_per_second'] / ps['predicates_per_second']:.2f}x", "", None,
                             f"dev F1 {100 * o['dev_head_f1']:.1f} vs {100 * ps['dev_head_f1']:.1f}; peak RSS "
                             f"{o['peak_rss_mb']:.0f} vs {ps['peak_rss_mb']:.0f} MB"))
    reuse = r["stage_reuse"]
    rows.append(_row("stage reuse: intermediate steps trained / from scratch", f"{reuse['ratio']:.2f}x", "<= 0.6x",
                     reuse["ratio"] <= 0.6, f"{reuse['steps_with_reuse']} vs {reuse['steps_from_scratch']} steps, "
                     f"{reuse['stages']} stages for {reuse['runs']} runs"))
    for mode in ("per_predicate", "per_sentence", "per_sentence_other_precision"):
        s = r.get(f"scoring_{mode}")
        if s:
            if mode.endswith("other_precision"):
                mode = f"per_sentence_{precision_label(s.get('mixed_precision'))}"
            f1 = s.get("head_f1", {})
            avg = f" AVG head F1 {100 * f1['AVG/test']:.1f};" if "AVG/test" in f1 else ""
            rows.append(_row(f"zero-shot scoring, all files ({mode.replace('_', '-')})", f"{s['seconds']:.0f} s",
                             "<= 120 s", s["seconds"] <= 120,
                             f"{s['files']} files, {s['sentences']} sentences, {s['predicates']} predicates;{avg} "
                             f"peak RSS {s['peak_rss_mb']:.0f} MB"))
    if "srl_score" in r:
        s = r["srl_score"]
        rows.append(_row(f"`study srl score`, one {s['sentences']}-sentence file, fresh process",
                         f"{s['seconds']:.1f} s",
                         "<= 15 s", s["seconds"] <= 15,
                         f"{s['file']}, {s['predicates']} predicates, start-up included; head F1 "
                         f"{100 * s['head_f1']:.1f}; peak RSS {s['peak_rss_mb_process']:.0f} MB"))
    rows += _mfu_rows(r)
    rows += _profile_rows(r)
    rows += _cost_rows(r)
    for key, target, limit in (("smoke_study", "<= 180 s", 180), ("default_study", "<= 7200 s", 7200)):
        s = r.get(key)
        if s and "recorded" in s:
            rows += _recorded_rows(s, target, limit)
        elif s:
            runs = s.get("timings", {}).get("runs", {})
            rows.append(_row(f"{key.replace('_', ' ')} end to end", f"{s['seconds']:.0f} s", target,
                             s["seconds"] <= limit, f"{len(runs)} runs; largest process peak "
                             f"{s['peak_rss_mb_largest_process']:.0f} MB; per phase in phases/{key}.json"))
    return rows


def _recorded_rows(s: dict, target: str, limit: float) -> list[dict]:
    """The default study from its own record (``bench.recorded``): end to end, and the overhead of its runs."""
    done, grid = s["runs_complete"], s["grid_runs"]
    complete = grid is None or done == grid
    where = f"recorded by the study in {s['recorded']} over {len(s['days'])} day(s) ({', '.join(s['days'])})"
    rows = [_row("default study end to end" + ("" if complete else f" ({done} of {grid} runs so far)"),
                 f"{s['seconds'] / 3600:.2f} h", target, s["seconds"] <= limit if complete else None,
                 f"{where}: each run's notebooks (papermill durations, pauses of the machine included; a stage "
                 "or fit resumed from its checkpoint after an interruption counts its last sitting only) and the "
                 "last render of 01 and 04")]
    o = s["overhead"]
    if o["runs"]:
        rows.append(_row("per-run overhead in the default study's runs (neither training, dev evaluation nor "
                         "scoring)", f"{100 * o['share_median']:.1f}% ({o['per_run_seconds_median']:.0f} s)",
                         "<= 10%", o["share_median"] <= 0.10,
                         f"median over the {o['runs']} recorded runs that trained no stage; {where}"))
    scoring = s.get("scoring", {})
    if scoring.get("runs"):
        rows.append(_row("zero-shot SRL scoring of all of a run's files, in the default study's runs",
                         f"{scoring['median_seconds']:.0f} s", "<= 60 s", scoring["median_seconds"] <= 60,
                         f"median over {scoring['runs']} recorded runs (range {scoring['min_seconds']:.0f}-"
                         f"{scoring['max_seconds']:.0f} s); {where}"))
    for group, part in s.get("by_part", {}).items():
        error = part["predicted"] / part["recorded"] - 1 if part["recorded"] else float("nan")
        rows.append(_row(f"cost model per part, default study's recorded runs: {group}",
                         f"{part['predicted']:.0f} s vs {part['recorded']:.0f} s ({100 * error:+.0f}%)", "", None,
                         f"predicted vs recorded, summed over {part['runs']} runs; {where}"))
    return rows


def _mfu_rows(r: dict) -> list[dict]:
    """Model FLOPs utilisation of every training shape the rates phase measured, against fp32 GEMM."""
    rates = r.get("rates", {})
    shapes = dict(rates.get("intermediate", {}))
    if rates.get("srl"):
        shapes["English SRL"] = rates["srl"]
    rows = []
    for name, m in shapes.items():
        if m.get("mfu") is None:
            continue
        rows.append(_row(f"{name} training ({m['batch_size']} x {m['max_length']}): model FLOPs utilisation",
                         f"{100 * m['mfu']:.0f}% of the fp32 GEMM rate", ">= 50% of the fastest GEMM",
                         m["mfu"] >= 0.5, f"{m['flops_per_second'] / 1e9:.1f} GFLOP/s of model work (padding "
                         f"counted) vs {rates['gemm_flops_fp32'] / 1e9:.1f} GFLOP/s; {m['seconds_per_step']:.2f} s "
                         f"per mean step of an epoch"))
    scoring = rates.get("srl_scoring", {})
    if scoring.get("mfu") is not None:
        forecast = scoring_seconds(scoring, scoring["files"], scoring["run_sentences"])
        split = ""
        if "per_file_seconds" in scoring:
            split = (f"; apart from {scoring['per_file_seconds']:.2f} s per file (reading, writing, scoring), the "
                     f"encoder's work ran at {scoring['marginal_flops_per_second'] / 1e9:.1f} GFLOP/s "
                     f"({100 * scoring['marginal_mfu']:.0f}%; prefixes of {scoring['small_prefix']} and "
                     f"{scoring['large_prefix']} sentences)")
        rows.append(_row("zero-shot SRL scoring: model FLOPs utilisation", f"{100 * scoring['mfu']:.0f}% of the fp32 "
                         "GEMM rate", "", None, f"{scoring['flops_per_second'] / 1e9:.1f} GFLOP/s of encoder forward "
                         f"work over {scoring['sentences']} sentences (reading the files included){split}"))
        rows.append(_row(f"zero-shot SRL scoring of a run's {scoring['files']} files: forecast and floor",
                         f"{forecast:.0f} s (floor {scoring['run_floor_seconds']:.0f} s)", "<= 60 s", forecast <= 60,
                         f"{scoring['run_sentences']} sentences, {scoring['run_flops'] / 1e12:.1f} TFLOP forward; "
                         "the floor is that work at 100% of the GEMM rate"))
    return rows


def _profile_rows(r: dict) -> list[dict]:
    """Each training shape's step by kind of work, and the step with attention dropout 0 against it."""
    from study.bench.profile import summary

    rows = []
    base, fused = r.get("profile", {}).get("shapes", {}), r.get("profile_attention_dropout_0", {}).get("shapes", {})
    for name, p in base.items():
        shape = f"{p['batch_size']} x {p['max_length']}"
        rows.append(_row(f"step profile: {name} ({shape})", summary(p), "", None,
                         f"{p['wall_seconds_per_step']:.2f} s per step over {p['steps_profiled']} profiled steps "
                         f"(torch.profiler, own time of each op); phases/profile.json has every kind"))
        if name in fused:
            f = fused[name]
            rows.append(_row(f"{name} step with attention dropout 0 (encoder.attention_dropout): speed",
                             f"{p['wall_seconds_per_step'] / f['wall_seconds_per_step']:.2f}x", "", None,
                             f"{f['wall_seconds_per_step']:.2f} vs {p['wall_seconds_per_step']:.2f} s per step; "
                             f"then {summary(f)}; changes the recipe (F1 effect not measured by the suite)"))
    return rows


def _cost_rows(r: dict) -> list[dict]:
    """The cost model's forecasts against the studies measured in this suite (within 25% is the target)."""
    rows = []
    for key in ("cost_check_study", "default_study"):
        predicted = r.get("forecasts", {}).get(key)
        if predicted is None:
            continue
        seconds = sum(predicted["parts"].values())
        record = r.get(key, {})
        # a record of part of the grid is not the study the forecast is for
        partial = "recorded" in record and record["runs_complete"] != record["grid_runs"]
        measured = None if partial else record.get("seconds")
        top = ", ".join(f"{name} {v / 60:.0f} min" for name, v in
                        sorted(predicted["parts"].items(), key=lambda kv: -kv[1])[:3])
        if measured:
            error = seconds / measured - 1
            how = "recorded" if "recorded" in record else "measured"
            rows.append(_row(f"cost model: {key.replace('_', ' ')} predicted vs {how}",
                             f"{seconds:.0f} s vs {measured:.0f} s ({100 * error:+.0f}%)", "within 25%",
                             abs(error) <= 0.25, f"{top}; `study plan` from phases/rates.json"))
        else:
            rows.append(_row(f"cost model: {key.replace('_', ' ')} predicted", f"{seconds / 3600:.2f} h", "", None,
                             f"{top}; " + (f"the record has {record['runs_complete']} of {record['grid_runs']} runs"
                                           if partial else "not measured in this suite (`--default-study` runs it)")))
    return rows


def format_markdown(report: dict) -> str:
    m = report["machine"]
    code = report.get("code", {})
    lines = [f"# Benchmark ({m['date']})", "",
             f"Machine: {m['processor']}, {m['cpus_usable']} usable CPUs, torch threads {m['torch_threads']}, "
             f"{m['platform']}, Python {m['python']}. Code: {code.get('describe', '?')}. "
             f"Command: `study bench --steps {report['options']['steps']}`.", "",
             "| figure | measured | target | met | basis |", "|---|---|---|---|---|"]
    for row in report["table"]:
        met = "" if row["met"] is None else ("yes" if row["met"] else "**no**")
        lines.append(f"| {row['figure']} | {row['value']} | {row['target']} | {met} | {row['basis']} |")
    if "time_to_f1_engine" in report["phases"] and "time_to_f1_trainer" in report["phases"]:
        lines += ["", f"![English dev head F1 against training time, both trainers]({LEARNING_CURVES})"]
    reused = [name for name, phase in report["phases"].items() if isinstance(phase, dict) and "reused_from" in phase]
    if reused:
        origins = []
        for name in reused:
            made = report["phases"][name].get("measured_with")
            origins.append(f"{name} ({made['code']}, {made['at']})" if made else name)
        lines += ["", "Phases kept from an earlier run of the suite (`--reuse`; code and time of their measurement "
                  f"where recorded): {', '.join(origins)}."]
    return "\n".join(lines)
