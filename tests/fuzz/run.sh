#!/bin/sh
# Runs each libFuzzer target for SECONDS on a scratch corpus seeded from
# tests/fuzz/corpus/<target>; a crash, leak, UB or timeout fails the run
# and leaves its input under BUILD/artifacts/ (it then belongs in the seed
# corpus, as a regression test).
# usage: tests/fuzz/run.sh BUILD SECONDS TARGET...
set -eu
B=$1
SECS=$2
shift 2
mkdir -p "$B/artifacts"
for t in "$@"; do
	work="$B/corpus/$t"
	mkdir -p "$work"
	echo "fuzz: $t for ${SECS}s"
	"$B/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" \
	    "$work" "tests/fuzz/corpus/$t" 2>"$B/fuzz_$t.log" || {
		tail -40 "$B/fuzz_$t.log" >&2
		echo "fuzz: $t FAILED; the input is in $B/artifacts/" >&2
		exit 1
	}
	grep -E '^stat::number_of_executed_units' "$B/fuzz_$t.log" | sed "s/^/fuzz: $t /"
done
