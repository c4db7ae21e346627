/* cluster.h: the cluster engine (seed 004): the cluster resource table (CRT) of units, controllers and devices
 * with their ownership, its version, the allocation lock, the membership, and the events it publishes. */
#ifndef SA_ENGINES_CLUSTER_H
#define SA_ENGINES_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engines/cluster/clu_config.h"

/* The seed's GUIDs are 64-bit.  Hosts and units carry one (configured, or derived from the agent's engine ID);
 * controllers one derived from the target IQN (the name column holds the IQN itself); devices their VPD 0x83
 * designator (NAA 8 or 16 octets, EUI-64 8 octets), so the same LU seen through two controllers or two units is
 * one device. */
#define CLU_GUID_MAX 32
#define CLU_NAME_MAX 224 /* iSCSI names are at most 223 octets */
#define CLU_ADDR_MAX 128
#define CLU_MAX_OWNERS 64 /* hosts in one owner list */

enum clu_type { CLU_HOST = 1, CLU_UNIT, CLU_CONTROLLER, CLU_DEVICE };
enum clu_own { CLU_UNALLOCATED = 1, CLU_SHARED, CLU_DEDICATED };
enum clu_granularity { CLU_GRAN_CONTROLLER = 1, CLU_GRAN_DEVICE };

/* A CRT version: a counter bumped by every change, with the writer's GUID as tiebreak.  Never a wall-clock
 * stamp, so clock skew between hosts cannot roll a table back. */
struct clu_version {
	uint32_t counter;
	uint8_t writer[8];
};
/* <0, 0, >0 as a is older than, equal to, newer than b (counter first, then writer octets). */
int clu_version_cmp(const struct clu_version *a, const struct clu_version *b);

/* One CRT row (the seed's Fig. 4 columns, plus what tgt and INQUIRY give). */
struct clu_res {
	uint32_t index; /* stable: part of the table, identical on every host */
	uint8_t guid[CLU_GUID_MAX];
	size_t guid_len;
	int type;                   /* enum clu_type */
	char address[CLU_ADDR_MAX]; /* host/unit: its agent's address "ADDRESS:PORT"; controller: its portal */
	uint32_t number;            /* the seed's IOC number (tgt tid) or IOD number (LUN); 0 for hosts and units */
	uint32_t parent;            /* index of the row one level up; 0 for hosts and units */
	int ownership;              /* enum clu_own; hosts: CLU_DEDICATED to themselves */
	uint32_t
	    owners[CLU_MAX_OWNERS]; /* indexes of host rows, ascending; none when unallocated, one when dedicated */
	size_t nowners;
	uint32_t version;        /* the CRT version counter at which the row last changed */
	char name[CLU_NAME_MAX]; /* host: its initiator name; controller: target IQN; unit/device: label or "" */
	char vendor[16], model[32];
	uint64_t size;  /* octets, 0 unknown */
	int valid;      /* 0: gone from its unit (kept, never silently dropped) */
	uint32_t paths; /* controller LUNs that lead to this device (1 normally) */
};

/* ---- reading (handlers, sync, probe) ---- */
const struct clu_res *clu_res_get(uint32_t index);
/* The first row with an index greater than after (0: the first row); 0 or -ENOENT. */
int clu_res_next(uint32_t after, uint32_t *out);
size_t clu_res_count(void);
const struct clu_res *clu_res_find_guid(const uint8_t *guid, size_t len);
/* A controller row by target IQN, a host row by initiator name (NULL none). */
const struct clu_res *clu_res_find_name(int type, const char *name);
void clu_version_get(struct clu_version *out);
/* This host's row (NULL when it is a unit or has not been added yet) and GUID. */
const struct clu_res *clu_self(void);
void clu_self_guid(uint8_t out[8]);

/* ---- changing ownership (SET handlers; one SET PDU is one change) ----
 * A change names rows and what their ownership becomes.  The whole candidate CRT (the table with every change of
 * the request applied) must follow the seed's rules, or -EDOM (inconsistentValue) and nothing changes:
 *  - a child's owners are a subset of its parent's;
 *  - under a dedicated parent every child is dedicated to the same host;
 *  - under a shared parent a child is dedicated to one of the owners or shared among some of them;
 *  - dedicated means exactly one owner, shared at least one, unallocated none; owners are host rows.
 * With granularity controller, a controller's change carries its devices along (they take its ownership). */
struct clu_change {
	uint32_t index;
	int ownership;  /* enum clu_own, 0 unchanged */
	int set_owners; /* owners below replace the row's list */
	uint32_t owners[CLU_MAX_OWNERS];
	size_t nowners;
};
int clu_check(const struct clu_change *ch, size_t n);
/* Applies a checked change: one version bump, one atomic state commit, CLU_EV_CHANGED, then the push to peers. */
int clu_apply(const struct clu_change *ch, size_t n);

/* sanCluAllocLock (RFC 2579 TestAndIncr): a SET naming the current value succeeds and increments it (wrapping
 * 2147483647 -> 0); another value is -ESTALE (inconsistentValue). */
long clu_lock_value(void);
int clu_lock_check(long value);
void clu_lock_incr(void);
/* Puts back the value a SET's increment replaced (the SET's undo). */
void clu_lock_restore(long value);

int clu_granularity(void);
int clu_granularity_set(int g);

/* ---- rows from the fabric (probe of units) ---- */
/* What a unit's management service says it holds: its controllers, and each controller's devices. */
struct clu_probed_device {
	uint32_t lun;
	uint8_t designator[CLU_GUID_MAX]; /* VPD 0x83 (NAA/EUI); len 0 when INQUIRY gave none */
	size_t designator_len;
	char vendor[16], model[32];
	uint64_t size;
};
struct clu_probed_controller {
	uint32_t tid;
	char iqn[CLU_NAME_MAX];
	char portal[CLU_ADDR_MAX];
	struct clu_probed_device *devices;
	size_t ndevices;
};
/* Merges one unit's probe: new controllers and devices get rows, unallocated (CLU_EV_NEW_DEVICE each); a row of
 * this unit no longer there is marked invalid (CLU_EV_DEVICE_GONE), never dropped; one that comes back is valid
 * again.  Any change bumps the version, persists and pushes like clu_apply.  unit is the unit's row index. */
int clu_probe_merge(uint32_t unit, const struct clu_probed_controller *ctl, size_t n);

/* ---- the whole table, between hosts (sync) ---- */
/* A table fetched from a peer: every row, owners included. */
struct clu_table {
	struct clu_version version;
	struct clu_res *rows;
	size_t nrows;
	long granularity;
};
/* Replaces the local CRT with t if t->version is strictly newer: one atomic state commit (a crash leaves the old
 * table or the new, never a mix), CLU_EV_CHANGED.  0 adopted, -EALREADY not newer (nothing changes). */
int clu_adopt(const struct clu_table *t, const char *from);
/* A concurrent change (same base version, another writer) was found: the engine's deterministic rule resolved
 * it; CLU_EV_CONFLICT names the change that lost. */

/* The conflicts this agent saw (sanCluConflictTable), the last CLU_CONFLICTS_MAX of them. */
struct clu_conflict {
	uint32_t index;
	time_t when;
	struct clu_version lost, won;
	char detail[128]; /* what became of the losing change: "re-applied as N" or why not */
};
const struct clu_conflict *clu_conflict_get(uint32_t index);
int clu_conflict_next(uint32_t after, uint32_t *out);

/* ---- membership (the fabric services database: hosts and units with their addresses) ---- */
struct clu_member {
	uint32_t index;
	int type; /* CLU_HOST or CLU_UNIT */
	uint8_t guid[8];
	char address[CLU_ADDR_MAX]; /* net-snmp peer spec of its agent, "udp:ADDRESS:PORT" */
	char name[CLU_NAME_MAX];    /* host: its initiator name; unit: a label */
	int from_config;            /* rows from the config file cannot be destroyed over SNMP (-EPERM) */
};
const struct clu_member *clu_member_get(uint32_t index);
int clu_member_next(uint32_t after, uint32_t *out);
size_t clu_member_count(void);
int clu_member_check(const struct clu_member *m, int destroy);
int clu_member_put(const struct clu_member *m);
int clu_member_del(uint32_t index);
/* The next free member index (sanCluMemberNextIndex). */
uint32_t clu_member_next_index(void);

/* ---- peers (the sync's view of every other member) ---- */
enum clu_peer_state { CLU_PEER_UNKNOWN = 1, CLU_PEER_REACHABLE, CLU_PEER_UNREACHABLE };
struct clu_peer {
	uint32_t member; /* its membership row */
	int state;       /* enum clu_peer_state */
	time_t last_contact;
	struct clu_version version; /* what it last had */
	uint32_t failures;
	char last_error[128];
};
const struct clu_peer *clu_peer_get(uint32_t member);
int clu_peer_next(uint32_t after, uint32_t *out);

struct clu_counters {
	uint64_t changes, adoptions, pushes_sent, pushes_received, pulls, conflicts;
	uint64_t probes, probe_failures, new_devices, devices_gone;
	uint64_t lock_rejected, consistency_rejected, logins_refused, ownership_lost;
};
void clu_counters_get(struct clu_counters *out);

/* ---- this host's use of what it owns ---- */
/* Whether this host may log in to target iqn: 0 yes (owned by it, or not in the CRT), -EACCES when the CRT has
 * it and this host is not among its owners (dedicated to another host, or unallocated). */
int clu_host_may_use_target(const char *iqn);
/* The same for one LUN of a target (ownership below target level is enforced on the hosts only). */
int clu_host_may_use_lun(const char *iqn, uint32_t lun);

/* ---- events on BUS_CLUSTER (common/bus.h) ---- */
enum clu_event_type {
	CLU_EV_CHANGED = 1,      /* the CRT changed: index 0, version the new one, adopted 1 when taken from a peer */
	CLU_EV_NEW_DEVICE,       /* index: a new unallocated controller or device row */
	CLU_EV_DEVICE_GONE,      /* index: a row marked invalid */
	CLU_EV_CONFLICT,         /* version: the change that lost; other: the one that won */
	CLU_EV_PEER_UNREACHABLE, /* member: the peer */
	CLU_EV_OWNERSHIP_LOST,   /* index: a controller or device this host no longer owns (after the grace period) */
};
struct clu_event {
	int type;
	uint32_t index, member;
	int adopted;
	struct clu_version version, other;
};

/* ---- settings (sanCluScalars) ---- */
enum clu_role { CLU_ROLE_HOST = 1, CLU_ROLE_UNIT };
int clu_role(void);
int clu_ownership_grace(void);
/* The index the next new CRT row gets (sanCluResNextIndex; rows are never dropped, indexes never reused). */
uint32_t clu_res_next_index(void);

/* ---- life ---- */
struct sa_engine_ops;
extern const struct sa_engine_ops clu_engine_ops;
int clu_start(const struct sa_cluster_config *c, char *err, size_t errlen);
int clu_reload(const struct sa_cluster_config *c, char *err, size_t errlen);
void clu_stop(void);
int clu_running(void);

#endif
