# sa_netsnmp.m4: find net-snmp through net-snmp-config and clean its flags.
#
# net-snmp-config reports the flags net-snmp itself was built with: Debian's
# build path, -O2/-g, -D_FORTIFY_SOURCE, perl include dirs, -Ulinux and
# hardening linker options.  The agent libs also list snmpd's own MIB
# modules (-lnetsnmpmibs and its sensors/pci/wrap deps), which a subagent
# does not use.  Passing them on would override our own CFLAGS
# and break -Werror builds, so only -I/-D (minus the noise) and -L/-l survive.
AC_DEFUN([SA_CHECK_NETSNMP], [
  AC_PATH_PROG([NET_SNMP_CONFIG], [net-snmp-config], [no])
  AS_IF([test "x$NET_SNMP_CONFIG" = xno],
        [AC_MSG_ERROR([net-snmp-config not found: install libsnmp-dev])])
  AC_MSG_CHECKING([net-snmp agent flags])
  sa_ns_cflags=
  for f in `$NET_SNMP_CONFIG --base-cflags`; do
    case "$f" in
      -I*perl*|-I/usr/local/include) ;;
      -DNETSNMP_*|-I*) sa_ns_cflags="$sa_ns_cflags $f" ;;
    esac
  done
  sa_ns_libs=
  for f in `$NET_SNMP_CONFIG --agent-libs`; do
    case "$f" in
      -lnetsnmpmibs|-lsensors|-lpci|-lwrap|-lssl|-lcrypto) ;;
      -L*|-l*) case " $sa_ns_libs " in *" $f "*) ;; *) sa_ns_libs="$sa_ns_libs $f" ;; esac ;;
    esac
  done
  NETSNMP_CFLAGS="$sa_ns_cflags"
  NETSNMP_LIBS="$sa_ns_libs"
  # Client tools (check_sanagent) link libnetsnmp alone, none of the agent libraries.
  NETSNMP_CLIENT_LIBS=
  for f in `$NET_SNMP_CONFIG --libs`; do
    case "$f" in
      -lssl|-lcrypto) ;;
      -L*|-l*) case " $NETSNMP_CLIENT_LIBS " in *" $f "*) ;; *) NETSNMP_CLIENT_LIBS="$NETSNMP_CLIENT_LIBS $f" ;; esac ;;
    esac
  done
  AC_MSG_RESULT([$NETSNMP_CFLAGS $NETSNMP_LIBS])
  sa_save_CFLAGS="$CFLAGS"; sa_save_LIBS="$LIBS"
  CFLAGS="$CFLAGS $NETSNMP_CFLAGS"; LIBS="$NETSNMP_LIBS $LIBS"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
]], [[init_agent("probe");]])], [],
    [AC_MSG_ERROR([cannot link a net-snmp agent with: $NETSNMP_LIBS])])
  CFLAGS="$sa_save_CFLAGS"; LIBS="$sa_save_LIBS"
  AC_SUBST([NETSNMP_CFLAGS])
  AC_SUBST([NETSNMP_LIBS])
  AC_SUBST([NETSNMP_CLIENT_LIBS])
])
