/* discovery.h: the discovery engine (seed 001): discovery sources, discovered targets and their portals, events. */
#ifndef SA_DISC_DISCOVERY_H
#define SA_DISC_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engines/registry.h"

/* Rows are kept sorted by stable indexes that are never reused while the
 * agent runs, so handlers answer GET/GETNEXT in O(log n). */

#define DISC_NAME_MAX 224 /* iSCSI names are at most 223 octets */
#define DISC_HOST_MAX 64

enum disc_mech { DISC_MECH_SENDTARGETS = 1, DISC_MECH_ISNS = 2, DISC_MECH_SCAN = 3 };
enum disc_src_status { DISC_SRC_PENDING = 1, DISC_SRC_OK = 2, DISC_SRC_UNREACHABLE = 3, DISC_SRC_FAILED = 4 };

/* Where discovery asks: a configured SendTargets portal, or a portal a
 * subnet scan found answering. */
struct disc_source {
	uint32_t index;
	int mechanism; /* enum disc_mech */
	int family;
	char host[DISC_HOST_MAX];
	uint16_t port;
	int status;        /* enum disc_src_status */
	uint32_t ntargets; /* targets in its last reply */
	time_t last_attempt, last_success;
	uint32_t attempts, failures;
	char last_error[128];
};

struct disc_portal {
	uint32_t index; /* within its target */
	int family;     /* AF_INET, AF_INET6 */
	char host[DISC_HOST_MAX];
	uint16_t port;
	uint16_t tpgt; /* 0 when the reply gave no TargetAddress */
	int mechanism;
	uint32_t source; /* the source that last reported it */
	time_t first_seen, last_seen;
};

struct disc_target {
	uint32_t index;
	char name[DISC_NAME_MAX];
	int mechanism;   /* the mechanism that first found it */
	uint32_t source; /* the source that last reported it */
	time_t first_seen, last_seen;
	struct disc_portal *portals; /* sorted by index */
	size_t nportals;
};

struct disc_counters {
	uint32_t sendtargets_ok, sendtargets_failed;
	uint32_t targets_found, targets_lost;
	uint32_t scans_completed, scan_probes;
	uint32_t last_scan_ms;
};

extern const struct sa_engine_ops disc_engine_ops;

/* Lookups.  *_next returns the first row after the given index (0 = from the start). */
const struct disc_source *disc_source_find(uint32_t index);
const struct disc_source *disc_source_next(uint32_t after);
const struct disc_target *disc_target_find(uint32_t index);
const struct disc_target *disc_target_next(uint32_t after);
const struct disc_target *disc_target_by_name(const char *name);
const struct disc_portal *disc_portal_find(const struct disc_target *t, uint32_t index);
const struct disc_portal *disc_portal_next(const struct disc_target *t, uint32_t after);
size_t disc_target_count(void);
size_t disc_source_count(void);
const struct disc_counters *disc_counters(void);

/* Starts a discovery round now (all sources and scans); 0 or -ENODEV when the engine is stopped. */
int disc_refresh(void);

/* Events published on BUS_DISCOVERY (common/bus.h), synchronously; a row named by a LOST/UNREACHABLE
 * event still exists during the call and is removed right after. */
enum disc_event_type {
	DISC_EV_TARGET_DISCOVERED = 1, /* a = target */
	DISC_EV_TARGET_LOST,           /* a = target, aged out */
	DISC_EV_PORTAL_UNREACHABLE,    /* a = source that stopped answering */
};
struct disc_event {
	int type;
	uint32_t a;
};

#endif
