"""Project hygiene that CI must hold: pinned environment in sync, clean notebooks, lint."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

from tests.helpers import REPO


def _pins(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line.strip())
        assert m, f"not pinned with ==: {line!r}"
        out[m.group(1).lower()] = m.group(2)
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pyproject = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(pip_section) == pyproject
    assert "conda-forge" in env["channels"]
    assert pyproject["torch"] == "2.13.0"


@pytest.mark.parametrize("nb", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(nb):
    data = json.loads(nb.read_text())
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, nb.name
    tagged = [c for c in data["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{nb.name} needs exactly one cell tagged 'parameters'"


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(REPO / ".venv" / "bin" / "ruff")
    out = subprocess.run([ruff, "check", "src", "tests"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("nb", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_cells_have_ids(nb):
    """nbformat 4.5 requires cell ids (missing ones warn now and will be an error in future nbformat)."""
    cells = json.loads(nb.read_text())["cells"]
    ids = [cell.get("id") for cell in cells]
    assert all(ids) and len(set(ids)) == len(ids), nb.name


#: the subpackages of src/study in data-flow order: each may import only from those before it
LAYERS = ["infra", "tasks", "config", "data", "encoder", "training", "intermediate", "target", "orchestration",
          "analysis", "bench", "cli", "__main__"]


def test_imports_run_one_way_along_the_data_flow():
    import ast

    root = REPO / "src" / "study"
    tops = {p.name.removesuffix(".py") for p in root.iterdir() if p.name != "__pycache__"} - {"__init__"}
    assert tops == set(LAYERS), "a new top-level entry needs its place in LAYERS (and in the README's map)"
    upward = []
    for path in root.rglob("*.py"):
        layer = path.relative_to(root).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "study":
                parts = node.module.split(".")
                targets = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
                for target in targets:
                    if target in LAYERS and layer in LAYERS and LAYERS.index(target) > LAYERS.index(layer):
                        upward.append(f"{path.relative_to(root)} imports study.{target}")
    assert not upward


def test_the_readme_is_a_manual_and_its_links_resolve():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith("http"):
            assert (REPO / target).exists(), target
    for layer in LAYERS[:-3]:
        assert f"  {layer}/" in readme, f"the README's layout map lacks {layer}/"
