#!/usr/bin/env bash
# Fetches, starts or stops a local single-node Kafka broker (KRaft: broker and controller in one
# JVM) for `optic pipeline --transport kafka`.
#   scripts/brokers/kafka.sh fetch                       jars into the cache (Maven; once)
#   scripts/brokers/kafka.sh start [--port 9092] [--dir ${TMPDIR:-/tmp}/optic-kafka-9092]
#   scripts/brokers/kafka.sh stop  [--port 9092] [--dir ...]
#   scripts/brokers/kafka.sh status [--port 9092]
# Kafka 4.3.1 (org.apache.kafka:kafka_2.13 and its runtime dependencies, scripts/brokers/kafka/pom.xml)
# runs on Debian's JDK 17. The broker listens on 127.0.0.1:PORT, its controller on PORT+1; the data
# dir is formatted on first start and kept (a restart keeps the topics and committed offsets; stop
# --wipe removes it). Consumer groups may use session timeouts down to 1 s
# (group.min.session.timeout.ms=1000). `start` returns once the port accepts connections (60 s at
# most) and prints the address to pass as --kafka.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
KAFKA_VERSION=4.3.1
CACHE=${OPTIC_CACHE:-$HOME/.cache/optic}
LIBS=$CACHE/kafka-$KAFKA_VERSION/libs

action=${1:-}
shift || true
port=9092
dir=
wipe=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --wipe) wipe=1; shift ;;
    *) echo "kafka.sh: unknown argument '$1' (expected --port N, --dir DIR or --wipe)" >&2; exit 2 ;;
  esac
done
case "$port" in ''|*[!0-9]*) echo "kafka.sh: --port '$port' is not a number" >&2; exit 2 ;; esac
dir=${dir:-${TMPDIR:-/tmp}/optic-kafka-$port}
cport=$((port + 1))

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fetch() {
  if [ -f "$LIBS/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { echo "kafka.sh: mvn not found (apt-get install maven, or run scripts/setup.sh)" >&2; exit 1; }
  echo "kafka.sh: fetching Kafka $KAFKA_VERSION jars into $LIBS" >&2
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  mvn -q -B -f "$ROOT/scripts/brokers/kafka/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
    dependency:copy-dependencies -DoutputDirectory="$LIBS" -DincludeScope=runtime >&2
  touch "$LIBS/.complete"
}

case "$action" in
  fetch) fetch ;;
  start)
    if listening "$port"; then echo "kafka.sh: something already listens on 127.0.0.1:$port"; echo "kafka://127.0.0.1:$port"; exit 0; fi
    command -v java >/dev/null || { echo "kafka.sh: java not found (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
    fetch
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
auto.create.topics.enable=true
PROPS
    if [ ! -f "$dir/data/meta.properties" ]; then
      id=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null)
      java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 || {
        echo "kafka.sh: formatting $dir/data failed:" >&2; tail -5 "$dir/format.log" >&2; exit 1; }
    fi
    nohup java -Xms256m -Xmx512m -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 &
    echo $! >"$dir/kafka.pid"
    for _ in $(seq 600); do
      if listening "$port"; then echo "kafka://127.0.0.1:$port"; exit 0; fi
      kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "kafka.sh: the broker on port $port did not come up; its log, $dir/kafka.log:" >&2
    tail -5 "$dir/kafka.log" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$dir/kafka.pid" ]; then
      pid=$(cat "$dir/kafka.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/kafka.pid"
    fi
    if [ "$wipe" = 1 ]; then rm -rf "$dir"; fi
    if listening "$port"; then echo "kafka.sh: something still listens on 127.0.0.1:$port (not started from $dir?)" >&2; exit 1; fi
    echo "kafka.sh: stopped 127.0.0.1:$port"
    ;;
  status)
    if listening "$port"; then echo "kafka://127.0.0.1:$port up"; else echo "127.0.0.1:$port down"; exit 1; fi
    ;;
  *)
    echo "usage: scripts/brokers/kafka.sh fetch|start|stop|status [--port N] [--dir DIR] [--wipe]" >&2
    exit 2
    ;;
esac
