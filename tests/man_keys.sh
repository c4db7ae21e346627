#!/usr/bin/env bash
# man_keys.sh: every key of conf/sanagent.conf is documented in sanagent.conf(5), and the page documents no key the
# file does not have.  No daemons.
#
# Keys are dotted paths: agent.state_file, balance.teams.paths.portal (groups inside a list add no name).  The file's
# keys are read from its libconfig text, commented-out sections included; the page's from its ".It Cm PATH" items.
# A key added to one of them alone fails this test with the key and the file to add it to.
set -u -o pipefail

SA_SRCDIR=${SA_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CONF=${SA_MAN_KEYS_CONF:-$SA_SRCDIR/conf/sanagent.conf}
PAGE=${SA_MAN_KEYS_PAGE:-$SA_SRCDIR/man/sanagent.conf.5}

# conf_keys FILE: the dotted path of every key, commented or not, one per line, sorted.
conf_keys() {
	awk '
	function push(n) { stack[++depth] = n }
	function pop() { if (depth > 0) depth-- }
	function path(k,   i, p) {
		p = ""
		for (i = 1; i <= depth; i++) if (stack[i] != "") p = p stack[i] "."
		return p k
	}
	{
		line = $0
		# Comment markers in front: the examples are commented out, some twice.
		sub(/^[[:space:]#]*/, "", line)
		# Only lines that are config text: "key =" or a bracket followed by a blank, never prose.
		if (line !~ /^[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=/ && line !~ /^[][{}()]([[:space:];,]|$)/) next
		n = length(line); i = 1; pend = ""
		while (i <= n) {
			c = substr(line, i, 1)
			if (c == "\"") {                       # a string: skipped whole
				j = i + 1
				while (j <= n && substr(line, j, 1) != "\"") j += (substr(line, j, 1) == "\\") ? 2 : 1
				i = j + 1; pend = ""; continue
			}
			if (c == "#") break                      # a comment after the value
			if (c ~ /[A-Za-z_]/) {
				j = i
				while (j <= n && substr(line, j, 1) ~ /[A-Za-z0-9_]/) j++
				word = substr(line, i, j - i)
				k = j
				while (k <= n && substr(line, k, 1) ~ /[[:space:]]/) k++
				if (substr(line, k, 1) == "=") {
					print path(word); pend = word; i = k + 1; continue
				}
				i = j; continue
			}
			if (c == "{" || c == "(" || c == "[") { push(pend); pend = ""; i++; continue }
			if (c == "}" || c == ")" || c == "]") { pop(); pend = ""; i++; continue }
			if (c == ";" || c == ",") pend = ""
			i++
		}
	}' "$1" | sort -u
}

# page_keys FILE: the ".It Cm PATH" items of the page, sorted.
page_keys() {
	sed -n 's/^\.It Cm \([A-Za-z_][A-Za-z0-9_.]*\).*/\1/p' "$1" | sort -u
}

[ -f "$CONF" ] || { echo "FAIL: $CONF not found"; exit 1; }
[ -f "$PAGE" ] || { echo "FAIL: $PAGE not found"; exit 1; }
conf=$(conf_keys "$CONF")
page=$(page_keys "$PAGE")
[ "$(wc -l <<<"$conf")" -ge 20 ] || { echo "FAIL: only $(wc -l <<<"$conf") keys read from $CONF: the reader is broken"; exit 1; }
fail=0
while IFS= read -r k; do
	[ -n "$k" ] || continue
	echo "FAIL: key $k is in ${CONF#"$SA_SRCDIR"/} but not in ${PAGE#"$SA_SRCDIR"/}: add an item \".It Cm $k\" to its section there"
	fail=1
done < <(comm -23 <(echo "$conf") <(echo "$page"))
while IFS= read -r k; do
	[ -n "$k" ] || continue
	echo "FAIL: key $k is in ${PAGE#"$SA_SRCDIR"/} but not in ${CONF#"$SA_SRCDIR"/}: add it (with its default) to the file, or drop the item"
	fail=1
done < <(comm -13 <(echo "$conf") <(echo "$page"))
[ $fail = 0 ] || exit 1
echo "PASS: $(wc -l <<<"$conf") keys, the same in ${CONF#"$SA_SRCDIR"/} and ${PAGE#"$SA_SRCDIR"/}"
