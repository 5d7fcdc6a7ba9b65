"""Params: the schema, loading a file, the grid of runs and the schedule grammar.

The package's public names are re-exported here, so callers write ``from study.config import
load_params, StudyConfig``.
"""

from study.config.grid import (
    ALL,
    RunSpec,
    expand_runs,
    intermediate_budgets,
    largest_size,
    run_budget,
    run_config,
    target_sizes,
)
from study.config.loading import format_validation_error, load_params, read_yaml, validate_params
from study.config.schedules import Schedule, ScheduleError, parse_schedule
from study.config.schema import (
    HASH_NEUTRAL,
    NOT_IN_RUN_HASH,
    AnalysisConfig,
    Budget,
    EncoderConfig,
    IntermediateBudget,
    IntermediateConfig,
    Optimisation,
    PosConfig,
    RuntimeConfig,
    Sampler,
    SrlConfig,
    StudyConfig,
    TaskConfig,
    drop_hash_neutral,
)

__all__ = [
    "ALL", "HASH_NEUTRAL", "NOT_IN_RUN_HASH", "AnalysisConfig", "Budget", "EncoderConfig", "IntermediateBudget",
    "IntermediateConfig", "Optimisation", "PosConfig", "RunSpec", "RuntimeConfig", "Sampler", "Schedule",
    "ScheduleError", "SrlConfig", "StudyConfig", "TaskConfig", "drop_hash_neutral", "expand_runs",
    "format_validation_error", "intermediate_budgets", "largest_size", "load_params", "parse_schedule",
    "read_yaml", "run_budget", "run_config", "target_sizes", "validate_params",
]
