"""Does a finished run's SRL model label a sentence alike whatever shares its batch, and in which precision?

    .venv/bin/python scripts/check_batch_invariance.py reports/<study>/runs/<run> ../shared/data [no|bf16]

Scores de/test with the run's saved model three ways (the whole file at the model's batch size, every
other sentence, the whole file at batch size 7) and counts predicate label rows that differ from the
first; then prints the file's head F1 scored in fp32 and under bf16 autocast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from study.target.srl.data import build_srl_sentence_instances, load_split
from study.target.srl.predict import predict_sentence_label_ids
from study.target.srl.saved import load_srl_model
from study.training.engine import inference_precision


def differing(a: dict, b: dict) -> tuple[int, int]:
    keys = set(a) & set(b)
    return len(keys), sum(not np.array_equal(a[k], b[k]) for k in keys)


def main(run: Path, data_root: Path, precision: str | None = None) -> None:
    srl = load_srl_model(Path(json.loads((run / "DONE.json").read_text())["srl_model"]))
    precision = precision or srl.precision
    split = load_split(data_root / "srl" / "de" / "test.conllu", "de", "test", srl.scope, None)
    sentences, _ = build_srl_sentence_instances(split, srl.wordpieces, None, srl.formulation)
    with inference_precision(precision, srl.model):
        whole = predict_sentence_label_ids(srl.model, sentences, srl.pad_id, srl.eval_batch_size)
        halves = predict_sentence_label_ids(srl.model, sentences[::2], srl.pad_id, srl.eval_batch_size)
        small = predict_sentence_label_ids(srl.model, sentences, srl.pad_id, 7)
    print(f"saved with {srl.precision}, scored under {precision}")
    print("rows compared, rows differing: whole file vs every other sentence", differing(whole, halves))
    print("rows compared, rows differing: batch size", srl.eval_batch_size, "vs 7", differing(whole, small))
    for mode in ("no", "bf16"):
        srl.precision = mode
        scores, _, _ = srl.evaluate(split)
        print(f"head F1 scored with mixed_precision {mode}: {100 * scores['head'].f1:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
