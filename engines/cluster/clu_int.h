/* clu_int.h: the cluster engine's state and the functions its files share (private to engines/cluster/). */
#ifndef SA_ENGINES_CLU_INT_H
#define SA_ENGINES_CLU_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engines/cluster/cluster.h"
#include "engines/cluster/clu_ops.h"

#define CLU_TAG "cluster"
#define CLU_CONFLICTS_MAX 100 /* conflicts kept for sanCluConflictTable, oldest dropped */

struct cm_state;

struct clu_model {
	int running;
	int role; /* enum clu_role */
	uint8_t self_guid[8];
	char initiator_name[CLU_NAME_MAX];
	int poll_interval, sync_interval, ownership_grace, enforce_acl;
	char state_key[64];

	/* The CRT, sorted by index. */
	struct clu_res *rows;
	size_t nrows, caprows;
	struct clu_version ver;
	int granularity;
	long lock;
	/* etcd mode: the revision of etcd's CRT the local table was last confirmed at (0: none, or the embedded
	 * mode), persisted with the version.  A version whose counter differs from it is a local change etcd may
	 * not have yet: after a restart it is written (or re-applied) before anything else. */
	long long etcd_base;

	/* Membership, sorted by index. */
	struct clu_member *members;
	size_t nmembers, capmembers;

	/* The last local ownership change (expanded by granularity) that no table from a peer has included yet:
	 * re-applied on top of a winner that lost it. */
	struct clu_change *last;
	size_t nlast;
	struct clu_version last_ver;

	struct clu_conflict conflicts[CLU_CONFLICTS_MAX];
	size_t nconflicts;
	uint32_t next_conflict;

	struct clu_counters ctr;
};
extern struct clu_model clu_m;

/* model.c */
void clu_model_reset(void);
void clu_model_load(struct cm_state *st);
struct clu_res *clu_res_mut(uint32_t index);
/* Inserts a new row at the next free index (row->index is set); NULL on out of memory. */
struct clu_res *clu_res_add(const struct clu_res *row);
/* Makes the current in-memory table durable (rows listed in dirty, or every row when dirty is NULL), with the
 * version; one atomic state commit.  0 or -errno. */
int clu_persist(const uint32_t *dirty, size_t ndirty);
/* The version bump and its announcement after a local change: counter + 1, writer self, persisted with the
 * rows in dirty, CLU_EV_CHANGED, the push.  0 or -errno (nothing announced; memory keeps the change). */
int clu_commit_local(const uint32_t *dirty, size_t ndirty);
void clu_publish(int type, uint32_t index, uint32_t member, const struct clu_version *v,
                 const struct clu_version *other);
void clu_guid_hash(const char *s, uint8_t out[8]);
void clu_guid_hex(const uint8_t *g, size_t len, char *out, size_t outlen);
/* Records a change that lost (sanCluConflictTable, CLU_EV_CONFLICT): detail says what became of it. */
void clu_conflict_note(const struct clu_version *lost, const struct clu_version *won, const char *detail);
/* Why the last check refused a change (for the log and the handlers). */
const char *clu_last_why(void);

/* members.c */
int clu_members_apply(const struct sa_cluster_config *c, char *err, size_t errlen);
void clu_members_load(struct cm_state *st);
void clu_members_free(void);
/* Adds or updates the host and unit rows of the CRT from the membership (and this host's own row). 1 when the
 * CRT changed (the caller commits), 0 not, -errno. */
int clu_members_sync_rows(uint32_t **dirty, size_t *ndirty);

/* The engine's other parts: each starts and stops with the engine; each file defines its functions. */
int clu_sync_start(const struct sa_cluster_config *c, char *err, size_t errlen); /* sync.c */
void clu_sync_stop(void);
/* After every local change (ownership, probe, membership): tell the peers. */
void clu_sync_push(void);
int clu_probe_start(const struct sa_cluster_config *c, char *err, size_t errlen); /* probe.c */
void clu_probe_stop(void);
int clu_acl_start(const struct sa_cluster_config *c, char *err, size_t errlen); /* acl.c */
void clu_acl_stop(void);
int clu_peers_start(const struct sa_cluster_config *c); /* peers.c */
void clu_peers_stop(void);

/* engine.c: the injected network ops (NULL until the glue registers them). */
extern const struct clu_net_ops *clu_net;

#endif
