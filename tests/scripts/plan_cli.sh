#!/usr/bin/env bash
# mixq plan CLI contract: the JSON names outside checks rely on, the card's KV table, the STRIX-2H
# acceptance case (weights, context ceiling, vLLM command flag for flag) and one-line exit-2 errors.
set -euo pipefail
MIXQ=${MIXQ:?}
SHARED=${MIXQ_SHARED_DIR:?}
: "${MIXQ_SOURCE_DIR:?}"
CFG=$SHARED/configs/minimax-m2.7/config.json
RECIPE=$SHARED/recipes/minimax-m2.7-awq-g32-strix-2h.yaml
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# 1. KV table of the card: 46.50 GiB for one 196,608-token sequence, 93.0 GiB for two.
"$MIXQ" plan --config "$CFG" --max-model-len 196608 --max-num-seqs 2 --kv-cache-dtype bf16 --json > "$TMP/kv.json"
python3 - "$TMP/kv.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ["weights_bytes", "weights_bytes_per_rank", "kv_bytes_per_token", "kv_bytes_at_max_model_len",
          "max_context_one_sequence", "max_context_per_sequence", "decode_tokens_per_s_ceiling", "vllm_command"]:
    assert k in j, k
assert j["kv_bytes_per_token"] == 253952, j["kv_bytes_per_token"]
assert j["kv_bytes_at_max_model_len"] == 49928994816
assert abs(j["kv_bytes_at_max_model_len"] / 2**30 - 46.50) < 1e-9
assert abs(j["kv_bytes_at_max_num_seqs"] / 2**30 - 93.0) < 1e-9
PY
"$MIXQ" plan --config "$CFG" --max-model-len 196608 --kv-cache-dtype fp8 --json | python3 -c \
  'import json,sys; j=json.load(sys.stdin); assert j["kv_bytes_per_token"] == 126976, j'

# 2. STRIX-2H on 2 x 128 GiB Strix Halo at 0.92.
# One active sequence and vLLM's 8192-token prefill chunks (the card's 230K-280K premise); the
# launch flags are the card's (tests/scripts/plan_cards.sh checks the card's own values).
"$MIXQ" plan --config "$CFG" --recipe "$RECIPE" --devices 2 --device-memory 128GiB --gpu-memory-utilization 0.92 \
  --max-model-len 196608 --max-num-seqs 1 --max-num-batched-tokens 8192 --kv-cache-dtype bf16 --device strix-halo \
  --model-path /models/MiniMax-M2.7-AWQ-G32-STRIX-2H --json > "$TMP/strix.json"
python3 - "$TMP/strix.json" <<'PY'
import json, shlex, sys
j = json.load(open(sys.argv[1]))
card = 155271743469
assert abs(j["weights_bytes"] - card) / card < 0.001, j["weights_bytes"]
assert 230000 <= j["max_context_one_sequence"] <= 280000, j["max_context_one_sequence"]
assert j["max_context_per_sequence"] == j["max_context_one_sequence"]
assert j["tensor_parallel_size"] == 2 and j["nodes"] == 2
assert j["decode_tokens_per_s_ceiling"] > 0
argv = shlex.split(j["vllm_command"])
assert argv == j["vllm_argv"], (argv, j["vllm_argv"])
expect = ["vllm", "serve", "/models/MiniMax-M2.7-AWQ-G32-STRIX-2H",
          "--served-model-name", "minimax-m2-7-awq-g32-strix-2h", "--host", "127.0.0.1", "--port", "8000",
          "--tensor-parallel-size", "2", "--distributed-executor-backend", "ray", "--enforce-eager",
          "--gpu-memory-utilization", "0.92", "--max-model-len", "196608", "--max-num-seqs", "1",
          "--max-num-batched-tokens", "8192", "--dtype", "auto", "--load-format", "safetensors", "--trust-remote-code",
          "--tool-call-parser", "minimax_m2", "--reasoning-parser", "minimax_m2_append_think", "--enable-auto-tool-choice",
          "--override-generation-config",
          '{"max_new_tokens": 10000, "temperature": 0.2, "top_p": 0.9, "repetition_penalty": 1.08}']
assert argv == expect, argv
assert j["launch_source"] == "strix-2h"
assert j["environment"]["VLLM_ROCM_USE_AITER"] == "0"
assert "export VLLM_USE_TRITON_AWQ=1" in [g["what"] for g in j["suggestions"]]
assert j["ray_head_command"].startswith("ray start --head")
assert j["ray_worker_command"].startswith("ray start --address=")
PY
# The text form prints the same numbers.
"$MIXQ" plan --config "$CFG" --recipe "$RECIPE" --devices 2 --device-memory 128GiB --gpu-memory-utilization 0.92 \
  --max-model-len 196608 --max-num-batched-tokens 8192 --bandwidth strix-halo > "$TMP/strix.txt"
grep -q "context ceiling, one sequence" "$TMP/strix.txt"
grep -q -- "--distributed-executor-backend ray" "$TMP/strix.txt"

# A checkpoint on disk: sizes from its tensors, --target mixq pools one machine.
"$MIXQ" plan --model "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2" --devices 2 --device-memory 8GiB --bandwidth 100GB/s \
  --max-model-len 2048 --max-num-seqs 4 --json > "$TMP/tiny.json"
python3 - "$TMP/tiny.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["origin"] == "checkpoint" and j["tensor_parallel_size"] == 2 and j["nodes"] == 1
assert j["kv_bytes_per_token"] == 2 * 6 * 2 * 64 * 2, j["kv_bytes_per_token"]
assert j["max_context_per_sequence"] * 4 <= j["max_context_one_sequence"]
assert j["ray_head_command"] is None
PY
"$MIXQ" plan --model "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2" --devices 2 --device-memory 8GiB --target mixq --json \
  | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["tensor_parallel_size"] == 1 and j["mixq_command"].startswith("mixq serve"), j'

# --recipe-override, as for quantize: the STRIX-2H carve-out (layers 58-61) does not exist in the
# 6-layer tiny model, so the published recipe sizes every expert as INT4; the tiny-depth override
# keeps layer 5's experts BF16, and the plan must grow by exactly what that costs.
for ov in "" "--recipe-override $MIXQ_SOURCE_DIR/recipes/overrides/strix-2h-tiny-depth.yaml"; do
  # shellcheck disable=SC2086
  "$MIXQ" plan --model "$MIXQ_SOURCE_DIR/models/tiny-minimax-m2" --recipe "$RECIPE" $ov --devices 1 \
    --device-memory 8GiB --max-model-len 2048 --json > "$TMP/tiny_recipe${ov:+_ov}.json"
done
python3 - "$TMP/tiny_recipe.json" "$TMP/tiny_recipe_ov.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
# layer 5: 8 experts x 3 matrices of 256 x 256 (tiny config: hidden 256, intermediate 256), BF16
# instead of INT4 g32 + bf16 scales
per = 256 * 256
grow = 8 * 3 * (2 * per - (per // 2 + per // 32 * 2))
assert b["weights_bytes"] > a["weights_bytes"], (a["weights_bytes"], b["weights_bytes"])
assert abs(b["weights_bytes"] - a["weights_bytes"] - grow) <= 4096, (b["weights_bytes"] - a["weights_bytes"], grow)
PY

# 3. Bad input: exit 2 and exactly one line on stderr.
expect_error() {  # expect_error PATTERN ARGS...
  local pat=$1; shift
  set +e
  "$MIXQ" plan "$@" > /dev/null 2> "$TMP/err"
  local rc=$?
  set -e
  [[ $rc -eq 2 ]] || { echo "expected exit 2, got $rc: $*"; cat "$TMP/err"; exit 1; }
  [[ $(wc -l < "$TMP/err") -eq 1 ]] || { echo "expected one line: $*"; cat "$TMP/err"; exit 1; }
  grep -q -- "$pat" "$TMP/err" || { echo "expected '$pat': $*"; cat "$TMP/err"; exit 1; }
}
expect_error "unknown preset 'tpu-v9'" --config "$CFG" --device tpu-v9
expect_error "neither a rate" --config "$CFG" --bandwidth fast
expect_error "'128gib' is not a size" --config "$CFG" --device-memory 128gib
expect_error "TP=5 cannot serve" --config "$CFG" --devices 5 --device h200
expect_error "FP8 block" --config "$CFG" --devices 8 --device h200
expect_error "does not divide num_attention_heads" --config "$CFG" --devices 5 --device h200
expect_error "max_position_embeddings" --config "$CFG" --devices 4 --device h200 --max-model-len 300000
expect_error "exactly one of" --devices 2
expect_error "gpu-memory-utilization" --config "$CFG" --gpu-memory-utilization 1.2
expect_error "needs --recipe" --config "$CFG" --recipe-override "$MIXQ_SOURCE_DIR/recipes/overrides/strix-2h-tiny-depth.yaml"
echo "not: [valid" > "$TMP/bad_override.yaml"
expect_error "bad_override.yaml" --config "$CFG" --recipe "$RECIPE" --recipe-override "$TMP/bad_override.yaml"
echo "plan_cli: OK"
