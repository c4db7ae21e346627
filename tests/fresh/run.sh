#!/usr/bin/env bash
# run.sh: a new user's first hour, repeated: a fresh Debian 12 minbase chroot, the clone and ../shared copied in, `./sanlab demo` then `./sanlab test` inside.
#
# Run as root on a Debian machine that reaches a Debian mirror: ./sanlab fresh-check (it calls this).  It takes long
# (debootstrap, every package, a full build and every test), so it is run before a release, not in CI.
#
# The chroot is what a minimal image looks like: debootstrap --variant=minbase bookworm, nothing else installed, and
# an /etc/hosts without a line for the hostname (common in containers: open-isns-server's postinst trips on it).
# /proc, /sys, /dev, a private /dev/shm and /run are mounted, and the chroot's / is made a mount point with
# mount --rbind (ip netns exec remounts /sys in a new mount namespace, which needs / to be a mount point).
#
# Environment: FRESH_MIRROR (Debian mirror, default: the one apt uses here, else http://deb.debian.org/debian),
# FRESH_SECURITY (security mirror), FRESH_DIR (parent of the chroot, default /var/tmp), FRESH_KEEP=1 (keep the
# chroot afterwards; it is unmounted either way).
# Exit 0 when the demo succeeded without a warning and the tests ended with 0 failed and 0 skipped.
set -u -o pipefail

SRC=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
SHARED=$(cd "$SRC/.." && pwd)/shared
SUITE=bookworm

say() { printf 'fresh-check: %s\n' "$*"; }
die() { printf 'fresh-check: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, mounts, chroot)"
[ -d "$SHARED" ] || die "$SHARED not found: the chroot gets the clone and its sibling shared/ folder"

# The mirror apt uses on this machine (deb822 or one-line sources), so the check works where only it is reachable.
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
	done | head -n1
	[ -f /etc/apt/sources.list ] &&
		awk '$1 == "deb" && $0 !~ /security/ && $0 ~ /debian/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list
}
MIRROR=${FRESH_MIRROR:-$(host_mirror | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${FRESH_SECURITY:-${MIRROR%/debian}/debian-security}

if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || die "apt-get install debootstrap failed"
fi

mkdir -p "${FRESH_DIR:-/var/tmp}"
ROOT=$(mktemp -d "${FRESH_DIR:-/var/tmp}/sanagent-fresh.XXXXXX") || die "mktemp failed"
ROOT=$(cd "$ROOT" && pwd -P)
LOGDIR=$ROOT.logs
mkdir -p "$LOGDIR"
MOUNTED=0

# Processes left running inside the chroot (the demo's lab, a hung test) hold its mounts: end them by pid.
kill_inside() {
	local sig=$1 p r n=0
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case $r in "$ROOT" | "$ROOT"/*) kill "-$sig" "${p#/proc/}" 2>/dev/null && n=$((n + 1)) ;; esac
	done
	[ $n -gt 0 ]
}

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	if [ -x "$ROOT/root/sanagent/sanlab" ] && [ "$MOUNTED" = 1 ]; then
		chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			bash -c 'cd /root/sanagent && ./sanlab down' >/dev/null 2>&1
	fi
	if kill_inside TERM; then
		for i in $(seq 1 50); do kill_inside 0 || break; sleep 0.1; done
		kill_inside KILL
	fi
	# Every mount below $ROOT is private or a slave (see below), so a recursive unmount never reaches the host's.
	if mountpoint -q "$ROOT"; then
		umount -R "$ROOT" 2>/dev/null || umount -R -l "$ROOT"
	fi
	if mountpoint -q "$ROOT" || grep -q " $ROOT[/ ]" /proc/self/mounts; then
		say "WARNING: mounts left under $ROOT:"
		grep " $ROOT[/ ]" /proc/self/mounts >&2
	elif [ "${FRESH_KEEP:-0}" = 1 ]; then
		say "chroot kept in $ROOT"
	else
		rm -rf "$ROOT"
	fi
	say "logs in $LOGDIR"
	exit "$rc"
}
# Installed before the first mount: every exit path unmounts.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "debootstrap --variant=minbase $SUITE into $ROOT from $MIRROR (log: $LOGDIR/debootstrap.log)"
t0=$SECONDS
if ! debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$LOGDIR/debootstrap.log" 2>&1; then
	tail -n 20 "$LOGDIR/debootstrap.log" >&2
	die "debootstrap failed"
fi
say "debootstrap done in $((SECONDS - t0)) s"

# A stock Debian 12 sources list, and a hosts file without the hostname (as in many images).
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null

# / a mount point of its own, private so nothing mounted below propagates to the host.
mount --rbind "$ROOT" "$ROOT" && MOUNTED=1 || die "mount --rbind $ROOT failed"
mount --make-rprivate "$ROOT" || die "mount --make-rprivate $ROOT failed"
mount -t proc proc "$ROOT/proc" || die "cannot mount /proc"
mount -t sysfs sysfs "$ROOT/sys" || die "cannot mount /sys"
# The host's /dev as a slave: unmounting the chroot's copy never unmounts the host's /dev/pts.
mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev" || die "cannot mount /dev"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOT/dev/shm" || die "cannot mount /dev/shm"
mount -t tmpfs -o mode=755,nosuid,nodev run "$ROOT/run" || die "cannot mount /run"

# The clone as a user has it: tracked and untracked-but-not-ignored files (no build products); shared/ next to it.
mkdir -p "$ROOT/root/sanagent"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$ROOT/root/sanagent" || die "cannot copy the clone"
else
	tar -C "$SRC" --exclude=./build --exclude=./.sanlab -cf - . | tar -xf - -C "$ROOT/root/sanagent" ||
		die "cannot copy the clone"
fi
cp -rL "$SHARED" "$ROOT/root/shared" || die "cannot copy $SHARED"

inside() {
	chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bash -c "cd /root/sanagent && $1"
}

say "./sanlab demo (log: $LOGDIR/demo.log)"
t0=$SECONDS
inside './sanlab demo' >"$LOGDIR/demo.log" 2>&1
demo_rc=$?
say "demo: exit $demo_rc after $((SECONDS - t0)) s"
warnings=$(grep -E '^sanlab: (warning|error)' "$LOGDIR/demo.log")
[ -n "$warnings" ] && printf '%s\n' "$warnings"
if [ $demo_rc -ne 0 ]; then
	tail -n 40 "$LOGDIR/demo.log"
fi

say "./sanlab test (log: $LOGDIR/test.log)"
t0=$SECONDS
inside './sanlab test' >"$LOGDIR/test.log" 2>&1
test_rc=$?
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGDIR/test.log" | tail -n1)
say "test: exit $test_rc after $((SECONDS - t0)) s: ${summary:-no summary line}"
grep -E '^(FAIL|ERROR|SKIP|XPASS):' "$LOGDIR/test.log"
cp "$ROOT/root/sanagent/build/test-suite.log" "$LOGDIR/" 2>/dev/null

ok=1
[ $demo_rc -eq 0 ] && [ -z "$warnings" ] || ok=0
[ $test_rc -eq 0 ] || ok=0
case $summary in *", 0 failed") ;; *) ok=0 ;; esac
if [ $ok = 1 ]; then
	say "PASS: demo succeeded the first time; tests: $summary"
	exit 0
fi
say "FAIL: demo exit $demo_rc${warnings:+ with warnings}; tests: ${summary:-none}"
exit 1
