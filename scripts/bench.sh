#!/usr/bin/env bash
# Benchmarks, each beside its baseline in the same run, on kfake and on a real 3-node Kafka
# (started here if it is not running, stopped again afterwards) and PostgreSQL.
# docs/benchmarks.md records the figures. Without arguments it runs them all (about 10
# minutes); with package arguments, every benchmark of those packages (BENCHTIME, default 10x;
# COUNT, default 3).
#
#   scripts/bench.sh
#   BENCHTIME=20x scripts/bench.sh ./internal/records/
set -euo pipefail
cd "$(dirname "$0")/.."

started=""
if ! test/kafka/cluster.sh status >/dev/null 2>&1; then
	test/kafka/cluster.sh up >/dev/null
	started=1
fi
if ! compgen -G "/tmp/ksuite-pg-*/data/postmaster.pid" >/dev/null; then
	test/postgres/pg.sh up >/dev/null
	started="$started pg"
fi
cleanup() {
	case "$started" in *1*) test/kafka/cluster.sh down ;; esac
	case "$started" in *pg*) test/postgres/pg.sh down ;; esac
}
trap cleanup EXIT

KSUITE_TEST_KAFKA=$(test/kafka/cluster.sh bootstrap)
KSUITE_TEST_POSTGRES=$(test/postgres/pg.sh dsn)
export KSUITE_TEST_KAFKA KSUITE_TEST_POSTGRES

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB," \
	"$(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(go version | cut -d' ' -f3)"
bench() { go test -run '^$' -count "${COUNT:-3}" "$@"; }
if [ $# -gt 0 ]; then
	bench -bench . -benchtime "${BENCHTIME:-10x}" "$@"
	exit
fi
# Foundation: up start-to-ready, produce/consume of 1 KB JSON.
bench -bench . -benchtime "${BENCHTIME:-10x}" ./internal/records/ ./internal/embedded/ ./cmd/ksuite/
# Event library: publish and consume beside raw franz-go, the inbox, outbox latency, the codec.
COUNT=5 bench -bench 'Benchmark(Publish|Consume)$' -benchtime 200000x ./event/
COUNT=1 bench -bench 'BenchmarkConsumeInbox' -benchtime 5000x ./event/
COUNT=1 bench -bench 'BenchmarkOutboxLatency' -benchtime 5000x ./event/
COUNT=5 bench -bench 'BenchmarkEnvelope' -benchmem ./event/
# The Suite services: joins applied per second beside raw franz-go, sign-up latency; the test kit.
bench -bench 'BenchmarkJoins/.*/.*/batch=(500|2000)$' -benchtime 100000x ./suite/
COUNT=1 bench -bench 'BenchmarkJoins/.*/.*/batch=1$' -benchtime 10000x ./suite/
bench -bench 'BenchmarkSignupLatency' -benchtime 10000x ./suite/
bench -bench 'BenchmarkStart' -benchtime 20x ./ksuitetest/
# Topics as code: 1,000 topics beside Kafka's TopicCommand.
KSUITE_TEST_KAFKA_CLASSPATH=$(test/kafka/cluster.sh classpath) scripts/bench-topics.sh
# Java clients: Kafka's ProducerPerformance on ksuite up and on real Kafka.
KSUITE_TEST_KAFKA_CLASSPATH=$(test/kafka/cluster.sh classpath) scripts/bench-java.sh
