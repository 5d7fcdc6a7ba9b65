"""The rates the cost model predicts from, measured on this machine for a params file's shapes.

Each training shape the params use (every intermediate task at its batch and length, English SRL,
POS) trains ``steps`` optimizer steps through the study's own code and is then evaluated once on
its dev set, so a step and an evaluation cost what they cost in a run; data preparation (reading
and encoding) is timed apart. Zero-shot scoring is timed on two prefixes of every target file (up to
``score_sentences`` sentences), so per-file costs and the encoder's are apart. Per-run and per-study
overheads (kernels, notebooks, rendering) come from a whole study run (:func:`overheads_from_study`).
``study plan`` turns these into a wall-time forecast (:mod:`study.orchestration.cost`).
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from study.config import StudyConfig, load_params
from study.infra.hardware import machine_key


def _shape(batch_size: int, max_length: int, **extra) -> dict:
    return {"batch_size": batch_size, "max_length": max_length, **extra}


#: steps left out of a rate: the first steps of a fit pay for allocator and kernel warm-up
WARMUP_STEPS = 2


def with_steps(config: StudyConfig, section: str, steps: int) -> StudyConfig:
    """``config`` with ``section``'s (intermediate, srl, pos) budget at ``steps`` steps, evaluated once at the end."""
    part = getattr(config, section)
    return config.model_copy(update={section: part.model_copy(update={
        "budget": part.budget.model_copy(update={"unit": "steps", "per_task": steps}), "eval_every": steps})})


def _fit_rates(result) -> tuple[float, float]:
    """(mean seconds per training step after warm-up, seconds of the one dev evaluation) of a fit."""
    steps = result.step_seconds[WARMUP_STEPS:] or result.step_seconds
    return float(sum(steps) / len(steps)), float(result.history[-1].get("eval_seconds", 0.0))


def recording(batches, shapes: list[tuple[int, int]]):
    """``batches`` that appends each batch's (rows, padded length) to ``shapes`` as the engine draws it."""
    def wrapped(start: int):
        for batch in batches(start):
            shapes.append(tuple(batch["input_ids"].shape))
            yield batch
    return wrapped


def padded_flops(encoder_config, shapes) -> list[float]:
    """Training FLOPs of each (rows, length) batch as computed: padding included, it is work done."""
    from study.bench.flops import training_flops

    return [training_flops(encoder_config, [length] * rows) for rows, length in shapes]


def epoch_step_flops(encoder_config, stream) -> float:
    """Mean training FLOPs of a step over the first epoch of a seeded batch stream (each batch padded
    to its longest member, as collation does): what an average step of the whole fit computes."""
    batches = stream.epoch_batches(0)
    shapes = [(len(idx), int(stream.lengths[idx].max())) for idx in batches]
    return float(sum(padded_flops(encoder_config, shapes)) / len(shapes))


def flop_rates(result, shapes, encoder_config, stream, gemm: float) -> dict:
    """Seconds per step for the whole fit from the measured FLOP rate, and that rate against the GEMM rate.

    A dozen measured steps are a dozen batch lengths; dividing their FLOPs by their seconds gives a
    rate that the mean batch of an epoch (``epoch_step_flops``) turns into the fit's seconds per step,
    so a draw of long or short batches does not bias the forecast.
    """
    work = padded_flops(encoder_config, shapes)[WARMUP_STEPS:]
    seconds = result.step_seconds[WARMUP_STEPS:len(shapes)]
    rate = sum(work[:len(seconds)]) / sum(seconds)
    mean_work = epoch_step_flops(encoder_config, stream)
    return {"seconds_per_step": mean_work / rate, "measured_seconds_per_step": float(sum(seconds) / len(seconds)),
            "flops_per_second": rate, "mean_step_flops": mean_work, "mfu": rate / gemm if gemm else None}


def measure_intermediate(config: StudyConfig, task: str, data_root: Path, tokenizer, steps: int,
                         gemm: float = 0.0) -> dict:
    """One intermediate task: prepare its data, ``steps`` steps of a single-task stage, one dev evaluation."""
    from study.intermediate.stages import prepare_task, setup_stage

    t0 = time.perf_counter()
    prepared = prepare_task(config, task, data_root, tokenizer)
    prep = time.perf_counter() - t0
    setup = setup_stage(with_steps(config, "intermediate", steps), [prepared], seed=1,
                        pad_id=tokenizer.pad_token_id, init_state=None, checkpoint_dir=None)
    shapes: list[tuple[int, int]] = []
    result = setup.engine.fit(recording(setup.batches, shapes), setup.loss_fn, setup.evaluate)
    _, evaluation = _fit_rates(result)
    rates = flop_rates(result, shapes, setup.engine.unwrapped.encoder.config, setup.streams[0], gemm)
    return {**_shape(prepared.optim.batch_size, prepared.optim.max_length), "steps": steps, **rates,
            "eval_seconds": evaluation, "dev_examples": len(prepared.dev),
            "train_examples": len(prepared.train), "prepare_seconds": prep}


def measure_srl(config: StudyConfig, data_root: Path, tokenizer, steps: int, gemm: float = 0.0
                ) -> tuple[dict, object]:
    """English SRL: data preparation, ``steps`` training steps, one English dev evaluation (and the model)."""
    from study.target.job import TargetJob
    from study.target.srl.train import setup_srl_training

    srl = config.srl
    t0 = time.perf_counter()
    setup = setup_srl_training(TargetJob(with_steps(config, "srl", steps), data_root, 1, tokenizer))
    prep = time.perf_counter() - t0
    shapes: list[tuple[int, int]] = []
    result = setup.engine.fit(recording(setup.batches, shapes), setup.loss_fn, setup.evaluate)
    _, evaluation = _fit_rates(result)
    rates = flop_rates(result, shapes, setup.engine.unwrapped.encoder.config, setup.stream, gemm)
    return {**_shape(srl.optim.batch_size, srl.optim.max_length, encoding=srl.encoding), "steps": steps,
            **rates, "eval_seconds": evaluation,
            "dev_sentences": len(setup.dev_split.sentence_ids), "train_instances": len(setup.instances),
            "train_sentences": len(setup.train_split.sentence_ids),
            "prepare_seconds": prep}, setup.srl


def measure_pos(config: StudyConfig, data_root: Path, tokenizer, steps: int, languages: list[str],
                score_sentences: int) -> dict:
    """POS: ``steps`` training steps and one dev evaluation, then scoring a prefix of every test file."""
    from study.target.job import TargetJob
    from study.target.pos import evaluate_pos, train_pos
    from study.target.srl.data import count_sentences, srl_path

    pos = config.pos
    t0 = time.perf_counter()
    trained = train_pos(TargetJob(with_steps(config, "pos", steps), data_root, 1, tokenizer))
    total = time.perf_counter() - t0
    per_step, evaluation = _fit_rates(trained.result)
    t1 = time.perf_counter()
    rows = evaluate_pos(trained, data_root, languages, score_sentences)
    scoring = time.perf_counter() - t1
    scored = sum(min(score_sentences, count_sentences(srl_path(data_root, lang, "test")))
                 for lang in ["en", *languages])
    return {**_shape(pos.optim.batch_size, pos.optim.max_length), "steps": steps, "seconds_per_step": per_step,
            "eval_seconds": evaluation, "prepare_seconds": total - trained.result.seconds,
            "scoring_seconds": scoring, "scoring_files": len(rows), "scoring_sentences": scored,
            "seconds_per_scored_sentence": scoring / max(1, scored)}


def piece_lengths(srl_model, files: list[tuple]) -> list[list[int]]:
    """Per file, the piece length of each sentence as per-sentence scoring encodes it (one encoder pass each)."""
    from study.target.srl.conllu import read_srl_file

    return [[len(srl_model.wordpieces.encode(s.forms).input_ids) for s in read_srl_file(path).sentences]
            for *_, path in files]


def scoring_model(small: tuple[float, float], large: tuple[float, float], files: int) -> dict:
    """Fixed seconds per file and the marginal FLOP rate, from two timed passes (seconds, forward FLOPs)
    over the same files with a smaller and a larger prefix of each.

    Reading, writing and scoring a whole file costs the same whatever prefix is encoded, so one pass
    charges it to its sentences: the first 100 sentences of every file cost ~1.6x per sentence what
    all of them do. Two prefixes separate the per-file cost from the encoder's. A difference lost in
    noise (the larger pass not slower) keeps the larger pass's plain rate and no fixed part.
    """
    (t_small, w_small), (t_large, w_large) = small, large
    if t_large > t_small and w_large > w_small:
        rate = (w_large - w_small) / (t_large - t_small)
        fixed = t_large - w_large / rate
        if fixed >= 0:
            return {"per_file_seconds": fixed / files, "marginal_flops_per_second": rate}
    return {"per_file_seconds": 0.0, "marginal_flops_per_second": w_large / t_large}


def measure_scoring(config: StudyConfig, data_root: Path, srl_model, languages: list[str],
                    score_sentences: int, gemm: float = 0.0) -> dict:
    """Zero-shot SRL scoring of a prefix of every target file (a quarter of ``score_sentences``, then all
    of them), the per-file and per-FLOP costs (:func:`scoring_model`), the forecast for all of a run's
    files, and its floor: their forward FLOPs at this machine's GEMM rate."""
    from study.bench.flops import inference_flops
    from study.target.srl.evaluate import evaluate_srl, target_files

    files = target_files(data_root, languages, config.srl.splits, config.srl.gold_sets)
    per_file = piece_lengths(srl_model, files)  # every file read once, then cut both ways
    encoder = srl_model.model.encoder.config
    small_n = max(1, score_sentences // 4)
    timed = []
    with tempfile.TemporaryDirectory() as tmp:
        evaluate_srl(srl_model, files[:1], Path(tmp), 8)  # warm-up: the first batches pay for allocation
        for n in (small_n, score_sentences):
            t0 = time.perf_counter()
            _, reports = evaluate_srl(srl_model, files, Path(tmp), n)
            timed.append((time.perf_counter() - t0,
                          inference_flops(encoder, [k for lengths in per_file for k in lengths[:n]])))
    seconds, work = timed[-1]
    sentences = int(sum(r["sentences"] for r in reports))
    cap = config.srl.max_eval_sentences  # what a run scores of each file
    run = [n for lengths in per_file for n in lengths[:cap]]
    run_work, run_sentences = inference_flops(encoder, run), len(run)
    model = scoring_model(timed[0], timed[-1], len(files))
    rate = work / seconds
    # a run's scoring is files x per-file seconds + sentences x this (cost.scoring_seconds)
    encoder_seconds_per_sentence = run_work / model["marginal_flops_per_second"] / max(1, run_sentences)
    return {"files": len(files), "sentences": sentences, "seconds": seconds,
            "seconds_per_sentence": seconds / max(1, sentences), "flops_per_second": rate,
            "mfu": rate / gemm if gemm else None, "small_prefix": small_n, "small_seconds": timed[0][0],
            "large_prefix": score_sentences,
            **model, "marginal_mfu": model["marginal_flops_per_second"] / gemm if gemm else None,
            "run_sentences": run_sentences, "run_flops": run_work,
            "run_seconds_per_sentence": encoder_seconds_per_sentence,
            "run_floor_seconds": run_work / gemm if gemm else None}


def measure_rates(params_file: Path, data_root: Path, steps: int = 10, score_sentences: int = 100) -> dict:
    """Every rate ``study plan`` needs for ``params_file``'s shapes on this machine."""
    from study.bench.flops import gemm_flops
    from study.data.languages import resolve_languages
    from study.encoder.load import load_tokenizer
    from study.training.engine import set_threads

    config = load_params(Path(params_file))
    set_threads(config.runtime.num_threads)  # as a run sets them, so the rates are filed under its thread count
    tokenizer = load_tokenizer(config.encoder.name)
    languages = resolve_languages(config, data_root)
    used = sorted({t for s in config.parsed_schedules() for t in s.tasks})
    gemm = gemm_flops(seconds=1.0)["best"]  # fp32: the denominator of each shape's MFU
    intermediate = {t: measure_intermediate(config, t, data_root, tokenizer, steps, gemm) for t in used}
    srl, model = measure_srl(config, data_root, tokenizer, steps, gemm)
    scoring = measure_scoring(config, data_root, model, languages, score_sentences, gemm)
    pos = measure_pos(config, data_root, tokenizer, steps, languages, score_sentences) if config.pos.enabled else None
    return {"machine": machine_key(), "measured": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "params": str(params_file), "encoder": config.encoder.name,
            "precision": config.runtime.mixed_precision, "optimizer": config.runtime.optimizer,
            "gemm_flops_fp32": gemm,
            "intermediate": intermediate, "srl": srl, "srl_scoring": scoring, "pos": pos}


def overheads_from_study(study_dir: Path, stages_dir: Path) -> dict:
    """Per-run and per-study seconds that are neither training, evaluation nor scoring, from a finished study.

    A run's wall time (``timings.json``) minus what its history records (SRL and POS fits, scoring)
    and minus the intermediate stages trained for it, averaged over runs; the study's own notebooks
    (01, 04) and the rest of the invocation are the per-study part.
    """
    timings = json.loads((Path(study_dir) / "timings.json").read_text())
    compute = 0.0
    for run in timings["runs"]:
        history = json.loads((Path(study_dir) / "runs" / run / "history.json").read_text())
        compute += history["srl"][-1]["seconds"] + history.get("srl_scoring_seconds", 0.0)
        if history.get("pos"):
            compute += history["pos"][-1]["seconds"] + history.get("pos_scoring_seconds", 0.0)
    for done in Path(stages_dir).glob("*/DONE.json"):
        compute += float(json.loads((done.parent / "stage.json").read_text()).get("seconds", 0.0))
    runs = len(timings["runs"])
    per_run = (timings["runs_seconds"] - compute) / max(1, runs)
    study = timings["total"]["seconds"] - timings["runs_seconds"]
    return {"per_run_seconds": per_run, "per_study_seconds": study, "runs": runs,
            "runs_seconds": timings["runs_seconds"], "compute_seconds": compute}
