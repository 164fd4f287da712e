#!/usr/bin/env bash
# A real standalone Flink 2.2.1 session cluster on this machine, without Docker or a Flink download: one
# JobManager JVM and TASKMANAGERS TaskManager JVMs (default 1; 2 for a job with --engines 2, one engine each)
# started from the Maven artifacts, with jobs/target/flink-lib (DJL) on the
# framework classpath as docker-compose.yml has it. For rehearsing what `flink run` does on a cluster: job-jar
# upload, the job's own classloader, cancel and resubmit on the same TaskManager.
#
#   scripts/local-flink-cluster.sh start [WORK_DIR]   # REST API and web UI on http://localhost:8090
#   curl -X POST -F jarfile=@jobs/target/trail-flink-job.jar localhost:8090/jars/upload
#   curl -X POST localhost:8090/jars/<id>/run -H 'Content-Type: application/json' \
#        -d '{"programArgsList":["--bootstrap-servers","HOST:PORT","--model","'$PWD'/models/trail-tiny"]}'
#   TASKMANAGERS=2 scripts/local-flink-cluster.sh start   # two TaskManagers, slots spread evenly over them
#   scripts/local-flink-cluster.sh restart-tm [WORK_DIR] [I|busy]   # kill -9 TaskManager I (default 0; busy: one that
#                                                                 # runs tasks), start a fresh one
#   scripts/local-flink-cluster.sh stop [WORK_DIR]          # stops the JVMs this script started (by their PIDs)
#
# Builds what it needs on first use (./mvnw install: the job jar, jobs/target/flink-lib and the project's modules
# for the framework classpath). The job jar is thin: DJL comes only from jobs/target/flink-lib, on the framework
# classpath as docker-compose.yml has it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd=${1:-start}
work=${2:-/tmp/trail-flink-cluster}
tms=${TASKMANAGERS:-1}
[[ $tms =~ ^[1-9][0-9]*$ ]] || { echo "TASKMANAGERS must be a whole number >= 1, got '$tms'" >&2; exit 2; }
# stops a JVM this script started, by the PID it recorded (never by a name pattern: other clusters live here too)
stop_pid() {
  local f="$work/$1.pid"
  if [[ -f $f ]]; then
    kill "${2:--TERM}" "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  fi
}
# the index of a TaskManager with a slot in use (its data port's listener is one of the PIDs this script recorded)
busy_tm() {
  local json port pid f
  json=$(curl -sf localhost:8090/taskmanagers) || return 1
  for port in $(python3 -c 'import json, sys
for t in json.load(sys.stdin)["taskmanagers"]:
    if t["freeSlots"] < t["slotsNumber"]:
        print(t["dataPort"])' <<< "$json"); do
    pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    for f in "$work"/taskmanager-*.pid; do
      if [[ -n $pid && $(cat "$f") == "$pid" ]]; then
        basename "$f" .pid | sed 's/taskmanager-//'
        return 0
      fi
    done
  done
  return 1
}
case $cmd in
  stop)
    for f in "$work"/taskmanager-*.pid; do
      [[ -e $f ]] && stop_pid "$(basename "$f" .pid)"
    done
    stop_pid jobmanager
    exit 0 ;;
  restart-tm)
    i=${3:-0}
    if [[ $i == busy ]]; then
      i=$(busy_tm) || { echo "no TaskManager of $work runs a task" >&2; exit 2; }
    fi
    [[ -f "$work/taskmanager-$i.sh" ]] || { echo "no TaskManager $i in $work" >&2; exit 2; }
    stop_pid "taskmanager-$i" -KILL # the drill: the TaskManager dies without a goodbye
    bash "$work/taskmanager-$i.sh" # a fresh one at once, with the command that start wrote
    echo "TaskManager $i restarted (PID $(cat "$work/taskmanager-$i.pid"))"
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|restart-tm|stop [WORK_DIR]" >&2; exit 2 ;;
esac
if [[ ! -f "$root/jobs/target/trail-flink-job.jar" || ! -d "$root/jobs/target/flink-lib" ]] \
    || ! (cd "$root" && ./mvnw -q -o -B dependency:build-classpath -pl jobs -Dmdep.outputFile=/dev/null >/dev/null 2>&1); then
  echo "building the job jar, jobs/target/flink-lib and the project's modules (./mvnw install) ..." >&2
  (cd "$root" && ./mvnw -q -B install -DskipTests >&2)
fi
mkdir -p "$work/conf" "$work/log"
cat > "$work/conf/config.yaml" <<YAML
jobmanager.rpc.address: localhost
jobmanager.bind-host: localhost
jobmanager.memory.process.size: 1200m
taskmanager.bind-host: localhost
taskmanager.host: localhost
taskmanager.numberOfTaskSlots: 4
taskmanager.memory.process.size: $((tms == 1 ? 6 : 4))g
cluster.evenly-spread-out-slots: true
# a dead TaskManager is noticed in seconds, not the default 50 s: its heartbeat RPCs fail at once (connection
# refused), and two failures in a row (heartbeat.rpc-failure-threshold) mark it lost; tuned for the fault drill
heartbeat.interval: 1000
heartbeat.timeout: 10000
rest.port: 8090
rest.address: localhost
rest.bind-address: localhost
classloader.resolve-order: parent-first
web.upload.dir: $work/upload
YAML
# the framework classpath: the jobs module's Flink dependencies, without what the job jar brings itself
(cd "$root" && ./mvnw -q -o -B dependency:build-classpath -pl jobs -Dmdep.outputFile="$work/cp.txt" >/dev/null)
fw=$(tr ':' '\n' < "$work/cp.txt" | grep -v -E '/ai/djl/|/io/trailflink/|flink-connector-kafka|/org/apache/kafka/|/flink-avro/|/org/apache/avro/|picocli' | paste -sd:)
fw="$fw:$(ls "$root"/jobs/target/flink-lib/*.jar | paste -sd:)"
opens="--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"
log4j="-Dlog4j2.configurationFile=$root/jobs/src/main/resources/log4j2-cli.xml"
# shellcheck disable=SC2086
nohup java -Xmx1g $opens $log4j -cp "$fw" org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
  --configDir "$work/conf" > "$work/log/jobmanager.out" 2>&1 &
echo $! > "$work/jobmanager.pid"
# the TaskManager's JVM sizes and resource options, as Flink's own start scripts compute them
params=$(java -cp "$fw" org.apache.flink.runtime.util.bash.BashJavaUtils GET_TM_RESOURCE_PARAMS --configDir "$work/conf" 2>/dev/null \
  | grep BASH_JAVA_UTILS_EXEC_RESULT | sed 's/BASH_JAVA_UTILS_EXEC_RESULT://')
jvm=$(echo "$params" | head -1)
dyn=$(echo "$params" | tail -1)
# each TaskManager's command, kept so that restart-tm starts a fresh one without computing anything
for ((i = 0; i < tms; i++)); do
  cat > "$work/taskmanager-$i.sh" <<SH
nohup java $jvm $(echo $opens) -Dai.djl.offline=true $log4j -cp "$fw" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
  --configDir "$work/conf" $dyn >> "$work/log/taskmanager-$i.out" 2>&1 &
echo \$! > "$work/taskmanager-$i.pid"
SH
  bash "$work/taskmanager-$i.sh"
done
for _ in $(seq 60); do
  if curl -sf localhost:8090/overview | grep -q "\"taskmanagers\":$tms,"; then
    echo "Flink session cluster up: http://localhost:8090 (logs in $work/log)"
    exit 0
  fi
  sleep 1
done
echo "cluster did not come up in 60 s; see $work/log" >&2
exit 1
