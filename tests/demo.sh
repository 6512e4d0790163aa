#!/bin/sh
# make demo: the portal simulator on 127.0.0.1:9480 and vigild on
# 127.0.0.1:9464 with etc/demo.json, until Ctrl-C. Both are stopped by PID.
set -eu
B=${1:-build}
SIM_PORT=9480
API=127.0.0.1:9464
sim_pid=""
vigild_pid=""

stop() {
	trap - INT TERM EXIT
	echo
	echo "demo: stopping"
	[ -n "$vigild_pid" ] && kill -TERM "$vigild_pid" 2>/dev/null || true
	[ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null || true
	[ -n "$vigild_pid" ] && wait "$vigild_pid" 2>/dev/null || true
	[ -n "$sim_pid" ] && wait "$sim_pid" 2>/dev/null || true
	exit 0
}
trap stop INT TERM EXIT

portfile=$(mktemp)
rm -f "$portfile"
"$B/portal-sim" --port $SIM_PORT --port-file "$portfile" >/dev/null &
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
simulator on http://127.0.0.1:$SIM_PORT every 5 s.

  curl -s localhost:9464/health            # 200 "pass" / 503 "fail"
  curl -s localhost:9464/status | python3 -m json.tool

Make the application misbehave (healthy, error_spike, slow, memory_leak,
cold_cache, down, hang, malformed, huge):

  curl -s -X POST localhost:$SIM_PORT/_sim/scenario/down
  curl -s -X POST localhost:$SIM_PORT/_sim/scenario/healthy

Reload the configuration:  kill -HUP $vigild_pid
Ctrl-C stops the demo.

TXT
wait "$vigild_pid"
