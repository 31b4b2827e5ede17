#!/usr/bin/env bash
# Side-by-side decode and prefill: mixq's engine on a W4A16 compressed-tensors checkpoint and the
# real llama.cpp (node-llama-cpp 3.22.1's prebuilt CPU library) on the GGUF that `mixq export-gguf`
# made from that same checkpoint (INT4 g32 experts -> Q4_0 bit for bit, BF16 attention/head).
#
# Model: synthetic, real MiniMax-M2 widths: hidden 3072, expert 1536, 256 experts top-8, 48 heads
# x 128 (8 KV heads), rotary 64; LAYERS layers (default 2); vocabulary 6144 (the bundled tiny
# model's tokenizer, so the lm_head does not drown the layers). Built once under WORK.
#
# Each run times `mixq bench` and bench_llama_gguf.js back to back with the same thread count (the
# order alternates between runs so neither always gets the quieter slot); the roofline of both is
# the bytes one decoded token reads (mixq bench's decode_weight_bytes_per_token: attention + router
# + 8 experts per layer + lm_head; Q4_0 and INT4 g32 with bf16 scales are the same 18 bytes per 32
# weights) over the read bandwidth mixq bench measured in the same run.
# llama.cpp maps the GGUF (its default); --llama-ram reads it into memory instead (useMmap: false),
# as mixq bench reads this model into huge-page RAM when it fits (weights_residency_reason).
# Usage: bench/gguf_vs_llama_cpp.sh [--runs N] [--threads T] [--layers L] [--work DIR] [--llama-ram]
#        env: MIXQ (default build/mixq), PROMPT (128), DECODE (32)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3; threads=2; layers=2; work=build/perf-gguf; llama_res=mmap
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --layers) layers="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --llama-ram) llama_res=ram; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "gguf_vs_llama_cpp.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mixq="${MIXQ:-build/mixq}"
P="${PROMPT:-128}"; D="${DECODE:-32}"
[ -x "$mixq" ] || { echo "no mixq binary at $mixq" >&2; exit 2; }
[ -d tests/js/node_modules/node-llama-cpp ] || { echo "run: cd tests/js && npm ci" >&2; exit 2; }
M="$work/w4a16-L$layers"
if [ ! -f "$M.gguf" ]; then
  mkdir -p "$work"
  if [ ! -f "$M/config.json" ]; then
    "$mixq" -q synth -o "$work/bf16-L$layers" --hidden-size 3072 --intermediate-size 1536 --layers "$layers" --heads 48 \
      --kv-heads 8 --head-dim 128 --rotary-dim 64 --experts 256 --experts-per-tok 8 --vocab-size 6144 \
      --max-position-embeddings 4096 --seed 1
    cp models/tiny-minimax-m2/{tokenizer.json,tokenizer_config.json,chat_template.jinja} "$work/bf16-L$layers/"
    "$mixq" -q quantize --model "$work/bf16-L$layers" --recipe recipes/minimax-m2.7-awq-g32-strix-2h.yaml --rtn --no-progress \
      --output "$M"
    rm -rf "$work/bf16-L$layers"
  fi
  "$mixq" export-gguf "$M" --output "$M.gguf" --no-progress
fi
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for r in $(seq 1 "$runs"); do
  one() { MIXQ_THREADS=$threads "$mixq" -q bench --model "$M" --prompt-tokens "$P" --decode-tokens "$D" --json > "$out/mixq.$r.json"; }
  two() { (cd tests/js && node bench_llama_gguf.js "$OLDPWD/$M.gguf" "$threads" "$P" "$D" "$llama_res") > "$out/llama.$r.json"; }
  if [ $((r % 2)) -eq 1 ]; then one; two; else two; one; fi
  echo "run $r done ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
/usr/bin/python3 - "$out" "$runs" "$threads" "$M" "$llama_res" <<'PY'
import json, statistics, sys
out, runs, threads, model, llama_res = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
rows = []
for r in range(1, runs + 1):
    m = json.load(open(f"{out}/mixq.{r}.json")); l = json.load(open(f"{out}/llama.{r}.json"))
    bpt, bw = m["decode_weight_bytes_per_token"], m["measured_read_bandwidth_bytes_per_second"]
    rows.append({
        "run": r, "load": m["load_average_1min"], "bw_GBs": bw / 1e9, "MB_per_token": bpt / 1e6,
        "mixq_decode": m["decode_tokens_per_second"], "llama_decode": l["decode_tokens_per_second"],
        "mixq_decode_median": m["decode_median_tokens_per_second"], "llama_decode_median": l["decode_median_tokens_per_second"],
        "mixq_prefill": m["prefill_tokens_per_second"], "llama_prefill": l["prefill_tokens_per_second"],
        "mixq_roofline": m["decode_tokens_per_second"] * bpt / bw, "llama_roofline": l["decode_tokens_per_second"] * bpt / bw,
    })
m1 = json.load(open(f"{out}/mixq.1.json"))
print(f"model {model}, {threads} threads, {rows[0]['MB_per_token']:.1f} MB of weights per decoded token; "
      f"mixq weights {'in RAM' if m1['weights_in_ram'] else 'mapped'}, llama.cpp weights {llama_res}")
print("run  load  readBW GB/s | decode tok/s mixq / llama.cpp = ratio (median-token ratio) | roofline mixq / llama.cpp | prefill tok/s mixq / llama.cpp = ratio")
for x in rows:
    print(f"{x['run']:>3} {x['load']:5.2f} {x['bw_GBs']:11.2f} | {x['mixq_decode']:7.2f} / {x['llama_decode']:7.2f} = {x['mixq_decode']/x['llama_decode']:5.2f}x "
          f"({x['mixq_decode_median']/x['llama_decode_median']:5.2f}x) | {100*x['mixq_roofline']:5.1f} % / {100*x['llama_roofline']:5.1f} % | "
          f"{x['mixq_prefill']:7.1f} / {x['llama_prefill']:7.1f} = {x['mixq_prefill']/x['llama_prefill']:5.2f}x")
def rng(k):
    v = [x[k] for x in rows]
    return f"median {statistics.median(v):.2f}, range {min(v):.2f}-{max(v):.2f}"
for x in rows:
    x["decode_ratio"] = x["mixq_decode"] / x["llama_decode"]; x["prefill_ratio"] = x["mixq_prefill"] / x["llama_prefill"]
print("decode ratio mixq/llama.cpp:", rng("decode_ratio"))
print("prefill ratio mixq/llama.cpp:", rng("prefill_ratio"))
print(json.dumps({"runs": rows}))
PY
