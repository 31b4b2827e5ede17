#!/usr/bin/env bash
# `mixq plan` reproduces the two published deployments flag for flag. The expected commands are
# read at test time from ../shared/docs/published-deployments.md (the cards, verbatim) and
# expanded by bash itself (PORT unset, the FrankenQuant script's variables), so a change to either
# side shows here. Also: GPU presets plan one machine without Ray; a context that does not fit
# still prints the plan, with the ceiling and what would fit, and exits 1.
set -euo pipefail
MIXQ=${MIXQ:?}
SHARED=${MIXQ_SHARED_DIR:?}
CARDS=$SHARED/docs/published-deployments.md
CFG=$SHARED/configs/minimax-m2.7/config.json
STRIX=$SHARED/recipes/minimax-m2.7-awq-g32-strix-2h.yaml
FRANKEN=$SHARED/recipes/minimax-m2.1-fp8-int4-awq.yaml
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The sh code blocks of a card section, numbered: A1 = STRIX-2H command, A2 = its environment,
# B1 = the FrankenQuant launch script.
python3 - "$CARDS" "$TMP" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for sec in ("A", "B"):
    body = re.split(r"^## ", text, flags=re.M)
    part = next(b for b in body if b.startswith(sec + ". "))
    for i, block in enumerate(re.findall(r"```sh\n(.*?)```", part, flags=re.S), 1):
        open(f"{sys.argv[2]}/{sec}{i}.sh", "w").write(block)
PY
# Run a card block in a clean bash: `vllm` prints its argv (NUL-separated) to $1.argv, and the
# variables the block exports go to $1.env (NAME=value lines, bash's own left out).
expand() {
  env -i PATH="$PATH" BLK="$1" bash -c 'vllm() { printf "%s\0" vllm "$@" > "$BLK.argv"; }; source "$BLK.sh" > /dev/null; unset BLK; env -0' |
    python3 -c 'import sys; print("".join(sorted(l + "\n" for l in sys.stdin.read().split("\0") if l and l.split("=")[0] not in ("PWD", "SHLVL", "_", "PATH", "OLDPWD"))), end="")' > "$1.env"
}
for b in A1 A2 B1; do expand "$TMP/$b"; done

# compare CARD_ARGV CARD_ENV PLAN_JSON: same flags and values (order aside), same environment.
compare() {
  python3 - "$@" <<'PY'
import json, sys
card_argv = open(sys.argv[1]).read().split("\0")[:-1]
card_env = dict(l.split("=", 1) for l in open(sys.argv[2]).read().splitlines() if l)
plan = json.load(open(sys.argv[3]))
def flags(argv):
    assert argv[:2] == ["vllm", "serve"], argv
    out, i = {}, 3
    while i < len(argv):
        f = argv[i]; assert f.startswith("--"), (f, argv)
        v = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--") else None
        assert f not in out, ("repeated", f)
        out[f] = v; i += 2 if v is not None else 1
    return out
want, got = flags(card_argv), flags(plan["vllm_argv"])
for f in sorted(set(want) | set(got)):
    if want.get(f, "<absent>") != got.get(f, "<absent>"):
        sys.exit(f"flag {f}: card {want.get(f, '<absent>')!r}, plan {got.get(f, '<absent>')!r}")
assert card_argv[2] == plan["vllm_argv"][2], ("model", card_argv[2], plan["vllm_argv"][2])
if plan["environment"] != card_env:
    sys.exit(f"environment: card {card_env}, plan {plan['environment']}")
print(f"{plan['launch_source']}: {len(want)} flags and {len(card_env)} variables as on the card")
PY
}

# A. STRIX-2H: M2.7 on 2 Strix Halo, 0.92, 196608, 2 seqs, 20480 batched tokens.
"$MIXQ" plan --config "$CFG" --recipe "$STRIX" --devices 2 --device strix-halo --gpu-memory-utilization 0.92 \
  --max-model-len 196608 --max-num-seqs 2 --max-num-batched-tokens 20480 --model-path /path/to/model --json > "$TMP/a.json"
cat "$TMP/A2.env" > "$TMP/A.env"
compare "$TMP/A1.argv" "$TMP/A.env" "$TMP/a.json"
# The card's values are also the plan's defaults for its recipe; and the card by name gives the same.
"$MIXQ" plan --config "$CFG" --recipe "$STRIX" --devices 2 --device strix-halo --model-path /path/to/model --json > "$TMP/a2.json"
compare "$TMP/A1.argv" "$TMP/A.env" "$TMP/a2.json"
"$MIXQ" plan --config "$CFG" --recipe "$STRIX" --devices 2 --device strix-halo --model-path /path/to/model \
  --launch-from-card strix-2h --json > "$TMP/a3.json"
compare "$TMP/A1.argv" "$TMP/A.env" "$TMP/a3.json"
python3 - "$TMP/a.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["fits"] and j["nodes"] == 2 and j["ray_head_command"] and j["ray_worker_command"], j
# mixq's own advice is apart from the card's command, each with a reason.
s = {g["what"]: g["why"] for g in j["suggestions"]}
assert "--host 0.0.0.0" in s and "export VLLM_USE_TRITON_AWQ=1" in s and "export NCCL_SOCKET_IFNAME=<interface linking the nodes>" in s, s
assert "export VLLM_USE_FLASHINFER_MOE_FP16=0" in s, s
assert all(w for w in s.values()), s
assert "0.0.0.0" not in j["vllm_argv"]
# The mixq serve line takes vLLM's flags (issue 16).
m = j["mixq_argv"]
assert m[:3] == ["mixq", "serve", "/path/to/model"], m
for f in ["--host", "--port", "--max-model-len", "--max-num-seqs", "--max-num-batched-tokens", "--tool-call-parser",
          "--reasoning-parser", "--enable-auto-tool-choice", "--override-generation-config", "--served-model-name"]:
    assert f in m, (f, m)
assert m[m.index("--reasoning-parser") + 1] == "minimax_m2_append_think"
PY
"$MIXQ" plan --config "$CFG" --recipe "$STRIX" --devices 2 --device strix-halo > "$TMP/a.txt"
grep -q "published strix-2h card" "$TMP/a.txt"
grep -q -- "--host 0.0.0.0    # " "$TMP/a.txt"

# B. FrankenQuant: one machine, 2 x RTX Pro 6000, --tp 2, 0.93, its sampler override and environment.
# The card tested 196,608 tokens (M2.1's context); with M2.7's config the script's default context is
# 204,800, which the plan finds does not fit (exit 1): the plan is printed all the same, and its
# command is still the card's.
rc=0
"$MIXQ" plan --config "$CFG" --recipe "$FRANKEN" --devices 2 --device rtx-pro-6000 --gpu-memory-utilization 0.93 \
  --json > "$TMP/b.json" 2> "$TMP/b.err" || rc=$?
[ $rc -le 1 ] || { cat "$TMP/b.err"; exit 1; }
compare "$TMP/B1.argv" "$TMP/B1.env" "$TMP/b.json"
python3 - "$TMP/b.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
# GPU presets: one machine holds the devices; vLLM's default executor, no Ray, no cross-machine env.
assert j["nodes"] == 1 and j["devices_per_node"] == 2, j
assert j["ray_head_command"] is None and "--distributed-executor-backend" not in j["vllm_argv"]
assert not any("NCCL" in k for k in j["environment"]) and not any("NCCL" in g["what"] for g in j["suggestions"])
assert any("minimax_m2_append_think" in g["what"] for g in j["suggestions"])
PY

# A GPU plan without a card: one machine, no Ray, mixq's defaults; the launch values are flags.
"$MIXQ" plan --config "$CFG" --recipe "$FRANKEN" --devices 2 --device rtx-pro-6000 --launch-from-card none --max-model-len 65536 \
  --host 10.0.0.5 --port 9000 --reasoning-parser minimax_m2_append_think \
  --override-generation-config '{"temperature": 0.7}' --json > "$TMP/c.json"
python3 - "$TMP/c.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
a = j["vllm_argv"]
v = lambda f: a[a.index(f) + 1]
assert j["launch_source"] == "mixq" and j["nodes"] == 1 and "--distributed-executor-backend" not in a, a
assert v("--host") == "10.0.0.5" and v("--port") == "9000" and v("--tensor-parallel-size") == "2"
assert v("--reasoning-parser") == "minimax_m2_append_think" and v("--override-generation-config") == '{"temperature": 0.7}'
assert j["environment"] == {} and j["suggestions"] == [], j
PY

# A context that does not fit: the whole plan, the ceiling and what would fit; exit 1, JSON too.
set +e
"$MIXQ" plan --config "$CFG" --recipe "$STRIX" --devices 2 --device strix-halo --max-model-len 196608 \
  --max-num-batched-tokens 20480 --gpu-memory-utilization 0.85 --json > "$TMP/d.json" 2> "$TMP/d.err"
rc=$?
set -e
[ $rc -eq 1 ] || { echo "expected exit 1 for a context that does not fit, got $rc"; cat "$TMP/d.err"; exit 1; }
[ "$(wc -l < "$TMP/d.err")" -eq 1 ] && grep -q "would fit with --max-model-len" "$TMP/d.err" || { cat "$TMP/d.err"; exit 1; }
python3 - "$TMP/d.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["fits"] is False and "does not fit" in j["fit_problem"], j["fit_problem"]
ceiling = j["max_context_one_sequence"]
assert 0 < ceiling < 196608, ceiling
ch = {f["change"]: f["max_context_one_sequence"] for f in j["fit_options"]}
assert ch.get(f"--max-model-len {ceiling}") == ceiling, ch
assert ch.get("--kv-cache-dtype fp8", 0) >= 196608, ch
assert any(c.startswith("--devices ") for c in ch), ch
assert j["vllm_argv"] and j["weights_bytes"] > 0
PY
set +e
"$MIXQ" plan --config "$CFG" --devices 2 --device strix-halo --gpu-memory-utilization 0.92 > "$TMP/e.txt" 2> "$TMP/e.err"
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "DOES NOT FIT" "$TMP/e.txt" && grep -q "would fit with --devices" "$TMP/e.txt" \
  && grep -q "vllm serve" "$TMP/e.txt" || { echo "weights that do not fit: rc $rc"; cat "$TMP/e.txt" "$TMP/e.err"; exit 1; }

# Numeric options are typed and range-checked (exit 2, one line); a bad override is refused.
"$MIXQ" plan --help > "$TMP/help.txt"
for f in --max-num-seqs --max-model-len --max-num-batched-tokens --devices --port; do
  grep -E -- "$f (INT|:INT)" "$TMP/help.txt" > /dev/null || { echo "$f is not INT in --help"; grep -- "$f" "$TMP/help.txt"; exit 1; }
done
for bad in "--max-num-seqs 0" "--max-model-len -3" "--devices 0" "--port 70000" "--gpu-memory-utilization 0" \
           "--override-generation-config {temperature" "--reasoning-parser deepseek_r1"; do
  set +e
  # shellcheck disable=SC2086
  "$MIXQ" plan --config "$CFG" $bad > /dev/null 2> "$TMP/err"; rc=$?
  set -e
  [ $rc -eq 2 ] && [ "$(wc -l < "$TMP/err")" -eq 1 ] || { echo "expected exit 2 and one line for $bad, got $rc"; cat "$TMP/err"; exit 1; }
done
echo "plan_cards: OK"
