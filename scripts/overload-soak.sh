#!/usr/bin/env bash
# Overload soak (issue 17): the job served for DURATION_S seconds at RATE requests/s — several times what one engine
# completes — with a bounded waiting queue (--max-waiting, --overload OVERLOAD: shed, the default, or backpressure,
# which holds the excess in the requests topic; the soak then goes on sampling until every request is answered). Every 30 s it samples the job JVM's
# resident memory and its live heap (in use right after a forced full collection), the broker's resident memory,
# and the last completed checkpoint's size (Flink's REST API); at the end it reads
# every final response and counts them per request id: completed, rejected (shed), missing, duplicated.
#
#   DURATION_S=600 RATE=100 MAX_WAITING=64 scripts/overload-soak.sh [WORK_DIR]
#   OVERLOAD=backpressure DURATION_S=180 RATE=160 scripts/overload-soak.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work=${1:-/tmp/trail-overload-soak}
duration=${DURATION_S:-600}
rate=${RATE:-100}
max_waiting=${MAX_WAITING:-64}
overload=${OVERLOAD:-shed}
port=${KAFKA_PORT:-19093}
ui=${WEB_UI_PORT:-8083}
rm -rf "$work" && mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
./trail kafka --port "$port" --data-dir "$work/kafka" > "$work/kafka.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do grep -q "Kafka broker at" "$work/kafka.log" 2>/dev/null && break; sleep 1; done
# the job alone in its JVM (heap capped, so its resident memory means something), checkpoints every 10 s to files
TRAIL_JAVA_OPTS="-Xmx2g -Xlog:gc:file=$work/gc.log" ./trail serve --bootstrap-servers "localhost:$port" --web-ui-port "$ui" \
  --max-waiting "$max_waiting" --overload "$overload" --max-new-tokens-limit 64 \
  --checkpoint-interval-ms 10000 --checkpoint-dir "file://$work/checkpoints" > "$work/serve.log" 2>&1 &
serve=$!
pids+=($serve)
for _ in $(seq 120); do curl -sf "localhost:$ui/jobs" | grep -q RUNNING && break; sleep 1; done
job=$(curl -sf "localhost:$ui/jobs" | python3 -c "import json,sys;print([j['id'] for j in json.load(sys.stdin)['jobs'] if j['status']=='RUNNING'][0])")
total=$((duration * rate))
python3 - "$total" > "$work/requests.jsonl" <<'PY'
import json, sys
prompts = ["List 3 fruits.", "Count from 1 to 6.", "Name 4 colors.", "Spell the word \"river\".",
           "Write a short story about a brave fox.", "Count from 1 to 20."]
for i in range(1, int(sys.argv[1]) + 1):
    print(json.dumps({"id": f"soak-{i}", "prompt": prompts[i % len(prompts)], "max_new_tokens": 64}))
PY
kafka_pid=$(pgrep -P "${pids[0]}" | head -1 || true) # the broker is the `trail kafka` JVM's child
./trail produce --bootstrap-servers "localhost:$port" --file "$work/requests.jsonl" --rate "$rate" \
  > "$work/sent.txt" 2> "$work/produce.log" &
producer=$!
pids+=($producer)
start=$(date +%s)
echo "t_s,job_rss_mb,broker_rss_mb,checkpoint_bytes,checkpoints_completed,job_live_heap_mb,answered" > "$work/samples.csv"
answered() { # final responses so far (read_uncommitted: the soak runs without --exactly-once); while answers keep
  # coming the consumer never goes idle, so it is cut off after 15 s (reading every answer so far takes a few)
  timeout 15 ./trail consume --bootstrap-servers "localhost:$port" --from-beginning --json --idle-s 3 2>/dev/null \
    | grep -c '^{"id"' || true
}
# with backpressure the backlog waits in the topic: sample on until every request sent has its answer
sampling() {
  if kill -0 "$producer" 2>/dev/null; then return 0; fi
  [[ $overload == backpressure ]] || return 1
  local sent_n; sent_n=$(grep -c . "$work/sent.txt" || true)
  local last; last=$(tail -1 "$work/samples.csv" | cut -d, -f7)
  [[ $last =~ ^[0-9]+$ ]] && (( last < sent_n ))
}
while sampling; do
  sleep 30
  t=$(( $(date +%s) - start ))
  rss=$(ps -o rss= -p "$serve" 2>/dev/null | tr -d ' ' || echo 0)
  krss=$( [[ -n $kafka_pid ]] && ps -o rss= -p "$kafka_pid" 2>/dev/null | tr -d ' ' || echo 0)
  cp=$(curl -sf "localhost:$ui/jobs/$job/checkpoints" | python3 -c "import json,sys
c=json.load(sys.stdin); l=(c.get('latest') or {}).get('completed') or {}
print(l.get('checkpointed_size', l.get('state_size', 0)), c['counts']['completed'])" 2>/dev/null || echo "0 0")
  # what the job holds: the heap in use right after a full collection (jcmd; a pause of some ms every 30 s)
  live=$(jcmd "$serve" GC.run >/dev/null 2>&1; jcmd "$serve" GC.heap_info 2>/dev/null \
    | grep -o 'used [0-9]*K' | head -1 | tr -dc 0-9)
  done_n=$(answered)
  echo "$t,$((rss / 1024)),$((${krss:-0} / 1024)),${cp% *},${cp#* },$(( ${live:-0} / 1024 )),$done_n" >> "$work/samples.csv"
  echo "[$t s] $(tail -1 "$work/samples.csv")" >&2
done
wait "$producer" || { echo "the producer failed: $work/produce.log" >&2; exit 1; }
sleep 30
./trail consume --bootstrap-servers "localhost:$port" --from-beginning --json --idle-s 20 > "$work/finals.jsonl" \
  2> "$work/consume.log"
python3 - "$work" "$rate" <<'PY'
import collections, json, sys
work, rate = sys.argv[1], float(sys.argv[2])
sent = [l.strip() for l in open(f"{work}/sent.txt") if l.strip()]
finals = [json.loads(l) for l in open(f"{work}/finals.jsonl") if l.startswith('{"id"')]
per_id = collections.Counter(f["id"] for f in finals)
by_reason = collections.Counter(f["finish_reason"] for f in finals)
missing = [i for i in sent if per_id[i] == 0]
dup = [i for i, n in per_id.items() if n > 1]
done = [f for f in finals if f["finish_reason"] in ("stop", "length")]
span = (max(f["finished_at_ms"] for f in done) - min(f["submitted_at_ms"] for f in done)) / 1000 if done else 1
print(f"sent {len(sent)} at {rate:g}/s; final responses {len(finals)}: " + ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items())))
print(f"missing {len(missing)}, duplicated {len(dup)}; completed {len(done) / span:.1f}/s, so the offered load was {rate / (len(done) / span):.1f}x what the engine completed")
PY
echo "samples (every 30 s): $work/samples.csv"
column -s, -t < "$work/samples.csv"
# the heap after each young collection (the live set plus survivors): what the job holds, apart from the JVM's growth
python3 - "$work/gc.log" <<'PY'
import re, sys
pts = [(float(t), int(a)) for t, a in re.findall(r"\[([\d.]+)s\].*Pause Young.*?->(\d+)M", open(sys.argv[1]).read())]
if pts:
    first = [a for t, a in pts if t > 60][:20]
    last = [a for t, a in pts][-20:]
    print(f"heap after young GCs: median {sorted(first)[len(first)//2] if first else 'n/a'} MB in the 2nd minute, "
          f"{sorted(last)[len(last)//2]} MB at the end ({len(pts)} collections)")
PY
