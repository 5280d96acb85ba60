# make test  — the whole suite from a fresh machine (real Kafka + PostgreSQL started and stopped)
# make run   — the embedded cluster, topics and everything `ksuite up` starts
# make bench — benchmarks (docs/benchmarks.md records the figures)

.PHONY: test run build bench kafka-up kafka-down

test:
	scripts/test.sh

run:
	go run ./cmd/ksuite up

build:
	go build -o bin/ksuite ./cmd/ksuite

bench:
	scripts/bench.sh

kafka-up:
	test/kafka/cluster.sh up

kafka-down:
	test/kafka/cluster.sh down
