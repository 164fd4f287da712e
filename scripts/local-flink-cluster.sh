#!/usr/bin/env bash
# A real standalone Flink 2.2.1 session cluster on this machine, without Docker or a Flink download: one
# JobManager JVM and one TaskManager JVM started from the Maven artifacts, with jobs/target/flink-lib (DJL) on the
# framework classpath as docker-compose.yml has it. For rehearsing what `flink run` does on a cluster: job-jar
# upload, the job's own classloader, cancel and resubmit on the same TaskManager.
#
#   scripts/local-flink-cluster.sh start [WORK_DIR]   # REST API and web UI on http://localhost:8090
#   curl -X POST -F jarfile=@jobs/target/trail-flink-job.jar localhost:8090/jars/upload
#   curl -X POST localhost:8090/jars/<id>/run -H 'Content-Type: application/json' \
#        -d '{"programArgsList":["--bootstrap-servers","HOST:PORT","--model","'$PWD'/models/trail-tiny"]}'
#   scripts/local-flink-cluster.sh stop
#
# Needs `./mvnw -B package -DskipTests` first (the job jar and jobs/target/flink-lib). Set NO_DJL_LIB=1 to leave
# DJL off the framework classpath and see the failure it prevents.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd=${1:-start}
work=${2:-/tmp/trail-flink-cluster}
if [[ $cmd == stop ]]; then
  pkill -f "org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir $work" || true
  pkill -f "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir $work" || true
  exit 0
fi
[[ -d "$root/jobs/target/flink-lib" ]] || { echo "jobs/target/flink-lib missing: run ./mvnw -B package -DskipTests" >&2; exit 2; }
mkdir -p "$work/conf" "$work/log"
cat > "$work/conf/config.yaml" <<YAML
jobmanager.rpc.address: localhost
jobmanager.bind-host: localhost
jobmanager.memory.process.size: 1200m
taskmanager.bind-host: localhost
taskmanager.host: localhost
taskmanager.numberOfTaskSlots: 4
taskmanager.memory.process.size: 6g
rest.port: 8090
rest.address: localhost
rest.bind-address: localhost
classloader.resolve-order: parent-first
web.upload.dir: $work/upload
YAML
# the framework classpath: the jobs module's Flink dependencies, without what the job jar brings itself
(cd "$root" && ./mvnw -q -o -B dependency:build-classpath -pl jobs -Dmdep.outputFile="$work/cp.txt" >/dev/null)
fw=$(tr ':' '\n' < "$work/cp.txt" | grep -v -E '/ai/djl/|/io/trailflink/|flink-connector-kafka|/org/apache/kafka/|/flink-avro/|/org/apache/avro/|picocli' | paste -sd:)
if [[ -z ${NO_DJL_LIB:-} ]]; then
  fw="$fw:$(ls "$root"/jobs/target/flink-lib/*.jar | paste -sd:)"
fi
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
# the TaskManager's JVM sizes and resource options, as Flink's own start scripts compute them
params=$(java -cp "$fw" org.apache.flink.runtime.util.bash.BashJavaUtils GET_TM_RESOURCE_PARAMS --configDir "$work/conf" 2>/dev/null \
  | grep BASH_JAVA_UTILS_EXEC_RESULT | sed 's/BASH_JAVA_UTILS_EXEC_RESULT://')
jvm=$(echo "$params" | head -1)
dyn=$(echo "$params" | tail -1)
# shellcheck disable=SC2086
nohup java $jvm $opens -Dai.djl.offline=true $log4j -cp "$fw" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
  --configDir "$work/conf" $dyn > "$work/log/taskmanager.out" 2>&1 &
for _ in $(seq 60); do
  if curl -sf localhost:8090/overview | grep -q '"taskmanagers":1'; then
    echo "Flink session cluster up: http://localhost:8090 (logs in $work/log)"
    exit 0
  fi
  sleep 1
done
echo "cluster did not come up in 60 s; see $work/log" >&2
exit 1
