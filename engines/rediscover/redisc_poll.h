/* redisc_poll.h: how the rediscover engine reaches the storage agents it polls (injected by the agent's glue). */
#ifndef SA_ENGINES_REDISC_POLL_H
#define SA_ENGINES_REDISC_POLL_H

#include "common/snmp_client.h"

/* The asynchronous SNMP client (common/snmp_client.h): subagent/core.c registers its functions, tests their own.
 * Without it the engine polls nothing (logged once per start). */
struct redisc_poll_ops {
	int (*walk)(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
	            cm_snmpc_done_cb done, void *arg);
};
void redisc_poll_ops_register(const struct redisc_poll_ops *ops);

#endif
