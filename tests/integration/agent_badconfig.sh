#!/usr/bin/env bash
# agent_badconfig.sh: a bad config makes sanagentd exit 2 naming file:line, for each kind of mistake.
. "$(dirname "$0")/lib.sh"
sa_init badconfig
check() { # NAME LINE CONTENT
	local name=$1 line=$2 f="$SA_TMP/$1.conf" rc
	printf '%s\n' "$3" >"$f"
	"$SA_BUILDDIR/sanagentd" -f -c "$f" -x "unix:$SA_TMP/none.sock" 2>"$SA_TMP/$name.err"; rc=$?
	[ "$rc" = 2 ] || sa_fail "$name: exit status $rc, want 2"
	grep -q "$f:$line:" "$SA_TMP/$name.err" || sa_fail "$name: no '$f:$line:' in: $(cat "$SA_TMP/$name.err")"
	echo "$name: $(head -n1 "$SA_TMP/$name.err")"
}
check unknown_key 3 'agent = {
  agentx_ping_interval = 2;
  no_such_key = 1;
};'
check wrong_type 2 'agent = {
  agentx_ping_interval = "fast";
};'
check out_of_range 3 '# comment
agent = {
  agentx_ping_interval = 0;
};'
check syntax 2 'agent = {
  agentx_ping_interval = ;
};'
check unknown_section 1 'frobnicate = { };'
check engine_key 2 'discovery = {
  bogus = true;
};'
check cluster_role 2 'cluster = {
  role = "storage";
};'
check cluster_guid 3 'cluster = {
  members = (
    { type = "unit"; guid = "12345"; address = "udp:198.18.0.1:161"; }
  );
};'
check cluster_member_twice 4 'cluster = {
  members = (
    { type = "unit"; guid = "0000000000000112"; address = "udp:198.18.0.1:161"; },
    { type = "unit"; guid = "0000000000000112"; address = "udp:198.18.0.2:161"; }
  );
};'
check cluster_host_name 2 'cluster = {
  members = ( { type = "host"; guid = "0000000000000108"; address = "udp:198.18.0.1:161"; } );
};'
"$SA_BUILDDIR/sanagentd" -f -c "$SA_TMP/missing.conf" 2>"$SA_TMP/missing.err"; rc=$?
[ "$rc" = 2 ] || sa_fail "missing file: exit status $rc"
grep -q "$SA_TMP/missing.conf" "$SA_TMP/missing.err" || sa_fail "missing file not named"
echo PASS
