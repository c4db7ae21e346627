#!/bin/bash
# state_sigkill.sh: SIGKILLs a state writer at random points 50 times; each restart must load the last committed generation, intact.
set -u

here=$(cd "$(dirname "$0")" && pwd)
writer=""
for c in "${SA_BUILDDIR:+$SA_BUILDDIR/tests/integration/state_writer}" "$here/state_writer"; do
	if [ -n "$c" ] && [ -x "$c" ]; then
		writer=$c
		break
	fi
done
if [ -z "$writer" ]; then
	echo "state_sigkill: state_writer not found (set SA_BUILDDIR or build it next to this script)"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sa_state_sigkill.XXXXXX") || exit 1
wpid=""
cleanup() {
	if [ -n "$wpid" ]; then
		kill -9 "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The directory does not exist yet: the first commit has to create it.
state="$tmp/dir/state"
rounds=${SA_SIGKILL_ROUNDS:-50}
mid_commit=0 # kills that left a temp file behind
one_ahead=0 # loads that found last printed + 1 (killed between commit and print)
last=0

for round in $(seq 1 "$rounds"); do
	out="$tmp/out.$round"
	"$writer" write "$state" >"$out" 2>"$tmp/err" &
	wpid=$!
	deadline=$((SECONDS + 10))
	until grep -q '^committed [0-9]*$' "$out"; do
		if ! kill -0 "$wpid" 2>/dev/null; then
			echo "round $round: writer exited before committing: $(cat "$tmp/err")"
			exit 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "round $round: no commit within 10 s"
			exit 1
		fi
		sleep 0.01
	done
	# The kill point: a random moment, most likely inside a later commit.
	sleep "$(printf '0.%03d' $((RANDOM % 51)))"
	kill -9 "$wpid"
	wait "$wpid" 2>/dev/null
	wpid=""

	last=$(grep '^committed [0-9]*$' "$out" | tail -n 1 | cut -d' ' -f2)
	if compgen -G "$state.tmp.*" >/dev/null; then
		mid_commit=$((mid_commit + 1))
	fi
	if ! res=$("$writer" check "$state" 2>"$tmp/err"); then
		echo "round $round: check failed after last committed $last: $res $(cat "$tmp/err")"
		exit 1
	fi
	gen=${res#gen }
	case $gen in
	'' | *[!0-9]*)
		echo "round $round: unexpected check output: $res"
		exit 1
		;;
	esac
	if [ "$gen" -lt "$last" ] || [ "$gen" -gt $((last + 1)) ]; then
		echo "round $round: loaded gen $gen, but last committed was $last"
		exit 1
	fi
	[ "$gen" -eq $((last + 1)) ] && one_ahead=$((one_ahead + 1))
	# Nothing may have been set aside, and the loader sweeps dead writers' temp files.
	if compgen -G "$state.corrupt.*" >/dev/null || compgen -G "$state.tmp.*" >/dev/null; then
		echo "round $round: unexpected files: $(ls "$tmp/dir")"
		exit 1
	fi
	last=$gen
done

echo "state_sigkill: $rounds/$rounds rounds passed, final gen $last, $mid_commit kills left a temp file (mid-commit), $one_ahead loads found the commit not yet printed"
exit 0
