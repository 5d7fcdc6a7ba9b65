"""Validated study configuration (``params/*.yaml``).

A typed schema (pydantic) rejects an unknown key, a wrong type, an unknown task, language or
schedule, or a non-positive budget with one message that names the file, the key, the bad value
and what is allowed. ``load_params`` is the only way params enter the study, so nothing
downstream has to re-check them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from study.errors import ParamsError
from study.hashing import stable_hash
from study.registry import INTERMEDIATE_TASKS
from study.schedules import Schedule, ScheduleError, parse_schedule


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
TaskName = Literal[tuple(INTERMEDIATE_TASKS)]  # type: ignore[valid-type]
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
    #: Batch similar lengths together (less padding; see study.batching). Benchmarked in issue 7.
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
    tasks: dict[TaskName, TaskConfig] = Field(default_factory=dict)  # type: ignore[valid-type]


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
    #: ASO's bootstrap iterations per test: deepsig's default (~11 ms per test at 1,000 with study.aso).
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
        if self.intermediate.source == "bundle":
            unbundled = sorted(t for t in needed if not INTERMEDIATE_TASKS[t].bundled)
            if unbundled:
                raise ValueError(f"task(s) {', '.join(unbundled)} have no bundled data; they need a user copy")
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


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid: a schedule trained with one seed."""

    schedule: Schedule
    seed: int

    @property
    def run_id(self) -> str:
        return f"{self.schedule.slug}__seed{self.seed}"


def expand_runs(config: StudyConfig) -> list[RunSpec]:
    """The grid the study executes: every schedule x every seed, seed-major (params order within).

    Seed-major so that a grid stopped part-way (hours on a laptop) holds every schedule at its first
    seeds, which the analysis can already compare, rather than all seeds of the first schedules.
    """
    return [RunSpec(s, seed) for seed in config.seeds for s in config.parsed_schedules()]


# --------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict:
    """Read a params file into a dict; syntax errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ParamsError(f"{where}: invalid YAML: {exc.problem or exc.context}") from exc
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def load_params(path: Path, overrides: dict | None = None) -> StudyConfig:
    """Load and validate ``path`` (plus optional overrides, e.g. papermill parameters)."""
    data = read_yaml(path)
    if overrides:
        data = _deep_merge(data, overrides)
    return validate_params(data, source=str(path))


def validate_params(data: dict, source: str = "<params>") -> StudyConfig:
    """Validate a params dict; raise :class:`ParamsError` with one readable line per problem."""
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise ParamsError(format_validation_error(exc, source)) from None


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that owns the location ``loc`` (for listing allowed keys)."""
    model: Any = StudyConfig
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            if isinstance(part, str) and part in INTERMEDIATE_TASKS and model is IntermediateConfig:
                continue
            return None
        ann = field.annotation
        model = _unwrap_model(ann)
        if model is None and isinstance(part, str) and part == "tasks":
            model = TaskConfig
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def format_validation_error(exc: ValidationError, source: str) -> str:
    """Turn pydantic's errors into lines like ``params.yaml: key 'srl.formulaton': ...``."""
    lines = []
    seen = set()
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p not in {"[key]"} and not _is_branch_tag(p))
        key = ".".join(str(p) for p in loc) or "<top level>"
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(loc[:-1])
            allowed = sorted(parent.model_fields) if parent else []
            bad = str(loc[-1])
            hint = difflib.get_close_matches(bad, allowed, n=1)
            msg = f"unknown key '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
            msg += f"; allowed keys here: {', '.join(allowed)}"
        elif kind == "missing":
            msg = f"required key '{key}' is missing"
        elif "[key]" in err["loc"] and kind == "literal_error":
            bad = err["input"]
            allowed = list(INTERMEDIATE_TASKS)
            hint = difflib.get_close_matches(str(bad), allowed, n=1)
            msg = f"key '{key}': unknown task '{bad}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
            msg += f"; allowed tasks: {', '.join(allowed)}"
        elif kind == "value_error":  # our own validators: the message already quotes the value
            text = err["msg"].removeprefix("Value error, ")
            msg = f"key '{key}': {text}" if key != "<top level>" else text
        else:
            msg = f"key '{key}': {err['msg']} (got {err.get('input')!r})"
        if msg not in seen:
            seen.add(msg)
            lines.append(f"{source}: {msg}")
    return "\n".join(lines)


def _is_branch_tag(part: Any) -> bool:
    """pydantic inserts union-branch names (``list[...]``, ``literal[...]``) into locations."""
    return isinstance(part, str) and ("[" in part or part in {"int", "str", "float", "bool", "none"})


def bundle_languages(data_root: Path) -> list[str]:
    """Target languages present in the bundle: ``srl/<lang>/test.conllu``, English excluded."""
    srl = Path(data_root) / "srl"
    return sorted(p.parent.name for p in srl.glob("*/test.conllu") if p.parent.name != "en")


def resolve_languages(config: StudyConfig, data_root: Path, source: str = "<params>") -> list[str]:
    """The target languages a study scores, checked against the bundle (no code per language)."""
    available = bundle_languages(data_root)
    if config.srl.languages == "all":
        return available
    for code in config.srl.languages:
        if code not in available:
            raise ParamsError(
                f"{source}: key 'srl.languages': unknown language '{code}'; languages in {data_root}: "
                f"{', '.join(available)} (add srl/{code}/test.conllu to the data to use a new one)"
            )
    for code in config.srl.gold_sets:
        if not (Path(data_root) / "srl" / code / "gold-test.conllup").is_file():
            raise ParamsError(
                f"{source}: key 'srl.gold_sets': no gold set for '{code}' "
                f"(expected {Path(data_root) / 'srl' / code / 'gold-test.conllup'})"
            )
    return list(config.srl.languages)
