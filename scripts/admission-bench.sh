#!/usr/bin/env bash
# Predictive admission under 3x overload (docs/benchmarks.md): the median latency without deadlines, then deadlines
# at 2x it, without and with --admission predictive, alternating, REPEATS times each (default 3). Writes runs/adm-*.
set -euo pipefail
cd "$(dirname "$0")/.." && mkdir -p runs
repeats=${REPEATS:-3}
./trail demo --requests 600 --rate 60 --json > runs/adm-a.out 2>runs/adm-a.err
median=$(tail -1 runs/adm-a.out | python3 -c "import json,sys;print(int(json.load(sys.stdin)['p50_latency_ms']))")
deadline=$((2 * median))
echo "median latency without deadlines: $median ms; deadlines at $deadline ms" | tee runs/adm.txt
for i in $(seq "$repeats"); do
  ./trail demo --requests 600 --rate 60 --deadline-ms "$deadline" --json > "runs/adm-b$i.out" 2>"runs/adm-b$i.err"
  ./trail demo --requests 600 --rate 60 --deadline-ms "$deadline" --admission predictive --json \
    > "runs/adm-c$i.out" 2>"runs/adm-c$i.err"
done
python3 - "$repeats" <<'PY' | tee -a runs/adm.txt
import json, statistics, sys
n = int(sys.argv[1])
for name, tag in (("no admission control", "b"), ("--admission predictive", "c")):
    runs = [json.loads(open(f"runs/adm-{tag}{i}.out").read().strip().splitlines()[-1]) for i in range(1, n + 1)]
    met = [r["deadline_met_of_admitted"] * 100 for r in runs]
    good = [r["goodput_tokens_per_s"] for r in runs]
    refused = [r["deadline_refused_at_admission"] for r in runs]
    print(f"{name:24s} met of admitted {statistics.median(met):5.1f} % {[round(x, 1) for x in met]}  "
          f"goodput {statistics.median(good):6.1f} tokens/s {[round(x) for x in good]}  refused {refused}")
PY
