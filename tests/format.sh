#!/bin/bash
# format.sh: every C source of the tree against the root .clang-format; lists the files off-format (exit 1).
# With --apply it rewrites them in place instead (./sanlab fmt).  Exit 77 (skip) without clang-format.
# CLANG_FORMAT picks the binary; the style is version-sensitive, so the output names the version used.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

src=${SA_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cf=${CLANG_FORMAT:-clang-format}
apply=0
[ "${1:-}" = --apply ] && apply=1

if ! command -v "$cf" >/dev/null 2>&1; then
	echo "SKIP: $cf not found (Debian package clang-format)"
	exit 77
fi
cd "$src" || exit 1
[ -f .clang-format ] || { echo "FAIL: no .clang-format in $src"; exit 1; }

# The tracked sources in a checkout, the shipped ones in a tarball; never what a build generated.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files -- '*.c' '*.h')
else
	mapfile -t files < <(find common subagent handlers traps engines iscsi tests bench -type f \
		\( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no C sources found in $src"; exit 1; }

if [ $apply = 1 ]; then
	"$cf" -i --style=file "${files[@]}" || exit 1
	echo "format: $("$cf" --version | head -n1): ${#files[@]} files formatted"
	exit 0
fi

# One clang-format run: each violation is a "FILE:LINE:COL: warning: ... [-Wclang-format-violations]" line.
report=$("$cf" --style=file --dry-run "${files[@]}" 2>&1) || { echo "FAIL: $cf failed:"; echo "$report" | head; exit 1; }
off=$(printf '%s\n' "$report" | sed -n 's/^\(.*\):[0-9]*:[0-9]*: warning: .*clang-format-violations.*/\1/p' | uniq -c |
	awk '{ printf "off-format: %s (%d places)\n", $2, $1 }')
[ -n "$off" ] && echo "$off"
n=$(printf '%s' "$off" | grep -c .)
echo "format: $("$cf" --version | head -n1): $n of ${#files[@]} files off-format$([ "$n" -gt 0 ] && echo ' (./sanlab fmt fixes them)')"
[ "$n" -eq 0 ]
