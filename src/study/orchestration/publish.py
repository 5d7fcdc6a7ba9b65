"""A finished study's report copied into ``reports/published/<name>/``, to commit and cite.

The copy holds what a reader needs to open the report and re-check its numbers: the rendered pages,
every run's results, history and DONE marker, the study's provenance and timings, and the params file
as run. It leaves out each run's prediction files (~25 MB a run; ``study archive`` keeps them
restorable) and the live progress files. Publishing refuses, and writes nothing, when the report is
not the one a reader should cite: runs missing or of other params, a report rendered before its last
run, pages that name a machine path, or a published folder already there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from study.infra import layout
from study.infra.errors import StudyError

#: written beside the copy: where it came from and what it leaves out
RECORD = "PUBLISHED.json"
#: files of a study or run folder that belong to a sitting, not to the result
LIVE = {".lock", "progress.json", layout.PENDING}
LEFT_OUT_DIRS = {"predictions"}
PAGES = ("*.html", "*.ipynb")
#: where the page styles every rendered notebook repeats are kept once
ASSETS = "assets"
_STYLE = re.compile(r"<style(?P<attrs>[^>]*)>(?P<css>.*?)</style>", re.S)


@dataclass
class PublishReport:
    dest: Path
    runs: list[str]
    missing: list[str]
    bytes: int


def _copy_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.iterdir()):
        if item.name in LIVE or item.name.startswith("."):  # hidden: a notebook being written, the lock
            continue
        if item.is_dir():
            if item.name not in LEFT_OUT_DIRS:
                _copy_tree(item, dst / item.name)
        else:
            shutil.copy2(item, dst / item.name)


def _copy_study(study_dir: Path, dst: Path, runs: list[str]) -> None:
    """The study's own files and the folders of ``runs`` (not those of runs still to do)."""
    dst.mkdir(parents=True, exist_ok=True)
    for item in sorted(study_dir.iterdir()):
        if item.is_file() and item.name not in LIVE and not item.name.startswith("."):
            shutil.copy2(item, dst / item.name)
    for run in runs:
        _copy_tree(layout.run_dir(study_dir, run), layout.run_dir(dst, run))


def machine_paths(folder: Path, paths: list[Path]) -> list[str]:
    """Pages under ``folder`` that name one of ``paths`` (absolute folders of this machine)."""
    # a path ends where a name cannot go on: /root matches "/root/x" and "/root", not "/rooted"
    needles = {str(p): re.compile(re.escape(str(p)) + r"(?![\w.-])") for p in paths if str(p) not in ("", "/", ".")}
    hits = []
    for pattern in PAGES:
        for page in sorted(folder.rglob(pattern)):
            text = page.read_text(encoding="utf-8", errors="replace")
            found = next((path for path, needle in needles.items() if needle.search(text)), None)
            if found:
                hits.append(f"{page.relative_to(folder)} names {found}")
    return hits


def share_stylesheets(folder: Path, min_chars: int = 8192) -> int:
    """Move the large ``<style>`` blocks of the pages under ``folder`` into ``assets/<sha256>.css``, linked.

    nbconvert embeds the same ~256 KB of theme CSS in every page (two thirds of a run's page), so a
    published study of 24 runs would carry it 50 times. Each block becomes a ``<link>`` at the same
    place, which keeps the cascade; small blocks (a table's own styles) stay inline. The CSS holds no
    relative ``url()`` (only ``data:`` ones), so moving it changes nothing a reader sees. Returns the
    characters saved.
    """
    folder = Path(folder)
    saved = 0
    for page in sorted(folder.rglob("*.html")):
        text = page.read_text(encoding="utf-8")

        def link(match: re.Match, page: Path = page) -> str:
            css = match.group("css")
            if len(css) < min_chars or re.search(r"url\(\s*['\"]?(?!data:)", css):
                return match.group(0)
            target = folder / ASSETS / f"{hashlib.sha256(css.encode('utf-8')).hexdigest()[:16]}.css"
            if not target.is_file():
                target.parent.mkdir(exist_ok=True)
                target.write_text(css, encoding="utf-8")
            href = os.path.relpath(target, page.parent).replace(os.sep, "/")
            return f'<link rel="stylesheet"{match.group("attrs")} href="{href}">'

        shared = _STYLE.sub(link, text)
        if shared != text:
            page.write_text(shared, encoding="utf-8")
            saved += len(text) - len(shared)
    return saved


def publish_study(study_dir: Path, dest: Path, params_file: Path, params_hash: str, run_ids: list[str],
                  private_paths: list[Path], partial: bool = False) -> PublishReport:
    """Copy the rendered study ``study_dir`` to ``dest`` (which must not exist); see the module docstring.

    ``run_ids`` are the grid's runs; with ``partial`` a study with some of them still to do may be
    published (the record lists them). ``private_paths`` are folders no page may name (home, checkout).
    """
    study_dir, dest = Path(study_dir), Path(dest)
    if dest.exists():
        raise StudyError(f"{dest}: already published; move it aside first (e.g. `git mv {dest} {dest}-v1`): "
                         "nothing was overwritten")
    done = [r for r in run_ids if layout.run_dir_is_complete(layout.run_dir(study_dir, r))]
    missing = [r for r in run_ids if r not in done]
    if not done:
        raise StudyError(f"{study_dir}: no complete run to publish (run `study run` first)")
    if missing and not partial:
        raise StudyError(f"{study_dir}: {len(missing)} of {len(run_ids)} runs are not complete "
                         f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); finish them with "
                         "`study run`, or pass --partial to publish what is done")
    results_file = study_dir / "results.csv"
    if not results_file.is_file() or not (study_dir / "index.html").is_file():
        raise StudyError(f"{study_dir}: no rendered report (results.csv, index.html); run `study run FILE "
                         "--max-runs 0` to render it")
    results = pd.read_csv(results_file, usecols=["run", "params_hash", "code_version"], dtype=str)
    if sorted(results.run.unique()) != sorted(done):
        raise StudyError(f"{results_file}: the report covers {results.run.nunique()} runs but {len(done)} are "
                         "complete; re-render it with `study run FILE --max-runs 0` before publishing")
    if set(results.params_hash) != {params_hash}:
        raise StudyError(f"{results_file}: runs of params {sorted(set(results.params_hash))}, not {params_file}'s "
                         f"{params_hash}; publish with the params file that produced them")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        _copy_study(study_dir, tmp, done)
        leaks = machine_paths(tmp, private_paths)
        if leaks:
            raise StudyError(f"{study_dir}: a page names a machine path ({leaks[0]}; {len(leaks)} in all); render "
                             "the study under the checkout's reports/ (paths then show relative) and publish again")
        share_stylesheets(tmp)
        shutil.copyfile(params_file, tmp / "params.yaml")
        provenance = json.loads((study_dir / "provenance.json").read_text())
        record = {
            "study": study_dir.name,
            "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "params_hash": params_hash,
            "runs": len(done),
            "runs_not_done": missing,
            "runs_code": sorted(set(results.code_version)),
            "report_code": provenance.get("code", {}).get("describe"),
            "pages": f"the page styles nbconvert repeats in every page are kept once in {ASSETS}/ and linked",
            "left_out": "each run's predictions/ (restorable from reports/archive/<study>/ by `study archive "
                        "--restore`), live progress files",
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    return PublishReport(dest=dest, runs=done, missing=missing, bytes=size)
