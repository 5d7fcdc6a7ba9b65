"""``joint+srl:A+B``: one multi-task run over intermediate tasks A, B, ... and English SRL.

Phang et al. compare intermediate training before the target task with multi-task training that
includes it. Here every task gets exactly its usual budget of steps (``intermediate.budget`` per
intermediate task, ``srl.budget`` for SRL), interleaved in a seeded random order, so the run costs
what ``seq:A>B`` followed by SRL costs and sees as much SRL as every other schedule; the task
sampler of ``joint:`` stages does not apply (it would change SRL's share). Optimisation follows
``srl.optim`` (intermediate batches keep their own batch size and length); checkpoints are selected
on English SRL dev only, and the selected SRL head is what is scored zero-shot. Nothing of this run
goes to the stage cache: it is the target training itself, resumable through its own checkpoint.
"""

from __future__ import annotations

import numpy as np
import torch

from study.config import RunSpec
from study.intermediate.stages import MultiTaskModel, make_head, prepare_task, task_loss, task_stream
from study.target.job import TargetJob
from study.target.srl.model import SrlModel
from study.target.srl.train import SrlTraining, prepare_srl_data, srl_dev_metrics
from study.tasks.features import collate
from study.training.engine import Engine, budget_steps
from study.training.heads import srl_head, tagging_loss
from study.training.models import EncoderWithHead, fresh_encoder

SRL = "srl"


def interleaved_plan(counts: list[int], seed: int) -> np.ndarray:
    """Task index of every step: exactly ``counts[i]`` steps of task ``i``, in a seeded random order."""
    plan = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng([seed, 104729]).permutation(plan)


def train_joint_srl(job: TargetJob, run: RunSpec) -> tuple[SrlTraining, dict]:
    """Train the mixture; return the SRL model selected on English dev and the steps consumed per task.

    The mixture starts from the pretrained encoder (``job.init_encoder_state`` is not used).
    """
    if run.schedule.kind != "joint+srl":
        raise ValueError(f"{run.schedule.text} is not a joint+srl schedule")
    config, data_root, tokenizer, checkpoint_dir, progress = (job.config, job.data_root, job.tokenizer,
                                                              job.checkpoint_dir, job.progress)
    cfg = config.srl
    seed = job.seed
    srl_data = prepare_srl_data(config, data_root, tokenizer, job.train_sentences, seed)
    tasks = [prepare_task(config, t, data_root, tokenizer) for t in run.schedule.tasks]
    torch.manual_seed(seed)  # head initialisation
    encoder = fresh_encoder(config.encoder.name, config.encoder.freeze_word_embeddings, None,
                            config.encoder.freeze_bottom_layers, config.encoder.attention_dropout)
    hidden = encoder.config.hidden_size
    heads = {t.name: make_head(t, hidden) for t in tasks}
    heads[SRL] = srl_head(hidden, len(srl_data.labels), cfg.encoding, cfg.word_pooling)
    model = MultiTaskModel(encoder, heads)

    counts = [budget_steps(config.intermediate.budget, len(t.train), t.optim.batch_size) for t in tasks]
    counts.append(budget_steps(cfg.budget, len(srl_data.instances), cfg.optim.batch_size))
    plan = interleaved_plan(counts, seed)
    streams = [task_stream(t, seed + 1000 * i) for i, t in enumerate(tasks)]
    streams.append(srl_data.stream(cfg.optim.batch_size, seed, cfg.optim.group_by_length))
    names = [t.name for t in tasks] + [SRL]
    engine = Engine(model, cfg.optim, len(plan), seed, cfg.eval_every, "dev_head_f1", checkpoint_dir,
                    head_prefixes=("heads",), patience=cfg.early_stopping_patience,
                    progress=progress, runtime=config.runtime, find_unused_parameters=True)
    pad_id = tokenizer.pad_token_id

    def srl_view(m: MultiTaskModel) -> SrlModel:
        return SrlModel(EncoderWithHead(m.encoder, m.heads[SRL]), srl_data.labels, srl_data.wordpieces,
                        cfg.formulation, cfg.predicate_scope, pad_id, cfg.optim.eval_batch_size, cfg.encoding,
                        config.runtime.mixed_precision)

    def batches(start: int):
        done = np.bincount(plan[:start], minlength=len(names))
        iters = [s.iterate(int(done[i])) for i, s in enumerate(streams)]
        for step in range(start, len(plan)):
            i = int(plan[step])
            idx = engine.shard(next(iters[i]))
            batch = srl_data.collate(idx) if i == len(tasks) else collate([tasks[i].train[j] for j in idx], pad_id)
            batch["task_index"] = torch.tensor(i)
            yield batch

    def loss_fn(m, batch):
        i = int(batch["task_index"])
        if i == len(tasks):
            return tagging_loss(m(SRL, batch), batch["labels"])
        return task_loss(tasks[i], m(tasks[i].name, batch), batch)

    result = engine.fit(batches, loss_fn, lambda m: srl_dev_metrics(srl_view(m), srl_data.dev_split))
    steps_done = np.bincount(plan[: result.steps], minlength=len(names))
    consumed = {name: {"steps": int(steps_done[i]),
                       "examples": int(steps_done[i]) * (tasks[i].optim.batch_size if i < len(tasks)
                                                         else cfg.optim.batch_size)}
                for i, name in enumerate(names)}
    training = SrlTraining(srl_view(engine.unwrapped), result, srl_data.stats, srl_data.train_split,
                           srl_data.dev_split)
    return training, consumed

