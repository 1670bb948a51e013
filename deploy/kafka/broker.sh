#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) for development and tests.
#
#   deploy/kafka/broker.sh start    fetch jars (first time), format storage (first time), start, wait
#                                   until ready; the LAST line printed is BOOTSTRAP=127.0.0.1:<port>.
#                                   Idempotent: when already running it prints the same line.
#   deploy/kafka/broker.sh stop     SIGTERM by PID, SIGKILL after APITAP_KAFKA_STOP_TIMEOUT seconds.
#                                   Data and ports are kept, so the next start serves the same topics,
#                                   offsets and bootstrap address (tests restart the broker mid-run).
#   deploy/kafka/broker.sh status   prints `running pid=N` + BOOTSTRAP=..., or `stopped` (exit 3).
#   deploy/kafka/broker.sh reset    stop, then delete the data of this version (jars stay cached).
#   deploy/kafka/broker.sh fetch    only fetch the jars (CI warm-up).
#
# A three-node KRaft cluster (each node broker+controller; replication factor 3, min.insync.replicas
# 2), for failover tests. Its data, ports and pid files are apart from the single broker's (both can run):
#   deploy/kafka/broker.sh cluster start            start the nodes not running, wait until all are
#                                                   ready; the LAST line is BOOTSTRAP=h:p1,h:p2,h:p3
#   deploy/kafka/broker.sh cluster stop             stop every node (SIGTERM, then SIGKILL)
#   deploy/kafka/broker.sh cluster status           one line per node; exit 3 when none runs
#   deploy/kafka/broker.sh cluster kill-node N      SIGKILL node N (1..3): a crashed broker
#   deploy/kafka/broker.sh cluster stop-node N      SIGTERM node N (a controlled shutdown)
#   deploy/kafka/broker.sh cluster start-node N     start node N again (same data and ports)
#   deploy/kafka/broker.sh cluster reset            stop, delete the cluster's data
#   Env: APITAP_KAFKA_CLUSTER_HEAP (JVM max heap per node, default 384m: three nodes fit beside the
#   suite on a 2-core, shared machine).
#
# Everything lives under <repo>/.cache/kafka (override: APITAP_KAFKA_HOME):
#   libs-<version>/   the jars, copied from Maven Central by deploy/kafka/pom.xml; `.complete` marks a
#                     finished copy, so the second start needs no network at all.
#   run-<version>/    server.properties, log4j2.properties, data/ (log.dirs), server.log, pid, ports.
#
# Environment (all optional):
#   APITAP_KAFKA_PARTITIONS      num.partitions for auto-created topics (default 3)
#   APITAP_KAFKA_PORT            broker port (default: the one used last time if free, else a free one)
#   APITAP_KAFKA_HEAP            JVM max heap (default 512m)
#   APITAP_KAFKA_START_TIMEOUT   seconds to wait for readiness (default 90)
#   APITAP_KAFKA_STOP_TIMEOUT    seconds to wait for a graceful stop before SIGKILL (default 30)
#
# Version: 4.4.0, measured to work with kafkajs 2.2.4 (produce, consume, consumer groups, admin):
# see deploy/kafka/README.md. Kafka 4.x needs Java 17+.
set -euo pipefail

KAFKA_VERSION=4.4.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
home=${APITAP_KAFKA_HOME:-$repo/.cache/kafka}
libs=$home/libs-$KAFKA_VERSION
run=$home/run-$KAFKA_VERSION
partitions=${APITAP_KAFKA_PARTITIONS:-3}
heap=${APITAP_KAFKA_HEAP:-512m}
start_timeout=${APITAP_KAFKA_START_TIMEOUT:-90}
stop_timeout=${APITAP_KAFKA_STOP_TIMEOUT:-30}

die() { echo "broker.sh: $*" >&2; exit 1; }

# PID of the running broker, or nothing. A stale pid file (process gone, or the pid reused by
# something that is not our broker) counts as stopped.
running_pid() {
  local pid
  [ -f "$run/pid" ] || return 0
  pid=$(cat "$run/pid")
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $run/server.properties"; then
    echo "$pid"
  fi
}

# A free TCP port on 127.0.0.1, chosen by the kernel (bind to port 0). Node is always there (the
# project is TypeScript); the port is free when checked, and Kafka binds it a second later.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

fetch() {
  [ -f "$libs/.complete" ] && return 0
  command -v mvn >/dev/null || die "mvn not found (the jars come from Maven Central through Maven)"
  command -v java >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  echo "fetching Kafka $KAFKA_VERSION jars from Maven Central into $libs ..." >&2
  local t0=$SECONDS
  rm -rf "$libs"
  mkdir -p "$libs"
  if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$libs" >"$home/fetch.log" 2>&1; then
    tail -n 30 "$home/fetch.log" >&2
    die "mvn failed to fetch the Kafka jars (log: $home/fetch.log)"
  fi
  ls "$libs"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
  touch "$libs/.complete"
  echo "fetched in $((SECONDS - t0))s" >&2
}

# A Kafka cluster id: 16 random bytes, base64url without padding (what `kafka-storage random-uuid`
# prints). Kafka's own generator avoids a leading '-' (it reads as a CLI flag), so do we.
cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [ "${id:0:1}" != "-" ] && { echo "$id"; return; }
  done
}

write_config() {
  local port=$1 cport=$2
  mkdir -p "$run/data"
  cat >"$run/server.properties" <<EOF
# Generated by deploy/kafka/broker.sh (Kafka $KAFKA_VERSION). Single node, KRaft, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$run/data
num.partitions=$partitions
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
# 50 by default: creating them on the first group join costs seconds on a 2-core machine.
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.retention.hours=24
EOF
  cat >"$run/log4j2.properties" <<'EOF'
# server.log: INFO for lifecycle (its tail is printed when a start fails), noisy loggers at WARN.
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
EOF
  echo "$port $cport" >"$run/ports"
}

bootstrap_line() { echo "BOOTSTRAP=127.0.0.1:$(cut -d' ' -f1 "$run/ports")"; }

start() {
  local pid
  pid=$(running_pid)
  if [ -n "$pid" ]; then
    echo "already running pid=$pid"
    bootstrap_line
    return 0
  fi
  fetch
  mkdir -p "$run"

  # Ports: keep last time's when still free (clients and committed state keep working across a
  # restart), else take new free ones.
  local port="" cport=""
  if [ -f "$run/ports" ]; then read -r port cport <"$run/ports"; fi
  if [ -n "${APITAP_KAFKA_PORT:-}" ]; then port=$APITAP_KAFKA_PORT; fi
  if [ -z "$port" ] || ! port_free "$port"; then port=$(free_port); fi
  if [ -z "$cport" ] || [ "$cport" = "$port" ] || ! port_free "$cport"; then
    cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
  fi
  write_config "$port" "$cport"

  local cp="$libs/*"
  if [ ! -f "$run/data/meta.properties" ]; then
    local id t0=$SECONDS
    id=$(cluster_id)
    java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$run/log4j2.properties" -cp "$cp" \
      kafka.tools.StorageTool format -t "$id" -c "$run/server.properties" >"$run/format.log" 2>&1 \
      || { tail -n 30 "$run/format.log" >&2; die "storage format failed"; }
    echo "formatted $run/data (cluster id $id) in $((SECONDS - t0))s" >&2
  fi

  # Readiness is the broker's own "started" log line AND the port accepting connections. The
  # offset of server.log is remembered so a restart does not read the previous run's line.
  touch "$run/server.log"
  local from
  from=$(($(wc -c <"$run/server.log") + 1))
  local t0=$SECONDS
  # setsid: the broker outlives this script and the shell or test runner that called it. 9>&-: it
  # must not inherit the lock's descriptor (it would hold the lock for its whole life).
  # -XX:TieredStopAtLevel=1 (C1 only) and SerialGC: less CPU competition on a 2-core machine;
  # throughput is irrelevant for a dev broker.
  setsid java -Xmx"$heap" -Xms128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$run/log4j2.properties" -cp "$cp" \
    kafka.Kafka "$run/server.properties" </dev/null >>"$run/server.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$run/pid"

  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$run/server.log" >&2
      die "broker exited during start (log: $run/server.log)"
    fi
    if tail -c +"$from" "$run/server.log" | grep -q "Kafka Server started" && ! port_free "$port"; then
      break
    fi
    if [ $((SECONDS - t0)) -ge "$start_timeout" ]; then
      tail -n 40 "$run/server.log" >&2
      kill -KILL "$pid" 2>/dev/null || true
      die "broker not ready after ${start_timeout}s (log: $run/server.log)"
    fi
    sleep 0.3
  done
  echo "started Kafka $KAFKA_VERSION pid=$pid in $((SECONDS - t0))s (log: $run/server.log)"
  bootstrap_line
}

stop() {
  local pid
  pid=$(running_pid)
  if [ -z "$pid" ]; then
    echo "stopped"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - t0)) -ge "$stop_timeout" ]; then
      echo "broker pid=$pid still up after ${stop_timeout}s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  # A killed process is reaped by init shortly after; wait for it so a following start finds the port free.
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$run/pid"
  echo "stopped pid=$pid in $((SECONDS - t0))s"
}

status() {
  local pid
  pid=$(running_pid)
  if [ -n "$pid" ]; then
    echo "running pid=$pid version=$KAFKA_VERSION"
    bootstrap_line
  else
    echo "stopped"
    return 3
  fi
}


# ---------------------------------------------------------------------------------------------
# Three-node cluster (see the header). Everything under $home/cluster-<version>/node<N>/.

cluster_dir=$home/cluster-$KAFKA_VERSION
cluster_heap=${APITAP_KAFKA_CLUSTER_HEAP:-384m}

node_pid() {
  local d=$cluster_dir/node$1 pid
  [ -f "$d/pid" ] || return 0
  pid=$(cat "$d/pid")
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $d/server.properties"; then
    echo "$pid"
  fi
}

# Ports: six (3 client, 3 controller) chosen once and kept, so restarts keep the same addresses.
cluster_ports() {
  mkdir -p "$cluster_dir"
  if [ ! -f "$cluster_dir/ports" ]; then
    local ports=() p
    while [ "${#ports[@]}" -lt 6 ]; do
      p=$(free_port)
      case " ${ports[*]} " in *" $p "*) continue ;; esac
      ports+=("$p")
    done
    echo "${ports[*]}" >"$cluster_dir/ports"
  fi
  cat "$cluster_dir/ports"
}

cluster_bootstrap_line() {
  local ports
  read -r -a ports <<<"$(cluster_ports)"
  echo "BOOTSTRAP=127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
}

write_log4j() {
  cat >"$1" <<'LOG4J'
# server.log: INFO for lifecycle (its tail is printed when a start fails), noisy loggers at WARN.
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
LOG4J
}

cluster_config() {
  local n=$1 ports voters d=$cluster_dir/node$1
  read -r -a ports <<<"$(cluster_ports)"
  voters="1@127.0.0.1:${ports[3]},2@127.0.0.1:${ports[4]},3@127.0.0.1:${ports[5]}"
  mkdir -p "$d/data"
  cat >"$d/server.properties" <<PROPS
# Generated by deploy/kafka/broker.sh (Kafka $KAFKA_VERSION). Node $n of a three-node KRaft cluster, loopback only.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${ports[$((n - 1))]},CONTROLLER://127.0.0.1:${ports[$((n + 2))]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[$((n - 1))]}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
num.partitions=$partitions
default.replication.factor=3
min.insync.replicas=2
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=3
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
# A dead leader is fenced within seconds (defaults: 9 s broker session, 2 s heartbeat).
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
unclean.leader.election.enable=false
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.retention.hours=24
PROPS
  write_log4j "$d/log4j2.properties"
}

# Starts node N in the background (no wait): a KRaft node is ready only once a quorum runs, so the
# nodes start together and cluster_wait waits for all of them.
cluster_spawn() {
  local n=$1 d=$cluster_dir/node$1 pid
  cluster_config "$n"
  if [ ! -f "$d/data/meta.properties" ]; then
    [ -f "$cluster_dir/id" ] || cluster_id >"$cluster_dir/id"
    java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$d/log4j2.properties" -cp "$libs/*" \
      kafka.tools.StorageTool format -t "$(cat "$cluster_dir/id")" -c "$d/server.properties" >"$d/format.log" 2>&1 \
      || { tail -n 30 "$d/format.log" >&2; die "storage format of node $n failed"; }
  fi
  touch "$d/server.log"
  echo $(($(wc -c <"$d/server.log") + 1)) >"$d/from"
  setsid java -Xmx"$cluster_heap" -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$d/log4j2.properties" -cp "$libs/*" \
    kafka.Kafka "$d/server.properties" </dev/null >>"$d/server.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$d/pid"
}

# Waits until the listed nodes logged "Kafka Server started" and accept connections.
cluster_wait() {
  local t0=$SECONDS n d ports pending pid
  read -r -a ports <<<"$(cluster_ports)"
  while :; do
    pending=0
    for n in "$@"; do
      d=$cluster_dir/node$n
      pid=$(cat "$d/pid" 2>/dev/null || true)
      if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        tail -n 40 "$d/server.log" >&2
        die "cluster node $n exited during start (log: $d/server.log)"
      fi
      if ! tail -c +"$(cat "$d/from")" "$d/server.log" | grep -q "Kafka Server started" || port_free "${ports[$((n - 1))]}"; then
        pending=1
      fi
    done
    [ "$pending" = 0 ] && break
    if [ $((SECONDS - t0)) -ge "$start_timeout" ]; then
      for n in "$@"; do tail -n 20 "$cluster_dir/node$n/server.log" >&2; done
      die "cluster nodes $* not ready after ${start_timeout}s"
    fi
    sleep 0.3
  done
  echo "cluster nodes $* ready in $((SECONDS - t0))s" >&2
}

cluster_stop_node() {
  local n=$1 sig=${2:-TERM} pid t0=$SECONDS
  pid=$(node_pid "$n")
  [ -n "$pid" ] || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - t0)) -ge "$stop_timeout" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.1
  done
  rm -f "$cluster_dir/node$n/pid"
  echo "node $n stopped (SIG$sig) pid=$pid"
}

cluster_cmd() {
  local sub=${1:-} n
  case "$sub" in
    start)
      fetch
      local started=()
      for n in 1 2 3; do
        if [ -z "$(node_pid "$n")" ]; then
          cluster_spawn "$n"
          started+=("$n")
        fi
      done
      if [ "${#started[@]}" -gt 0 ]; then cluster_wait "${started[@]}"; fi
      cluster_bootstrap_line
      ;;
    stop) for n in 3 2 1; do cluster_stop_node "$n"; done ;;
    status)
      local any=0
      for n in 1 2 3; do
        if [ -n "$(node_pid "$n")" ]; then
          echo "node $n running pid=$(node_pid "$n")"
          any=1
        else
          echo "node $n stopped"
        fi
      done
      cluster_bootstrap_line
      [ "$any" = 1 ] || return 3
      ;;
    kill-node | stop-node | start-node)
      n=${2:-}
      [[ "$n" =~ ^[123]$ ]] || die "cluster $sub wants a node number 1..3"
      case "$sub" in
        kill-node) cluster_stop_node "$n" KILL ;;
        stop-node) cluster_stop_node "$n" TERM ;;
        start-node)
          if [ -z "$(node_pid "$n")" ]; then
            cluster_spawn "$n"
            cluster_wait "$n"
          fi
          cluster_bootstrap_line
          ;;
      esac
      ;;
    reset)
      for n in 3 2 1; do cluster_stop_node "$n"; done
      rm -rf "$cluster_dir"
      echo "reset $cluster_dir"
      ;;
    *)
      echo "usage: $0 cluster start|stop|status|kill-node N|stop-node N|start-node N|reset" >&2
      exit 2
      ;;
  esac
}

cmd=${1:-}
case "$cmd" in
  cluster)
    mkdir -p "$home"
    shift
    if [ "${1:-}" = status ]; then
      cluster_cmd "$@"
      exit $?
    fi
    exec 9>"$home/cluster.lock"
    flock -w 300 9 || die "timed out waiting for $home/cluster.lock"
    cluster_cmd "$@"
    ;;
  start | stop | reset)
    mkdir -p "$home"
    # One start/stop at a time (test files may call start concurrently).
    exec 9>"$home/lock"
    flock -w 300 9 || die "timed out waiting for $home/lock"
    case "$cmd" in
      start) start ;;
      stop) stop ;;
      reset) stop; rm -rf "$run"; echo "reset $run" ;;
    esac
    ;;
  status) status ;;
  fetch) mkdir -p "$home"; fetch ;;
  *) echo "usage: $0 start|stop|status|reset|fetch|cluster ..." >&2; exit 2 ;;
esac
