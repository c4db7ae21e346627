#!/bin/sh
# generate.sh [OUT]: writes snmp.yml (default: next to this script) from generator.yml with Debian's
# prometheus-snmp-generator over the MIBs in ../../mibs and the standard MIB texts (SNMPv2-SMI, INET-ADDRESS-MIB, ...).
# STD_MIBDIRS overrides where the standard texts are looked for.
set -e
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${1:-$here/snmp.yml}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
std=${STD_MIBDIRS:-$(cd "$src/.." && pwd)/shared/mibs:/usr/share/snmp/mibs/ietf:/usr/share/snmp/mibs/iana}
command -v prometheus-snmp-generator >/dev/null ||
	{ echo "generate.sh: prometheus-snmp-generator not found: install prometheus-snmp-exporter" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/generator.yml" "$tmp/"
# The generator reads generator.yml from its working directory; --fail-on-parse-errors: a MIB it cannot
# parse would otherwise silently drop its objects.
(cd "$tmp" && MIBDIRS="$src/mibs:$std" MIBS=ALL prometheus-snmp-generator --fail-on-parse-errors \
	--log.level=warn generate -o "$tmp/snmp.yml")
# One fix-up after the generator: exporter 0.21 renders an InetAddress only as an index (type and length in the
# OID); as a lookup's value it prints the first two bytes in hex ("0x7F00").  The portals' lookups are read as
# IPv4 addresses, which is every portal of the lab; an IPv6 portal would show its first four bytes (use
# InetAddressIPv6 there).  Nothing else is edited.
sed -i 's/^\(      type: \)InetAddress$/\1InetAddressIPv4/' "$tmp/snmp.yml"
mv "$tmp/snmp.yml" "$out"
