#!/bin/bash
# CLI contract of `mixq bench` on the bundled tiny model: --json reports positive prefill/decode
# rates, the decode weight bytes per token, a measured read bandwidth and fp32 FMA peak, and the
# two ratios derived from them (decode roofline fraction, prefill peak fraction), consistent with
# their inputs, and the KV cache bytes a decoded token reads; bad input exits 2 with one line.
set -euo pipefail
MODEL="$MIXQ_SOURCE_DIR/models/tiny-minimax-m2"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$MIXQ" bench --model "$MODEL" --prompt-tokens 8 --decode-tokens 4 --bandwidth-mib 64 --mmap --json > "$T/b.json"
/usr/bin/python3 - "$T/b.json" "$MODEL/config.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ['prefill_tokens_per_second', 'decode_tokens_per_second', 'decode_weight_bytes_per_token',
          'measured_read_bandwidth_bytes_per_second', 'measured_fma_peak_flops_per_second',
          'prefill_matmul_flops_per_second']:
    assert j[k] > 0, (k, j[k])
r = j['decode_weight_bytes_per_token'] * j['decode_tokens_per_second'] / j['measured_read_bandwidth_bytes_per_second']
assert abs(r - j['decode_roofline_fraction']) <= 1e-9 * max(1, r), (r, j['decode_roofline_fraction'])
p = j['prefill_matmul_flops_per_second'] / j['measured_fma_peak_flops_per_second']
assert abs(p - j['prefill_peak_fraction']) <= 1e-9 * max(1, p), (p, j['prefill_peak_fraction'])
# Interleaved measurement: one bandwidth pass before each decoded token (+ 5 after), per-token times,
# and the ratios derived from them.
n = j['decode_tokens']
assert len(j['decode_token_seconds']) == n and all(t > 0 for t in j['decode_token_seconds'])
assert len(j['bandwidth_pass_bytes_per_second']) == n + 5
assert abs(max(j['bandwidth_pass_bytes_per_second']) - j['measured_read_bandwidth_bytes_per_second']) <= 1e-6 * j['measured_read_bandwidth_bytes_per_second']
assert abs(j['decode_best_tokens_per_second'] - 1 / min(j['decode_token_seconds'])) <= 1e-9 * j['decode_best_tokens_per_second']
assert j['decode_best_tokens_per_second'] >= j['decode_tokens_per_second'] * (1 - 1e-9)
b = j['decode_weight_bytes_per_token'] * j['decode_best_tokens_per_second'] / j['measured_read_bandwidth_bytes_per_second']
assert abs(b - j['decode_best_roofline_fraction']) <= 1e-9 * max(1, b)
# paired: only tokens whose pass ran on every pool thread
assert len(j['bandwidth_pass_threads']) == n and all(1 <= t <= j['threads'] for t in j['bandwidth_pass_threads'])
paired = sorted(j['decode_weight_bytes_per_token'] / t / bw for t, bw, th in
                zip(j['decode_token_seconds'], j['bandwidth_pass_bytes_per_second'], j['bandwidth_pass_threads']) if th == j['threads'])
m = len(paired)
med = 0 if m == 0 else paired[m // 2] if m % 2 else 0.5 * (paired[m // 2 - 1] + paired[m // 2])
assert abs(med - j['decode_paired_roofline_fraction']) <= 1e-9 * max(1, med), (med, j['decode_paired_roofline_fraction'])
# median: the median token against the best pass; bracketed: as paired, against the mean of the
# passes right before and right after the token (pass i + 1 follows token i)
ts = sorted(j['decode_token_seconds'])
mt = ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])
assert abs(j['decode_median_tokens_per_second'] - 1 / mt) <= 1e-9 * j['decode_median_tokens_per_second']
mr = j['decode_weight_bytes_per_token'] / mt / j['measured_read_bandwidth_bytes_per_second']
assert abs(mr - j['decode_median_roofline_fraction']) <= 1e-9 * max(1, mr)
assert j['decode_best_roofline_fraction'] >= j['decode_median_roofline_fraction'] * (1 - 1e-9)
bp, th, T = j['bandwidth_pass_bytes_per_second'], j['bandwidth_pass_threads'], j['threads']
br = sorted(j['decode_weight_bytes_per_token'] / j['decode_token_seconds'][i] / (0.5 * (bp[i] + bp[i + 1]))
            for i in range(n) if th[i] == T and (i + 1 >= n or th[i + 1] == T))
m = len(br)
bm = 0 if m == 0 else br[m // 2] if m % 2 else 0.5 * (br[m // 2 - 1] + br[m // 2])
assert abs(bm - j['decode_bracketed_roofline_fraction']) <= 1e-9 * max(1, bm), (bm, j['decode_bracketed_roofline_fraction'])
assert j['bandwidth_pass_streams_per_thread'] == 4
# KV cache bytes: token i reads prompt + i + 1 positions of K and V in every layer
cfg = json.load(open(sys.argv[2]))
per_pos = cfg['num_hidden_layers'] * 2 * cfg['num_key_value_heads'] * cfg['head_dim'] * 2  # bf16
kvm = sum(per_pos * (j['prompt_tokens'] + i + 1) for i in range(n)) / n
assert abs(j['decode_kv_bytes_per_token'] - kvm) <= 1e-9 * kvm, (j['decode_kv_bytes_per_token'], kvm)
rk = (j['decode_weight_bytes_per_token'] + kvm) * j['decode_tokens_per_second'] / j['measured_read_bandwidth_bytes_per_second']
assert abs(rk - j['decode_roofline_with_kv_fraction']) <= 1e-9 * max(1, rk)
assert j['decode_paired_roofline_with_kv_fraction'] >= j['decode_paired_roofline_fraction'] * (1 - 1e-9)
# per-phase split of a decoded token: every phase named, the weight bytes add up to the token's,
# the times (with "other" = the unclaimed rest) add up to the mean token time
names = ['qkv_proj', 'attention', 'o_proj', 'router', 'experts', 'lm_head', 'other']
ps, pb = j['decode_phase_seconds_per_token'], j['decode_phase_bytes_per_token']
assert sorted(ps) == sorted(names) and sorted(pb) == sorted(names), (ps, pb)
assert all(v >= 0 for v in ps.values()) and all(pb[k] > 0 for k in ['qkv_proj', 'o_proj', 'router', 'experts', 'lm_head'])
assert pb['attention'] == 0 and pb['other'] == 0
assert sum(pb.values()) == j['decode_weight_bytes_per_token'], (sum(pb.values()), j['decode_weight_bytes_per_token'])
mean_t = sum(j['decode_token_seconds']) / n
assert abs(sum(ps.values()) - mean_t) <= 1e-6 * mean_t + 1e-9, (sum(ps.values()), mean_t)
assert ps['qkv_proj'] > 0 and ps['experts'] > 0 and ps['lm_head'] > 0
# mapped weights (--mmap): nothing in huge pages, loading is only the mapping
assert j['weights_in_ram'] is False and j['weights_residency_reason'] == 'mapped (--mmap)' and j['weights_huge_page_bytes'] == 0 and j['load_seconds'] >= 0
assert 0 <= j['bandwidth_pass_huge_page_bytes'] <= 64 * 2**20 + 4 * 2**20
assert j['decode_cpu_share'] > 0 and j['decode_cpu_efficiency'] > 0
# Even a loaded 2-core CI machine does far more than 1 GFLOP/s of fp32 FMA; less means a broken timer or count.
assert j['measured_fma_peak_flops_per_second'] > 1e9, j['measured_fma_peak_flops_per_second']
PY
# --no-mmap: the weights read into RAM; huge pages are advice, so only bound their count
"$MIXQ" bench --model "$MODEL" --prompt-tokens 4 --decode-tokens 2 --bandwidth-mib 16 --no-mmap --json > "$T/r.json"
/usr/bin/python3 - "$T/r.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j['weights_in_ram'] is True and j['decode_tokens_per_second'] > 0
assert j['weights_residency_reason'] == 'read into RAM (--no-mmap)', j['weights_residency_reason']
assert 0 <= j['weights_huge_page_bytes'] <= 64 * 2**20, j['weights_huge_page_bytes']
PY
# neither flag: the automatic choice (io/residency.h), said in the reason; the tiny model fits in
# half of any machine's available memory, so it is read into RAM
"$MIXQ" bench --model "$MODEL" --prompt-tokens 4 --decode-tokens 2 --bandwidth-mib 16 --json > "$T/a.json"
/usr/bin/python3 - "$T/a.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
why = j['weights_residency_reason']
assert why.startswith('read into RAM (auto: ') and j['weights_in_ram'] is True, why
PY
# bench/decode_roofline.sh (the repeated-run summary the docs quote) runs and summarises
MIXQ_BENCH_ARGS="--prompt-tokens 4 --decode-tokens 2 --bandwidth-mib 16" \
  bash "$MIXQ_SOURCE_DIR/bench/decode_roofline.sh" --runs 2 --mixq "$MIXQ" "$MODEL" > "$T/roof.txt"
grep -q "median over runs" "$T/roof.txt" || { cat "$T/roof.txt"; echo "decode_roofline.sh: no summary" >&2; exit 1; }
[ "$(grep -cE '^ +[12] ' "$T/roof.txt")" -eq 2 ] || { cat "$T/roof.txt"; echo "decode_roofline.sh: want 2 run lines" >&2; exit 1; }
set +e
err=$("$MIXQ" bench --model "$MODEL" --prompt-tokens 0 2>&1 >/dev/null); rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "bench --prompt-tokens 0: exit $rc, want 2" >&2; exit 1; }
set +e
err=$("$MIXQ" bench --model "$MODEL" --mmap --no-mmap 2>&1 >/dev/null); rc=$?
set -e
[ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || { echo "bench --mmap --no-mmap: exit $rc ($err), want 2 and one line" >&2; exit 1; }
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || { echo "bench error is not one line: $err" >&2; exit 1; }
echo "engine_bench: ok"
