"""``study srl score``: apply a finished run's SRL model to a file the bundle does not have."""

from __future__ import annotations

import json
from pathlib import Path

from study.infra.atomic import write_text
from study.infra.errors import StudyError
from study.target.srl.conllu import write_srl_file
from study.target.srl.data import load_split, unseen_labels
from study.target.srl.evaluate import full_predictions, score_rows
from study.target.srl.saved import load_srl_model


def output_folder(run_dir: Path, path: Path, out_dir: Path | None) -> Path:
    """Where predictions and metrics go, refusing any place that would overwrite the input or a file."""
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"--file {path}: not a file (give a CoNLL-U Plus file with gold predicates)")
    out_dir = Path(out_dir or Path(run_dir) / "user-scores" / path.name)
    if out_dir.exists() and not out_dir.is_dir():
        raise StudyError(f"--out {out_dir}: exists and is not a folder; give a folder for the predictions")
    for written in (out_dir / path.name, out_dir / "metrics.json"):
        if written.exists() and written.resolve() == path.resolve():
            raise StudyError(f"--out {out_dir}: writing the predictions there would overwrite the input file "
                             f"{path}; choose another folder (nothing was written)")
    return out_dir


def score_user_file(run_dir: Path, path: Path, language: str = "xx", out_dir: Path | None = None) -> Path:
    """Predict and score ``path`` with the run's model; write predictions and metrics to ``out_dir``."""
    out_dir = output_folder(run_dir, path, out_dir)
    done = Path(run_dir) / "DONE.json"
    if not done.is_file():
        raise StudyError(f"{run_dir}: not a finished run (no DONE.json); run the study first")
    model_dir = json.loads(done.read_text()).get("srl_model")
    if not model_dir:
        raise StudyError(f"{done}: the run recorded no SRL model")
    if not Path(model_dir).exists():
        # weights stay in the training machine's cache; archives and published reports carry predictions only
        run_id = Path(run_dir).name
        raise StudyError(f"{run_dir}: this run's SRL model ({model_dir}) is not on this machine: trained "
                         f"weights stay in the cache of the machine that trained the run, and archives and "
                         f"published reports carry its predictions, not its weights; train it here into another "
                         f"folder, `study train-run PARAMS {run_id} --reports DIR`, and score with "
                         f"DIR/<study>/runs/{run_id}")
    srl = load_srl_model(Path(model_dir))
    split = load_split(Path(path), language, "user", srl.scope)
    scores, predicted, stats = srl.evaluate(split)
    write_srl_file(split.file, out_dir / Path(path).name, full_predictions(split, predicted))
    unseen = unseen_labels(split, srl.labels)
    notes = ([f"{sum(unseen.values())} gold argument(s) carry labels the model never saw in English training "
              f"({', '.join(f'{k} x{v}' for k, v in unseen.items())}): they can only count as misses"]
             if unseen else [])
    metrics = {"file": str(path), "language": language, "scope": srl.scope, "precision": srl.precision,
               "report": vars(split.report),
               "instances": vars(stats), "labels_unseen_in_training": unseen, "notes": notes,
               "rows": score_rows(language, "user", scores), "head_f1": scores["head"].f1}
    write_text(out_dir / "metrics.json", json.dumps(metrics, indent=2, default=str) + "\n")
    return out_dir
