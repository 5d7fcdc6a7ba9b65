#!/usr/bin/env bash
# Sourced by the GPU scripts (gpu_smoke.sh, gpu_determinism.sh): on a GPU machine that has PyTorch but
# not the study's other packages, the bundle or the offline encoder, install the carried wheels, unpack
# the carried bundle subset into $B with its SHA256SUMS, and build multilingual-e5-small's
# architecture with random weights in /tmp/gpu-enc (speed and determinism do not depend on the
# weights' values; the 470 MB offline checkpoint does not travel). Inputs: see gpu_smoke.sh's header.
# Sets PY, B and PYTHONPATH; SKIP_INSTALL=1 uses an environment that has the packages already.
IN=${GPU_INPUTS:-.gpu}
PY=${PY:-python3}
if [ -z "${SKIP_INSTALL:-}" ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --prefix /tmp/pfx .whl/*.whl .whl2/*.whl
  SITE=$(ls -d /tmp/pfx/lib/python3*/site-packages)
  export PYTHONPATH=$SITE PATH=/tmp/pfx/bin:$PATH JUPYTER_PATH=/tmp/pfx/share/jupyter
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD/src PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
B=/tmp/gpu-data
(cd "$IN/data" && find . -name '*.gz' | while read -r f; do mkdir -p "$B/$(dirname "$f")"; gunzip -c "$f" > "$B/${f%.gz}"; done)
(cd "$B" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS)
mkdir -p /tmp/gpu-enc
gunzip -c "$IN/tokenizer.json.gz" > /tmp/gpu-enc/tokenizer.json
cp "$IN/tokenizer_config.json" /tmp/gpu-enc/
"$PY" -c "from study.bench.throughput import build_architecture; build_architecture('multilingual-e5-small').save_pretrained('/tmp/gpu-enc')" 2>/dev/null
