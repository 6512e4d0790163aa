#!/bin/sh
# The deployment checklist's staged rollout, gated by vigil: a canary
# stage, then 25/50/75/100 %, rolled back on a fail, handed to a human on
# anything inconclusive. vigild judges; this script only acts on
# `vigilctl wait`'s exit code (0 pass, 1 warn with --fail-on warning,
# 2 fail, 3 inconclusive, 64 usage).
#
#   VERSION=0.1.0 ./staged-rollout.sh
#
# The commands that change the application are variables, so the same
# script runs against a test double (tests/e2e/test_rollout.py runs it
# against the bundled simulator):
#   ROLLOUT   "kubectl set image deployment/member-portal app=member-portal:$VERSION"
#   SHIFT     run with the stage's weight as $1 (send that share of traffic)
#   UNDO      "kubectl rollout undo deployment/member-portal"
#   WARMUP (5m), CANARY_FOR (30m), STAGE_FOR (5m), STAGES ("25 50 75 100")
#   ANNOUNCE  a line for #incidents' announcement ("What: ..."), optional
# vigilctl finds vigild through VIGIL_URL / VIGIL_TOKEN_FILE or -c.
set -u
: "${VERSION:?VERSION is the release being rolled out}"
: "${VIGILCTL:=vigilctl}"
: "${ROLLOUT:=kubectl set image deployment/member-portal app=member-portal:$VERSION}"
: "${SHIFT:=true}"
: "${UNDO:=kubectl rollout undo deployment/member-portal}"
: "${WARMUP:=5m}" "${CANARY_FOR:=30m}" "${STAGE_FOR:=5m}"
: "${STAGES:=25 50 75 100}"

# Ends the window (so the report is final) and says what happened.
finish() {
	$VIGILCTL deploy end >/dev/null
	$VIGILCTL report --markdown    # paste into #incidents
	exit "$1"
}

# After a wait: 0 goes on; 2 rolls back; anything else stops for a human.
judge() {
	case $1 in
	0) ;;
	2) echo "rollout: $VERSION failed at $2 %: rolling back" >&2
	   $UNDO; finish 2 ;;
	*) echo "rollout: $VERSION inconclusive at $2 % (exit $1): a human decides" >&2
	   finish 3 ;;
	esac
}

$VIGILCTL deploy begin --version "$VERSION" --warmup "$WARMUP" \
    --stages "10,$(echo $STAGES | tr ' ' ',')" \
    ${ANNOUNCE:+--announce "$ANNOUNCE"} || exit 3
$ROLLOUT || { $VIGILCTL deploy end; exit 3; }
$VIGILCTL deploy step --weight 10 && $SHIFT 10 || finish 3
$VIGILCTL wait --for "$CANARY_FOR"; judge $? 10
for w in $STAGES; do
	$VIGILCTL deploy step --weight "$w" && $SHIFT "$w" || finish 3
	# Intermediate stages may end in warn (pause and look); the last
	# must pass outright.
	if [ "$w" -lt 100 ]; then
		$VIGILCTL wait --for "$STAGE_FOR"
	else
		$VIGILCTL wait --for "$STAGE_FOR" --fail-on warning
	fi
	rc=$?
	[ "$rc" -eq 1 ] && { echo "rollout: $VERSION warns at 100 %" >&2; finish 3; }
	judge "$rc" "$w"
done
finish 0
