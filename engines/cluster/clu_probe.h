/* clu_probe.h: inside the cluster engine: the probe of the units (host role, seed Fig. 5 block 520) and the
 * target ACLs a unit applies in its tgt from the CRT (unit role, enforce_acl). */
#ifndef SA_ENGINES_CLU_PROBE_H
#define SA_ENGINES_CLU_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "common/snmp_client.h"
#include "engines/cluster/clu_int.h"

/* ---- probe.c (host role) ----
 * clu_probe_start/stop (clu_int.h): every poll_interval (and once at start, after the boot sync) each unit member's
 * agent is walked through the injected SNMP client (clu_net, as peer_user): its sanStorPortalTable,
 * sanStorTargetTable and sanStorLunTable (with the LUNs' designator, vendor, model, capacity); the result goes to
 * clu_probe_merge for the unit's row (the CRT row of type unit whose GUID is the member's).  A unit that does not
 * answer counts a probe failure and is reported to the peer table; its rows stay as they are. */
/* Probes every unit now (a unit still being walked is left alone). */
void clu_probe_now(void);

/* What one walk of a unit gave, before merging (exposed for unit tests): the rows of the three tables as the
 * storage agent serves them.  clu_probe_build turns them into controllers with their devices: tgt's controller LU
 * (type "controller") is no device, nor a LUN whose identity is still pending (it comes with a later probe, under
 * its designator: taken now, it would be a row of its own keyed by place); the portal is the first active one, a
 * wildcard one replaced by the host of the unit's agent address (unit_host). */
struct clu_probe_lun {
	uint32_t tid, lun;
	char type[32];
	uint8_t designator[CLU_GUID_MAX];
	size_t designator_len;
	char vendor[16], model[32];
	uint64_t capacity;
	int id_status; /* sanStorLunIdentityStatus: 2 pending (left out until read), 3 read; 0 not served */
};
struct clu_probe_target {
	uint32_t tid;
	char name[CLU_NAME_MAX];
};
struct clu_probe_portal {
	uint32_t index;
	uint8_t addr[16];
	size_t addr_len; /* 4 or 16 */
	uint32_t port;
	int row_status; /* 1 active */
};
struct clu_probe_walk {
	struct clu_probe_target *targets;
	size_t ntargets, cap_targets;
	struct clu_probe_lun *luns;
	size_t nluns, cap_luns;
	struct clu_probe_portal *portals;
	size_t nportals, cap_portals;
};
/* One varbind of the walk of the storage agent's sanSessionObjects tables: 0, or -ENOMEM. */
int clu_probe_take(struct clu_probe_walk *w, const struct cm_snmpc_vb *vb);
/* The controllers for clu_probe_merge (free with clu_probe_free): 0 or -ENOMEM. */
int clu_probe_build(const struct clu_probe_walk *w, const char *unit_host, struct clu_probed_controller **out,
                    size_t *n);
void clu_probe_free(struct clu_probed_controller *c, size_t n);
/* Whether a LUN's identity is still being read on the unit: the probe is then not merged (a pending LUN would be
 * a device gone, or one keyed by place), the next one is. */
int clu_probe_pending(const struct clu_probe_walk *w);
void clu_probe_walk_free(struct clu_probe_walk *w);

/* ---- acl.c (unit role, enforce_acl) ----
 * clu_acl_start/stop (clu_int.h): for each target of the local tgtd, the controller row of this unit with its IQN
 * gets its owners' initiator names (host rows' name) plus acl_always bound, and every other initiator-name rule
 * and ALL unbound; a target the CRT does not have, or has unallocated, allows acl_always only.  Applied at start,
 * on every CLU_EV_CHANGED and every poll_interval (tgt forgets ACLs when it restarts; new targets appear). */
/* What one target's ACL needs (exposed for unit tests): emit is called for each rule to bind (bind 1; always an
 * initiator name) and then each to unbind (ALL as an address, other initiator names); address rules other than
 * ALL are left alone.  unit: this unit's CRT row (NULL: not in the CRT yet: only always is admitted).  0, -ENOMEM. */
struct tgtc_target_info;
typedef void (*clu_acl_emit)(uint32_t tid, int bind, int by_name, const char *rule, void *arg);
int clu_acl_plan(const struct clu_res *unit, const struct tgtc_target_info *t, char *const *always, size_t nalways,
                 clu_acl_emit emit, void *arg);

/* The local tgtd's control port (the storage section's tgt_control): subagent/core.c sets it before the engines
 * start. */
void clu_acl_tgt_control(int control);
/* Apply rounds run, tgtadm bind/unbind commands that failed. */
struct clu_acl_counters {
	uint64_t rounds, binds, unbinds, failures;
};
void clu_acl_counters_get(struct clu_acl_counters *out);

#endif
