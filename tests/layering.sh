#!/bin/bash
# layering.sh: fails on any #include that points against the layer arrows (rules in doc/ARCHITECTURE.md).
#
#   subagent -> handlers -> engines -> iscsi, all on common/; traps/ beside handlers/.
#
# Who may include whom (a directory always includes its own headers):
#   common/    nothing above it
#   iscsi/     common/
#   engines/   iscsi/, common/; engines/<name>/ may include its own directory and the shared engine
#              headers at engines/ top level, never another engine (subagent/core.c plugs engines together)
#   handlers/  engines/, common/ (not iscsi/: handlers speak to engine verbs only; not traps/: siblings meet
#              on the event bus and in subagent/core.c)
#   traps/     engines/, common/ (not handlers/, not subagent/)
#   subagent/  everything
# Only subagent/, handlers/ and traps/ may include net-snmp headers.
#
# Includes against the arrows that are known and being removed are listed in tests/layering.allow; they are
# printed but do not fail.  Exit 0 when every violation is allow-listed, 1 otherwise.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

src=${SA_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
allow_file=${LAYERING_ALLOW:-$src/tests/layering.allow}
[ -f "$allow_file" ] || allow_file=/dev/null
cd "$src" || exit 1

# One awk pass over the allow-list, then every source file of the layers.
find common iscsi engines handlers traps subagent -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null |
	LC_ALL=C sort | awk -v allow_name="${allow_file#"$src"/}" '
function layer(p,   t) {
	t = p; sub(/\/.*/, "", t)
	return (t ~ /^(common|iscsi|engines|handlers|traps|subagent)$/) ? t : ""
}
# engines/NAME/... -> NAME; a file at engines/ top level -> "".
function engine(p,   r) {
	r = p; sub(/^engines\//, "", r)
	if (r !~ /\//) return ""
	sub(/\/.*/, "", r); return r
}
# Empty when FROM may include TO, else the reason.
function why_not(from, to,   fl, tl, fe, te) {
	fl = layer(from); tl = layer(to)
	if (tl == "") return ""   # config.h from configure, anything outside the layers
	if (fl == tl && fl != "engines") return ""
	if (fl == "subagent") return ""
	if (fl == "common") return "common/ includes nothing above it"
	if (fl == "iscsi") return tl == "common" ? "" : "iscsi/ includes only common/"
	if (fl == "engines") {
		if (tl == "common" || tl == "iscsi") return ""
		if (tl != "engines") return "engines/ includes only engines/, iscsi/, common/"
		fe = engine(from); te = engine(to)
		if (te == "" || fe == te) return ""
		if (fe == "") return "a shared engine header includes engine " te
		return "engine " fe " includes engine " te " (engines meet in subagent/core.c and on the bus)"
	}
	if (fl == "handlers") {
		if (tl == "common" || tl == "engines") return ""
		if (tl == "iscsi") return "handlers/ reach iscsi/ only through engine verbs"
		if (tl == "traps") return "handlers/ and traps/ are siblings (they meet on the bus and in subagent/core.c)"
		return "handlers/ includes only handlers/, engines/, common/"
	}
	if (fl == "traps") {
		if (tl == "common" || tl == "engines") return ""
		if (tl == "handlers") return "traps/ and handlers/ are siblings (they meet on the bus and in subagent/core.c)"
		return "traps/ includes only traps/, engines/, common/"
	}
	return ""
}
function exists(p,   line, r) {
	r = (getline line < p) >= 0; close(p); return r
}
function check(file, lineno, target, reason,   k) {
	if (reason == "") return
	k = file " " target
	if (k in allowed) {
		used[k] = 1; nallowed++
		printf "allowed: %s:%d: %s (%s)\n", file, lineno, target, reason
	} else {
		nbad++
		printf "AGAINST THE ARROWS: %s:%d: %s (%s)\n", file, lineno, target, reason
	}
}
FNR == NR && FILENAME != "-" {
	if ($0 !~ /^[ \t]*(#|$)/) allowed[$1 " " $2] = 1
	next
}
{
	file = $0; nfiles++; fl = layer(file); n = 0
	dir = file; sub(/\/[^\/]*$/, "", dir)
	while ((getline line < file) > 0) {
		n++
		if (line ~ /^[ \t]*#[ \t]*include[ \t]*"/) {
			inc = line; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
			nincl++
			# A bare name resolves next to the including file first, as the compiler does.
			if (inc !~ /\// && exists(dir "/" inc)) inc = dir "/" inc
			check(file, n, inc, why_not(file, inc))
		} else if (line ~ /^[ \t]*#[ \t]*include[ \t]*<net-snmp\//) {
			inc = line; sub(/^[^<]*</, "", inc); sub(/>.*/, "", inc)
			nincl++
			if (fl != "subagent" && fl != "handlers" && fl != "traps")
				check(file, n, "<" inc ">", "net-snmp headers only in subagent/, handlers/, traps/")
		}
	}
	close(file)
}
END {
	# An entry that matches nothing any more was fixed: say so, so the list only shrinks.
	for (k in allowed)
		if (!(k in used)) printf "note: fixed, remove from %s: %s\n", allow_name, k
	printf "layering: %d files, %d includes checked; %d against the arrows: %d allow-listed (known, being removed), %d not allowed\n",
		nfiles, nincl, nbad + nallowed, nallowed, nbad
	exit nbad > 0
}' "$allow_file" -
