"""Per-sentence (tp, pred, gold) counts of finished runs, recomputed from their prediction files.

The sentence-level tests need these counts for every run on every target file; parsing the ~300
prediction files of the default grid is most of the analysis' time, so the files are spread over
worker processes. The workers are fresh interpreters (``python -m study.analysis.prediction_counts``), not
``multiprocessing`` children: those re-import the caller's main module, which breaks any user
script without an ``if __name__ == "__main__"`` guard, and forking a notebook kernel that holds
threads is unsafe. The counts do not depend on how the files were spread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from study.infra import layout
from study.infra.errors import StudyError
from study.target.srl.conllu import read_srl_file
from study.target.srl.data import load_split, prediction_path, srl_path
from study.target.srl.metrics import score
from study.target.srl.scope import in_scope

Job = tuple[str, str, list[str]]  # (language, split, runs)


def counts_for_file(study_dir: Path, data_root: Path, language: str, split: str, scope: str,
                    max_sentences: int | None, runs: list[str]) -> dict[str, np.ndarray]:
    """Per-sentence counts of each run on one file; the gold file is read once for all runs."""
    gold = load_split(srl_path(data_root, language, split), language, split, scope, max_sentences)
    out = {}
    for run in runs:
        pred_path = prediction_path(layout.predictions_dir(Path(study_dir) / "runs" / run), language, split)
        if not pred_path.is_file():
            raise StudyError(f"{pred_path}: prediction file missing; delete {pred_path.parent.parent / 'DONE.json'} "
                             f"and re-run `study run` to recompute that run")
        predicted_file = read_srl_file(pred_path)
        predicted = []
        for i in gold.sentence_ids:
            sentence = predicted_file.sentences[i]
            predicted.append([p for p in sentence.predicates if in_scope(p, sentence, scope)])
        out[run] = score(gold.predicates, predicted, "head").per_sentence
    return out


def _run_jobs(spec: dict) -> dict[tuple[str, str, str], np.ndarray]:
    out = {}
    for language, split, runs in spec["jobs"]:
        by_run = counts_for_file(Path(spec["study_dir"]), Path(spec["data_root"]), language, split, spec["scope"],
                                 spec["max_sentences"], runs)
        out.update({(run, language, split): counts for run, counts in by_run.items()})
    return out


def prediction_counts(study_dir: Path, data_root: Path, runs_per_file: dict[tuple[str, str], list[str]],
                      scope: str, max_sentences: int | None = None, workers: int | None = None
                      ) -> dict[tuple[str, str, str], np.ndarray]:
    """{(run, language, split): per-sentence counts} over ``workers`` processes (default: every usable CPU)."""
    jobs: list[Job] = [(language, split, list(runs)) for (language, split), runs in sorted(runs_per_file.items())]
    workers = max(1, min(workers or len(os.sched_getaffinity(0)), len(jobs)))
    base = {"study_dir": str(study_dir), "data_root": str(data_root), "scope": scope, "max_sentences": max_sentences}
    if workers == 1:
        return _run_jobs({**base, "jobs": jobs})
    # the biggest files first, each to the least loaded worker (sizes: runs x bytes of the gold file)
    size = {(lang, split): len(runs) * srl_path(data_root, lang, split).stat().st_size for lang, split, runs in jobs}
    load = [0] * workers
    shares: list[list[Job]] = [[] for _ in range(workers)]
    for job in sorted(jobs, key=lambda j: -size[j[:2]]):
        k = load.index(min(load))
        shares[k].append(job)
        load[k] += size[job[:2]]
    with tempfile.TemporaryDirectory(prefix="study-counts-") as tmp:
        procs = []
        for k, share in enumerate(shares):
            spec, out = Path(tmp) / f"jobs{k}.json", Path(tmp) / f"counts{k}.npz"
            spec.write_text(json.dumps({**base, "jobs": share}))
            cmd = [sys.executable, "-m", "study.analysis.prediction_counts", str(spec), str(out)]
            procs.append((subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True), out))
        result: dict[tuple[str, str, str], np.ndarray] = {}
        errors = []
        for proc, out in procs:
            _, stderr = proc.communicate()
            if proc.returncode != 0:
                errors.append(stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {proc.returncode}")
                continue
            with np.load(out) as data:
                for key in data.files:
                    run, language, split = json.loads(key)
                    result[(run, language, split)] = data[key]
    if errors:
        raise StudyError("; ".join(errors))
    return result


def main(argv: list[str] | None = None) -> int:
    """Worker: ``python -m study.analysis.prediction_counts JOBS.json OUT.npz``; errors as one line on stderr."""
    spec_path, out_path = argv or sys.argv[1:]
    try:
        counts = _run_jobs(json.loads(Path(spec_path).read_text()))
    except StudyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    np.savez(out_path, **{json.dumps(list(key)): value for key, value in counts.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
