"""The training engine, heads and stages on tiny slices of real data with the real encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from study.config import RuntimeConfig, validate_params
from study.intermediate.stage_cache import StageCache, plan_stages
from study.intermediate.stages import MultiTaskModel, make_head, prepare_task, task_loss, train_stage
from study.target.srl.data import build_srl_instances, label_inventory, load_split, srl_path
from study.tasks.features import collate
from study.training.batching import SeededBatchStream, collate_tagging
from study.training.engine import CHECKPOINT, Engine
from study.training.heads import TaggingHead, tagging_loss
from study.training.models import EncoderWithHead, encoder_state, fresh_encoder
from study.training.wordpieces import WordPieceEncoder
from tests.helpers import REPO


def smoke_config(**changes):
    data = yaml.safe_load((REPO / "params" / "smoke.yaml").read_text())
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return validate_params(data)


@pytest.fixture(scope="module")
def tokenizer(encoder_dir):
    from study.encoder.load import load_tokenizer

    return load_tokenizer("multilingual-e5-small-q4")


@pytest.fixture(scope="module")
def srl_instances(data_root, tokenizer):
    split = load_split(srl_path(data_root, "en", "dev"), "en", "dev", "verbal_and_copula", 40)
    labels = label_inventory([split])
    inst, _ = build_srl_instances(split, WordPieceEncoder(tokenizer, 128), {lab: i for i, lab in enumerate(labels)})
    return inst, labels


def make_srl_engine(srl_instances, ckpt, steps=6, seed=0, optimizer="fused"):
    inst, labels = srl_instances
    torch.manual_seed(seed)
    encoder = fresh_encoder("multilingual-e5-small-q4", True)
    model = EncoderWithHead(encoder, TaggingHead(384, len(labels), conditioned=True))
    cfg = smoke_config()
    engine = Engine(model, cfg.srl.optim, steps, seed, eval_every=2, select_metric="neg_loss", checkpoint_dir=ckpt,
                    runtime=RuntimeConfig(optimizer=optimizer))
    stream = SeededBatchStream([len(x.input_ids) for x in inst], 8, seed)

    def batches(start):
        for idx in stream.iterate(start):
            yield collate_tagging([inst[i] for i in idx], 1, True)

    fixed = collate_tagging(inst[:16], 1, True)

    def evaluate(m):
        with torch.no_grad():
            return {"neg_loss": -float(tagging_loss(m(fixed), fixed["labels"]))}

    return engine, batches, evaluate


def loss_fn(m, b):
    return tagging_loss(m(b), b["labels"])


def test_tagging_loss_goes_down(srl_instances, tmp_path):
    engine, batches, evaluate = make_srl_engine(srl_instances, None, steps=8)
    before = evaluate(engine.unwrapped)["neg_loss"]
    result = engine.fit(batches, loss_fn, evaluate)
    assert result.best_metrics["neg_loss"] > before + 0.5


def test_fused_and_for_loop_adamw_train_to_the_same_weights_up_to_rounding(srl_instances):
    trained = {}
    for kind in ("fused", "for_loop"):
        engine, batches, _ = make_srl_engine(srl_instances, None, steps=4, optimizer=kind)
        assert bool(engine.optimizer.optimizer.defaults["fused"]) == (kind == "fused")
        engine.fit(batches, loss_fn, None)
        trained[kind] = {k: v.detach().clone() for k, v in engine.unwrapped.named_parameters() if v.requires_grad}
    start = fresh_encoder("multilingual-e5-small-q4", True).state_dict()
    moved = [k for k in trained["fused"] if k.startswith("encoder.")
             and not torch.equal(trained["fused"][k], start[k.removeprefix("encoder.")])]
    assert moved  # the encoder trained
    for k in trained["fused"]:
        torch.testing.assert_close(trained["fused"][k], trained["for_loop"][k], atol=1e-5, rtol=1e-4)


def test_deterministic_runtime_sums_repeated_row_gradients_in_index_order():
    """The per-sentence head takes each sentence's words once per predicate (``words[row]``). torch's
    parallel backward of that adds the predicates' gradients with atomics from every thread, so the
    rounding depends on which thread gets there first (under CPU contention a run drifted); with
    ``runtime.deterministic`` the engine makes it add them in index order."""
    optim = smoke_config().srl.optim
    Engine(torch.nn.Linear(2, 2), optim, 1, 0, 1, "x", runtime=RuntimeConfig(deterministic=True))
    assert torch.are_deterministic_algorithms_enabled()
    g = torch.Generator().manual_seed(0)
    n_pred, n_words, hidden = 7, 64, 128  # 57,344 elements: above torch's grain size, so threads split them
    upstream = torch.randn(n_pred, n_words, hidden, generator=g) * torch.logspace(0, 6, n_pred).view(-1, 1, 1)
    words = torch.zeros(1, n_words, hidden, requires_grad=True)
    words[torch.zeros(n_pred, dtype=torch.long)].backward(upstream)
    in_order = torch.zeros(n_words, hidden)
    for p in range(n_pred):
        in_order = in_order + upstream[p]
    assert torch.equal(words.grad[0], in_order)
    Engine(torch.nn.Linear(2, 2), optim, 1, 0, 1, "x", runtime=RuntimeConfig(deterministic=False))
    assert not torch.are_deterministic_algorithms_enabled()


def test_killed_run_resumes_to_identical_weights(srl_instances, tmp_path):
    # uninterrupted
    engine, batches, evaluate = make_srl_engine(srl_instances, tmp_path / "a")
    engine.fit(batches, loss_fn, evaluate)
    reference = {k: v.clone() for k, v in engine.unwrapped.state_dict().items()}

    # killed after step 5 (the last checkpoint is at step 4), then resumed by a fresh engine
    engine, batches, evaluate = make_srl_engine(srl_instances, tmp_path / "b")

    def dying(start):
        for i, b in enumerate(batches(start), start=start):
            if i == 5:
                raise KeyboardInterrupt
            yield b

    with pytest.raises(KeyboardInterrupt):
        engine.fit(dying, loss_fn, evaluate)
    assert torch.load(tmp_path / "b" / CHECKPOINT, weights_only=False)["step"] == 4
    engine, batches, evaluate = make_srl_engine(srl_instances, tmp_path / "b")
    result = engine.fit(batches, loss_fn, evaluate)
    assert result.resumed_from == 4
    for name, value in engine.unwrapped.state_dict().items():
        assert torch.equal(value, reference[name]), name


def test_corrupt_checkpoint_is_recomputed_not_used(srl_instances, tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / CHECKPOINT).write_bytes(b"not a checkpoint")
    engine, batches, evaluate = make_srl_engine(srl_instances, tmp_path / "c", steps=2)
    assert engine.fit(batches, loss_fn, evaluate).resumed_from == 0


@pytest.fixture(scope="module")
def tiny_tasks(data_root, tokenizer):
    cfg = smoke_config()
    return cfg, {t: prepare_task(cfg, t, data_root, tokenizer) for t in ("mnli", "squad_v1")}


@pytest.mark.parametrize("task", ["mnli", "squad_v1", "hellaswag"])
def test_each_head_learns(data_root, tokenizer, task):
    cfg = smoke_config(**{f"intermediate.tasks.{task}": {"max_train_examples": 8, "max_dev_examples": 4}},
                       **{"intermediate.optim.max_length": 96})
    prepared = prepare_task(cfg, task, data_root, tokenizer)
    torch.manual_seed(0)
    encoder = fresh_encoder("multilingual-e5-small-q4", True)
    model = MultiTaskModel(encoder, {task: make_head(prepared, 384)})
    batch = collate(prepared.train[:4], tokenizer.pad_token_id)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train()
    torch.manual_seed(0)
    losses = []
    for _ in range(6):  # fit one small batch: the loss must fall
        loss = task_loss(prepared, model(task, batch), batch)
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0], losses


def test_sequential_carry_over_moves_encoder_weights_only(tiny_tasks, tokenizer, tmp_path):
    cfg, tasks = tiny_tasks
    first = train_stage(cfg, [tasks["mnli"]], 1, tokenizer.pad_token_id, None, None)
    assert all(not k.startswith("heads") for k in first.encoder_state)
    assert "embeddings.word_embeddings.weight" not in first.encoder_state  # frozen: not carried, not changed
    pretrained = encoder_state(fresh_encoder("multilingual-e5-small-q4", True))
    assert any(not torch.equal(first.encoder_state[k], pretrained[k]) for k in pretrained)
    # the next stage starts from exactly these encoder weights, with a fresh head of its own
    encoder = fresh_encoder("multilingual-e5-small-q4", True, first.encoder_state)
    loaded = encoder_state(encoder)
    assert all(torch.equal(loaded[k], first.encoder_state[k]) for k in loaded)


def test_stage_cache_reuses_and_retrains_on_key_change(tiny_tasks, tokenizer, tmp_path, data_root):
    from study.config import expand_runs

    cfg, tasks = tiny_tasks
    cache = StageCache(tmp_path / "stages")
    runs = {r.run_id: r for r in expand_runs(cfg)}
    enc = {"weights_sha256": "x"}
    single = plan_stages(cfg, runs["single-mnli__seed1"].schedule, 1, enc, "fp")
    seq = plan_stages(cfg, runs["seq-mnli-squad_v1__seed1"].schedule, 1, enc, "fp")
    assert single[0].key == seq[0].key and seq[1].parent == seq[0].key
    calls = []

    def train(parent, partial):
        calls.append(partial)
        out = train_stage(cfg, [tasks["mnli"]], 1, tokenizer.pad_token_id, parent, partial)
        return out.encoder_state, {"history": out.history}

    s1, _, trained1 = cache.get_or_train(single[0], train, None)
    s2, _, trained2 = cache.get_or_train(seq[0], train, None)
    assert trained1 and not trained2 and len(calls) == 1
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    # any key ingredient changes the key: a different seed, budget or data cap is a different stage
    other_seed = plan_stages(cfg, runs["single-mnli__seed1"].schedule, 2, enc, "fp")[0]
    cfg2 = smoke_config(**{"intermediate.budget.per_task": 5})
    other_budget = plan_stages(cfg2, runs["single-mnli__seed1"].schedule, 1, enc, "fp")[0]
    cfg3 = smoke_config(**{"intermediate.tasks.mnli.max_train_examples": 65})
    other_data = plan_stages(cfg3, runs["single-mnli__seed1"].schedule, 1, enc, "fp")[0]
    cfg4 = smoke_config(**{"runtime.optimizer": "for_loop"})
    other_optimizer = plan_stages(cfg4, runs["single-mnli__seed1"].schedule, 1, enc, "fp")[0]
    assert "optimizer" not in other_optimizer.ingredients["runtime"]  # hash-neutral: earlier keys stay valid
    assert len({single[0].key, other_seed.key, other_budget.key, other_data.key, other_optimizer.key}) == 5
    # a damaged stage is not taken as done: it is retrained
    (cache.path(single[0].key) / "encoder.safetensors").write_bytes(b"broken")
    assert not cache.is_done(single[0].key)
    cache.get_or_train(single[0], train, None)
    assert len(calls) == 2 and cache.is_done(single[0].key)


def test_joint_srl_plan_gives_every_task_exactly_its_budget():
    from study.target.joint_srl import interleaved_plan

    plan = interleaved_plan([5, 3, 8], seed=4)
    assert np.bincount(plan).tolist() == [5, 3, 8]
    assert np.array_equal(plan, interleaved_plan([5, 3, 8], seed=4))  # seeded
    assert not np.array_equal(plan, interleaved_plan([5, 3, 8], seed=5))
    assert not np.array_equal(plan, np.sort(plan))  # interleaved, not task after task


def test_joint_srl_run_trains_srl_inside_the_mixture_and_resumes(data_root, tokenizer, tmp_path):
    from study.config import RunSpec
    from study.config.schedules import parse_schedule
    from study.target.job import TargetJob
    from study.target.joint_srl import train_joint_srl

    cfg = smoke_config(**{"srl.max_train_sentences": 60, "srl.max_dev_sentences": 8, "srl.budget.per_task": 3,
                          "srl.eval_every": 2, "intermediate.budget.per_task": 2})
    run = RunSpec(parse_schedule("joint+srl:mnli"), 1)
    job = TargetJob(cfg, data_root, run.seed, tokenizer, checkpoint_dir=tmp_path / "ckpt")
    training, consumed = train_joint_srl(job, run)
    assert consumed == {"mnli": {"steps": 2, "examples": 8}, "srl": {"steps": 3, "examples": 24}}
    assert training.result.steps == 5 and "dev_head_f1" in training.result.best_metrics
    predicted, stats = training.srl.predict(training.dev_split)
    assert stats.instances == sum(len(p) for p in training.dev_split.predicates) and len(predicted) == 8
    # started again, it resumes from its last checkpoint (step 4) and ends where it ended
    again, _ = train_joint_srl(job, run)
    assert again.result.resumed_from == 4
    assert again.result.best_metrics == training.result.best_metrics
