#!/usr/bin/env bash
# Benchmarks, each beside its baseline in the same run, on kfake and on a real 3-node Kafka
# (started here if it is not running, stopped again afterwards). docs/benchmarks.md records
# the figures. Arguments are packages (default: the foundation's); BENCHTIME overrides 5x.
#
#   scripts/bench.sh
#   scripts/bench.sh ./event/
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
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./internal/records/ ./internal/embedded/ ./cmd/ksuite/)
go test -run '^$' -bench . -benchtime "${BENCHTIME:-10x}" -count "${COUNT:-3}" "${pkgs[@]}"
