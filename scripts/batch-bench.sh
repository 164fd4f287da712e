#!/usr/bin/env bash
# Offline batch benchmark (issue 14, docs/benchmarks.md "Offline batch inference"): 2,000 distinct instructions
# (AlpacaEval's 805 in gpt4.json's order, then Alpaca samples, instruction + "\n" + input; max_new_tokens 128) from
# ../shared/data through `trail batch`, one engine, the modes alternating, REPEATS rounds (default 2). Modes
# (MODES, default "direct trail fcfs"):
#   direct         the rows straight through the engine, no Flink or Kafka (PyTorch's own thread count)
#   direct1        the same at one engine thread
#   trail, fcfs    the serving job with that policy
#   trail-noprior  the job with TRAIL, without the prompt prior
#   trail-idle     the job with TRAIL, the engine thread at SCHED_IDLE (the serving default)
# Writes runs/batch-bench/<mode>-<round>.json (the batch's JSON summary) and prints a table; ratios are against
# the same round's direct run.
set -euo pipefail
cd "$(dirname "$0")/.."
modes=${MODES:-direct trail fcfs}
repeats=${REPEATS:-2}
out=runs/batch-bench
mkdir -p "$out"
input=runs/batch-2000.jsonl
if [ ! -f "$input" ]; then
  python3 - "$input" <<'PY'
import json, sys
data = "../shared/data"
seen, prompts = set(), []
for e in json.load(open(f"{data}/alpaca_eval/gpt4.json")):
    if e["instruction"] not in seen:
        seen.add(e["instruction"]); prompts.append(e["instruction"])
for name in ("alpaca_data_1k.json", "alpaca_data_first335.json"):
    for a in json.load(open(f"{data}/alpaca/{name}")):
        p = a["instruction"] + ("\n" + a["input"] if a.get("input") else "")
        if p not in seen:
            seen.add(p); prompts.append(p)
with open(sys.argv[1], "w") as f:
    for i, p in enumerate(prompts[:2000]):
        f.write(json.dumps({"id": f"p{i}", "prompt": p, "max_new_tokens": 128}) + "\n")
PY
fi
for i in $(seq "$repeats"); do
  for mode in $modes; do
    case $mode in
      direct) flags="--direct";;
      direct1) flags="--direct --engine-threads 1";;
      trail|fcfs) flags="--policy $mode";;
      trail-noprior) flags="--policy trail --no-prompt-prior";;
      trail-idle) flags="--policy trail --engine-nice idle";;
      *) echo "batch-bench: unknown mode '$mode'" >&2; exit 2;;
    esac
    result=$(mktemp -u /tmp/batch-bench-XXXXXX.jsonl)
    echo "round $i: $mode ..." >&2
    # shellcheck disable=SC2086
    ./trail batch --input "$input" --output "$result" $flags --progress-interval-ms 60000 \
      2>"$out/$mode-$i.err" | tail -1 > "$out/$mode-$i.json"
    rm -f "$result"
  done
done
python3 - "$out" "$repeats" $modes <<'PY'
import json, sys
out, n, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
runs = {(m, i): json.load(open(f"{out}/{m}-{i}.json")) for m in modes for i in range(1, n + 1)}
print(f"{'mode':<15} {'tokens/s':>22} {'÷ direct':>16} {'mean completion (s)':>22} {'makespan (s)':>18}")
for m in modes:
    rs = [runs[(m, i)] for i in range(1, n + 1)]
    tps = " / ".join(f"{r['tokens_per_s']:.0f}" for r in rs)
    ratio = " / ".join(f"{r['tokens_per_s'] / runs[('direct', i + 1)]['tokens_per_s']:.2f}" if "direct" in modes
                       else "—" for i, r in enumerate(rs))
    lat = " / ".join(f"{r['mean_latency_ms'] / 1000:.1f}" for r in rs)
    mk = " / ".join(f"{r['makespan_s']:.1f}" for r in rs)
    print(f"{m:<15} {tps:>22} {ratio:>16} {lat:>22} {mk:>18}")
PY
