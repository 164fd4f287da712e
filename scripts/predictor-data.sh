#!/usr/bin/env bash
# Training inputs of the TRAIL predictor and the prompt prior that keep `trail bench`'s natural workload unseen
# (models/trail-tiny/predictor/README.md has the whole recipe). AlpacaEval's 805 instructions, in gpt4.json's
# order, split by position: the even ones are the bench workload (runs/bench/natural-gpt4-unseen.jsonl, 403
# prompts with their gpt4 answer lengths capped at 128 by make-workload), the odd ones (402) join Alpaca's samples as real instructions to train on
# (runs/predictor-data/alpaca/, for `trail collect-states --data runs/predictor-data`). When the prior's rows exist
# (runs/prior/real-out.jsonl, `trail batch` output), they are split the same way: real-out-train.jsonl to train on,
# real-out-unseen.jsonl for --eval.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
out=runs/predictor-data
mkdir -p "$out/alpaca" runs/bench
if [ ! -f runs/bench/natural-gpt4.jsonl ]; then
  ./trail make-workload --alpaca-eval "$data/alpaca_eval/gpt4.json" --cap 128 --out runs/bench/natural-gpt4.jsonl
fi
cp -f "$data"/alpaca/*.json "$data"/alpaca/DATA_LICENSE "$out/alpaca/"   # -f: the shared files are read-only
cp -f "$data"/alpaca_eval/LICENSE "$out/alpaca/ALPACA_EVAL_LICENSE"
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
lines = open("runs/bench/natural-gpt4.jsonl").read().splitlines()
with open("runs/bench/natural-gpt4-unseen.jsonl", "w") as f:
    f.write("\n".join(l for i, l in enumerate(lines) if i % 2 == 0) + "\n")
# collect-states reads Alpaca-shaped records and skips those without an output; the answer is never used
train = [{"instruction": json.loads(l)["prompt"], "input": "", "output": "-"} for i, l in enumerate(lines) if i % 2 == 1]
json.dump(train, open(f"{out}/alpaca/alpacaeval-odd.json", "w"))
unseen = {json.loads(l)["prompt"] for i, l in enumerate(lines) if i % 2 == 0}
if not os.path.exists("runs/prior/real-out.jsonl"):
    print("no runs/prior/real-out.jsonl (the prompt prior's rows, `trail batch` output; see "
          "models/trail-tiny/predictor/README.md): its split is skipped")
else:
    with open("runs/prior/real-out-train.jsonl", "w") as t, open("runs/prior/real-out-unseen.jsonl", "w") as u:
        for l in open("runs/prior/real-out.jsonl"):
            (u if json.loads(l).get("prompt") in unseen else t).write(l)
print(f"bench workload runs/bench/natural-gpt4-unseen.jsonl: {len(unseen)} prompts; {len(train)} AlpacaEval "
      f"prompts to train on in {out}/alpaca/")
PY
