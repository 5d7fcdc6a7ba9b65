"""The params schema: every key of ``params/*.yaml``, its type, default and meaning.

Unknown keys, wrong types, unknown tasks, languages or schedules and non-positive budgets are
rejected (``study.config.loading`` turns pydantic's errors into one line per problem that names
the file and the key). Each field's ``description`` is its documentation: ``study params explain``
prints them.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_serializer, field_validator, model_validator

from study.config.schedules import Schedule, ScheduleError, parse_schedule
from study.infra.hashing import stable_hash
from study.tasks.registry import task_names


def _yaml_float(value: Any) -> Any:
    """Accept ``5e-5``: YAML 1.1 (PyYAML) reads exponent floats without a dot as strings."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


#: a finite float (``.inf`` and ``.nan`` are refused: they train to NaN and score 0 everywhere)
Float = Annotated[float, BeforeValidator(_yaml_float), Field(allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]


def _target_sizes(value: Any) -> Any:
    """``srl.train_sentences``: one size means a list of one; each a positive count or ``all``."""
    sizes = value if isinstance(value, list) else [value]
    for size in sizes:
        if size != "all" and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise ValueError(f"'{size}' is not a target size; use a positive number of English SRL train "
                             "sentences or 'all', e.g. [1000, all]")
    return sizes


PositiveFloat = Annotated[Float, Field(gt=0)]
MAX_SEED = 2**31 - 1
LANG_PATTERN = re.compile(r"^[a-z]{2,3}$")


def section_model(annotation: Any) -> type[BaseModel] | None:
    """The params section a field's annotation holds (``Optimisation | None`` -> Optimisation), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = section_model(arg)
        if found is not None:
            return found
    return None


class Strict(BaseModel):
    """Base: unknown keys are errors, values are not silently coerced across types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EncoderConfig(Strict):
    """Which pretrained encoder every task shares."""

    name: str = Field(
        "multilingual-e5-small-q4", description=(
            'the encoder every task shares: multilingual-e5-small-q4 (rebuilt offline), a local checkpoint '
            'folder, or a Hugging Face hub name such as FacebookAI/xlm-roberta-large'))
    freeze_word_embeddings: bool = Field(
        True, description=(
            "keep the word-embedding matrix (96M of e5-small's 118M weights) as pretrained in every task; "
            '3.9x faster training on the CPU'))
    freeze_bottom_layers: Annotated[int, Field(ge=0)] = Field(
        0, description=(
            'also freeze the lowest N transformer layers in every task (0: none); saves their backward pass '
            'and keeps the most language-neutral layers as pretrained'))
    attention_dropout: Annotated[Float, Field(ge=0, lt=1)] | None = Field(
        None, description=(
            "dropout on the attention probabilities in training (None: the pretrained config's, 0.1 for "
            "e5-small). At 0 torch's fused CPU attention runs instead of materialising every score matrix "
            "(`study bench`'s profile: a SQuAD step at 16 x 256 spends about half its time there)"))


class Optimisation(Strict):
    """Optimiser and batching hyperparameters of one task's training (jiant-style names)."""

    lr: PositiveFloat = Field(
        5e-5, description='AdamW learning rate of the encoder')
    head_lr: PositiveFloat = Field(
        1e-3, description='AdamW learning rate of the task head')
    weight_decay: Annotated[Float, Field(ge=0)] = Field(
        0.01, description=(
            'AdamW weight decay (not applied to biases and normalisation weights)'))
    adam_eps: PositiveFloat = Field(
        1e-8, description='AdamW epsilon')
    warmup_ratio: Annotated[Float, Field(ge=0, lt=1)] = Field(
        0.1, description=(
            'fraction of the steps with a linear learning-rate warm-up; linear decay to 0 after it'))
    grad_clip: PositiveFloat = Field(
        1.0, description='gradient norm clipping')
    batch_size: PositiveInt = Field(
        16, description=(
            'examples per optimiser step (SRL with per_sentence encoding: sentences)'))
    max_length: PositiveInt = Field(
        128, description='word pieces per sequence; longer inputs are truncated')
    eval_batch_size: PositiveInt = Field(
        64, description='examples per batch when evaluating and scoring')
    group_by_length: bool = Field(
        True, description=(
            'batch examples of similar length together (less padding, 1.7x faster; the batch order stays a '
            'pure function of seed and step)'))


class Budget(Strict):
    """How long a stage trains: explicit so joint and sequential compare at equal compute."""

    unit: Literal["steps", "examples", "epochs"] = Field(
        "steps", description=(
            "what per_task counts: optimiser steps, examples seen, or epochs over the task's training data"))
    per_task: PositiveFloat = Field(
        300, description=(
            'the budget of each task; a joint stage over n tasks gets n times it, so joint and sequential '
            'schedules see equal compute'))


def _budget_axis(value: Any) -> Any:
    """``intermediate.budget.per_task``: a list of one is that number; a longer list is a grid axis."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


class IntermediateBudget(Budget):
    """The intermediate budget, which may be a grid axis (``per_task: [300, 1200]``)."""

    per_task: Annotated[PositiveFloat | Annotated[list[PositiveFloat], Field(min_length=2)],
                        BeforeValidator(_budget_axis)] = Field(
        300, description=(
            'the budget of each task; a joint stage over n tasks gets n times it, so joint and sequential '
            'schedules see equal compute. A list such as [300, 1200] is a grid axis: every schedule with '
            'intermediate tasks runs at each budget (run ids end in __i<budget>), none once'))

    @field_validator("per_task")
    @classmethod
    def _distinct_budgets(cls, value: Any) -> Any:
        if isinstance(value, list) and len(set(value)) != len(value):
            raise ValueError("a budget is listed twice")
        return value

    @field_serializer("per_task")
    def _as_given(self, value: Any) -> Any:
        # as Budget dumps it: an unvalidated default (300) stays 300, so hashes stay what they were
        return value

    def values(self) -> list[float]:
        """The budgets of the axis in params order (one for a plain budget)."""
        return list(self.per_task) if isinstance(self.per_task, list) else [self.per_task]


class Sampler(Strict):
    """Task sampler for joint runs; seeded by the run seed."""

    kind: Literal["uniform", "proportional", "capped", "temperature"] = Field(
        "proportional", description=(
            'how a joint stage picks the task of each step: uniform; proportional (p ~ n); capped (p ~ min(n,'
            ' cap)); temperature (p ~ n^(1/T)); seeded by (seed, step)'))
    cap: PositiveInt | None = Field(
        None, description=(
            "examples per task at which 'capped' stops growing a task's share"))
    temperature: PositiveFloat | None = Field(
        None, description=(
            "T of the 'temperature' sampler (1: proportional; larger: closer to uniform)"))

    @model_validator(mode="after")
    def _needs_parameter(self) -> Sampler:
        if self.kind == "capped" and self.cap is None:
            raise ValueError("sampler kind 'capped' needs 'cap' (examples per task)")
        if self.kind == "temperature" and self.temperature is None:
            raise ValueError("sampler kind 'temperature' needs 'temperature' (T > 0)")
        return self


class TaskConfig(Strict):
    """Per-task data caps and optional overrides of the shared optimisation settings."""

    max_train_examples: PositiveInt | None = Field(
        None, description=(
            'keep a fixed random subset of this many training examples (None: all)'))
    max_dev_examples: PositiveInt | None = Field(
        None, description=(
            'keep a fixed random subset of this many dev examples (None: all)'))
    dev_fraction: Annotated[Float, Field(gt=0, lt=1)] = Field(
        0.1, description=(
            'share of groups (premises, articles, contexts) that a dev-only bundle task sets aside as its own'
            ' dev split'))
    optim: Optimisation | None = Field(
        None, description=(
            "this task's own optimisation settings (None: intermediate.optim)"))


class IntermediateConfig(Strict):
    """Intermediate-task training shared by every schedule."""

    source: Literal["bundle", "hub"] = Field(
        "bundle", description=(
            'where intermediate-task data comes from: the local bundle (dev-derived splits) or the Hugging '
            'Face hub (official splits)'))
    budget: IntermediateBudget = Field(
        IntermediateBudget(), description='how long each intermediate task trains (a list of budgets: a grid axis)')
    sampler: Sampler = Field(
        Sampler(), description='the task sampler of joint stages')
    optim: Optimisation = Field(
        Optimisation(), description='optimisation settings shared by the intermediate tasks')
    eval_every: PositiveInt = Field(
        100, description=(
            "steps between dev evaluations (checkpoint selection on each task's dev set)"))
    tasks: dict[str, TaskConfig] = Field(
        default_factory=dict, description=(
            'every task a schedule uses, with its data caps and optional settings (e.g. {mnli: {}, squad_v1: '
            '{max_train_examples: 5000}})'))

    @field_validator("tasks", mode="before")
    @classmethod
    def _registered_tasks(cls, value: Any) -> Any:
        if isinstance(value, dict):
            known = task_names()
            for name in value:
                if name not in known:
                    hint = difflib.get_close_matches(str(name), known, n=1)
                    raise ValueError(f"unknown task '{name}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
                                     + f"; allowed tasks: {', '.join(known)}")
        return value


class SrlConfig(Strict):
    """The target task: English training, zero-shot scoring."""

    formulation: Literal["heads", "spans"] = Field(
        "heads", description=(
            "heads: label each argument's head word (CoNLL-2009 style); spans: BIO tags over UP:ARGSPANS"))
    encoding: Literal["per_predicate", "per_sentence"] = Field(
        "per_predicate", description=(
            'per_predicate: one encoder pass per predicate, marked with token type 1; per_sentence: one pass '
            'per sentence, predicates paired with words in the head (3x less encoder work)'))
    word_pooling: Literal["first", "mean"] = Field(
        "first", description=(
            "how a word's vector is read from its pieces: its first content piece or the mean of all its "
            'pieces (POS always reads the first)'))
    predicate_scope: Literal["verbal_and_copula", "verbal", "all"] = Field(
        "verbal_and_copula", description=(
            'which gold predicates are trained and scored: VERB plus copular be.01, VERB only, or all'))
    budget: Budget = Field(
        Budget(unit="steps", per_task=500), description='how long English SRL trains')
    optim: Optimisation = Field(
        Optimisation(batch_size=32, max_length=256, warmup_ratio=0.1), description='SRL optimisation settings')
    eval_every: PositiveInt = Field(
        100, description='steps between English dev evaluations (checkpoint selection)')
    early_stopping_patience: PositiveInt | None = Field(
        None, description=(
            'stop after this many evaluations without a better English dev F1 (None: never)'))
    max_train_sentences: PositiveInt | None = Field(
        None, description='use only this prefix of English train (smoke runs)')
    train_sentences: Annotated[list[PositiveInt | Literal["all"]], BeforeValidator(_target_sizes),
                               Field(min_length=1)] = Field(
        default_factory=lambda: ["all"], description=(
            "the target-size regimes, a grid axis: English SRL train sentences per run, e.g. [1000, all]. "
            "Each size is a random subset of English train drawn per seed (the same for every schedule "
            "of that seed, recorded in the run's history.json); 'all': the whole split. Intermediate "
            "stages are shared across sizes; POS is trained only at the largest"))
    max_dev_sentences: PositiveInt | None = Field(
        None, description='use only this prefix of English dev')
    languages: list[str] | Literal["all"] = Field(
        "all", description=(
            "target languages scored zero-shot: 'all' in the bundle, or a list such as [de, fr, zh]"))
    gold_sets: list[str] = Field(
        default_factory=lambda: ["pl", "vi"], description=(
            'hand-labelled gold sets scored beside the silver files (srl/<lang>/gold-test.conllup)'))
    splits: list[Literal["test", "dev"]] = Field(
        default_factory=lambda: ["test"], description='which target files are scored: test and/or dev')
    max_eval_sentences: PositiveInt | None = Field(
        None, description=(
            'score only this prefix of each target file (None: the whole file)'))

    @field_validator("train_sentences")
    @classmethod
    def _distinct_sizes(cls, sizes: list) -> list:
        if len(set(sizes)) != len(sizes):
            raise ValueError("a size is listed twice")
        return sizes

    @field_validator("languages", "gold_sets", mode="before")
    @classmethod
    def _language_codes(cls, value: Any) -> Any:
        if value == "all":
            return value
        if not isinstance(value, list):
            raise ValueError("expected 'all' or a list of language codes such as [de, fr, zh]")
        for code in value:
            if not isinstance(code, str) or not LANG_PATTERN.match(code):
                raise ValueError(f"'{code}' is not a language code; use ISO 639 codes such as de, fr, zh")
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value


class PosConfig(Strict):
    """UD-POS beside SRL (an XTREME task), from the same UD files."""

    enabled: bool = Field(
        True, description='train and score UD-POS beside SRL from the same encoders')
    budget: Budget = Field(
        Budget(unit="steps", per_task=300), description='how long English POS trains')
    optim: Optimisation = Field(
        Optimisation(batch_size=32, max_length=256), description='POS optimisation settings')
    eval_every: PositiveInt = Field(
        100, description='steps between English dev evaluations')


class AnalysisConfig(Strict):
    """Significance testing settings (docs/design.md, "Statistics")."""

    alpha: Annotated[Float, Field(gt=0, lt=1)] = Field(
        0.05, description=(
            'significance level of every test (before Holm correction over the family)'))
    aso_threshold: Annotated[Float, Field(gt=0, le=0.5)] = Field(
        0.2, description='Almost Stochastic Order: reject when eps_min is below this')
    bootstrap_samples: PositiveInt = Field(
        1000, description='paired bootstrap resamples over sentences')
    permutation_samples: PositiveInt = Field(
        1000, description='approximate randomisation resamples over sentences')
    aso_iterations: PositiveInt = Field(
        1000, description=(
            "ASO's bootstrap iterations per test (deepsig's default; ~11 ms per test with study.analysis.aso)"))
    workers: PositiveInt | None = Field(
        None, description=(
            'processes that read the prediction files (None: every usable CPU); results do not depend on it'))
    primary: Annotated[list[str], Field(min_length=2, max_length=2)] | Literal["default"] = Field(
        "default", description=(
            "the one pre-declared comparison [A, B] the study answers, tested alone at alpha on the per-run "
            "AVG head F1 over the target test sets (runs are the unit: exact permutation of run labels, "
            "Welch CI); 'default': the first joint schedule against the first sequential one over the "
            "same tasks. The other comparisons are secondary, Holm-corrected among themselves"))
    comparisons: list[Annotated[list[str], Field(min_length=2, max_length=2)]] | Literal["default"] = Field(
        "default", description=(
            "'default' (joint vs sequential, each vs none, each vs the best single) or a list of [A, B] "
            'schedule pairs'))


class RuntimeConfig(Strict):
    """Where and how the study computes: device, threads, precision, AdamW and kernel choices."""

    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description=(
            'where training runs: auto (CUDA if torch sees a GPU), cpu or cuda'))
    num_threads: PositiveInt | None = Field(
        None, description=(
            "torch intra-op threads (None: the process's cores, split among local DDP processes)"))
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = Field(
        "no", description=(
            'autocast precision: "no" (fp32; quote it, YAML reads a bare no as false), bf16 (faster on CPUs '
            'with AVX-512 bf16 or AMX, ~100x slower where it is emulated), fp16 (GPUs), or auto: bf16 on a CPU '
            'with native bf16, else fp32 (on GPUs too: measured faster there at these shapes). auto is '
            'resolved when the params are loaded, so the params hash, stage keys and provenance carry the '
            'precision actually used, and a study resumed on a machine that resolves differently is '
            'refused rather than mixed'))
    optimizer: Literal["fused", "for_loop"] = Field(
        "fused", description=(
            'AdamW implementation: fused (one kernel over all parameters; 1.14x on the SRL step, see study '
            "bench) or for_loop (torch's CPU default). They agree to float rounding, which training "
            'amplifies, so the choice is part of the params hash'))
    deterministic: bool = Field(
        True, description=(
            'deterministic kernels (torch.use_deterministic_algorithms): without them the backward of '
            'indexing with repeated rows adds with atomics, so runs sharing the CPU with other work drift in '
            'the last digits'))

    @model_validator(mode="before")
    @classmethod
    def _resolve_auto_precision(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("mixed_precision") == "auto":
            from study.infra.hardware import auto_precision

            data = {**data, "mixed_precision": auto_precision(str(data.get("device", "auto")))}
        return data


class StudyConfig(Strict):
    """A whole study: encoder, schedules x seeds, the tasks and the analysis."""

    study_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"), Field(description=(
            'names the report folder reports/<study_name>/ and the run cache'))]
    description: str = Field(
        "", description="one line shown on the report's index page")
    data_root: str | None = Field(
        None, description=(
            'the data bundle (None: $STUDY_DATA, else ../shared/data beside the checkout)'))
    encoder: EncoderConfig = Field(
        EncoderConfig(), description='the shared encoder')
    seeds: Annotated[list[int], Field(min_length=1, description='one run per schedule and seed: the replicates')]
    schedules: Annotated[list[str], Field(min_length=1), Field(description=(
            'the independent variable: none, single:T, seq:A>B[>C...], joint:A+B[+C...], joint+srl:A[+B...]'))]
    intermediate: IntermediateConfig = Field(
        IntermediateConfig(), description='intermediate-task training')
    srl: SrlConfig = Field(
        SrlConfig(), description='the target task: English SRL training, zero-shot scoring')
    pos: PosConfig = Field(
        PosConfig(), description='UD-POS beside SRL')
    analysis: AnalysisConfig = Field(
        AnalysisConfig(), description=(
            'significance testing (not part of the params hash: changing it re-runs the analysis only)'))
    runtime: RuntimeConfig = Field(
        RuntimeConfig(), description='device, threads, precision and kernels')

    @field_validator("seeds")
    @classmethod
    def _unique_seeds(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        if any(s < 0 or s > MAX_SEED for s in seeds):
            raise ValueError(f"seeds must be between 0 and {MAX_SEED} (a stage of a joint run seeds with seed + 1000 "
                             "per task, numpy takes seeds below 2**32)")
        return seeds

    @field_validator("schedules")
    @classmethod
    def _parse_schedules(cls, schedules: list[str]) -> list[str]:
        parsed = []
        for i, text in enumerate(schedules):
            try:
                parsed.append(parse_schedule(text).text)
            except ScheduleError as exc:
                raise ValueError(f"entry {i}: {exc}") from None
        if len(set(parsed)) != len(parsed):
            raise ValueError("a schedule is listed twice")
        return schedules

    @model_validator(mode="after")
    def _tasks_configured(self) -> StudyConfig:
        needed = {t for s in self.parsed_schedules() for t in s.tasks}
        missing = sorted(needed - set(self.intermediate.tasks))
        if missing:
            raise ValueError(
                f"schedules use task(s) {', '.join(missing)} with no entry under intermediate.tasks; "
                f"add e.g. 'intermediate: {{tasks: {{{missing[0]}: {{}}}}}}'"
            )
        known = {s.text for s in self.parsed_schedules()}
        named = [("analysis.primary", n) for n in (self.analysis.primary if self.analysis.primary != "default"
                                                   else [])]
        if self.analysis.comparisons != "default":
            named += [("analysis.comparisons", n) for pair in self.analysis.comparisons for n in pair]
        for key, name in named:
            if name not in known:
                raise ValueError(f"{key} names '{name}', which is not among the schedules: "
                                 f"{', '.join(sorted(known))}")
        return self

    def parsed_schedules(self) -> list[Schedule]:
        return [parse_schedule(s) for s in self.schedules]

    def params_hash(self) -> str:
        """Hash of what the runs compute: the resolved configuration (defaults filled in).

        ``analysis`` and ``description`` are left out: they change how finished runs are compared and
        described, never what a run computes, so a new alpha re-runs the analysis, not 18 trainings.
        """
        return stable_hash(drop_hash_neutral(self.model_dump(mode="json", exclude=set(NOT_IN_RUN_HASH))))

    def full_hash(self) -> str:
        """Hash of every setting, ``analysis`` included (names a saved copy of these params)."""
        return stable_hash(self.model_dump(mode="json"))


#: Top-level sections that do not change what a run computes (see StudyConfig.params_hash).
NOT_IN_RUN_HASH = ("analysis", "description")

#: Settings added after results existed, with the value that reproduces the behaviour from before:
#: at that value they are left out of hashes, so runs and stages computed earlier keep their hashes.
HASH_NEUTRAL = {("runtime", "optimizer"): "for_loop", ("runtime", "deterministic"): False,
                ("srl", "train_sentences"): ["all"], ("encoder", "attention_dropout"): None}


def drop_hash_neutral(dump: dict) -> dict:
    """``dump`` without the HASH_NEUTRAL settings that sit at their neutral value."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in dump.items()}
    for (section, key), neutral in HASH_NEUTRAL.items():
        if isinstance(out.get(section), dict) and out[section].get(key) == neutral:
            del out[section][key]
    return out


