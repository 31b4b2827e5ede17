#!/usr/bin/env bash
# Sets up (deps + build) and runs the main job on the bundled tiny MiniMax-M2 model:
# inspect -> quantize with the published FP8-INT4 AWQ recipe -> validate against the vLLM loader
# rules -> measure quality against the original -> chat with the quantized model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MIXQ="${MIXQ_BUILD_DIR:-build}/mixq"
MODEL=models/tiny-minimax-m2
OUT=out/tiny-minimax-m2-w4a16
step() { printf '\n== %s\n' "$*"; }

step "mixq inspect $MODEL"
"$MIXQ" inspect "$MODEL"

# AWQ calibrates on the bundled default set; 32 samples keep this demo to a minute or two
# (drop --calib-samples to use all 128).
step "mixq quantize --model $MODEL --recipe recipes/minimax-m2.1-fp8-int4-awq.yaml --output $OUT --calib-samples 32"
"$MIXQ" quantize --model "$MODEL" --recipe recipes/minimax-m2.1-fp8-int4-awq.yaml --output "$OUT" --calib-samples 32

step "mixq validate $OUT"
"$MIXQ" validate "$OUT"

step "mixq eval kld --reference $MODEL --model $OUT --text $MODEL/valid.txt"
"$MIXQ" eval kld --reference "$MODEL" --model "$OUT" --text "$MODEL/valid.txt" --max-tokens 2048

step "mixq generate --model $OUT --prompt ..."
"$MIXQ" generate --model "$OUT" --max-tokens 200 \
  --prompt "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?"
