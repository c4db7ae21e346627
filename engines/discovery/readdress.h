/* readdress.h: an initiator agent's reaction to a name server's rediscovery messages (seed 000 steps 84, 88). */
#ifndef SA_DISC_READDRESS_H
#define SA_DISC_READDRESS_H

#include <stdint.h>

#include "engines/discovery/disc_config.h"
#include "engines/redisc_msg.h"

/* Type 1 (sanRediscover): discovery is asked again and the login rows and
 * team paths at the old address move to the new one.  Type 2
 * (sanRediscoverAlternative): the old address of the old target is avoided
 * for good, and its logins move to the alternative.  Only from the
 * discovery section's rediscover_users (v3); the rest is dropped and
 * counted. */
struct disc_redisc_counters {
	uint64_t received;             /* messages the receiver accepted and passed on */
	uint64_t type1, type2;         /* obeyed */
	uint64_t dropped_unauthorized; /* not from a listed v3 user: forged, or a stranger */
	uint64_t dropped_malformed;
	uint64_t not_ours;     /* for another initiator name */
	uint64_t logins_moved; /* login rows moved by the messages */
	char last[768];        /* what the last message did */
};

/* Subscribes to both messages on BUS_TRAP (with the connection manager:
 * logins work without the discovery engine). */
int disc_readdress_start(const struct sa_discovery_config *cfg);
void disc_readdress_reload(const struct sa_discovery_config *cfg);
void disc_readdress_stop(void);
const struct disc_redisc_counters *disc_readdress_counters(void);

/* The verb behind the subscription, public for tests: m NULL for a message
 * that did not decode; principal the v3 user.  Returns the login rows moved,
 * or -EACCES (not a listed user), -EBADMSG, -ENOENT (another initiator's). */
int disc_readdress_take(const struct redisc_msg *m, int version, const char *principal, const char *source);

#endif
