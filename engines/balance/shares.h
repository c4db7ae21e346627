/* shares.h: seed 002 load balancing: static LoadBalancingValue, dynamic share adjustment, reference selectors. */
#ifndef BAL_SHARES_H
#define BAL_SHARES_H

#include <stdint.h>

#define BAL_MAX_PATHS 16

enum bal_dir { BAL_READ = 0, BAL_WRITE = 1 };

enum bal_algo {
	BAL_ALGO_STATIC = 1,      /* seed 002 [0022]-[0026] */
	BAL_ALGO_DYNAMIC = 2,     /* seed 002 [0027]-[0036]: static selection, shares adjusted every interval */
	BAL_ALGO_ROUND_ROBIN = 3, /* reference selectors, for comparison */
	BAL_ALGO_QUEUE_LENGTH = 4,
	BAL_ALGO_SERVICE_TIME = 5,
};

enum bal_mode {
	BAL_MODE_FAILOVER = 1,    /* one primary carries all I/O, the others stand by */
	BAL_MODE_FAILOVER_LB = 2, /* every healthy path carries I/O by share */
};

/* What the selector needs to know of one path.
 *
 * The data plane sets usable, primary and (through bal_set_shares) the
 * shares.  Everything below "counters" is kept by bal_account() and
 * bal_complete(); the data plane must not add to these fields itself or it
 * counts twice.  See the block comment at the top of shares.c for why the
 * dynamic algorithm needs pending[] and not completed bytes. */
struct bal_path {
	int usable;                /* logged in, healthy, not failed over */
	int primary;               /* the failover-mode primary */
	unsigned int share[2];     /* LoadBalancingShare per direction, percent (live; dynamic LB moves it) */
	unsigned int cfg_share[2]; /* the administrator's shares, restored when going back to static */
	/* counters */
	uint64_t bytes[2];          /* DataPathBytes per direction since the shares last changed */
	uint64_t interval_bytes[2]; /* dynamic LB: sum of pending[] sampled at each dispatch this interval */
	uint64_t pending[2];        /* bytes assigned to this path and not completed, per direction */
	unsigned int inflight;      /* commands outstanding (queue-length selector) */
	uint64_t inflight_bytes;
	uint64_t ewma_service_ns; /* smoothed command service time (service-time selector) */
};

struct bal_team {
	unsigned int npaths;
	struct bal_path path[BAL_MAX_PATHS];
	int mode;             /* enum bal_mode */
	int algo;             /* enum bal_algo */
	unsigned int rr_next; /* round-robin cursor */
};

struct bal_dynamic {
	unsigned int timer_interval_ms; /* TimerInterval */
	unsigned int change_threshold;  /* ChangeThreshold, percentage points */
	unsigned int lb_change_pct;     /* LBChange%, percentage points moved per adjustment */
};

/* Picks the path for a command of len bytes in direction dir and returns
 * its index, or -1 when no path is usable.  Does not account the bytes:
 * call bal_account() once the command is assigned to the path. */
int bal_select(struct bal_team *t, int dir, uint32_t len);
/* A command of len bytes was assigned to path: counts DataPathBytes, the
 * in-flight numbers and pending[dir]; under BAL_ALGO_DYNAMIC it first adds
 * every path's pending[dir] to its interval_bytes[dir] (the sample). */
void bal_account(struct bal_team *t, int path, int dir, uint32_t len);
/* The command finished on path (or was withdrawn from it to be re-issued
 * elsewhere: pass service_ns 0 so it does not feed the service-time EWMA). */
void bal_complete(struct bal_team *t, int path, int dir, uint32_t len, uint64_t service_ns);
/* An extra congestion sample for direction dir (e.g. from a timer when the
 * dispatch rate is too low to sample often enough).  Optional. */
void bal_sample(struct bal_team *t, int dir);

/* Seed 002's LoadBalancingValue of one path, floor((TotalTeamBytes /
 * DataPathBytes) * share), UINT64_MAX when it is infinite (no bytes yet and
 * share > 0), 0 when the share is 0.  For display and tests: bal_select()
 * compares exact cross-products instead, never these rounded values. */
uint64_t bal_lbv(const struct bal_team *t, int dir, unsigned int path);

/* The path carrying all I/O of direction dir when failover is in effect
 * (mode FAILOVER, a share of 100, or a single usable path), else -1 (load
 * balancing in effect, or nothing usable). */
int bal_failover_path(const struct bal_team *t, int dir);

/* 0 if shares[0..n-1] are each 0..100 and sum to 100, else -EINVAL. */
int bal_validate_shares(const unsigned int *shares, unsigned int n);
/* Replaces one direction's shares (validated; live and configured) and
 * restarts the byte counts of that direction. */
int bal_set_shares(struct bal_team *t, int dir, const unsigned int *shares);

/* One TimerInterval tick of dynamic load balancing for direction dir:
 * computes ActualLBShare and DifferenceLB from that interval's bytes,
 * adjusts the shares, clears the interval counters.  Returns the number of
 * shares changed (0 when nothing moved) or -EINVAL.  actual[] (optional,
 * BAL_MAX_PATHS long) receives ActualLBShare per path, rounded. */
int bal_dynamic_tick(struct bal_team *t, const struct bal_dynamic *p, int dir, unsigned int *actual);

/* Recompute shares when switching between static and dynamic ([0036]):
 * dynamic starts from the current shares, static restores the configured
 * ones.  Counters restart either way. */
void bal_switch_algo(struct bal_team *t, int algo);

int bal_validate_dynamic(const struct bal_dynamic *p);

#endif
