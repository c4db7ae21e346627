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
#define DISC_ALIAS_MAX 256 /* TargetAlias: 255 octets and the NUL */

/* DISC_MECH_SCAN: a portal a scan found answering; DISC_MECH_RANGE: the scan itself (a range of addresses). */
enum disc_mech { DISC_MECH_SENDTARGETS = 1, DISC_MECH_ISNS = 2, DISC_MECH_SCAN = 3, DISC_MECH_RANGE = 4 };
enum disc_src_status { DISC_SRC_PENDING = 1, DISC_SRC_OK = 2, DISC_SRC_UNREACHABLE = 3, DISC_SRC_FAILED = 4 };
/* Who made a source: the config file (reloads own it), SNMP (persisted when nonvolatile), or a scan. */
enum disc_src_origin { DISC_ORIGIN_CONFIG = 1, DISC_ORIGIN_SNMP = 2, DISC_ORIGIN_SCAN = 3 };
/* What a source is doing now. */
enum disc_src_state { DISC_STATE_IDLE = 1, DISC_STATE_QUERYING = 2, DISC_STATE_SCANNING = 3, DISC_STATE_FAILED = 4 };
#define DISC_ISNS_PORT 3205
#define DISC_ISCSI_PORT 3260
/* A scan walks every address of its prefix: an IPv4 /16 at most (65,534 hosts). */
#define DISC_SCAN_MIN_PREFIX 16
/* Sources SNMP may create (each runs exchanges of its own). */
#define DISC_SNMP_SOURCES_MAX 256

/* What an operator gives a source (SNMP rows; config rows have the same shape). */
struct disc_source_spec {
	int mechanism;            /* DISC_MECH_SENDTARGETS, _ISNS or _RANGE */
	int family;               /* AF_INET or AF_INET6 */
	char host[DISC_HOST_MAX]; /* numeric; a range's network address */
	uint16_t port;            /* 0 = the mechanism's well-known port */
	unsigned int prefix;      /* a range's prefix length (16..32); 0 with local */
	int local;                /* a range 0.0.0.0/0 that means this host's own subnets */
	uint32_t cred;            /* sanCredIndex of the discovery sessions' CHAP, 0 = the default */
	int nonvolatile;          /* kept in the state file */
};

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
	/* runtime sources */
	int origin;          /* enum disc_src_origin */
	unsigned int prefix; /* ranges */
	int local;           /* ranges: this host's subnets */
	uint32_t cred;       /* 0 = default */
	int nonvolatile;
	uint32_t range; /* a scanned portal: the range source that found it */
	/* progress */
	int state;            /* enum disc_src_state */
	unsigned int percent; /* of a range's scan; 100 once a source's exchange ended */
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
	char alias[DISC_ALIAS_MAX]; /* as its iSNS registration gives it; "" = none known */
	int mechanism;              /* the mechanism that first found it */
	uint32_t source;            /* the source that last reported it */
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
/* The alias a target declared at login (TargetAlias), for its row; ignored for targets not discovered. */
void disc_target_set_alias(const char *name, const char *alias);
/* Asks one source again now (a range scans again): 0, -ENOENT, -ENODEV (engine stopped). */
int disc_source_refresh(uint32_t index);

/* ---- sources by SNMP: validate (no side effects), then the verbs; persist first, apply second ---- */
/* 0, -EAGAIN (the engine is not running), -EINVAL (a value never valid), -EDOM (values that disagree: an
 * address of the wrong type for the mechanism, a prefix on a portal, 0.0.0.0/0 without local), -EEXIST (the
 * same source exists), -ENOENT (no such credential), -ENOSPC (too many sources). */
int disc_source_validate(uint32_t index, const struct disc_source_spec *s);
/* Creates the row and starts discovering from the loop at once. */
int disc_source_create(uint32_t index, const struct disc_source_spec *s);
/* -EPERM for rows the config file or a scan owns. */
int disc_source_check_update(uint32_t index, uint32_t cred);
int disc_source_set_cred(uint32_t index, uint32_t cred);
int disc_source_check_destroy(uint32_t index);
/* Stops the source (a range: and the portals it found) and drops at once the targets no other source reported
 * (sanTargetLost). */
int disc_source_destroy(uint32_t index);
/* A free index for a new source. */
uint32_t disc_source_next_index(void);
/* Whether a source names the credential (it may not be destroyed then). */
int disc_source_uses_cred(uint32_t cred);

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
