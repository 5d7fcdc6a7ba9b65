"""The analysis layer: provenance refusal, the default comparison family, generated summary."""

from __future__ import annotations

import pandas as pd
import pytest

from study.analysis import check_provenance, default_family
from study.config import load_params
from study.errors import StudyError
from study.report_tables import written_summary

from .conftest import REPO


def frame(code_versions):
    return pd.DataFrame({"run": [f"r{i}" for i in range(len(code_versions))], "code_version": code_versions,
                         "params_hash": "p", "data_sha256sums": "d", "encoder_sha256": "e"})


def test_runs_with_different_code_are_not_compared_unless_allowed():
    with pytest.raises(StudyError, match="runs differ in code_version"):
        check_provenance(frame(["abc123", "def456"]))
    table = check_provenance(frame(["abc123", "def456"]), allow_mixed=True)
    assert len(table) == 2 and set(table["runs"]) == {"r0", "r1"}
    assert len(check_provenance(frame(["abc123", "abc123"]))) == 1


def test_default_family_selects_best_single_on_english_dev():
    config = load_params(REPO / "params" / "default.yaml")
    dev = pd.DataFrame({"schedule": ["single:mnli", "single:squad_v1"] * 3, "value": [0.70, 0.72] * 3})
    family = default_family(config, dev)
    assert ("joint:mnli+squad_v1", "seq:mnli>squad_v1", "joint vs sequential") in family
    assert ("joint:mnli+squad_v1", "seq:squad_v1>mnli", "joint vs sequential") in family
    assert ("single:mnli", "none", "vs no intermediate task") in family
    best = [b for a, b, why in family if why.startswith("vs best single")]
    assert set(best) == {"single:squad_v1"} and len(best) == 3


def test_summary_states_the_headline_from_the_numbers():
    across = pd.DataFrame([{"a": "joint:x+y", "b": "seq:x>y", "comparison": "joint vs sequential", "n_languages": 15,
                            "mean_delta": -0.012, "p_value": 0.01, "p_holm": 0.03, "rank_biserial": -0.8,
                            "significant": True, "languages_significant_holm": 4, "replicability_count": 5}])
    text = written_summary(across, pd.DataFrame(), 3)
    assert "joint training is ahead of 0 of 1" in text and "significant for at least one order" in text
    assert "1.20 F1 points lower" in text


def test_default_family_compares_joint_srl_with_both_other_schedules_over_its_tasks():
    data = load_params(REPO / "params" / "smoke.yaml").model_dump(mode="json")
    data["schedules"] = ["none", "seq:mnli>squad_v1", "joint:mnli+squad_v1", "joint+srl:mnli+squad_v1",
                         "joint+srl:mnli"]
    from study.config import validate_params

    family = default_family(validate_params(data), pd.DataFrame())
    assert ("joint+srl:mnli+squad_v1", "seq:mnli>squad_v1", "joint+srl vs sequential") in family
    assert ("joint+srl:mnli+squad_v1", "joint:mnli+squad_v1", "joint+srl vs joint") in family
    assert not [p for p in family if p[0] == "joint+srl:mnli" and p[1] != "none"]  # no schedule over {mnli} alone
