#!/usr/bin/env bash
# package.sh: the Debian package installs into a throwaway root, its sanagentd serves the MIB through the lab's
# snmpd, its MIB files resolve names with snmptranslate, and a purge takes everything away again.
#
# The root is an empty directory with a dpkg database, installed with `dpkg --root --force-script-chrootless`: dpkg
# unpacks, records the conffiles and runs the real maintainer scripts with DPKG_ROOT set (so they must honour it, as
# debhelper's do).  A debootstrap chroot would also run them, but costs minutes and a mirror for nothing more this
# test looks at; the installed programs run here against this host's libraries, which are the ones the package
# depends on.  The package's dependencies are not in the root: --force-depends.
#
# The package comes from `./sanlab package` (cached by the tree's content: the first run builds it, about a minute
# on 2 cores, later runs take the cached .deb), or from SA_PACKAGE_DEB.
. "$(dirname "$0")/lib.sh"
sa_init package
sa_need dpkg-dev dpkg-buildpackage dpkg-parsechangelog
sa_need debhelper dh
sa_need lintian lintian
sa_need snmp snmptranslate snmpbulkwalk
sa_need man-db man
sa_need_std_mibs
STD=$(sa_std_mibdir)

deb=${SA_PACKAGE_DEB:-}
if [ -z "$deb" ]; then
	SANLAB_PKG_JOBS=2 "$SA_SRCDIR/sanlab" package >"$SA_TMP/package.log" 2>&1 ||
		{ tail -n 40 "$SA_TMP/package.log" >&2; sa_fail "./sanlab package failed"; }
	deb=$(tail -n 1 "$SA_TMP/package.log")
	cat "$SA_TMP/package.log"
fi
[ -f "$deb" ] || sa_fail "no package at '$deb'"
sa_log "package: $deb"
# lintian (run by ./sanlab package, which fails on an error): every warning left is one README.md explains.
lint=$(dirname "$deb")/lintian.txt
if [ -f "$lint" ]; then
	grep '^E: ' "$lint" && sa_fail "lintian errors in $lint"
	for tag in $(sed -n 's/^W: sanagent[^:]*: \([a-z0-9-]*\).*/\1/p' "$lint" | sort -u); do
		grep -q "W: $tag " "$SA_SRCDIR/README.md" ||
			sa_fail "lintian warning $tag is not in README.md (Debian package): list it there with its reason, or fix it"
	done
fi

# ---- install into the throwaway root ----
R=$SA_TMP/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
: >"$R/var/lib/dpkg/status"
rdpkg() { dpkg --root="$R" --log="$SA_TMP/dpkg.log" --force-script-chrootless --force-depends "$@"; }
rdpkg -i "$deb" >"$SA_TMP/dpkg-install.log" 2>&1 || { cat "$SA_TMP/dpkg-install.log" >&2; sa_fail "dpkg -i into $R failed"; }
st=$(dpkg-query --root="$R" -W -f='${Status}' sanagent)
[ "$st" = "install ok installed" ] || sa_fail "package status in the root: '$st'"

multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in usr/sbin/sanagentd usr/bin/sanpath "usr/lib/$multi/sanagent/sanagent.so" \
	"usr/lib/$multi/sanagent/nbdkit-sanpath-plugin.so" "usr/lib/$multi/sanagent/sanpath-bind.so" \
	lib/systemd/system/sanagentd.service etc/sanagent/sanagent.conf \
	usr/share/man/man8/sanagentd.8.gz usr/share/man/man5/sanagent.conf.5.gz usr/share/man/man8/sanpath.8.gz \
	usr/share/man/man7/sanagent-mibs.7.gz; do
	[ -f "$R/$f" ] || sa_fail "/$f not installed"
done
for m in "$SA_SRCDIR"/mibs/SANAGENT-*.txt; do
	[ -f "$R/usr/share/snmp/mibs/${m##*/}" ] || sa_fail "MIB ${m##*/} not installed in /usr/share/snmp/mibs"
done
# No libtool archives, no copy of the unit among the docs.
[ -z "$(find "$R" -name '*.la')" ] || sa_fail "libtool archives installed: $(find "$R" -name '*.la')"
dpkg-query --root="$R" -W -f='${Conffiles}\n' sanagent | grep -q '^ /etc/sanagent/sanagent.conf ' ||
	sa_fail "/etc/sanagent/sanagent.conf is not a conffile: $(dpkg-query --root="$R" -W -f='${Conffiles}' sanagent)"
[ "$(stat -c %a "$R/etc/sanagent/sanagent.conf")" = 600 ] || sa_fail "sanagent.conf mode $(stat -c %a "$R/etc/sanagent/sanagent.conf"), want 600"
grep -q '^ExecStart=/usr/sbin/sanagentd ' "$R/lib/systemd/system/sanagentd.service" ||
	sa_fail "the unit does not run /usr/sbin/sanagentd: $(grep ExecStart "$R/lib/systemd/system/sanagentd.service")"

# The maintainer scripts: the state directory 0700, the unit known to deb-systemd-helper but not enabled, nothing
# started (no process runs the installed binary).
[ -d "$R/var/lib/sanagent" ] || sa_fail "postinst did not create /var/lib/sanagent"
[ "$(stat -c %a "$R/var/lib/sanagent")" = 700 ] || sa_fail "/var/lib/sanagent mode $(stat -c %a "$R/var/lib/sanagent"), want 700"
[ -e "$R/var/lib/systemd/deb-systemd-helper-enabled/sanagentd.service.dsh-also" ] ||
	sa_fail "postinst did not register the unit with deb-systemd-helper (in $R)"
[ -z "$(find "$R/etc" -path '*.wants/*' -name 'sanagentd.service' 2>/dev/null)" ] || sa_fail "the unit was enabled at install"
installed_running() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$R/usr/sbin/sanagentd" ] && return 0
	done
	return 1
}
installed_running && sa_fail "a sanagentd of the package runs after the install"

# The installed man pages render without warnings.
for p in man8/sanagentd.8 man5/sanagent.conf.5 man8/sanpath.8 man7/sanagent-mibs.7; do
	out=$(MANWIDTH=80 man --warnings -l "$R/usr/share/man/$p.gz" 2>&1 >/dev/null)
	[ -z "$out" ] || sa_fail "man -l $p: $out"
	MANWIDTH=80 man -l "$R/usr/share/man/$p.gz" 2>/dev/null | grep -q '^DESCRIPTION' || sa_fail "man -l $p renders no DESCRIPTION"
done

# The programs run (against this host's libraries, which are the dependencies).
ver=$(dpkg-deb -f "$deb" Version)
"$R/usr/sbin/sanagentd" -v | grep -q "^sanagentd ${ver%%-*} " || sa_fail "installed sanagentd -v: $("$R/usr/sbin/sanagentd" -v)"
"$R/usr/bin/sanpath" --help | grep -q '^usage: sanpath run' || sa_fail "installed sanpath --help"
if command -v nbdkit >/dev/null; then
	nbdkit --dump-plugin "$R/usr/lib/$multi/sanagent/nbdkit-sanpath-plugin.so" | grep -q '^name=sanpath' ||
		sa_fail "nbdkit does not load the installed plugin"
fi

# ---- the installed MIBs resolve names (the installed directory and the standard MIBs only, not mibs/) ----
export MIBDIRS="$R/usr/share/snmp/mibs:$STD"
MOPT=(-M "$R/usr/share/snmp/mibs:$STD")
for m in "$R"/usr/share/snmp/mibs/SANAGENT-*.txt; do
	mod=${m##*/}
	mod=${mod%.txt}
	names=$(sed -n -E 's/^([a-z][A-Za-z0-9]*)[[:space:]]+(OBJECT-TYPE|NOTIFICATION-TYPE|MODULE-IDENTITY).*/\1/p' "$m")
	[ -n "$names" ] || sa_fail "no objects read from $m"
	args=()
	for n in $names; do args+=("$mod::$n"); done
	# One OID per name (snmptranslate puts a blank line between them).
	out=$(snmptranslate "${MOPT[@]}" -m "+$mod" -On "${args[@]}" 2>"$SA_TMP/translate.err" | grep .) ||
		sa_fail "snmptranslate $mod: $(cat "$SA_TMP/translate.err")"
	[ -s "$SA_TMP/translate.err" ] && sa_fail "snmptranslate $mod complained: $(cat "$SA_TMP/translate.err")"
	bad=$(grep -v -c '^\.1\.3\.6\.1\.4\.1\.32473\.1' <<<"$out")
	[ "$bad" = 0 ] || sa_fail "$mod: $bad names did not resolve under sanagentMIB: $(grep -v '^\.1\.3\.6\.1\.4\.1\.32473\.1' <<<"$out" | head -3)"
	[ "$(wc -l <<<"$out")" = "$(wc -w <<<"$names")" ] || sa_fail "$mod: $(wc -w <<<"$names") names, $(wc -l <<<"$out") OIDs"
	sa_log "$mod: $(wc -l <<<"$out") names resolve with the installed files"
done
[ "$(snmptranslate "${MOPT[@]}" -m +SANAGENT-PATH-MIB -On SANAGENT-PATH-MIB::sanTeamTable)" = .1.3.6.1.4.1.32473.1.3.2.1.2 ] ||
	sa_fail "sanTeamTable does not translate to .1.3.6.1.4.1.32473.1.3.2.1.2"

# ---- the installed sanagentd under the lab's snmpd ----
sa_start_snmptrapd
sa_start_snmpd
cat >"$SA_TMP/sanagent.conf" <<EOF
agent = {
  agentx_socket = "unix:$SA_TMP/agentx.sock";
  agentx_ping_interval = 1;
  state_file = "$R/var/lib/sanagent/state";
};
discovery = { };
cluster = { };
EOF
mkdir -p "$SA_TMP/agent-persist"
SNMP_PERSISTENT_DIR="$SA_TMP/agent-persist" sa_bg "$R/usr/sbin/sanagentd" -f -c "$SA_TMP/sanagent.conf" \
	2>>"$SA_TMP/sanagentd.log"
SA_AGENT_PID=$SA_LASTPID
sa_wait_agent 15
# Names from the installed MIBs, values from the installed agent, through the master.
walk=$(snmpbulkwalk -v2c -c "$SA_RO_COMMUNITY" -t 2 -r 1 "${MOPT[@]}" -m +SANAGENT-MIB "127.0.0.1:$SA_SNMP_PORT" \
	SANAGENT-MIB::sanEngineTable) || sa_fail "walk of sanEngineTable"
echo "$walk"
grep -q '^SANAGENT-MIB::sanEngineName.1 = STRING: "\?discovery"\?$' <<<"$walk" || sa_fail "sanEngineName.1 is not discovery"
grep -q '^SANAGENT-MIB::sanEngineOperStatus.5 = INTEGER: up(1)$' <<<"$walk" || sa_fail "the cluster engine is not up"
got=$(snmpget -v2c -c "$SA_RO_COMMUNITY" "${MOPT[@]}" -m +SANAGENT-MIB -Oqv "127.0.0.1:$SA_SNMP_PORT" \
	SANAGENT-MIB::sanAgentVersion.0 SANAGENT-MIB::sanAgentConfigFile.0 | tr -d '"' | tr '\n' ' ')
[ "$got" = "${ver%%-*} $SA_TMP/sanagent.conf " ] || sa_fail "version and config file: '$got'"
# sanAgentStart reached the lab's snmptrapd through the master.
sa_wait_for 10 sa_trap_seen "= OID: $SA_OID.0.1" || sa_fail "no sanAgentStart from the installed agent"
# A persisted SET lands in the state directory the package made.
snmpset -v3 -l authPriv -u "$SA_V3_USER" -a SHA -A "$SA_V3_AUTH" -x AES -X "$SA_V3_PRIV" -t 2 -r 0 "${MOPT[@]}" \
	-m +SANAGENT-MIB "127.0.0.1:$SA_SNMP_PORT" SANAGENT-MIB::sanEngineAdminStatus.3 i 1 >/dev/null ||
	sa_fail "SET of sanEngineAdminStatus.3 through the installed agent"
sa_wait_for 5 test -s "$R/var/lib/sanagent/state" || sa_fail "no state file in /var/lib/sanagent after a persisted SET"
[ "$(stat -c %a "$R/var/lib/sanagent/state")" = 600 ] || sa_fail "state file mode $(stat -c %a "$R/var/lib/sanagent/state")"
sa_stop_pid "$SA_AGENT_PID"

# ---- the installed sanagent.so inside snmpd (dlmod), the same objects natively ----
sa_stop_pid "$SA_SNMPD_PID"
sed "s|state_file = .*|state_file = \"$SA_TMP/dlmod-state/state\";|" "$SA_TMP/sanagent.conf" >"$SA_TMP/dlmod.conf"
sa_start_snmpd "dlmod sanagent $R/usr/lib/$multi/sanagent/sanagent.so" "sanagentConfig $SA_TMP/dlmod.conf"
sa_wait_agent 15
got=$(snmpget -v2c -c "$SA_RO_COMMUNITY" "${MOPT[@]}" -m +SANAGENT-MIB -Oqv "127.0.0.1:$SA_SNMP_PORT" \
	SANAGENT-MIB::sanAgentConfigFile.0 SANAGENT-MIB::sanEngineName.5 | tr -d '"' | tr '\n' ' ')
[ "$got" = "$SA_TMP/dlmod.conf cluster " ] || sa_fail "the installed plug-in in snmpd: '$got'"
sa_stop_pid "$SA_SNMPD_PID"

# ---- installing again (an upgrade's path) keeps the admin's config, state and directory mode ----
echo '# changed by the admin' >>"$R/etc/sanagent/sanagent.conf"
chmod 750 "$R/var/lib/sanagent"
rdpkg -i "$deb" >"$SA_TMP/dpkg-reinstall.log" 2>&1 || { cat "$SA_TMP/dpkg-reinstall.log" >&2; sa_fail "second dpkg -i failed"; }
tail -n 1 "$R/etc/sanagent/sanagent.conf" | grep -q '^# changed by the admin$' || sa_fail "reinstall replaced the admin's config"
[ "$(stat -c %a "$R/var/lib/sanagent")" = 750 ] || sa_fail "reinstall changed the state directory's mode"
[ -s "$R/var/lib/sanagent/state" ] || sa_fail "reinstall lost the state"
installed_running && sa_fail "a sanagentd of the package runs after the reinstall"

# ---- remove keeps the config and the state, purge takes them ----
rdpkg -r sanagent >"$SA_TMP/dpkg-remove.log" 2>&1 || { cat "$SA_TMP/dpkg-remove.log" >&2; sa_fail "dpkg -r failed"; }
[ ! -e "$R/usr/sbin/sanagentd" ] || sa_fail "sanagentd left after remove"
[ -f "$R/etc/sanagent/sanagent.conf" ] || sa_fail "remove took the conffile"
[ -f "$R/var/lib/sanagent/state" ] || sa_fail "remove took the state"
rdpkg -P sanagent >"$SA_TMP/dpkg-purge.log" 2>&1 || { cat "$SA_TMP/dpkg-purge.log" >&2; sa_fail "dpkg -P failed"; }
[ ! -e "$R/etc/sanagent/sanagent.conf" ] || sa_fail "purge left the conffile"
[ ! -e "$R/var/lib/sanagent" ] || sa_fail "purge left /var/lib/sanagent"
echo PASS
