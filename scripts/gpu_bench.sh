#!/usr/bin/env bash
# GPU throughput check (issue 8 item 4), run on a machine with a CUDA GPU and PyTorch installed.
# Speed depends on architecture and shapes, not on weight values, so the encoders are built from their
# published configurations with random weights: no hub access and no 470 MB checkpoint are needed.
#   1. encoder training/inference throughput: XLM-R Large at the paper's shape (batch 4 x 256, bf16),
#      and multilingual-e5-small at the default study's SRL shape (12 sentences x 64 pieces);
#   2. the study's own SRL training path (study.bench.phases srl_engine: per-sentence encoding, the
#      default params, real English training data) on the GPU, fp32 and bf16 autocast: predicates/s,
#      the figure the CPU benchmark reports (reports/bench/bench.md).
# Inputs: GPU_INPUTS (default .gpu) holding data/srl/en/{train,dev}.conllu(.gz) and
# tokenizer.json(.gz) + tokenizer_config.json of the offline encoder. Output: $OUT (default reports/bench/gpu).
set -euo pipefail
PY=${PY:-python3}
IN=${GPU_INPUTS:-.gpu}
OUT=${OUT:-reports/bench/gpu}
STEPS=${STEPS:-100}
TSTEPS=${TSTEPS:-30}
mkdir -p "$OUT" /tmp/gpu-data/srl/en /tmp/gpu-enc
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 STUDY_DATA=/tmp/gpu-data HF_HUB_OFFLINE=1
for f in train dev; do
  if [ -f "$IN/data/srl/en/$f.conllu.gz" ]; then gunzip -c "$IN/data/srl/en/$f.conllu.gz"; else cat "$IN/data/srl/en/$f.conllu"; fi \
    > /tmp/gpu-data/srl/en/$f.conllu
done
if [ -f "$IN/tokenizer.json.gz" ]; then gunzip -c "$IN/tokenizer.json.gz" > /tmp/gpu-enc/tokenizer.json; else cp "$IN/tokenizer.json" /tmp/gpu-enc/; fi
cp "$IN/tokenizer_config.json" /tmp/gpu-enc/
"$PY" - <<'PYEOF'
from study.bench.throughput import build_architecture
model = build_architecture("multilingual-e5-small")
model.save_pretrained("/tmp/gpu-enc")
PYEOF
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
J="$OUT/throughput.json"
if [ -z "${SKIP_THROUGHPUT:-}" ]; then
  "$PY" -m study.bench.throughput --arch xlm-roberta-large --batch-size 4 --seq-len 256 --precision bf16 --steps "$TSTEPS" --out "$J" > /dev/null
  "$PY" -m study.bench.throughput --arch xlm-roberta-large --batch-size 4 --seq-len 256 --precision fp32 --steps "$TSTEPS" --out "$J" > /dev/null
  "$PY" -m study.bench.throughput --arch multilingual-e5-small --batch-size 12 --seq-len 64 --precision fp32 --steps "$TSTEPS" --freeze-embeddings --out "$J" > /dev/null
  "$PY" -m study.bench.throughput --arch multilingual-e5-small --batch-size 12 --seq-len 64 --precision bf16 --steps "$TSTEPS" --freeze-embeddings --out "$J" > /dev/null
fi
for mp in no bf16; do
  sed -e "s#name: multilingual-e5-small-q4#name: /tmp/gpu-enc#" -e "s#^runtime:.*##" params/default.yaml > /tmp/gpu-$mp.yaml
  printf 'runtime: {mixed_precision: "%s"}\n' "$mp" >> /tmp/gpu-$mp.yaml
  "$PY" -m study.bench.phases srl_engine --params /tmp/gpu-$mp.yaml --encoding per_sentence --batch-size 12 \
    --steps "$STEPS" --out "$OUT/srl_engine_$mp.json"
done
"$PY" - "$OUT" <<'PYEOF'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
for r in json.loads((out / "throughput.json").read_text()):
    print(f"{r['arch']:<22} {r['precision']:<5} b{r['batch_size']}x{r['seq_len']}: train {r['train']['sequences_per_s']:8.1f} seq/s "
          f"{r['train']['model_tflops_per_s']:7.1f} TFLOP/s | inference {r['inference']['sequences_per_s']:9.1f} seq/s  [{r['device']}]")
for mp in ("no", "bf16"):
    r = json.loads((out / f"srl_engine_{mp}.json").read_text())
    print(f"SRL engine (per_sentence, batch 12, {r['steps']} steps, mixed_precision={mp}): "
          f"{r['predicates_per_second']:.1f} predicates/s, {r['tokens_per_second']:.0f} tokens/s, train {r['train_seconds']:.1f} s")
PYEOF
