#!/usr/bin/env bash
# Kafka's own ProducerPerformance (kafka-producer-perf-test.sh) against `ksuite up` and against
# the real 3-node cluster, in one run: N records of SIZE bytes to a topic of 3 partitions,
# replication factor 3, acks=all, as fast as it goes (--throughput -1), one JVM per run as the
# script runs it. Runs alternate between the two clusters so both see the same machine load.
#
# Usage: scripts/bench-java.sh            (N=200000 SIZE=300 RUNS=3; KSUITE_TEST_KAFKA or the
#                                          local cluster; ksuite up is started here, persisted
#                                          to a temporary --data-dir)
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-200000}"
SIZE="${SIZE:-300}"
RUNS="${RUNS:-3}"
real="${KSUITE_TEST_KAFKA:-$(test/kafka/cluster.sh bootstrap)}"
classpath="${KSUITE_TEST_KAFKA_CLASSPATH:-$(test/kafka/cluster.sh classpath)}"
work=$(mktemp -d)
up_pid=""

log() { echo "bench-java: $*" >&2; }

cleanup() {
	[ -n "$up_pid" ] && kill -INT "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

log "building ksuite"
go build -o "$work/ksuite" ./cmd/ksuite
port_base=$((20000 + RANDOM % 10000)) # below the ephemeral range
"$work/ksuite" up --data-dir "$work/data" --port-base "$port_base" --no-services >"$work/up.out" 2>"$work/up.log" &
up_pid=$!
for _ in $(seq 1 100); do grep -q '^ready ' "$work/up.out" && break; sleep 0.1; done
up=$(sed -n 's/^ready bootstrap=\([^ ]*\).*/\1/p' "$work/up.out")
[ -n "$up" ] || { cat "$work/up.log" >&2; log "ksuite up did not get ready"; exit 1; }

java_tool() { java -Dlog4j2.configurationFile="$PWD/test/javacompat/java/log4j2-tools.properties" -cp "$classpath" "$@"; }

topic="bench-java-$(date +%s)"
for bs in "$up" "$real"; do
	java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic "$topic" \
		--partitions 3 --replication-factor 3 >/dev/null
done

# perf BOOTSTRAP: one ProducerPerformance run; prints its summary line.
perf() {
	java_tool org.apache.kafka.tools.ProducerPerformance --topic "$topic" --num-records "$N" \
		--record-size "$SIZE" --throughput -1 --command-property "bootstrap.servers=$1" acks=all |
		grep "^$N records sent"
}

declare -a up_lines real_lines
for i in $(seq 1 "$RUNS"); do
	log "run $i/$RUNS: ksuite up"
	up_lines+=("$(perf "$up")")
	log "run $i/$RUNS: Apache Kafka"
	real_lines+=("$(perf "$real")")
done
java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$real" --delete --topic "$topic" >/dev/null

# row NAME LINE: one table row from a summary line.
row() {
	echo "$2" | awk -v name="$1" -F'[ ,()]+' '{
		printf "| %s | %.0f | %s | %s | %s | %s | %s |\n", name, $4, $6, $8, $16, $19, $22 }'
}
echo "| ProducerPerformance, $N × $SIZE B, acks=all | records/s | MB/s | avg latency ms | p50 ms | p95 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|"
for i in $(seq 0 $((RUNS - 1))); do
	row "ksuite up, run $((i + 1))" "${up_lines[$i]}"
	row "Apache Kafka, run $((i + 1))" "${real_lines[$i]}"
done
