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

step "mixq quantize --model $MODEL --recipe recipes/minimax-m2.1-fp8-int4-awq.yaml --output $OUT"
"$MIXQ" quantize --model "$MODEL" --recipe recipes/minimax-m2.1-fp8-int4-awq.yaml --output "$OUT"

step "mixq validate $OUT"
"$MIXQ" validate "$OUT"

if "$MIXQ" eval --help >/dev/null 2>&1; then
  step "mixq eval kld --reference $MODEL --model $OUT"
  "$MIXQ" eval kld --reference "$MODEL" --model "$OUT" --max-tokens 2048
fi

step "mixq generate --model $OUT --prompt ..."
"$MIXQ" generate --model "$OUT" --max-new-tokens 160 \
  --prompt "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?"
