/* redisc_msg.h: the rediscovery messages (sanRediscover, sanRediscoverAlternative): their numbers and codec,
 * shared by the name server's rediscover engine (sends them) and the initiator's discovery engine (obeys them). */
#ifndef SA_ENGINES_REDISC_MSG_H
#define SA_ENGINES_REDISC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/snmp_client.h"
#include "common/trap.h"

/* SANAGENT-REDISCOVER-MIB's numbers that travel in notifications, written
 * once here because two engines that never include each other speak them.
 * They must agree with mibs/SANAGENT-REDISCOVER-MIB.txt
 * (tests/integration/mib_lint.sh checks both). */
#define REDISC_OID_MIB 1, 3, 6, 1, 4, 1, 32473, 1, 3, 4
#define REDISC_OID_NOTIFICATIONS REDISC_OID_MIB, 0
#define REDISC_OID_OBJECTS REDISC_OID_MIB, 1
#define REDISC_OID_NOTIFY_OBJECTS REDISC_OID_OBJECTS, 12
enum {
	REDISC_N_FEEDBACK = 1,
	REDISC_N_REQUEST = 2,
	REDISC_N_TRIGGERED = 3,
	REDISC_N_READDRESSED = 4,
	REDISC_N_REDISCOVER = 5,
	REDISC_N_ALTERNATIVE = 6
};
/* sanRediscNotifyObjects */
enum {
	REDISC_FB_INITIATOR = 1,
	REDISC_FB_TARGET = 2,
	REDISC_FB_ADDR_TYPE = 3,
	REDISC_FB_ADDR = 4,
	REDISC_FB_PORT = 5,
	REDISC_FB_TX_MAX = 6, /* .. REDISC_FB_LATENCY in enum redisc_metric order */
	REDISC_FB_TX_MIN = 7,
	REDISC_FB_TX_AVG = 8,
	REDISC_FB_ERRORS = 9,
	REDISC_FB_LATENCY = 10,
	REDISC_FB_BYTES = 11,
	REDISC_FB_SESSIONS = 12,
	REDISC_FB_OFFENDER = 13,
	REDISC_FB_REASON = 14,
	REDISC_FB_ALT_KIND = 15,
	REDISC_FB_OLD_TARGET = 16,
	REDISC_FB_OLD_ADDR_TYPE = 17,
	REDISC_FB_OLD_ADDR = 18,
	REDISC_FB_OLD_PORT = 19
};

#define REDISC_MSG_NAME_MAX 224 /* iSCSI names are at most 223 octets */

/* sanRediscFbAltKind */
enum redisc_msg_alt { REDISC_MSG_OTHER_PORTAL = 1, REDISC_MSG_OTHER_TARGET = 2 };

/* A portal as the notifications carry it: InetAddressType (1 ipv4, 2 ipv6),
 * the address in network order, the port. */
struct redisc_msg_portal {
	int type;
	unsigned char a[16];
	uint16_t port;
};

/* One message.  Type 1 (sanRediscover): target is now at portal; old is
 * where it was.  Type 2 (sanRediscoverAlternative): old_target at old is
 * not to be used again; log in to target at portal instead (alt_kind says
 * whether that is the same target elsewhere or another one). */
struct redisc_msg {
	int type; /* 1 or 2 */
	char initiator[REDISC_MSG_NAME_MAX];
	char target[REDISC_MSG_NAME_MAX];
	struct redisc_msg_portal portal;
	struct redisc_msg_portal old;         /* type 0: not given (a sender without it) */
	char old_target[REDISC_MSG_NAME_MAX]; /* type 2 */
	int alt_kind;                         /* type 2: enum redisc_msg_alt */
};

/* The notification OID of a message type (1 or 2), its length in *len. */
const uint32_t *redisc_msg_trap_oid(int type, size_t *len);

/* The varbinds of a message, pointing into enc (valid as long as enc and m
 * are): their count, or -EINVAL for a message that cannot be sent. */
#define REDISC_MSG_MAX_VBS 10
struct redisc_msg_enc {
	uint32_t oid[REDISC_MSG_MAX_VBS][14];
	struct cm_snmpc_vb vb[REDISC_MSG_MAX_VBS];
};
int redisc_msg_encode(const struct redisc_msg *m, struct redisc_msg_enc *enc);

/* Decodes an accepted notification: 0, or -EBADMSG (not one of the two,
 * a mandatory varbind missing, a wrong type or length). */
int redisc_msg_decode(const struct cm_trap *t, struct redisc_msg *out);

/* "ADDRESS:PORT" or "[V6]:PORT" of a portal, "" when it has no type. */
void redisc_msg_portal_text(const struct redisc_msg_portal *p, char *buf, size_t len);
/* Parses that form back: 0 or -EINVAL. */
int redisc_msg_portal_parse(const char *s, struct redisc_msg_portal *p);

#endif
