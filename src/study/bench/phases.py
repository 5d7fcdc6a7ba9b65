"""One benchmark measurement per process: ``python -m study.bench.phases NAME --out FILE [options]``.

Every phase writes a JSON dict with its figures plus its own resource usage (peak resident memory,
user and system CPU seconds), so that memory and kernel time are attributed to the right work.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from study.bench.flops import gemm_flops, training_flops
from study.bench.rates import overheads_from_study
from study.infra.paths import cache_root


def _config(args):
    """The params file's config with the SRL settings this phase measures."""
    from study.config import load_params

    optim = {"batch_size": args.batch_size}
    if args.no_group_by_length:
        optim["group_by_length"] = False
    overrides = {"srl": {"encoding": args.encoding, "budget": {"unit": "steps", "per_task": args.steps},
                         "eval_every": args.steps, "optim": optim}}
    if args.trainable_embeddings:
        overrides["encoder"] = {"freeze_word_embeddings": False}
    runtime = {"mixed_precision": args.mixed_precision, "optimizer": args.optimizer,
               "deterministic": {"on": True, "off": False}.get(args.deterministic)}
    if any(v is not None for v in runtime.values()):
        overrides["runtime"] = {k: v for k, v in runtime.items() if v is not None}
    return load_params(Path(args.params), overrides)


def phase_gemm(args) -> dict:
    """The machine's fp32 and bf16 GEMM rates, the denominators of MFU.

    Where bf16 is emulated (no AVX-512 bf16 / AMX) one 512x512 product takes ~0.2 s (1.3 GFLOP/s on
    an AVX2 EPYC): measured at that size only, so the phase stays short and still shows the rate.
    """
    from study.infra.hardware import cpu_has_native_bf16

    rates = gemm_flops()
    native = cpu_has_native_bf16()
    bf16 = gemm_flops(dtype=torch.bfloat16) if native else gemm_flops((512,), seconds=1.0, dtype=torch.bfloat16)
    return {"gemm_flops": rates["best"], "gemm_flops_by_size": rates["by_size"], "threads": torch.get_num_threads(),
            "gemm_flops_bf16": bf16["best"], "gemm_flops_bf16_by_size": bf16["by_size"], "bf16_native": native}


def phase_srl_engine(args) -> dict:
    """The study's SRL training path for ``steps`` steps: throughput, FLOPs, then English dev F1."""
    from study.encoder.load import load_tokenizer
    from study.infra.paths import default_data_root
    from study.target.job import TargetJob
    from study.target.srl.saved import save_srl_model
    from study.target.srl.train import setup_srl_training

    config = _config(args)
    tokenizer = load_tokenizer(config.encoder.name)
    setup = setup_srl_training(TargetJob(config, default_data_root(), args.seed, tokenizer))
    counted = {"predicates": 0, "sequences": 0, "tokens": 0, "padded_tokens": 0, "lengths": []}

    def counting(start: int):
        for batch in setup.batches(start):
            real = batch["attention_mask"].sum(1)
            counted["predicates"] += int(batch["labels"].size(0))
            counted["sequences"] += int(batch["input_ids"].size(0))
            counted["tokens"] += int(real.sum())
            counted["padded_tokens"] += int(batch["input_ids"].numel())
            counted["lengths"] += real.tolist()
            yield batch

    t0 = time.perf_counter()
    result = setup.engine.fit(counting, setup.loss_fn, None)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    dev = setup.evaluate(None)
    dev_seconds = time.perf_counter() - t1
    flops = training_flops(setup.engine.unwrapped.encoder.config, counted.pop("lengths"))
    if args.save_model:
        save_srl_model(setup.srl, Path(args.save_model), config.encoder.name, config.encoder.freeze_word_embeddings)
    return {
        "encoding": args.encoding, "group_by_length": config.srl.optim.group_by_length,
        "mixed_precision": config.runtime.mixed_precision, "optimizer": config.runtime.optimizer,
        "deterministic": config.runtime.deterministic,
        "freeze_word_embeddings": config.encoder.freeze_word_embeddings, "steps": result.steps,
        "batch_size": args.batch_size, "train_seconds": seconds,
        **counted, "predicates_per_second": counted["predicates"] / seconds,
        "tokens_per_second": counted["tokens"] / seconds, "train_flops": flops, "flops_per_second": flops / seconds,
        "dev_head_f1": dev["dev_head_f1"], "dev_sentences": len(setup.dev_split.sentence_ids),
        "dev_seconds": dev_seconds, "train_instances_available": len(setup.instances),
    }


def phase_trainer(args) -> dict:
    """What a user would write: ``transformers.Trainer`` + a token-classification model (see baseline)."""
    from study.bench.baseline import run_trainer_baseline

    return run_trainer_baseline(args.params, args.steps, args.batch_size, args.seed)


def phase_time_to_f1(args) -> dict:
    """Training wall time of ``--contestant`` (engine or trainer) to English dev head F1 ``--target-f1``."""
    from study.bench.time_to_f1 import StopRule, engine_curve, trainer_curve

    rule = StopRule(args.target_f1, args.max_seconds)
    if args.contestant == "engine":
        return engine_curve(args.params, args.seed, rule, args.eval_every, args.max_steps)
    return trainer_curve(args.params, args.seed, rule, args.eval_every, args.batch_size, args.max_steps)


def phase_scoring(args) -> dict:
    """Zero-shot scoring of every file a run scores (test sets of all languages, gold sets, English)."""
    from study.config import load_params
    from study.data.languages import resolve_languages
    from study.infra.paths import default_data_root
    from study.target.srl.evaluate import evaluate_srl, target_files
    from study.target.srl.saved import load_srl_model

    config = load_params(Path(args.params))
    root = default_data_root()
    srl = load_srl_model(Path(args.model))
    files = target_files(root, resolve_languages(config, root), config.srl.splits, config.srl.gold_sets)
    precision = args.mixed_precision or config.runtime.mixed_precision  # as a run scores (its engine's autocast)
    dtype = torch.bfloat16 if precision == "bf16" else None
    with tempfile.TemporaryDirectory() as tmp, torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
        t0 = time.perf_counter()
        rows, reports = evaluate_srl(srl, files, Path(tmp), config.srl.max_eval_sentences)
        seconds = time.perf_counter() - t0
    from study.orchestration.run import macro_average_rows

    rows += macro_average_rows(rows)
    f1 = {f"{r['language']}/{r['split']}": r["value"] for r in rows
          if r["metric"] == "head_f1" and r["label"] == "" and r["task"] == "srl"}
    return {"encoding": srl.encoding, "files": len(files), "seconds": seconds, "head_f1": f1,
            "mixed_precision": precision,
            "sentences": int(sum(r["sentences"] for r in reports)),
            "predicates": int(sum(r["instances_instances"] for r in reports))}


def phase_srl_score(args) -> dict:
    """``study srl score`` as a user runs it: a fresh process scoring one held-out file, start-up included.

    The saved model ``--model`` stands in for a finished run (a run folder whose DONE.json names it);
    ``--file`` defaults to the bundle's Spanish test file (426 sentences; the target is set for 450).
    """
    from study.infra.paths import default_data_root

    file = Path(args.file) if args.file else default_data_root() / "srl" / "es" / "test.conllu"
    with tempfile.TemporaryDirectory() as tmp:
        run, out = Path(tmp) / "run", Path(tmp) / "out"
        run.mkdir()
        (run / "DONE.json").write_text(json.dumps({"srl_model": str(Path(args.model).resolve())}))
        cmd = [sys.executable, "-m", "study.cli", "srl", "score", "--run", str(run), "--file", str(file),
               "--language", file.parent.name, "--out", str(out)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"study srl score failed (exit {proc.returncode}): {(proc.stdout + proc.stderr)[-2000:]}")
        metrics = json.loads((out / "metrics.json").read_text())
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"file": f"{file.parent.name}/{file.name}", "sentences": metrics["report"]["sentences"],
            "predicates": metrics["instances"]["instances"], "seconds": seconds, "head_f1": metrics["head_f1"],
            "peak_rss_mb_process": children.ru_maxrss / 1024}


def phase_study(args) -> dict:
    """``study run PARAMS`` end to end from an empty cache and report directory (wall clock, peak memory)."""
    from study.orchestration.notebooks import portable

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, STUDY_REPORTS=str(Path(tmp) / "reports"), STUDY_CACHE=str(Path(tmp) / "cache"))
        # no cached stages or runs; the encoder is built once per machine, so link it rather than time its rebuild
        (Path(tmp) / "cache").mkdir()
        (Path(tmp) / "cache" / "encoders").symlink_to(cache_root() / "encoders", target_is_directory=True)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "study.cli", "run", args.params], env=env,
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        # the runner's own lines (stdout) say which run failed and why; stderr is mostly kernel noise
        log = proc.stdout[-2500:] + "\n" + "\n".join(ln for ln in proc.stderr.splitlines()
                                                   if "error" in ln.lower())[-1500:]
        timings_file = next((Path(tmp) / "reports").glob("*/timings.json"), None)
        timings = json.loads(timings_file.read_text()) if timings_file else {}
        overheads = (overheads_from_study(timings_file.parent, Path(tmp) / "cache" / "stages")
                     if timings_file and proc.returncode == 0 else None)
    if proc.returncode != 0:
        raise SystemExit(f"study run {args.params} failed (exit {proc.returncode}):\n{log}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"params": str(portable(args.params)), "seconds": seconds, "timings": timings, "overheads": overheads,
            "peak_rss_mb_largest_process": children.ru_maxrss / 1024,
            "children_user_seconds": children.ru_utime, "children_system_seconds": children.ru_stime,
            "runs_line": next((ln for ln in log.splitlines() if re.search(r"runs complete", ln)), "")}


def phase_rates(args) -> dict:
    """The cost model's rates for ``--params``' shapes on this machine (:mod:`study.bench.rates`)."""
    from study.bench.rates import measure_rates
    from study.infra.paths import default_data_root

    return measure_rates(Path(args.params), default_data_root(), steps=args.steps)


def phase_profile(args) -> dict:
    """Where each training shape's step time goes (:mod:`study.bench.profile`): ``--steps`` profiled steps
    after 2 warm-up steps; ``--attention-dropout`` overrides ``encoder.attention_dropout``."""
    from study.bench.profile import profile_shapes
    from study.config import load_params
    from study.encoder.load import load_tokenizer
    from study.infra.paths import default_data_root

    overrides = None if args.attention_dropout is None else {"encoder": {"attention_dropout": args.attention_dropout}}
    config = load_params(Path(args.params), overrides)
    tokenizer = load_tokenizer(config.encoder.name)
    return {"attention_dropout": config.encoder.attention_dropout,
            "shapes": profile_shapes(config, default_data_root(), tokenizer, warmup=2, active=args.steps)}


def phase_analysis_shape(args) -> dict:
    """The analysis (notebook 04's tests) on ``--params``' grid shape, built from one finished run (--model)."""
    from study.bench.analysis_shape import time_analysis
    from study.config import load_params
    from study.infra.paths import default_data_root

    with tempfile.TemporaryDirectory() as tmp:
        return time_analysis(Path(args.model), load_params(Path(args.params)), default_data_root(), Path(tmp))


PHASES = {"gemm": phase_gemm, "rates": phase_rates, "profile": phase_profile, "analysis_shape": phase_analysis_shape,
          "srl_engine": phase_srl_engine, "trainer": phase_trainer, "time_to_f1": phase_time_to_f1,
          "scoring": phase_scoring, "srl_score": phase_srl_score, "study": phase_study}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m study.bench.phases")
    parser.add_argument("phase", choices=sorted(PHASES))
    parser.add_argument("--out", required=True)
    parser.add_argument("--params", default="params/default.yaml")
    parser.add_argument("--encoding", default="per_predicate")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-group-by-length", action="store_true")
    parser.add_argument("--trainable-embeddings", action="store_true")
    parser.add_argument("--mixed-precision", choices=["no", "bf16"], help="override runtime.mixed_precision")
    parser.add_argument("--optimizer", choices=["fused", "for_loop"], help="override runtime.optimizer")
    parser.add_argument("--deterministic", choices=["on", "off"], help="override runtime.deterministic")
    parser.add_argument("--attention-dropout", type=float, help="override encoder.attention_dropout")
    parser.add_argument("--contestant", choices=["engine", "trainer"], default="engine", help="time_to_f1's trainer")
    parser.add_argument("--target-f1", type=float, default=0.6, help="time_to_f1: English dev head F1 to reach")
    parser.add_argument("--eval-every", type=int, default=50, help="time_to_f1: steps between dev evaluations")
    parser.add_argument("--max-steps", type=int, help="time_to_f1: schedule length and cap (default: srl budget)")
    parser.add_argument("--max-seconds", type=float, default=2400.0, help="time_to_f1: training-time cap")
    parser.add_argument("--model")
    parser.add_argument("--file", help="srl_score: the CoNLL-U Plus file to score (default: the bundle's es/test)")
    parser.add_argument("--save-model")
    args = parser.parse_args(argv)
    from study.training.engine import set_threads

    set_threads(None)
    np.random.seed(args.seed)
    out = PHASES[args.phase](args)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.update({"phase": args.phase, "peak_rss_mb": usage.ru_maxrss / 1024, "user_seconds": usage.ru_utime,
                "system_seconds": usage.ru_stime, "env_malloc": {k: v for k, v in os.environ.items()
                                                                  if k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}})
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
