#!/usr/bin/env bash
# runtime.deterministic on a GPU: one run (an intermediate stage, SRL, POS, zero-shot scoring) trained
# twice with deterministic kernels and twice without. Do the results repeat to the bit, and which ops
# warn that they have no deterministic implementation (runtime.deterministic warns, never stops)?
# Inputs as for gpu_smoke.sh (.whl, .whl2, .gpu; see its header). Writes determinism_gpu.json and the
# four logs to $OUT (default reports/bench/gpu).
# Locally, quickly, without installing anything:
#   SKIP_INSTALL=1 PY=.venv/bin/python SRL_STEPS=4 STAGE_STEPS=2 OUT=/tmp/det-out bash scripts/gpu_determinism.sh
set -euo pipefail
OUT=${OUT:-reports/bench/gpu}
RUN=${RUN:-joint-mnli-squad_v1__seed1}
mkdir -p "$OUT"
source "$(dirname "$0")/gpu_prepare.sh"
start=$(date +%s)
for det in true false; do
  for rep in 1 2; do
    name=det-$det-$rep
    rm -rf "/tmp/$name-cache" "/tmp/$name-reports"  # a finished run would be shown, not retrained
    "$PY" - "$det" "/tmp/$name.yaml" <<'PY'
import os, sys
import yaml
c = yaml.safe_load(open("params/smoke.yaml"))
c["study_name"] = "determinism-gpu"
c["encoder"]["name"] = "/tmp/gpu-enc"
stage, srl = int(os.environ.get("STAGE_STEPS", 40)), int(os.environ.get("SRL_STEPS", 60))
c["intermediate"].update(budget={"unit": "steps", "per_task": stage}, eval_every=stage)
c["intermediate"]["optim"].update(batch_size=16, max_length=128)
c["intermediate"]["tasks"]["mnli"].update(max_train_examples=2000, max_dev_examples=200)
c["intermediate"]["tasks"]["squad_v1"].update(max_train_examples=500, max_dev_examples=100)
c["srl"].update(budget={"unit": "steps", "per_task": srl}, eval_every=max(1, srl // 2), max_train_sentences=2000,
                max_dev_sentences=200, max_eval_sentences=200)
c["srl"]["optim"].update(batch_size=12, max_length=256)
c["pos"].update(budget={"unit": "steps", "per_task": max(1, srl // 3)}, eval_every=max(1, srl // 3))
c["runtime"] = {"deterministic": sys.argv[1] == "true"}
yaml.safe_dump(c, open(sys.argv[2], "w"), sort_keys=False)
PY
    set +e
    STUDY_DATA=$B STUDY_CACHE=/tmp/$name-cache STUDY_REPORTS=/tmp/$name-reports \
      "$PY" -m study train-run "/tmp/$name.yaml" "$RUN" > "$OUT/$name.log" 2>&1
    rc=$?
    set -e
    echo "$name: exit $rc, $(( $(date +%s) - start )) s so far"
    [ "$rc" = 0 ] || { tail -20 "$OUT/$name.log"; exit "$rc"; }
  done
done
"$PY" - "$OUT" "$RUN" "$(( $(date +%s) - start ))" <<'PY'
import csv, json, re, sys
import torch
out, run, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def values(name):
    """Every score, and every logged training loss and dev score (full floats: scores alone hide rounding)."""
    folder = f"/tmp/{name}-reports/determinism-gpu/runs/{run}"
    rows = {(r["task"], r["language"], r["split"], r["metric"], r["label"]): r["value"]
            for r in csv.DictReader(open(f"{folder}/results.csv"))}
    history = json.load(open(f"{folder}/history.json"))
    for task in ("srl", "pos"):
        for record in history.get(task, []):
            for key, value in record.items():
                if key not in ("step", "seconds"):
                    rows[(task, "history", str(record["step"]), key, "")] = repr(value)
    return rows
summary = {"device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu", "torch": torch.__version__,
           "run": run, "seconds": seconds}
for det in ("true", "false"):
    a, b = values(f"det-{det}-1"), values(f"det-{det}-2")
    differing = sorted(k for k in a if a[k] != b.get(k))
    warned = set()
    for rep in (1, 2):
        for line in open(f"{out}/det-{det}-{rep}.log"):
            if "deterministic" in line and ("Warning" in line or "warn" in line):
                warned.add(re.sub(r"^.*?Warning: ", "", line.strip())[:300])
    summary[f"deterministic={det}"] = {"rows": len(a), "rows_differing": len(differing),
                                      "examples": [list(k) + [a[k], b.get(k)] for k in differing[:5]],
                                      "warnings": sorted(warned)}
json.dump(summary, open(f"{out}/determinism_gpu.json", "w"), indent=2)
print(json.dumps(summary, indent=2))
PY
