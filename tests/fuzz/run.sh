#!/bin/bash
# run.sh: builds the PDU codec fuzz target with clang/libFuzzer+ASan+UBSan and gives it a short, bounded run.
# Exit 0 pass, 1 a crash, a failed property or a missing clang/libFuzzer runtime, 77 when ASan cannot run here.
# FUZZ_TIME (seconds, default 10) sets the run length; CI may raise it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

src=${SA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
time_limit=${FUZZ_TIME:-10}
cc=${FUZZ_CC:-clang}

# clang and its libFuzzer runtime (libclang-rt-14-dev) are installed by ./sanlab deps: missing is a failure.
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "FAIL: $cc not found: install clang and libclang-rt-14-dev (./sanlab deps installs them)"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sa-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# Probe the toolchain and the runtime on an empty target first: a missing libFuzzer runtime is a package
# to install (fail), a machine where ASan cannot start is a limit of the machine (skip).
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$work/probe.c"
if ! "$cc" -fsanitize=fuzzer,address "$work/probe.c" -o "$work/probe" >"$work/probe.log" 2>&1; then
	echo "FAIL: $cc cannot link -fsanitize=fuzzer,address (libclang-rt-14-dev missing?):"
	sed -n 1,5p "$work/probe.log"
	exit 1
fi
if ! "$work/probe" -runs=1 >"$work/probe.log" 2>&1; then
	echo "SKIP: libFuzzer binaries do not run here:"
	sed -n 1,5p "$work/probe.log"
	exit 77
fi

if ! "$cc" -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$src" "$src/tests/fuzz/fuzz_pdu.c" "$src/iscsi/pdu.c" "$src/iscsi/textkeys.c" \
	-o "$work/fuzz_pdu" 2>"$work/build.log"; then
	echo "FAIL: fuzz target does not build:"
	cat "$work/build.log"
	exit 1
fi

# Seeds: a discovery login, a normal login, a SendTargets text request and a
# reject, each prefixed with the byte that picks the data segment limit.
corpus="$work/corpus"
mkdir -p "$corpus"
bhs() { # opcode-byte flags-byte dsl itt -> 48-byte header on stdout
	printf "\\x$1\\x$2\\x00\\x00\\x00\\x00\\x00\\x$(printf %02x "$3")"
	printf '\x80\x12\x34\x56\x78\x9a\x00\x00'
	printf "\\x00\\x00\\x00\\x$4"
	head -c 28 /dev/zero
}
keys_disc='InitiatorName=iqn.2024-01.org.example:host\0SessionType=Discovery\0'
keys_norm='InitiatorName=iqn.2024-01.org.example:host\0SessionType=Normal\0TargetName=iqn.2024-01.org.example:t1\0'
pad() { head -c $(((4 - $1 % 4) % 4)) /dev/zero; }
n=$(printf "$keys_disc" | wc -c)
{ printf '\xff'; bhs 43 87 "$n" 01; printf "$keys_disc"; pad "$n"; } >"$corpus/login_discovery"
n=$(printf "$keys_norm" | wc -c)
{ printf '\xff'; bhs 43 81 "$n" 02; printf "$keys_norm"; pad "$n"; } >"$corpus/login_normal"
{ printf '\x10'; bhs 44 80 16 03; printf 'SendTargets=All\0'; } >"$corpus/sendtargets"
{ printf '\x08'; bhs 3f 80 48 ff; bhs 01 80 0 04; } >"$corpus/reject"

echo "fuzzing the PDU codec for ${time_limit}s"
"$work/fuzz_pdu" -max_total_time="$time_limit" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
	-artifact_prefix="$work/" "$corpus" >"$work/fuzz.log" 2>&1
rc=$?
tail -n 3 "$work/fuzz.log"
if [ "$rc" -ne 0 ]; then
	echo "FAIL: fuzzer exited with $rc"
	grep -E 'ERROR|SUMMARY|deadly|runtime error' "$work/fuzz.log" | head -20
	for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -e "$a" ] || continue
		echo "artifact $(basename "$a"):"
		od -A d -t x1 "$a" | head -20
	done
	exit 1
fi
echo "PASS"
exit 0
