#!/usr/bin/env bash
# rebalance_scale.sh: builds bench/rebalance_scale.c against engines/redirect/rebalance.c and runs it (1M resources, 1,000 servers).
# Knobs: RB_NRES (1000000), RB_NSRV (1000), RB_SEED (3).  Exit 0 measured, 1 failed, 77 no compiler.
set -u -o pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v cc >/dev/null || { echo "FAIL: no C compiler: install build-essential (./sanlab deps installs it)"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cc -std=gnu11 -O2 -Wall -Wextra -I"$SRC" -o "$TMP/rebalance_scale" "$SRC/bench/rebalance_scale.c" \
	"$SRC/engines/redirect/rebalance.c" -lm || { echo "FAIL: cannot build bench/rebalance_scale.c"; exit 1; }
echo "rebalancer at scale: $(nproc) CPUs, cc $(cc -dumpfullversion 2>/dev/null || cc -dumpversion), -O2, best of 3 plans"
"$TMP/rebalance_scale" "${RB_NRES:-1000000}" "${RB_NSRV:-1000}" "${RB_SEED:-3}" || { echo "FAIL"; exit 1; }
