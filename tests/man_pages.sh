#!/usr/bin/env bash
# man_pages.sh: the man pages render without a warning (groff -ww, mandoc -T lint, man -l), and sanagent-mibs(7) has
# an item for every table and notification of the SANAGENT MIB modules and none that they lack.  No daemons.
set -u -o pipefail

SA_SRCDIR=${SA_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PAGES="sanagentd.8 sanagent.conf.5 sanpath.8 sanagent-mibs.7"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

for tool in groff:groff-base mandoc:mandoc man:man-db; do
	command -v "${tool%%:*}" >/dev/null || { echo "FAIL: ${tool%%:*} not found: install ${tool#*:} (./sanlab deps installs it)"; exit 1; }
done

for p in $PAGES; do
	f=$SA_SRCDIR/man/$p
	[ -f "$f" ] || { bad "man/$p is missing"; continue; }
	# groff with every warning, as man -l runs it; mandoc's lint from warnings up (its style notes are taste).
	out=$(groff -ww -z -mandoc "$f" 2>&1)
	[ -z "$out" ] || bad "groff -ww on man/$p: $out"
	out=$(mandoc -T lint -W warning "$f" 2>&1)
	[ -z "$out" ] || bad "mandoc -T lint on man/$p: $out"
	out=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	[ -z "$out" ] || bad "man -l on man/$p: $out"
	# The page says what it is: its name and section in the header, a NAME and a DESCRIPTION.
	name=${p%.*} sec=${p##*.}
	grep -q "^\.Dt $(echo "$name" | tr '[:lower:]' '[:upper:]') $sec\$" "$f" || bad "man/$p: .Dt is not '${name^^} $sec'"
	rendered=$(MANWIDTH=80 man -l "$f" 2>/dev/null)
	grep -q '^NAME' <<<"$rendered" && grep -q '^DESCRIPTION' <<<"$rendered" || bad "man/$p renders without NAME or DESCRIPTION"
done

# Every table and notification of the modules, and the ".It Sy NAME" items of the page.
mib_names() {
	local f
	for f in "$SA_SRCDIR"/mibs/SANAGENT-*.txt; do
		sed -n -E 's/^([a-z][A-Za-z0-9]*Table)[[:space:]]+OBJECT-TYPE.*/\1/p; s/^([a-z][A-Za-z0-9]*)[[:space:]]+NOTIFICATION-TYPE.*/\1/p' "$f" |
			sed "s|\$| ${f#"$SA_SRCDIR"/}|"
	done | sort -u -k1,1
}
mibs=$(mib_names)
page=$(sed -n 's/^\.It Sy \([A-Za-z0-9]*\)$/\1/p' "$SA_SRCDIR/man/sanagent-mibs.7" | sort -u)
[ "$(wc -l <<<"$mibs")" -ge 40 ] || bad "only $(wc -l <<<"$mibs") tables and notifications read from mibs/: the reader is broken"
while read -r n file; do
	[ -n "$n" ] || continue
	grep -qx "$n" <<<"$page" || bad "$n ($file) is not in man/sanagent-mibs.7: add an item \".It Sy $n\" to that module's section"
done <<<"$mibs"
while read -r n; do
	[ -n "$n" ] || continue
	grep -q "^$n " <<<"$mibs" || bad "man/sanagent-mibs.7 has an item for $n, which no mibs/SANAGENT-*.txt defines"
done <<<"$page"

[ $fail = 0 ] || exit 1
echo "PASS: $PAGES render without warnings; sanagent-mibs(7) lists the $(wc -l <<<"$mibs") tables and notifications"
