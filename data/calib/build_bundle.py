#!/usr/bin/env python3
"""Rebuilds the bundled calibration data of data/calib/ from the read-only assets in ../shared/assets.
Deterministic (fixed record selection, no randomness); run from anywhere:
    python3 data/calib/build_bundle.py [SHARED_ASSETS_DIR]
The sampling itself (shares, seed) happens in mixq at run time from default.yaml."""
import json, os, shutil, sys

here = os.path.dirname(os.path.abspath(__file__))
assets = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared", "assets")

def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]

def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

# GSM8K train (MIT): even records 0..1198 -> chat, odd records 1..599 -> plain text; disjoint.
train = jsonl(os.path.join(assets, "gsm8k", "train.jsonl"))
write_jsonl(os.path.join(here, "gsm8k_chat.jsonl"),
            [{"question": r["question"], "answer": r["answer"]} for r in train[0:1200:2]])
write_jsonl(os.path.join(here, "gsm8k_text.jsonl"),
            [{"question": r["question"], "answer": r["answer"]} for r in train[1:600:2]])
shutil.copyfile(os.path.join(assets, "gsm8k", "LICENSE.txt"), os.path.join(here, "LICENSE.gsm8k.txt"))

# MBPP+ (Apache-2.0): prompt + canonical solution only (the test inputs are large and not text).
mbpp = jsonl(os.path.join(assets, "mbpp-evalplus", "MbppPlus.jsonl"))
write_jsonl(os.path.join(here, "mbpp_plus.jsonl"),
            [{"task_id": r["task_id"], "prompt": r["prompt"], "canonical_solution": r["canonical_solution"]}
             for r in mbpp])
shutil.copyfile(os.path.join(assets, "mbpp-evalplus", "LICENSE.txt"), os.path.join(here, "LICENSE.mbpp-evalplus.txt"))

# Frankenstein (public domain text) for long-context samples built by concatenation.
shutil.copyfile(os.path.join(assets, "text-frankenstein", "frankenstein.txt"), os.path.join(here, "frankenstein.txt"))
