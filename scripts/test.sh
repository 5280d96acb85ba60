#!/usr/bin/env bash
# The whole test run, from a fresh machine: install what is missing, start a real 3-node
# Apache Kafka 4 cluster and PostgreSQL, run every Go test (race detector on) against kfake,
# real Kafka, SQLite and PostgreSQL, and stop both servers even when tests fail. The Go tests
# include the Java compatibility suite (test/javacompat: javac against the harness's Kafka
# jars) and the Spring Boot app (test/spring: mvn package), each on `ksuite up` and real Kafka.
#
# Extra arguments go to `go test` (e.g. scripts/test.sh -run TestUp ./internal/embedded).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "test.sh: $*" >&2; }

need_apt=()
command -v kcat >/dev/null || need_apt+=(kcat)
command -v strace >/dev/null || need_apt+=(strace)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
# A JDK, not only a JRE: the Java compatibility suite and the Spring app are compiled here.
command -v javac >/dev/null || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need_apt+=(maven)
command -v openssl >/dev/null || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
	log "installing ${need_apt[*]}"
	apt-get update -qq
	apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

cleanup() {
	test/kafka/cluster.sh down || true
	test/postgres/pg.sh down || true
}
trap cleanup EXIT INT TERM

scripts/kfake.sh check

KSUITE_TEST_POSTGRES=$(test/postgres/pg.sh up)
KSUITE_TEST_KAFKA=$(test/kafka/cluster.sh up)
KSUITE_TEST_KAFKA_SASL=$(test/kafka/cluster.sh sasl-bootstrap)
KSUITE_TEST_KAFKA_SSL=$(test/kafka/cluster.sh ssl-bootstrap)
KSUITE_TEST_KAFKA_CA=$(test/kafka/cluster.sh ca)
KSUITE_TEST_KAFKA_CLASSPATH=$(test/kafka/cluster.sh classpath)
export KSUITE_TEST_POSTGRES KSUITE_TEST_KAFKA KSUITE_TEST_KAFKA_SASL KSUITE_TEST_KAFKA_SSL KSUITE_TEST_KAFKA_CA KSUITE_TEST_KAFKA_CLASSPATH
export KSUITE_REQUIRE_KAFKA=1 KSUITE_REQUIRE_KAFKA_SSL=1 KSUITE_REQUIRE_POSTGRES=1

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(./...)
log "go test -race against kfake + $KSUITE_TEST_KAFKA, SQLite + PostgreSQL"
go test -race -count=1 -timeout 25m "${args[@]}"
if [ $# -eq 0 ]; then
	log "CloudEvents interoperability with sdk-go (test/cloudevents, a module of its own)"
	(cd test/cloudevents && go test -race -count=1 ./...)
fi
