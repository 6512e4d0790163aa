#!/bin/sh
# make demo: the portal simulator on 127.0.0.1:9480, a throwaway PostgreSQL
# on 127.0.0.1:9432 (tests/pg-throwaway.sh) and vigild on 127.0.0.1:9464
# with etc/demo.json, until Ctrl-C. Everything is stopped by PID, and the
# database removed.
set -eu
B=${1:-build}
SIM_PORT=9480
API=127.0.0.1:9464
PG_PORT=9432
PGDIR=${VIGIL_DEMO_PGDIR:-/tmp/vigil-demo-pg}
# etc/demo.json's sentry probe reads its token here, and vigild's own API
# token (for silences and the release gate) is beside it.
SENTRY_DIR=/tmp/vigil-demo-sentry
sim_pid=""
vigild_pid=""
pg_started=""

stop() {
	trap - INT TERM EXIT
	echo
	echo "demo: stopping"
	[ -n "$vigild_pid" ] && kill -TERM "$vigild_pid" 2>/dev/null || true
	[ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null || true
	[ -n "$vigild_pid" ] && wait "$vigild_pid" 2>/dev/null || true
	[ -n "$sim_pid" ] && wait "$sim_pid" 2>/dev/null || true
	[ -n "$pg_started" ] && tests/pg-throwaway.sh stop "$PGDIR" || true
	rm -rf "$SENTRY_DIR"
	exit 0
}

# A second demo must not take the first one's token directory (or its
# database) away from under it: refuse before touching anything.
for url in "http://$API/livez" "http://127.0.0.1:$SIM_PORT/api/health"; do
	if curl -s -m 1 -o /dev/null "$url"; then
		echo "demo: $url already answers (another make demo?);" \
		    "stop it first" >&2
		exit 1
	fi
done
trap stop INT TERM EXIT

portfile=$(mktemp)
rm -f "$portfile"
# A fresh random Sentry token, readable by this user only, shared by the
# simulator's Sentry stand-in and vigild through the file: never inline.
rm -rf "$SENTRY_DIR"
mkdir -m 0700 "$SENTRY_DIR"
(umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > "$SENTRY_DIR/token")
(umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > "$SENTRY_DIR/api-token")
# 1,000 req/s: a 20 s window then holds ~10 errors at 0.05 %, not 0 or 1.
"$B/portal-sim" --port $SIM_PORT --port-file "$portfile" --rps 1000 \
    --sentry-token-file "$SENTRY_DIR/token" >/dev/null &
sim_pid=$!
i=0
until [ -s "$portfile" ]; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 "$sim_pid" 2>/dev/null; then
		echo "demo: the simulator did not start (is port $SIM_PORT in use?)" >&2
		exit 1
	fi
	sleep 0.1
done
rm -f "$portfile"
# A cluster left by a demo that was killed is stopped and replaced.
tests/pg-throwaway.sh stop "$PGDIR" 2>/dev/null || true
if ! tests/pg-throwaway.sh start "$PGDIR" $PG_PORT; then
	echo "demo: PostgreSQL did not start (is port $PG_PORT in use?" \
	    "see $PGDIR/server.log)" >&2
	exit 1
fi
pg_started=1
# The db probe's password: libpq's password file, as in production.
export PGPASSFILE="$PGDIR/pgpass"
"$B/vigild" -c etc/demo.json &
vigild_pid=$!

# Wait until vigild answers, at most 10 s.
i=0
until curl -s -o /dev/null "http://$API/health"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$vigild_pid" 2>/dev/null; then
		echo "demo: vigild did not start" >&2
		exit 1
	fi
	sleep 0.1
done

cat <<TXT

vigil demo is running: vigild on http://$API, watching the portal
simulator on http://127.0.0.1:$SIM_PORT every 5 s, and its Sentry stand-in
(probe "sentry", token in $SENTRY_DIR/token).

  curl -s localhost:9464/health            # 200 "pass" / 503 "fail"
  curl -s localhost:9464/status | python3 -m json.tool

Make the application misbehave (healthy, error_spike, slow, memory_leak,
cold_cache, down, hang, malformed, huge):

  curl -s -X POST localhost:$SIM_PORT/_sim/scenario/down
  curl -s -X POST localhost:$SIM_PORT/_sim/scenario/healthy

The error rate two ways, side by side (the application's own counters,
and Sentry's events over the application's requests):

  curl -s localhost:9464/status | python3 -m json.tool |
      grep -A4 -E '"name": "(error_rate|error_rate_sentry)"'
  curl -s -X POST localhost:$SIM_PORT/_sim/scenario/error_spike  # both rise
  curl -s -X POST 'localhost:$SIM_PORT/_sim/sentry?capture=0.3'  # Sentry drops
      # events: sentry_missing_errors warns
  curl -s -X POST 'localhost:$SIM_PORT/_sim/sentry?rate_limit_for=30'
      # Sentry answers 429: "rate limited until ..." in /status

The database (probe "db", PostgreSQL on 127.0.0.1:$PG_PORT):

  psql -h $PGDIR -p $PG_PORT -U postgres portal      # a superuser shell
  psql -h $PGDIR -p $PG_PORT -U postgres portal -c 'SELECT pg_sleep(1)'
      # a slow statement: db.slow_statements, and its text in the notes
  psql -h $PGDIR -p $PG_PORT -U postgres portal -c 'DROP INDEX orders_customer_idx'
      # a migration's index gone: db.indexes_missing 1

On call and release day, with vigilctl (the API token is in
$SENTRY_DIR/api-token):

  export VIGIL_TOKEN_FILE=$SENTRY_DIR/api-token
  $B/vigilctl status
  $B/vigilctl silence add --rule api_p95 --for 30m --comment "known slow"
  $B/vigilctl deploy begin --version 1.2.3     # judging after a 10 s warm-up
  $B/vigilctl deploy step --weight 10          # the canary serves 10 %
  $B/vigilctl wait --for 1m                    # 0 pass, 2 fail, 3 inconclusive
      # meanwhile, in another shell, fail the canary:
      # curl -s -X POST localhost:$SIM_PORT/_sim/scenario/error_spike
      # or make only the canary worse: 10x the errors per request at 10 %
      # of the traffic hardly moves the whole application's error rate, but
      # Sentry's events by release show it (by_release: exit 2):
      # curl -s -X POST "localhost:$SIM_PORT/_sim/sentry?release=1.2.3&release_share=0.1&release_error_factor=10"
  $B/vigilctl deploy end
  $B/vigilctl report --markdown

Reload the configuration:  kill -HUP $vigild_pid
Ctrl-C stops the demo.

TXT
wait "$vigild_pid"
