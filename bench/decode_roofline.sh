#!/usr/bin/env bash
# Decode roofline of the engine at batch 1, repeated: runs `mixq bench --json` RUNS times on each
# model (alternating models, so both see the same stretch of a shared machine), then prints one
# line per run and the median/min/max over runs of every roofline fraction:
#   strict   mean decode tok/s x bytes/token / best bandwidth pass of the run
#   median   median token / best pass (strict without the few tokens a burst slowed)
#   paired   median over tokens of (token rate / the pass right before it)
#   bracket  as paired, against the mean of the passes before and after the token
#   experts  the experts phase's GB/s / the run's median pass (the weakest phase)
# Usage: bench/decode_roofline.sh [--runs N] [--mixq PATH] MODEL_DIR...
#   e.g. MIXQ_THREADS=2 bench/decode_roofline.sh --runs 5 build/perf/bf16 build/perf/w4
# Extra `mixq bench` options go in MIXQ_BENCH_ARGS (default: --prompt-tokens 64 --decode-tokens 64).
set -euo pipefail
runs=3
mixq="${MIXQ:-build/mixq}"
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --mixq) mixq="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
[ "${#models[@]}" -gt 0 ] || { echo "decode_roofline.sh: give at least one model directory" >&2; exit 2; }
[ -x "$mixq" ] || { echo "decode_roofline.sh: no mixq binary at $mixq (--mixq PATH)" >&2; exit 2; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
read -r -a extra <<< "${MIXQ_BENCH_ARGS:---prompt-tokens 64 --decode-tokens 64}"
for r in $(seq 1 "$runs"); do
  for i in "${!models[@]}"; do
    "$mixq" -q bench --model "${models[$i]}" "${extra[@]}" --json > "$out/$i.$r.json"
  done
done
/usr/bin/python3 - "$out" "$runs" "${models[@]}" <<'PY'
import json, statistics, sys
out, runs, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
keys = [('strict', 'decode_roofline_fraction'), ('median', 'decode_median_roofline_fraction'),
        ('paired', 'decode_paired_roofline_fraction'), ('bracket', 'decode_bracketed_roofline_fraction')]
def experts(j):
    s, b = j['decode_phase_seconds_per_token']['experts'], j['decode_phase_bytes_per_token']['experts']
    return b / s / statistics.median(j['bandwidth_pass_bytes_per_second']) if s > 0 else 0
for i, m in enumerate(models):
    rows = [json.load(open(f'{out}/{i}.{r}.json')) for r in range(1, runs + 1)]
    print(f'{m}: {rows[0]["describe"]}, {rows[0]["decode_weight_bytes_per_token"] / 1e6:.1f} MB/token, '
          f'{rows[0]["threads"]} threads')
    print('  run  load  best-pass  tok/s(mean/median)  ' + '  '.join(f'{k:>7}' for k, _ in keys) + '  experts')
    cols = {k: [] for k, _ in keys}
    cols['experts'] = []
    for r, j in enumerate(rows, 1):
        for k, jk in keys:
            cols[k].append(j[jk])
        cols['experts'].append(experts(j))
        print(f'  {r:3d}  {j["load_average_1min"]:4.1f}  {j["measured_read_bandwidth_bytes_per_second"] / 1e9:6.1f} GB/s'
              f'  {j["decode_tokens_per_second"]:7.1f} / {j["decode_median_tokens_per_second"]:7.1f}  '
              + '  '.join(f'{100 * j[jk]:6.1f}%' for _, jk in keys) + f'  {100 * cols["experts"][-1]:6.1f}%')
    print('  median over runs               ' + '  '.join(f'{100 * statistics.median(cols[k]):6.1f}%' for k, _ in keys)
          + f'  {100 * statistics.median(cols["experts"]):6.1f}%')
    print('  min .. max                     ' + '  '.join(f'{100 * min(cols[k]):3.0f}-{100 * max(cols[k]):3.0f}%' for k, _ in keys))
PY
