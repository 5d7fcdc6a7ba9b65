"""Multi-process pieces that need no process group: batch sharing, the stage lock across processes."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import numpy as np
import pytest

from study.intermediate.stage_cache import StageCache, StageSpec
from study.training.distributed import local_share


@pytest.mark.parametrize("n, world", [(8, 2), (7, 2), (12, 3), (5, 4)])
def test_processes_share_a_global_batch_exactly(n, world):
    batch = np.arange(100, 100 + n)
    parts = [local_share(batch, r, world) for r in range(world)]
    assert np.array_equal(np.concatenate(parts), batch)  # in order, nothing lost, nothing twice
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_one_process_sees_the_whole_batch_unchanged():
    batch = np.array([5, 3, 9])
    assert np.array_equal(local_share(batch, 0, 1), batch)


def test_a_batch_smaller_than_the_world_still_feeds_every_process():
    parts = [local_share(np.array([4]), r, 2) for r in range(2)]
    assert all(len(p) == 1 for p in parts)  # DDP needs every process in every step
    assert {int(p[0]) for p in parts} == {4}


def _train_stage_in_process(root: str, log: str, results) -> None:
    cache = StageCache(Path(root))
    spec = StageSpec(("mnli",), "k" * 20, None, {"seed": 1})

    def train(parent_state, partial_dir):
        with open(log, "a") as fh:
            fh.write("trained\n")
        time.sleep(1.5)  # long enough for the other job to arrive while this one trains
        import torch

        return {"w": torch.ones(2)}, {"history": []}

    state, _, trained = cache.get_or_train(spec, train, None)
    results.put((trained, float(state["w"].sum())))


def test_a_stage_two_jobs_need_at_once_is_trained_once(tmp_path):
    """Two processes (SLURM jobs on a shared cache) ask for the same stage: one trains, one waits and reuses."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    log = tmp_path / "trainings.log"
    procs = [ctx.Process(target=_train_stage_in_process, args=(str(tmp_path / "stages"), str(log), results))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert log.read_text().count("trained") == 1
    assert outcomes == [(False, 2.0), (True, 2.0)]


# --------------------------------------------------------------------------- the engine under DDP (gloo)

STEPS = 12


def _tiny_tagger():
    """A real (small, randomly initialised, dropout-free) transformer with a tagging head."""
    import torch
    from transformers import BertConfig, BertModel

    from study.training.heads import TaggingHead
    from study.training.models import EncoderWithHead

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return EncoderWithHead(BertModel(config, add_pooling_layer=False), TaggingHead(32, 5, False, dropout=0.0))


def _tagging_data():
    from study.target.srl.data import TaggingInstance

    rng = np.random.default_rng(0)
    out = []
    for i in range(40):
        n = int(rng.integers(3, 12))  # uneven lengths: the processes' shares hold different word counts
        ids = rng.integers(5, 50, size=n)
        out.append(TaggingInstance(ids, np.arange(n), ids % 5, -1, i, 0, 0))
    return out


def _fit(checkpoint_dir, total_steps: int = STEPS):
    from study.config import Optimisation
    from study.training.batching import SeededBatchStream, collate_tagging
    from study.training.engine import Engine
    from study.training.heads import tagging_loss

    data = _tagging_data()
    model = _tiny_tagger()
    engine = Engine(model, Optimisation(lr=1e-3, head_lr=1e-3, batch_size=7), total_steps, seed=3, eval_every=3,
                    select_metric="neg_loss", checkpoint_dir=checkpoint_dir)
    stream = SeededBatchStream([len(x.input_ids) for x in data], 7, seed=3)

    def batches(start):
        for idx in stream.iterate(start):
            yield collate_tagging([data[i] for i in engine.shard(idx)], 0, mark_predicate=False)

    def evaluate(m):
        import torch

        with torch.no_grad():
            batch = collate_tagging(data, 0, mark_predicate=False)
            return {"neg_loss": -float(tagging_loss(m(batch), batch["labels"]))}

    return engine.fit(batches, lambda m, b: tagging_loss(m(b), b["labels"]), evaluate)


def _ddp_worker(rank: int, port: int, out: str, checkpoint_dir: str | None, total_steps: int) -> None:
    import json
    import os

    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": "2", "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": "2", "OMP_NUM_THREADS": "1"})
    from study.training.distributed import shutdown

    result = _fit(Path(checkpoint_dir) if checkpoint_dir else None, total_steps)
    if rank == 0:
        Path(out).write_text(json.dumps({"history": result.history, "examples": result.examples_seen,
                                         "resumed_from": result.resumed_from}))
    shutdown()


def _run_ddp(tmp_path, checkpoint_dir=None, total_steps: int = STEPS) -> dict:
    import json
    import socket

    import torch.multiprocessing as tmp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / f"ddp-{port}.json"
    tmp.spawn(_ddp_worker, args=(port, str(out), str(checkpoint_dir) if checkpoint_dir else None, total_steps),
              nprocs=2, join=True)
    return json.loads(out.read_text())


def _curve(history: list[dict]) -> np.ndarray:
    return np.array([[r["train_loss"], r["neg_loss"]] for r in history])


def test_two_gloo_processes_train_exactly_like_one_with_the_same_global_batch(tmp_path):
    """Without dropout the only difference left is float summation order: curves agree to 1e-4."""
    one = _fit(None)
    two = _run_ddp(tmp_path)
    assert two["examples"] == one.examples_seen  # each batch split between the processes, not duplicated
    np.testing.assert_allclose(_curve(two["history"]), _curve(one.history), rtol=1e-4)
    assert _curve(one.history)[-1, 0] < _curve(one.history)[0, 0]  # and it does learn


def test_engine_checkpoints_resume_across_modes(tmp_path):
    """A one-process checkpoint resumed by two processes (and the reverse) ends where one process ends.

    A finished fit leaves its last intermediate checkpoint (step 9 of 12) behind, as a run killed
    right after it would; the other mode resumes from it.
    """
    reference = _fit(None)
    ckpt = tmp_path / "1-then-2"
    _fit(ckpt)
    resumed = _run_ddp(tmp_path, ckpt)
    assert resumed["resumed_from"] == 9
    np.testing.assert_allclose(_curve(resumed["history"]), _curve(reference.history), rtol=1e-4)

    ckpt = tmp_path / "2-then-1"
    _run_ddp(tmp_path, ckpt)
    result = _fit(ckpt)
    assert result.resumed_from == 9
    np.testing.assert_allclose(_curve(result.history), _curve(reference.history), rtol=1e-4)
