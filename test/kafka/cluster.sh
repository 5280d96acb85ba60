#!/usr/bin/env bash
# A real 3-node Apache Kafka 4 (KRaft) cluster on loopback for ksuite's tests.
#
#   test/kafka/cluster.sh up       fetch jars if missing, format, start, wait for 3 brokers,
#                                  print the bootstrap list on stdout
#   test/kafka/cluster.sh down     stop every node this script started (by pid), remove its data
#   test/kafka/cluster.sh status   print each node's state; exit 1 unless all 3 run
#   test/kafka/cluster.sh bootstrap | sasl-bootstrap | ssl-bootstrap | ca | classpath
#
# Every node is broker+controller with a static quorum. Ports (KSUITE_KAFKA_PORT_BASE, default
# 39092): PLAINTEXT base..base+2, SASL_PLAINTEXT (SCRAM) base+100.., CONTROLLER base+200..,
# SASL_SSL (SCRAM-SHA-512, the cluster's own CA, ACLs enforced) base+300...
# The SASL user is ksuite / ksuite-test-secret, the SASL_SSL admin admin / ksuite-admin-secret
# (throwaway credentials for this local cluster). `ca` prints the CA certificate's path.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
libs="$here/.cache/libs"
state="${KSUITE_KAFKA_STATE:-$here/.cache/cluster}"
base="${KSUITE_KAFKA_PORT_BASE:-39092}"
heap="${KSUITE_KAFKA_HEAP:-512m}"
nodes=3
sasl_user=ksuite
sasl_password=ksuite-test-secret
admin_user=admin
admin_password=ksuite-admin-secret
wait_seconds="${KSUITE_KAFKA_WAIT:-120}"

log() { echo "cluster.sh: $*" >&2; }

plaintext_port() { echo $((base + $1 - 1)); }
sasl_port() { echo $((base + 100 + $1 - 1)); }
controller_port() { echo $((base + 200 + $1 - 1)); }
ssl_port() { echo $((base + 300 + $1 - 1)); }

bootstrap() {
	local out="" n
	for n in $(seq 1 $nodes); do out+="${out:+,}127.0.0.1:$(plaintext_port "$n")"; done
	echo "$out"
}

sasl_bootstrap() {
	local out="" n
	for n in $(seq 1 $nodes); do out+="${out:+,}127.0.0.1:$(sasl_port "$n")"; done
	echo "$out"
}

ssl_bootstrap() {
	local out="" n
	for n in $(seq 1 $nodes); do out+="${out:+,}127.0.0.1:$(ssl_port "$n")"; done
	echo "$out"
}

# tls_init: a CA and a server certificate for 127.0.0.1/localhost (ECDSA P-256), as
# `ksuite up --external-host` makes for its host. server.pem is the PKCS#8 key and the
# certificate, the PEM keystore Kafka reads.
tls_init() {
	local dir="$state/tls"
	[ -f "$dir/server.pem" ] && return 0
	command -v openssl >/dev/null || { log "openssl is missing: apt-get install openssl"; exit 1; }
	mkdir -p "$dir"
	chmod 700 "$dir"
	(
		cd "$dir"
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
			-keyout ca.key -out ca.pem -subj "/CN=ksuite test CA" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout server.key -out server.csr -subj "/CN=127.0.0.1"
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
			-extfile server.ext -out server.crt
		cat server.key server.crt >server.pem
		chmod 644 ca.pem
	) >"$state/tls.log" 2>&1 || { cat "$state/tls.log" >&2; exit 1; }
}

# kafka_version is the Kafka release pom.xml names; jars of another release are replaced.
kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml"; }

ensure_jars() {
	local version
	version=$(kafka_version)
	if [ ! -f "$libs/kafka_2.13-$version.jar" ]; then
		log "fetching Kafka $version jars with Maven into $libs"
		rm -rf "$libs"
		mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies >&2
	fi
}

java_cp() { java -cp "$libs/*" "$@"; }

# render NODE: fills node.properties.tmpl's ${NAME} placeholders for one node.
render() {
	local n=$1 voters="" i
	for i in $(seq 1 $nodes); do voters+="${voters:+,}$i@127.0.0.1:$(controller_port "$i")"; done
	NODE_ID=$n QUORUM_VOTERS=$voters HOST=127.0.0.1 ADVERTISED_HOST=127.0.0.1 \
		PLAINTEXT_PORT=$(plaintext_port "$n") SASL_PORT=$(sasl_port "$n") \
		CONTROLLER_PORT=$(controller_port "$n") LOG_DIRS="$state/node-$n/data" \
		EXTERNAL_HOST=127.0.0.1 SASL_SSL_PORT=$(ssl_port "$n") TLS_DIR="$state/tls" \
		SUPER_USERS="User:ANONYMOUS;User:$sasl_user;User:$admin_user" \
		NUM_PARTITIONS=1 DEFAULT_REPLICATION_FACTOR=1 INTERNAL_REPLICATION_FACTOR=3 \
		GROUP_INITIAL_REBALANCE_DELAY_MS=0 \
		perl -pe 's/\$\{(\w+)\}/exists $ENV{$1} ? $ENV{$1} : die "unset placeholder $1\n"/ge' \
		"$here/node.properties.tmpl"
}

pid_of() { cat "$state/node-$1/pid" 2>/dev/null || true; }

running() {
	local pid
	pid=$(pid_of "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

registered_brokers() {
	kcat -L -b "$(bootstrap)" -m 5 2>/dev/null | awk '/ brokers:$/ {print $1; exit}'
}

up() {
	local n all_running=1
	for n in $(seq 1 $nodes); do running "$n" || all_running=0; done
	if [ "$all_running" = 1 ]; then
		log "already running"
		bootstrap
		return 0
	fi
	command -v kcat >/dev/null || { log "kcat is missing: apt-get install kcat"; exit 1; }
	down >/dev/null 2>&1 || true
	for n in $(seq 1 $nodes); do
		local p
		for p in "$(plaintext_port "$n")" "$(sasl_port "$n")" "$(controller_port "$n")" "$(ssl_port "$n")"; do
			port_free "$p" || { log "port $p is in use; set KSUITE_KAFKA_PORT_BASE to move the cluster"; exit 1; }
		done
	done
	ensure_jars
	mkdir -p "$state"
	tls_init
	local cluster_id
	cluster_id=$(java_cp kafka.tools.StorageTool random-uuid)
	for n in $(seq 1 $nodes); do
		local dir="$state/node-$n"
		mkdir -p "$dir/data" "$dir/logs"
		render "$n" >"$dir/server.properties"
		java_cp kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
			--add-scram "SCRAM-SHA-256=[name=$sasl_user,password=$sasl_password]" \
			--add-scram "SCRAM-SHA-512=[name=$sasl_user,password=$sasl_password]" \
			--add-scram "SCRAM-SHA-512=[name=$admin_user,password=$admin_password]" \
			>"$dir/logs/format.log" 2>&1 || { cat "$dir/logs/format.log" >&2; exit 1; }
	done
	for n in $(seq 1 $nodes); do
		local dir="$state/node-$n"
		# setsid: the nodes outlive this script but are stopped by pid in `down`.
		setsid java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
			-Djava.awt.headless=true \
			-Dlog4j2.configurationFile="$here/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
			-cp "$libs/*" kafka.Kafka "$dir/server.properties" \
			>"$dir/logs/stdout.log" 2>&1 </dev/null &
		echo $! >"$dir/pid"
	done
	log "waiting up to ${wait_seconds}s for $nodes brokers to register"
	local deadline=$((SECONDS + wait_seconds))
	while [ "$SECONDS" -lt "$deadline" ]; do
		for n in $(seq 1 $nodes); do
			if ! running "$n"; then
				log "node $n exited during start-up; its log:"
				tail -n 40 "$state/node-$n/logs/stdout.log" "$state/node-$n/logs/server.log" >&2 || true
				down >/dev/null 2>&1 || true
				exit 1
			fi
		done
		if [ "$(registered_brokers)" = "$nodes" ]; then
			log "cluster up: $(bootstrap) (SASL SCRAM: $(sasl_bootstrap); SASL_SSL: $(ssl_bootstrap), CA $state/tls/ca.pem)"
			bootstrap
			return 0
		fi
		sleep 1
	done
	log "timed out waiting for $nodes brokers; stopping"
	down >/dev/null 2>&1 || true
	exit 1
}

down() {
	local n pid
	for n in $(seq 1 $nodes); do
		pid=$(pid_of "$n")
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	local deadline=$((SECONDS + 30))
	for n in $(seq 1 $nodes); do
		while running "$n" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
		if running "$n"; then
			log "node $n did not stop in time; killing"
			kill -9 "$(pid_of "$n")" 2>/dev/null || true
		fi
	done
	rm -rf "$state"
	log "cluster down"
}

status() {
	local n ok=0
	for n in $(seq 1 $nodes); do
		if running "$n"; then
			echo "node $n running pid=$(pid_of "$n") 127.0.0.1:$(plaintext_port "$n")"
			ok=$((ok + 1))
		else
			echo "node $n stopped"
		fi
	done
	echo "registered brokers: $(registered_brokers || echo 0)"
	[ "$ok" = "$nodes" ]
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
bootstrap) bootstrap ;;
sasl-bootstrap) sasl_bootstrap ;;
ssl-bootstrap) ssl_bootstrap ;;
ca) echo "$state/tls/ca.pem" ;;
classpath) ensure_jars && echo "$libs/*" ;;
*)
	echo "usage: $0 up|down|status|bootstrap|sasl-bootstrap|ssl-bootstrap|ca|classpath" >&2
	exit 2
	;;
esac
