"""README's Benchmark table against the committed suite run (`reports/bench/bench.json`).

Every figure the README quotes is recomputed from the phases the suite recorded, so a number typed
by hand or left over from an earlier run fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from study.bench.suite import _table

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "reports" / "bench" / "bench.json"


@pytest.fixture(scope="module")
def bench() -> dict:
    return json.loads(BENCH.read_text())


@pytest.fixture(scope="module")
def benchmark_section() -> str:
    readme = (REPO / "README.md").read_text()
    return readme[readme.index("## Benchmark"):readme.index("## Full scale")]


def _row(bench: dict, prefix: str) -> dict:
    return next(r for r in bench["table"] if r["figure"].startswith(prefix))


def expected_cells(bench: dict) -> dict[str, str]:
    """The README's Benchmark cells as the suite's records put them."""
    p = bench["phases"]
    rates, study, check = p["rates"], p["default_study"], p["forecasts"]
    inter = rates["intermediate"]
    predicted = sum(check["default_study"]["parts"].values())
    check_predicted = sum(check["cost_check_study"]["parts"].values())
    overhead = study["overhead"]
    return {
        "code": bench["code"]["describe"],
        "srl step": f"| {rates['srl']['seconds_per_step']:.2f} s |",
        "intermediate steps": " / ".join(f"{inter[task]['seconds_per_step']:.2f} s" for task in ("mnli", "squad_v1")),
        "gemm": f"fp32 GEMM {rates['gemm_flops_fp32'] / 1e9:.0f} GFLOP/s",
        "mfu": " / ".join(f"{100 * m['mfu']:.0f}%" for m in (inter["mnli"], inter["squad_v1"], rates["srl"])),
        "attention dropout": " / ".join(_row(bench, f"{name} step with attention dropout 0")["value"]
                                        for name in ("squad_v1", "srl")),
        "scoring": f"{p['scoring_per_sentence']['seconds']:.0f} s in the suite; median "
                   f"{study['scoring']['median_seconds']:.0f} s over the v2 study's {study['scoring']['runs']} runs "
                   f"({study['scoring']['min_seconds']:.0f}-{study['scoring']['max_seconds']:.0f} s); floor at the "
                   f"GEMM rate {rates['srl_scoring']['run_floor_seconds']:.0f} s",
        "srl score": f"| {p['srl_score']['seconds']:.1f} s",
        "time to F1": _row(bench, "time to English dev head F1")["value"].split(" (")[0],
        "overhead": f"the {overhead['runs']} that trained no stage",
        "overhead value": f"{100 * overhead['share_median']:.1f}% ({overhead['per_run_seconds_median']:.0f} s)",
        "cost model": f"{100 * (check_predicted / p['cost_check_study']['seconds'] - 1):+.0f}% / "
                      f"{100 * (predicted / study['seconds'] - 1):+.0f}% ({predicted:,.0f} s predicted, "
                      f"{study['seconds']:,.0f} s recorded)",
        "check study": f"{check_predicted:.0f} s",
        "study": f"{study['seconds'] / 3600:.1f} h ({study['seconds']:,.0f} s): missed "
                 f"{study['seconds'] / 7200:.1f}x",
    }


def test_every_benchmark_figure_in_the_readme_is_the_committed_suite_runs(bench, benchmark_section):
    missing = {name: cell for name, cell in expected_cells(bench).items() if cell not in benchmark_section}
    assert not missing, f"README Benchmark does not state these as reports/bench/bench.json has them: {missing}"


def test_the_committed_table_is_what_the_suite_makes_of_its_phases(bench):
    assert bench["table"] == _table(bench["phases"])  # nobody edited bench.json's table by hand
    assert bench["phases"]["default_study"]["runs_complete"] == bench["phases"]["default_study"]["grid_runs"]
