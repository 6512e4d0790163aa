#!/bin/sh
# A throwaway PostgreSQL 15 cluster on loopback, for `make demo` and for
# trying the postgres probe by hand:
#
#   tests/pg-throwaway.sh start DIR [PORT]   initdb (if DIR is new) and start
#   tests/pg-throwaway.sh stop DIR           stop and remove DIR
#
# The cluster listens on 127.0.0.1:PORT (default 9432) and a socket in DIR,
# preloads pg_stat_statements, and has a database "portal" with a table
# "orders" and its index "orders_customer_idx", and a role "vigil" (LOGIN,
# pg_monitor) whose random password is written to DIR/pgpass in libpq's
# password-file format: point PGPASSFILE at it.
#
# PostgreSQL refuses to run as root: as root, the server programs run as
# the "postgres" system user (from postgresql-common) and DIR is made
# traversable for it.
set -eu
PGBIN=${VIGIL_PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
port=${3:-9432}

usage() {
	echo "usage: $0 start DIR [PORT] | stop DIR" >&2
	exit 64
}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac

as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

psql_admin() {
	"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" \
	    -U postgres "$@"
}

case $cmd in
start)
	if [ ! -x "$PGBIN/initdb" ]; then
		echo "pg-throwaway: $PGBIN/initdb not found (apt-get install" \
		    "postgresql-15, or make deps)" >&2
		exit 1
	fi
	fresh=0
	mkdir -p "$dir"
	chmod 0755 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		fresh=1
		[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
		as_server "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust \
		    -E UTF8 --locale=C --no-sync --no-instructions >/dev/null
		as_server sh -c "cat >> '$dir/data/postgresql.conf'" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 20
shared_preload_libraries = 'pg_stat_statements'
fsync = off
EOF
		as_server sh -c "cat > '$dir/data/pg_hba.conf'" <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
EOF
	fi
	as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
	    start >/dev/null
	if [ $fresh -eq 1 ]; then
		pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
		psql_admin -d postgres -c "CREATE DATABASE portal"
		psql_admin -d portal <<EOF
CREATE EXTENSION pg_stat_statements;
CREATE ROLE vigil LOGIN PASSWORD '$pw';
GRANT pg_monitor TO vigil;
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO orders (customer_id) SELECT g % 100 FROM generate_series(1, 5000) g;
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at);
GRANT SELECT ON orders TO vigil;
EOF
		umask 077
		echo "127.0.0.1:$port:*:vigil:$pw" > "$dir/pgpass"
	fi
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_server "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 \
		    stop >/dev/null || true
	fi
	# Only ever remove what this script made.
	if [ -f "$dir/data/PG_VERSION" ] || [ -z "$(ls -A "$dir" 2>/dev/null)" ]; then
		rm -rf "$dir"
	fi
	;;
*)
	usage
	;;
esac
