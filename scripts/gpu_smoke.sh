#!/usr/bin/env bash
# The smoke study (params/smoke.yaml) end to end on a GPU machine that has PyTorch but none of the
# notebook stack and no access to the data bundle or the offline encoder (issue 8 item 4).
#   - the notebook stack and other missing packages come as wheels in .whl and .whl2 (Python 3.12);
#   - the bundle files the smoke study reads come gzipped in .gpu/data (a subset bundle; its
#     SHA256SUMS is written here from the decompressed files);
#   - the encoder is multilingual-e5-small's architecture with random weights and the offline
#     encoder's tokenizer (.gpu/tokenizer.json.gz): speed is the point, the smoke numbers mean nothing.
# Writes timings.json, results.csv and the run log to $OUT (default reports/bench/gpu).
# Preparing the inputs on a machine with pip and the bundle (what was done on 2026-11-26):
#   .gpu/data/<rel>.gz  for srl/en/{train,dev,test}.conllu, srl/{de,zh}/test.conllu, srl/vi/gold-test.conllup,
#                       intermediate/mnli/mnli_dev_matched.jsonl, intermediate/squad_v1/dev-v1.1.json (gzip -c)
#   .gpu/tokenizer.json.gz, .gpu/tokenizer_config.json   from ~/.cache/study/encoders/multilingual-e5-small-q4
#   .whl   pydantic, pydantic-core, annotated-types, typing-inspection (cp312 manylinux wheels)
#   .whl2  `pip download --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 ...
#          papermill nbclient nbconvert ipykernel deepsig submitit` (pinned as in pyproject.toml), minus
#          the packages the GPU image already has
# Locally, without installing anything: SKIP_INSTALL=1 PY=.venv/bin/python bash scripts/gpu_smoke.sh
set -euo pipefail
OUT=${OUT:-reports/bench/gpu}
mkdir -p "$OUT"
source "$(dirname "$0")/gpu_prepare.sh"
sed -e "s#name: multilingual-e5-small-q4#name: /tmp/gpu-enc#" -e "s#^study_name: smoke#study_name: smoke-gpu#" params/smoke.yaml > /tmp/smoke-gpu.yaml
"$PY" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')"
start=$(date +%s)
set +e
STUDY_DATA=$B STUDY_CACHE=/tmp/gpu-cache STUDY_REPORTS=/tmp/gpu-reports "$PY" -m study run /tmp/smoke-gpu.yaml 2>&1 | tee "$OUT/smoke_gpu.log" | grep -v "Kernel is running over TCP"
rc=${PIPESTATUS[0]}
set -e
echo "smoke study on $("$PY" -c 'import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")'): exit $rc, $(( $(date +%s) - start )) s wall clock" | tee -a "$OUT/smoke_gpu.log"
cp /tmp/gpu-reports/smoke-gpu/timings.json "$OUT/smoke_gpu_timings.json" 2>/dev/null || true
cp /tmp/gpu-reports/smoke-gpu/results.csv "$OUT/smoke_gpu_results.csv" 2>/dev/null || true
for f in /tmp/gpu-reports/smoke-gpu/runs/*/*.failed.ipynb; do [ -f "$f" ] && cp "$f" "$OUT/" && break; done 2>/dev/null || true
exit $rc
