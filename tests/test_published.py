"""The README's results are the committed report's numbers, not figures typed by hand."""

from __future__ import annotations

import json
import re

import pandas as pd

from tests.helpers import REPO

PUBLISHED = REPO / "reports" / "published" / "default"
COLUMNS = {"en dev": ("en", "dev"), "en": ("en", "test"), "AVG": ("AVG", "test"),
           "pl gold": ("pl", "gold-test"), "vi gold": ("vi", "gold-test")}


def _readme_table() -> tuple[list[str], dict[str, list[float]]]:
    lines = (REPO / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| schedule | en dev |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")][1:]
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("| `"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = [float(c) for c in cells[1:]]
    return header, rows


def test_readme_results_table_is_the_published_results_averaged_over_seeds():
    results = pd.read_csv(PUBLISHED / "results.csv", keep_default_na=False)
    assert results["run"].nunique() == 18 and set(results["seed"]) == {1, 2, 3}
    f1 = results[(results.task == "srl") & (results.metric == "head_f1") & (results.label == "")]
    header, rows = _readme_table()
    assert len(rows) == 6
    for schedule, shown in rows.items():
        mine = f1[f1.schedule == schedule]
        assert mine["seed"].nunique() == 3, schedule
        for column, value in zip(header, shown, strict=True):
            language, split = COLUMNS.get(column, (column, "test"))
            cell = mine[(mine.language == language) & (mine.split == split)]["value"]
            assert len(cell) == 3, (schedule, column)
            assert round(cell.mean() * 100, 1) == value, (schedule, column, cell.mean() * 100, value)


def test_readme_headline_deltas_are_notebook_04s():
    notebook = json.loads((PUBLISHED / "04_analysis.ipynb").read_text())
    summary = "".join("".join(o["data"]["text/markdown"]) for c in notebook["cells"] for o in c.get("outputs", [])
                      if "text/markdown" in o.get("data", {}))
    readme = (REPO / "README.md").read_text()
    for pair in ("seq:mnli>squad_v1", "seq:squad_v1>mnli"):
        m = re.search(rf"\*\*joint:mnli\+squad_v1\*\* vs \*\*{re.escape(pair)}\*\* \(joint vs sequential\): "
                      rf"mean ([0-9.]+) F1 points (lower|higher)", summary)
        assert m, pair
        shown = rf"`joint:mnli\+squad_v1` vs `{re.escape(pair)}`: joint is (\*\*)?{m[1]} F1 {m[2]}"
        assert re.search(shown, readme), pair


def test_published_report_is_one_code_version_and_links_every_run():
    results = pd.read_csv(PUBLISHED / "results.csv", keep_default_na=False, dtype={"code_version": str})
    assert results["code_version"].nunique() == 1 and results["params_hash"].nunique() == 1
    index = (PUBLISHED / "index.html").read_text()
    for run in results["run"].unique():
        for page in ("02_intermediate.html", "03_srl_transfer.html"):
            assert f'href="runs/{run}/{page}"' in index and (PUBLISHED / "runs" / run / page).is_file()
