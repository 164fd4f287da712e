#!/usr/bin/env bash
# Predictive admission under 3x overload: median latency without deadlines, then deadlines at 2x it, without and
# with --admission predictive (docs/benchmarks.md). Writes runs/adm-*.out.
set -e
cd "$(dirname "$0")/.." && mkdir -p runs
./trail demo --requests 600 --rate 60 --json > runs/adm-a.out 2>runs/adm-a.err
M=$(tail -1 runs/adm-a.out | python3 -c "import json,sys;print(int(json.load(sys.stdin)['p50_latency_ms']))")
D=$((2*M))
echo "median $M deadline $D" > runs/adm.txt
./trail demo --requests 600 --rate 60 --deadline-ms $D --json > runs/adm-b.out 2>runs/adm-b.err
./trail demo --requests 600 --rate 60 --deadline-ms $D --admission predictive --json > runs/adm-c.out 2>runs/adm-c.err
echo done >> runs/adm.txt
