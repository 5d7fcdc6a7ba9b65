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

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

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


Float = Annotated[float, BeforeValidator(_yaml_float)]
PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[Float, Field(gt=0)]
LANG_PATTERN = re.compile(r"^[a-z]{2,3}$")


class Strict(BaseModel):
    """Base: unknown keys are errors, values are not silently coerced across types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EncoderConfig(Strict):
    """Which pretrained encoder every task shares."""

    name: str = "multilingual-e5-small-q4"
    freeze_word_embeddings: bool = True
    #: Freeze the embeddings and the lowest N transformer layers in every task (0: none). Saves the
    #: backward pass through them and keeps the most language-neutral layers as pretrained.
    freeze_bottom_layers: Annotated[int, Field(ge=0)] = 0


class Optimisation(Strict):
    """Optimiser and batching hyperparameters of one task's training (jiant-style names)."""

    lr: PositiveFloat = 5e-5
    head_lr: PositiveFloat = 1e-3
    weight_decay: Annotated[Float, Field(ge=0)] = 0.01
    adam_eps: PositiveFloat = 1e-8
    warmup_ratio: Annotated[Float, Field(ge=0, lt=1)] = 0.1
    grad_clip: PositiveFloat = 1.0
    batch_size: PositiveInt = 16
    max_length: PositiveInt = 128
    eval_batch_size: PositiveInt = 64
    #: Batch similar lengths together (less padding; see study.training.batching). Benchmarked in issue 7.
    group_by_length: bool = True


class Budget(Strict):
    """How long a stage trains: explicit so joint and sequential compare at equal compute."""

    unit: Literal["steps", "examples", "epochs"] = "steps"
    per_task: PositiveFloat = 300


class Sampler(Strict):
    """Task sampler for joint runs; seeded by the run seed."""

    kind: Literal["uniform", "proportional", "capped", "temperature"] = "proportional"
    cap: PositiveInt | None = None
    temperature: PositiveFloat | None = None

    @model_validator(mode="after")
    def _needs_parameter(self) -> Sampler:
        if self.kind == "capped" and self.cap is None:
            raise ValueError("sampler kind 'capped' needs 'cap' (examples per task)")
        if self.kind == "temperature" and self.temperature is None:
            raise ValueError("sampler kind 'temperature' needs 'temperature' (T > 0)")
        return self


class TaskConfig(Strict):
    """Per-task data caps and optional overrides of the shared optimisation settings."""

    max_train_examples: PositiveInt | None = None
    max_dev_examples: PositiveInt | None = None
    dev_fraction: Annotated[Float, Field(gt=0, lt=1)] = 0.1
    optim: Optimisation | None = None


class IntermediateConfig(Strict):
    """Intermediate-task training shared by every schedule."""

    source: Literal["bundle", "hub"] = "bundle"
    budget: Budget = Budget()
    sampler: Sampler = Sampler()
    optim: Optimisation = Optimisation()
    eval_every: PositiveInt = 100
    tasks: dict[str, TaskConfig] = Field(default_factory=dict)

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

    formulation: Literal["heads", "spans"] = "heads"
    #: ``per_predicate``: one encoder pass per predicate, marked with token type 1 (the classic recipe);
    #: ``per_sentence``: one pass per sentence, predicates paired with words in the head (faster;
    #: speed and F1 of both are in the benchmark, issue 7).
    encoding: Literal["per_predicate", "per_sentence"] = "per_predicate"
    #: How a word's vector is read from its pieces: ``first`` content piece or ``mean`` of all pieces
    #: (README, "How the SRL recipe was chosen"). POS always reads the first piece.
    word_pooling: Literal["first", "mean"] = "first"
    predicate_scope: Literal["verbal_and_copula", "verbal", "all"] = "verbal_and_copula"
    budget: Budget = Budget(unit="steps", per_task=500)
    optim: Optimisation = Optimisation(batch_size=32, max_length=256, warmup_ratio=0.1)
    eval_every: PositiveInt = 100
    early_stopping_patience: PositiveInt | None = None
    max_train_sentences: PositiveInt | None = None  # a fixed prefix of English train (smoke runs)
    max_dev_sentences: PositiveInt | None = None
    languages: list[str] | Literal["all"] = "all"
    gold_sets: list[str] = Field(default_factory=lambda: ["pl", "vi"])
    splits: list[Literal["test", "dev"]] = Field(default_factory=lambda: ["test"])
    max_eval_sentences: PositiveInt | None = None

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

    enabled: bool = True
    budget: Budget = Budget(unit="steps", per_task=300)
    optim: Optimisation = Optimisation(batch_size=32, max_length=256)
    eval_every: PositiveInt = 100


class AnalysisConfig(Strict):
    """Significance testing settings (DESIGN.md, "Significance testing")."""

    alpha: Annotated[Float, Field(gt=0, lt=1)] = 0.05
    aso_threshold: Annotated[Float, Field(gt=0, le=0.5)] = 0.2
    bootstrap_samples: PositiveInt = 1000
    permutation_samples: PositiveInt = 1000
    #: ASO's bootstrap iterations per test: deepsig's default (~11 ms per test at 1,000 with study.analysis.aso).
    aso_iterations: PositiveInt = 1000
    #: processes that read the prediction files (default: every usable CPU); results do not depend on it
    workers: PositiveInt | None = None
    #: "default" (joint vs sequential, each vs none, each vs best single) or [[A, B], ...] schedule pairs
    comparisons: list[Annotated[list[str], Field(min_length=2, max_length=2)]] | Literal["default"] = "default"


class RuntimeConfig(Strict):
    """Where and how the study computes: device, threads, precision, AdamW and kernel choices."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_threads: PositiveInt | None = None
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    #: AdamW's implementation: ``fused`` (one kernel over all parameters; the per-sentence SRL training
    #: step ran 1.14x faster with it at equal dev F1, see ``study bench``) or ``for_loop`` (torch's CPU
    #: default, one parameter at a time). They agree to float rounding, which training then amplifies, so the
    #: choice is part of the params hash; ``for_loop`` (the behaviour before this option existed)
    #: leaves the hash as it was.
    optimizer: Literal["fused", "for_loop"] = "fused"
    #: Deterministic kernels (``torch.use_deterministic_algorithms``). Without them, the backward of
    #: indexing with repeated rows (the per-sentence SRL head picks each sentence's words once per
    #: predicate) adds into shared gradients with atomics from every thread, in an order, and so with a
    #: float rounding, that depends on thread scheduling: alone on the machine a run repeats to the bit,
    #: but under CPU contention it drifts (measured: the default none run's step-100 loss 1.292484 vs
    #: 1.292475). ``false`` (the behaviour before this option existed) leaves the params hash as it was.
    deterministic: bool = True


class StudyConfig(Strict):
    """A whole study: encoder, schedules x seeds, the tasks and the analysis."""

    study_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    description: str = ""
    data_root: str | None = None
    encoder: EncoderConfig = EncoderConfig()
    seeds: Annotated[list[int], Field(min_length=1)]
    schedules: Annotated[list[str], Field(min_length=1)]
    intermediate: IntermediateConfig = IntermediateConfig()
    srl: SrlConfig = SrlConfig()
    pos: PosConfig = PosConfig()
    analysis: AnalysisConfig = AnalysisConfig()
    runtime: RuntimeConfig = RuntimeConfig()

    @field_validator("seeds")
    @classmethod
    def _unique_seeds(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        if any(s < 0 for s in seeds):
            raise ValueError("seeds must be >= 0")
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
        if self.analysis.comparisons != "default":
            known = {s.text for s in self.parsed_schedules()}
            for a, b in self.analysis.comparisons:
                for name in (a, b):
                    if name not in known:
                        raise ValueError(f"analysis.comparisons names '{name}', which is not among the "
                                         f"schedules: {', '.join(sorted(known))}")
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
HASH_NEUTRAL = {("runtime", "optimizer"): "for_loop", ("runtime", "deterministic"): False}


def drop_hash_neutral(dump: dict) -> dict:
    """``dump`` without the HASH_NEUTRAL settings that sit at their neutral value."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in dump.items()}
    for (section, key), neutral in HASH_NEUTRAL.items():
        if isinstance(out.get(section), dict) and out[section].get(key) == neutral:
            del out[section][key]
    return out


