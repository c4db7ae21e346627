/* clu_ops.h: what the agent's glue hands the cluster engine (engines never include net-snmp headers). */
#ifndef SA_ENGINES_CLU_OPS_H
#define SA_ENGINES_CLU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "common/snmp_client.h"

/* The asynchronous SNMP client (common/snmp_client.h): subagent/core.c registers its functions, tests their own.
 * Without it the engine neither probes units nor syncs with peers (the table stays local). */
struct clu_net_ops {
	int (*walk)(const struct cm_snmpc_peer *p, const uint32_t *root, size_t rootlen, cm_snmpc_vb_cb vb,
	            cm_snmpc_done_cb done, void *arg);
	int (*set)(const struct cm_snmpc_peer *p, const struct cm_snmpc_vb *vbs, size_t n, cm_snmpc_done_cb done,
	           void *arg);
	int (*inform)(const struct cm_snmpc_peer *p, const uint32_t *trap_oid, size_t trap_oid_len,
	              const struct cm_snmpc_vb *vbs, size_t nvbs, cm_snmpc_done_cb done, void *arg);
	void (*cancel_all)(void);
};
void clu_net_ops_register(const struct clu_net_ops *ops);

/* The agent's SNMP engine ID: a config without a guid derives this agent's GUID from it.  Called before the
 * engine starts. */
void clu_engine_id_set(const uint8_t *id, size_t len);

#endif
