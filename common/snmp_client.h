/* snmp_client.h: asynchronous SNMP client requests (table walks, integer SETs) on the agent's own loop. */
#ifndef SA_SNMP_CLIENT_H
#define SA_SNMP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Plain C on purpose: engines see these types through an injected ops
 * table (engines never include net-snmp headers); the net-snmp sessions
 * behind them are opened with snmp_open, so the select loop of sanagentd
 * and of snmpd (dlmod) services them like any other client session. */

/* Who to ask.  community is for reads (SNMPv2c).  Writes go only over
 * SNMPv3 authPriv (SHA, AES) as user; a read falls back to that user when
 * no community is given.  Secrets are copied and never logged. */
struct cm_snmpc_peer {
	const char *peer; /* net-snmp peer spec, e.g. "udp:127.0.0.1:1161" */
	const char *community;
	const char *user;
	const char *auth_pass;
	const char *priv_pass;
	unsigned int timeout_ms; /* per try; 0 = 1000 */
	int retries;             /* -1 = 1 */
};

enum cm_snmpc_type {
	CM_SNMPC_INTEGER = 1, /* i */
	CM_SNMPC_UNSIGNED,    /* u: Gauge32, Unsigned32, Counter32, TimeTicks */
	CM_SNMPC_COUNTER64,   /* u */
	CM_SNMPC_STRING,      /* str, len (OCTET STRING, not NUL-terminated) */
	CM_SNMPC_OTHER,
};

struct cm_snmpc_vb {
	const uint32_t *oid;
	size_t oidlen;
	int type; /* enum cm_snmpc_type */
	int64_t i;
	uint64_t u;
	const char *str;
	size_t len;
};

/* One varbind of a walk; return non-zero to stop the walk early. */
typedef int (*cm_snmpc_vb_cb)(const struct cm_snmpc_vb *vb, void *arg);
/* The end of a request: rc 0, or a negative errno (-ETIMEDOUT: no answer,
 * -EACCES: refused by the peer's access control, -EIO: an SNMP error whose
 * name is in why). */
typedef void (*cm_snmpc_done_cb)(int rc, const char *why, void *arg);

/* Walks the subtree under root with GETBULK (GETNEXT for SNMPv1 peers is
 * not supported).  Returns 0 when the request is on its way (done is then
 * called exactly once, later, from the loop) or a negative errno. */
int cm_snmpc_walk(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
                  cm_snmpc_done_cb done, void *arg);
/* SETs one INTEGER over SNMPv3 authPriv (engine ID discovered first,
 * asynchronously).  Same return convention as cm_snmpc_walk. */
int cm_snmpc_set_int(const struct cm_snmpc_peer *p, const uint32_t *oid, size_t oidlen, long value,
                     cm_snmpc_done_cb done, void *arg);
/* SETs n varbinds in one PDU over SNMPv3 authPriv (the peer applies all or none): INTEGER (i), UNSIGNED (u, as
 * Unsigned32/Gauge32) and STRING (str, len).  -EINVAL for another type; else as cm_snmpc_set_int. */
int cm_snmpc_set(const struct cm_snmpc_peer *p, const struct cm_snmpc_vb *vbs, size_t n, cm_snmpc_done_cb done,
                 void *arg);
/* Drops every request in flight; their done callbacks are not called. */
void cm_snmpc_cancel_all(void);
/* Requests in flight (tests, shutdown). */
unsigned int cm_snmpc_pending(void);

/* Sends one SNMPv3 authPriv INFORM (SHA, AES) as p's user to p's peer:
 * sysUpTime.0, snmpTrapOID.0 = trap_oid, then vbs (copied before the call
 * returns).  The receiver is the authoritative engine, so its engine ID is
 * discovered first, asynchronously.  done gets 0 when the receiver
 * acknowledged it; -ETIMEDOUT, -EACCES (USM refused: user, passphrases),
 * -EIO otherwise.  -EPERM without v3 credentials.  Same return convention
 * as cm_snmpc_walk. */
int cm_snmpc_inform(const struct cm_snmpc_peer *p, const uint32_t *trap_oid, size_t trap_oid_len,
                    const struct cm_snmpc_vb *vbs, size_t nvbs, cm_snmpc_done_cb done, void *arg);

#endif
