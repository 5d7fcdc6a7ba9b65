"""Where a training step's time goes: torch's op profiler over a few steps of the study's own fit.

Each op's own time (``self_cpu_time_total``: the op without the ops it calls) is put in one kind,
so the kinds add up to the time spent in torch ops; the rest of the step's wall time is Python,
batching and the optimizer's bookkeeping outside ops. Input shapes tell the attention score
matrices ([batch, heads, length, length]) from everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

#: the kinds a step's op time is reported in, in the order of the benchmark table
KINDS = ("dense matrix products", "attention scores, materialised", "fused attention", "dropout on hidden states",
         "embeddings", "optimizer", "elementwise, normalisation, copies")

_DENSE = {"aten::addmm", "aten::mm", "aten::linear", "aten::matmul"}
_FUSED_ATTENTION = ("scaled_dot_product_flash_attention", "scaled_dot_product_efficient_attention",
                    "_flash_attention", "_efficient_attention")
_EMBEDDING = ("embedding", "index_select")


def _is_score_matrix(shape) -> bool:
    return isinstance(shape, list | tuple) and len(shape) == 4 and shape[-1] == shape[-2] and shape[-1] > 1


def op_kind(name: str, shapes: list) -> str:
    """The kind of one profiled op, from its name and input shapes."""
    lowered = name.lower()
    if any(f in lowered for f in _FUSED_ATTENTION):
        return "fused attention"
    if name == "aten::bmm" or any(_is_score_matrix(s) for s in shapes or []):
        # batched products and everything on [b, h, s, s]: the unfused (math) attention path
        return "attention scores, materialised"
    if name in _DENSE:
        return "dense matrix products"
    if name == "aten::bernoulli_":
        return "dropout on hidden states"
    if "adam" in lowered or lowered.startswith("aten::_foreach"):
        return "optimizer"
    if any(e in lowered for e in _EMBEDDING):
        return "embeddings"
    return "elementwise, normalisation, copies"


def stepping(batches: Callable[[int], Iterator], on_step: Callable[[], None]) -> Callable[[int], Iterator]:
    """``batches`` that calls ``on_step`` before every batch after the first (a step boundary for the profiler)."""
    def wrapped(start: int):
        for i, batch in enumerate(batches(start)):
            if i:
                on_step()
            yield batch
    return wrapped


def profile_fit(engine, batches, loss_fn, warmup: int, active: int) -> dict:
    """Run ``engine.fit`` for ``warmup + active`` steps (no evaluation); the op time of the ``active`` ones.

    Returns seconds per step by kind, the wall seconds per active step, and the shares of that wall
    time; ``outside torch ops`` is the wall time no op accounts for.
    """
    from torch.profiler import ProfilerActivity, profile, schedule

    if engine.total_steps != warmup + active:
        raise ValueError(f"the engine runs {engine.total_steps} steps, the profile needs {warmup + active}")
    captured: dict = {}

    def ready(prof) -> None:
        captured["events"] = prof.key_averages(group_by_input_shape=True)

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 schedule=schedule(wait=0, warmup=warmup, active=active, repeat=1), on_trace_ready=ready) as prof:
        result = engine.fit(stepping(batches, prof.step), loss_fn, None)
        prof.step()  # closes the last active step
    seconds = dict.fromkeys(KINDS, 0.0)
    for event in captured["events"]:
        seconds[op_kind(event.key, event.input_shapes)] += event.self_cpu_time_total / 1e6 / active
    wall = sum(result.step_seconds[warmup:]) / active
    seconds["outside torch ops"] = max(0.0, wall - sum(seconds.values()))
    return {"steps_profiled": active, "wall_seconds_per_step": wall, "seconds_per_step": seconds,
            "shares": {k: v / wall for k, v in seconds.items()} if wall > 0 else {}}


def summary(profiled: dict, top: int = 3) -> str:
    """'dense matrix products 31%, attention scores, materialised 48%, ...' (largest first)."""
    shares = sorted(profiled["shares"].items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{k} {100 * v:.0f}%" for k, v in shares)


def profile_intermediate(config, task: str, data_root, tokenizer, warmup: int = 2, active: int = 3) -> dict:
    """The op profile of ``task``'s training steps at its own batch and length (a single-task stage)."""
    from study.bench.rates import with_steps
    from study.intermediate.stages import prepare_task, setup_stage

    prepared = prepare_task(config, task, data_root, tokenizer)
    setup = setup_stage(with_steps(config, "intermediate", warmup + active), [prepared], seed=1,
                        pad_id=tokenizer.pad_token_id, init_state=None, checkpoint_dir=None)
    return {"batch_size": prepared.optim.batch_size, "max_length": prepared.optim.max_length,
            **profile_fit(setup.engine, setup.batches, setup.loss_fn, warmup, active)}


def profile_srl(config, data_root, tokenizer, warmup: int = 2, active: int = 3) -> dict:
    """The op profile of English SRL training steps."""
    from study.bench.rates import with_steps
    from study.target.job import TargetJob
    from study.target.srl.train import setup_srl_training

    srl = config.srl
    setup = setup_srl_training(TargetJob(with_steps(config, "srl", warmup + active), data_root, 1, tokenizer))
    return {"batch_size": srl.optim.batch_size, "max_length": srl.optim.max_length, "encoding": srl.encoding,
            **profile_fit(setup.engine, setup.batches, setup.loss_fn, warmup, active)}


def profile_shapes(config, data_root, tokenizer, warmup: int = 2, active: int = 3) -> dict:
    """Every training shape of ``config`` (each intermediate task, English SRL), profiled."""
    used = sorted({t for s in config.parsed_schedules() for t in s.tasks})
    shapes = {t: profile_intermediate(config, t, data_root, tokenizer, warmup, active) for t in used}
    shapes["srl"] = profile_srl(config, data_root, tokenizer, warmup, active)
    return shapes
