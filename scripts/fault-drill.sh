#!/usr/bin/env bash
# Fault drill on the local standalone cluster (issue 17): one steady stream of requests to the job running with
# --exactly-once, while FAULTS faults alternate every GAP_S seconds between kill -9 of the TaskManager (a fresh one
# is started) and a restart of the Kafka broker on the same port and data directory. Then every final response is
# read read_committed and counted per request id: lost (sent, never answered), duplicated (answered twice), and per
# fault the time to recovery: from the fault to the first final response a live read_committed consumer receives
# for a request sent after the fault (with --exactly-once answers appear at checkpoints, every 2 s here; an answer
# to an earlier request can still be committed from a checkpoint under way when the fault hits, so the first answer
# of any request is printed beside it but says little). The TaskManager killed is one that runs tasks; with
# TASKMANAGERS=2 another one is already running, so the job restarts at once on its free slots (the spare).
#
# KINDS names the faults to cycle through (default taskmanager,broker); "upgrade" stops the job with a savepoint
# (`trail savepoint --stop`, through the REST API) and submits it again from that savepoint, as an upgrade does.
#
#   FAULTS=4 GAP_S=40 scripts/fault-drill.sh [WORK_DIR]
#   ENGINES=2 TASKMANAGERS=2 FAULTS=2 GAP_S=30 scripts/fault-drill.sh   # two engines on two TaskManagers (TaskManager
#                                                                      # 0 is the one killed)
#   KINDS=upgrade FAULTS=5 GAP_S=30 scripts/fault-drill.sh              # five stop-with-savepoint upgrades
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work=${1:-/tmp/trail-fault-drill}
faults=${FAULTS:-4}
engines=${ENGINES:-1}
gap=${GAP_S:-40}
IFS=, read -r -a kinds <<< "${KINDS:-taskmanager,broker}"
port=${KAFKA_PORT:-19092}
rm -rf "$work" && mkdir -p "$work"
now_ms() { date +%s%3N; }
kafka_pid=
kafka_starts=0
start_kafka() {
  kafka_starts=$((kafka_starts + 1))
  local log="$work/kafka-$kafka_starts.log"
  ./trail kafka --port "$port" --data-dir "$work/kafka" > "$log" 2>&1 &
  kafka_pid=$!
  for _ in $(seq 60); do grep -q "Kafka broker at" "$log" 2>/dev/null && return 0; sleep 1; done
  echo "the broker did not start in 60 s: $log" >&2
  exit 1
}
watcher=
producer=
cleanup() {
  [[ -n $watcher ]] && kill -- "-$watcher" 2>/dev/null || true # its process group: the loop and its consumer JVM
  [[ -n $producer ]] && kill "$producer" 2>/dev/null || true
  scripts/local-flink-cluster.sh stop "$work/cluster" || true
  [[ -n $kafka_pid ]] && kill "$kafka_pid" 2>/dev/null || true
}
# a live consumer: each final response with the time it was received (epoch ms), across broker restarts
watch_answers() {
  while true; do
    ./trail consume --bootstrap-servers "localhost:$port" --follow --json 2>/dev/null \
      | while IFS= read -r line; do echo "$(date +%s%3N) $line"; done
    sleep 1
  done
}
trap cleanup EXIT
start_kafka
scripts/local-flink-cluster.sh start "$work/cluster" >&2
jar=$(curl -sf -X POST -F jarfile=@jobs/target/trail-flink-job.jar localhost:8090/jars/upload \
  | python3 -c "import json,sys;print(json.load(sys.stdin)['filename'].split('/')[-1])")
# submits the job (from a savepoint when one is given)
submit() {
  local from=${1:-}
  curl -sf -X POST "localhost:8090/jars/$jar/run" -H 'Content-Type: application/json' -d '{"programArgsList":[
    "--bootstrap-servers","localhost:'"$port"'","--model","'"$root"'/models/trail-tiny","--device","cpu",
    "--exactly-once","--checkpoint-interval-ms","2000","--checkpoint-dir","file://'"$work"'/checkpoints",
    "--max-new-tokens-limit","64","--engines","'"$engines"'"]'"${from:+,\"savepointPath\":\"$from\"}"'}' \
    > "$work/job.json"
}
submit
echo "job $(cat "$work/job.json")" >&2
# the stream: one request a second for the whole drill, ids drill-1..N
total=$(( (faults + 2) * gap ))
python3 - "$total" > "$work/requests.jsonl" <<'PY'
import json, sys
prompts = ["List 3 fruits.", "Count from 1 to 6.", "Name 4 colors.", "Spell the word \"river\"."]
for i in range(1, int(sys.argv[1]) + 1):
    print(json.dumps({"id": f"drill-{i}", "prompt": prompts[i % len(prompts)], "max_new_tokens": 32}))
PY
sleep 10
export -f watch_answers
export port
setsid bash -c watch_answers >> "$work/received.txt" 2>/dev/null &
watcher=$!
./trail produce --bootstrap-servers "localhost:$port" --file "$work/requests.jsonl" --rate 1 \
  > "$work/sent.txt" 2> "$work/produce.log" &
producer=$!
: > "$work/faults.txt"
for i in $(seq "$faults"); do
  sleep "$gap"
  kind=${kinds[$(( (i - 1) % ${#kinds[@]} ))]}
  echo "$(now_ms) $kind" >> "$work/faults.txt"
  case $kind in
    taskmanager) scripts/local-flink-cluster.sh restart-tm "$work/cluster" busy >&2 || true ;;
    broker)
      kill "$kafka_pid" 2>/dev/null || true
      wait "$kafka_pid" 2>/dev/null || true
      sleep 5
      start_kafka ;;
    upgrade)
      savepoint=$(./trail savepoint --web-ui http://localhost:8090 --dir "$work/savepoints" --stop 2>>"$work/upgrades.log")
      submit "$savepoint"
      echo "resubmitted from $savepoint: $(cat "$work/job.json")" >&2 ;;
    *) echo "unknown fault kind '$kind' in KINDS (taskmanager, broker, upgrade)" >&2; exit 2 ;;
  esac
  echo "fault $i of $faults: $(tail -1 "$work/faults.txt" | cut -d' ' -f2)" >&2
done
if ! wait "$producer"; then
  echo "the producer failed, so which requests were sent is unknown: see $work/produce.log" >&2
  exit 1
fi
producer=
sleep 60 # the last answers, and a checkpoint to commit them
./trail consume --bootstrap-servers "localhost:$port" --from-beginning --json --idle-s 15 > "$work/finals.jsonl" \
  2> "$work/consume.log"
python3 - "$work" <<'PY'
import collections, json, statistics, sys
work = sys.argv[1]
sent = [l.strip() for l in open(f"{work}/sent.txt") if l.strip()]
finals = [json.loads(l) for l in open(f"{work}/finals.jsonl") if l.startswith('{"id"')]
per_id = collections.Counter(f["id"] for f in finals)
lost = [i for i in sent if per_id[i] == 0]
dup = [i for i, n in per_id.items() if n > 1]
received = []  # (received at, when its request was submitted), epoch ms
for l in open(f"{work}/received.txt"):
    if ' {"id"' in l:
        at, body = l.split(" ", 1)
        received.append((int(at), json.loads(body)["submitted_at_ms"]))
received.sort()
rec = []
for line in open(f"{work}/faults.txt"):
    at, kind = line.split()
    at = int(at)
    any_after = [t for t, _ in received if t > at]
    new_after = [t for t, submitted in received if t > at and submitted > at]
    rec.append((kind, (new_after[0] - at) / 1000 if new_after else float("nan"),
                (any_after[0] - at) / 1000 if any_after else float("nan")))
print(f"sent {len(sent)}, answered {len(per_id)}, lost {len(lost)}, duplicated {len(dup)}")
by_engine = collections.Counter(f.get("engine") for f in finals)
print("answered per engine: " + ", ".join(f"{e} {n}" for e, n in sorted(by_engine.items())))
for kind, s, first in rec:
    print(f"  {kind:12s} first answer to a request sent after the fault: {s:.1f} s (first answer of any: {first:.1f} s)")
for k in sorted({k for k, _, _ in rec}):
    ok = [s for kind, s, _ in rec if kind == k and s == s]
    if ok:
        print(f"recovery after {k}: median {statistics.median(ok):.1f} s, max {max(ok):.1f} s over {len(ok)} faults")
PY
