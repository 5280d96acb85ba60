#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for ksuite's database tests.
#
#   test/postgres/pg.sh up     initdb + start (port KSUITE_PG_PORT, default 55432), print the DSN
#   test/postgres/pg.sh down   stop it and remove its data
#   test/postgres/pg.sh dsn    print the DSN
#
# Uses Debian's postgresql package (apt-get install postgresql). The server runs as the
# postgres OS user; trust auth on loopback only, as befits a test server.
set -euo pipefail

port="${KSUITE_PG_PORT:-55432}"
state="${KSUITE_PG_STATE:-/tmp/ksuite-pg-$port}"

log() { echo "pg.sh: $*" >&2; }

bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] || { log "PostgreSQL is missing: apt-get install postgresql"; exit 1; }
	echo "$d"
}

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dsn() { echo "postgres://ksuite@127.0.0.1:$port/ksuite?sslmode=disable"; }

up() {
	local bin
	bin=$(bindir)
	if [ -f "$state/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$state/data" status >/dev/null 2>&1; then
		log "already running"
		dsn
		return 0
	fi
	rm -rf "$state"
	mkdir -p "$state"
	[ "$(id -u)" = 0 ] && chown postgres "$state"
	as_pg "$bin/initdb" -D "$state/data" -U postgres -A trust --no-sync >"$state/initdb.log" 2>&1 ||
		{ cat "$state/initdb.log" >&2; exit 1; }
	as_pg "$bin/pg_ctl" -D "$state/data" -l "$state/server.log" -w -t 60 \
		-o "-h 127.0.0.1 -p $port -k $state -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		start >&2
	as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE ROLE ksuite LOGIN SUPERUSER" -c "CREATE DATABASE ksuite OWNER ksuite" >&2
	log "PostgreSQL up on 127.0.0.1:$port"
	dsn
}

down() {
	local bin
	bin=$(bindir)
	if [ -d "$state/data" ]; then
		as_pg "$bin/pg_ctl" -D "$state/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
	fi
	rm -rf "$state"
	log "PostgreSQL down"
}

case "${1:-}" in
up) up ;;
down) down ;;
dsn) dsn ;;
*)
	echo "usage: $0 up|down|dsn" >&2
	exit 2
	;;
esac
