/* trap.h: an accepted incoming notification, the payload of BUS_TRAP (no net-snmp types here). */
#ifndef SA_COMMON_TRAP_H
#define SA_COMMON_TRAP_H

#include <stddef.h>
#include <stdint.h>

/* The trap receiver (traps/receiver.c) publishes each notification it
 * accepted on BUS_TRAP with its snmpTrapOID as the key, so an engine
 * subscribes with bus_subscribe_key() to the notifications it reacts to.
 * Everything here is only valid during the callback. */
enum cm_trap_vtype {
	SA_TV_INTEGER,
	SA_TV_UNSIGNED,
	SA_TV_COUNTER64,
	SA_TV_STRING,
	SA_TV_OID,
	SA_TV_IPADDR,
	SA_TV_TIMETICKS,
	SA_TV_OTHER
};

struct cm_trap_var {
	const uint32_t *oid;
	size_t oid_len;
	int type;                 /* enum cm_trap_vtype */
	int64_t ival;             /* INTEGER, Unsigned32, Counter, Gauge, TimeTicks */
	uint64_t u64;             /* Counter64 */
	const unsigned char *str; /* OCTET STRING, IpAddress, OID (as text) */
	size_t str_len;
};

struct cm_trap {
	const uint32_t *trap_oid; /* value of snmpTrapOID.0 */
	size_t trap_oid_len;
	int version; /* 2 (v2c) or 3 */
	int is_inform;
	const char *source;             /* "ip:port" of the sender */
	const char *principal;          /* community (never logged) or v3 user name */
	const struct cm_trap_var *vars; /* every varbind after sysUpTime.0 and snmpTrapOID.0 */
	size_t nvars;
};

/* The receiver's counters (sanTrapRecv). */
struct cm_trap_counters {
	uint64_t received;          /* every datagram read from the socket */
	uint64_t accepted;          /* authenticated and dispatched */
	uint64_t dropped_unauth;    /* unknown community/source, unknown v3 user, bad digest, ... */
	uint64_t dropped_malformed; /* not decodable as an SNMP message / not a notification */
};

#endif
