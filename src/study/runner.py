"""Run a study from its params file, as far as the project implements it, ending in an HTML report.

Today this validates the params (against the bundle too), verifies the data bundle, builds or
checks the encoder, executes the data notebook (01) and writes ``reports/<study>/index.html``
listing the planned grid. Training stages, SRL transfer and analysis are added by later issues
and slot into :func:`run_study` without changing its interface.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from study.atomic import write_text
from study.bundle import require_valid_bundle
from study.config import expand_runs, load_params, resolve_languages
from study.encoder.build import OFFLINE_ENCODER_NAME, build_encoder
from study.encoder.load import encoder_fingerprint, resolve_encoder
from study.notebooks import execute_notebook, render_html
from study.paths import reports_root
from study.provenance import collect_provenance


def run_study(params_file: Path, reports_dir: Path | None = None) -> Path:
    """Run what exists of the study for ``params_file``; return the path of ``index.html``."""
    config = load_params(params_file)
    bundle = require_valid_bundle(config.data_root)
    languages = resolve_languages(config, bundle.root, source=str(params_file))
    if config.encoder.name == OFFLINE_ENCODER_NAME:
        build_encoder()
    else:
        resolve_encoder(config.encoder.name)
    study_dir = Path(reports_dir or reports_root()) / config.study_name
    study_dir.mkdir(parents=True, exist_ok=True)

    provenance = collect_provenance(config.params_hash(), bundle.fingerprint, encoder_fingerprint(config.encoder.name))
    write_text(study_dir / "provenance.json", json.dumps(provenance, indent=2, sort_keys=True) + "\n")

    executed = execute_notebook(
        "01_data", study_dir / "01_data.ipynb",
        parameters={"params_file": str(Path(params_file).resolve()), "data_root": str(bundle.root)},
    )
    render_html(executed)
    index = study_dir / "index.html"
    write_text(index, _index_html(config, languages, provenance))
    return index


def _index_html(config, languages: list[str], provenance: dict) -> str:
    runs = expand_runs(config)
    rows = "\n".join(
        f"<tr><td>{html.escape(r.run_id)}</td><td>{html.escape(r.schedule.text)}</td><td>{r.seed}</td>"
        "<td>not run: training is not implemented yet</td></tr>"
        for r in runs
    )
    code = provenance["code"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Study {html.escape(config.study_name)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}</style>
</head><body>
<h1>Study: {html.escape(config.study_name)}</h1>
<p>{html.escape(config.description)}</p>
<p><b>Status:</b> data verified, encoder ready, params validated. Intermediate training, SRL transfer
and the analysis are not implemented yet, so this report holds no results.</p>
<ul>
<li><a href="01_data.html">01 Data: what the bundle holds, encoder sanity check, planned grid</a></li>
<li><a href="provenance.json">provenance.json</a>: code {html.escape(str(code["describe"]))},
params hash {html.escape(config.params_hash())},
data SHA256SUMS {html.escape(str(provenance["data_sha256sums"])[:16])}</li>
</ul>
<h2>Planned grid ({len(runs)} runs)</h2>
<p>Target languages: {html.escape(", ".join(languages))}; gold sets: {html.escape(", ".join(config.srl.gold_sets))}.</p>
<table><tr><th>run</th><th>schedule</th><th>seed</th><th>status</th></tr>
{rows}
</table>
</body></html>
"""
