/* storage.h: the storage-side role next to a tgt target: its portals, targets, LUNs and sessions, read through tgtadm.
 */
#ifndef SA_ENGINES_STORAGE_H
#define SA_ENGINES_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "iscsi/tgtctl.h"
#include "engines/storage/stor_config.h"

#define STOR_NAME_MAX TGTC_NAME_MAX
#define STOR_HOST_MAX 64

/* StorageType (SNMPv2-TC) of a portal row: other(1) = a portal tgt had that
 * this agent did not create; volatile(2)/nonVolatile(3) = created over SNMP. */
enum stor_storage { STOR_ST_OTHER = 1, STOR_ST_VOLATILE = 2, STOR_ST_NONVOLATILE = 3 };

struct stor_portal {
	uint32_t index;           /* stable, never reused while the agent runs */
	char host[STOR_HOST_MAX]; /* numeric, canonical form */
	uint16_t port;
	uint32_t tpgt; /* 0 until tgt lists the portal */
	int storage;   /* enum stor_storage */
	int active;    /* tgt lists it now */
};

struct stor_lun {
	uint32_t lun;
	char type[32];
	uint32_t size_mib;
	char backing[256];
	char serial[64];
};

struct stor_counters {
	uint64_t rd_bytes, wr_bytes, rd_cmds, wr_cmds;
};

struct stor_session {
	uint32_t tid, sid;
	char initiator[STOR_NAME_MAX];
	char addr[STOR_HOST_MAX]; /* the first connection's initiator address ("" unknown) */
	struct stor_counters ctr;
	uint32_t *cids;
	size_t nconns;
};

struct stor_target {
	uint32_t tid;
	char name[STOR_NAME_MAX];
	struct stor_lun *luns; /* sorted by lun */
	size_t nluns;
	struct stor_session *sessions; /* sorted by sid */
	size_t nsessions;
	/* Sums over the sessions, plus what ended sessions had: never go back
	 * while the target exists. */
	struct stor_counters ctr;
	struct stor_counters base; /* the ended sessions' part */
};

/* Starts, restarts (tgt_control changed) or stops the module as cfg asks
 * (cfg->enabled); reload-safe.  Returns 0 or a negative errno. */
int stor_apply(const struct sa_storage_config *cfg);
void stor_stop(void);
int stor_running(void);
/* Published on BUS_STORAGE (common/bus.h) after every start and stop. */
struct stor_event {
	int running;
};

/* Targets, by tid; *_next returns the first with a key > after (NULL: none).
 * LUN and session lookups take after = -1 for the first. */
const struct stor_target *stor_target_find(uint32_t tid);
const struct stor_target *stor_target_next(uint32_t after);
const struct stor_lun *stor_lun_find(const struct stor_target *t, uint32_t lun);
const struct stor_lun *stor_lun_next(const struct stor_target *t, int64_t after);
const struct stor_session *stor_session_find(const struct stor_target *t, uint32_t sid);
const struct stor_session *stor_session_next(const struct stor_target *t, int64_t after);

/* Portals, by index. */
const struct stor_portal *stor_portal_find(uint32_t index);
const struct stor_portal *stor_portal_next(uint32_t after);
uint32_t stor_portal_next_index(void);
/* A new portal row: -ENODEV (module off), -EEXIST (index or address:port
 * taken), -EINVAL (host not numeric, port 0, storage not volatile or
 * nonVolatile).  Create persists a nonVolatile row first, then runs
 * `tgtadm --op new --mode portal`; the row turns active when tgt lists it,
 * and is removed (logged) if tgtadm refuses it. */
int stor_portal_validate(uint32_t index, const char *host, uint16_t port, int storage);
int stor_portal_create(uint32_t index, const char *host, uint16_t port, int storage);
/* Removes the row (and its persisted copy) and runs `--op delete --mode portal`. */
int stor_portal_destroy(uint32_t index);

/* Ends a target-side session: `--op delete --mode conn` for each of its
 * connections, asynchronously.  -ENODEV, -ENOENT. */
int stor_session_validate_end(uint32_t tid, uint32_t sid);
int stor_session_end(uint32_t tid, uint32_t sid);

/* The model update of one round (exposed for unit tests): replaces the
 * targets with those of show, sessions' counters from ctr; keeps per-target
 * counters monotonic. */
int stor_ingest_targets(const struct tgtc_show *show, const struct tgtc_counter *ctr, size_t nctr);
void stor_reset(void); /* drops every row (unit tests) */

#endif
