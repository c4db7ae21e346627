/* clu_sync.h: inside the cluster engine: how its parts reach other agents (the injected SNMP client), the sync
 * between hosts (seed Fig. 5: boot adoption of the newest CRT, push after a change, pull of a strictly newer one)
 * and the peer table every part reports contacts to. */
#ifndef SA_ENGINES_CLU_SYNC_H
#define SA_ENGINES_CLU_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "common/snmp_client.h"
#include "engines/cluster/clu_int.h"
#include "engines/cluster/clu_mib.h"

/* The injected SNMP client (clu_ops.h, registered by subagent/core.c): the same as clu_net (NULL: none). */
const struct clu_net_ops *clu_snmp_ops(void);

/* SANAGENT-RESOURCE-MIB's numbers (clu_mib.h) the sync reads and sends: the MIB's prefix is this long. */
#define CLU_OID_MIB_LEN 10

/* clu_sync_start/stop (clu_int.h) take the engine's config after the state is loaded and the membership is in:
 * the boot round asks every host peer for its version, adopts the newest, tells older ones ours; pushes of the
 * peers are taken (BUS_TRAP) and every sync_interval the versions are asked again.  Without peer_user, or without
 * the client, only the peer table is kept.  clu_sync_push (clu_int.h) follows every local change. */

/* The sync's own counters since the agent started (clu_m.ctr, reset by an engine restart, counts the first three
 * too: sanCluPushesSent, sanCluPushesReceived, sanCluPulls); dropped is only here (and in the log). */
struct clu_sync_counters {
	uint64_t pushes_sent;     /* informs sanCluCrtChanged sent */
	uint64_t pushes_received; /* accepted from a sync user */
	uint64_t pulls;           /* tables pulled and adopted */
	uint64_t dropped;         /* sanCluCrtChanged from a user not in sync_users */
};
void clu_sync_counters_get(struct clu_sync_counters *out);
/* 1 while the boot round (asking every host peer, adopting the newest) has not finished. */
int clu_sync_booting(void);

/* ---- the peer table (peers.c): every member other than this agent ---- */
/* A contact with member succeeded; v is the version it holds (NULL: it has none, e.g. a unit). */
void clu_peer_contact_ok(uint32_t member, const struct clu_version *v);
/* A contact failed (why: short text, no secrets).  The first failure after reachable/unknown makes it
 * unreachable and publishes CLU_EV_PEER_UNREACHABLE once (not again until it answered). */
void clu_peer_contact_failed(uint32_t member, const char *why);
/* Whether member is this agent (its GUID is ours). */
int clu_member_is_self(const struct clu_member *m);

#endif
