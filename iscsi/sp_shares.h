/* sp_shares.h: libsanpath's load balancing (seed 002): static LoadBalancingValue, dynamic share adjustment, reference
 * selectors.  Pure C: the agent's balance engine validates shares with it too. */
#ifndef SP_SHARES_H
#define SP_SHARES_H

#include <stdint.h>

#define SP_MAX_PATHS 16

enum sp_dir { SP_READ = 0, SP_WRITE = 1 };

enum sp_algo {
	SP_ALGO_STATIC = 1,      /* seed 002 [0022]-[0026] */
	SP_ALGO_DYNAMIC = 2,     /* seed 002 [0027]-[0036]: static selection, shares adjusted every interval */
	SP_ALGO_ROUND_ROBIN = 3, /* reference selectors, for comparison */
	SP_ALGO_QUEUE_LENGTH = 4,
	SP_ALGO_SERVICE_TIME = 5,
};

enum sp_mode {
	SP_MODE_FAILOVER = 1,    /* one primary carries all I/O, the others stand by */
	SP_MODE_FAILOVER_LB = 2, /* every healthy path carries I/O by share */
};

/* What the selector needs to know of one path.
 *
 * The data plane sets usable, primary and (through sp_lb_set_shares) the
 * shares.  Everything below "counters" is kept by sp_lb_account() and
 * sp_lb_complete(); the data plane must not add to these fields itself or it
 * counts twice.  See the block comment at the top of shares.c for why the
 * dynamic algorithm needs pending[] and not completed bytes. */
struct sp_lb_path {
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

struct sp_lb_team {
	unsigned int npaths;
	struct sp_lb_path path[SP_MAX_PATHS];
	int mode;             /* enum sp_mode */
	int algo;             /* enum sp_algo */
	unsigned int rr_next; /* round-robin cursor */
};

struct sp_lb_dynamic {
	unsigned int timer_interval_ms; /* TimerInterval */
	unsigned int change_threshold;  /* ChangeThreshold, percentage points */
	unsigned int lb_change_pct;     /* LBChange%, percentage points moved per adjustment */
};

/* Picks the path for a command of len bytes in direction dir and returns
 * its index, or -1 when no path is usable.  Does not account the bytes:
 * call sp_lb_account() once the command is assigned to the path. */
int sp_lb_select(struct sp_lb_team *t, int dir, uint32_t len);
/* A command of len bytes was assigned to path: counts DataPathBytes, the
 * in-flight numbers and pending[dir]; under SP_ALGO_DYNAMIC it first adds
 * every path's pending[dir] to its interval_bytes[dir] (the sample). */
void sp_lb_account(struct sp_lb_team *t, int path, int dir, uint32_t len);
/* The command finished on path (or was withdrawn from it to be re-issued
 * elsewhere: pass service_ns 0 so it does not feed the service-time EWMA). */
void sp_lb_complete(struct sp_lb_team *t, int path, int dir, uint32_t len, uint64_t service_ns);
/* An extra congestion sample for direction dir (e.g. from a timer when the
 * dispatch rate is too low to sample often enough).  Optional. */
void sp_lb_sample(struct sp_lb_team *t, int dir);

/* Seed 002's LoadBalancingValue of one path, floor((TotalTeamBytes /
 * DataPathBytes) * share), UINT64_MAX when it is infinite (no bytes yet and
 * share > 0), 0 when the share is 0.  For display and tests: sp_lb_select()
 * compares exact cross-products instead, never these rounded values. */
uint64_t sp_lb_lbv(const struct sp_lb_team *t, int dir, unsigned int path);

/* The path carrying all I/O of direction dir when failover is in effect
 * (mode FAILOVER, a share of 100, or a single usable path), else -1 (load
 * balancing in effect, or nothing usable). */
int sp_lb_failover_path(const struct sp_lb_team *t, int dir);

/* 0 if shares[0..n-1] are each 0..100 and sum to 100, else -EINVAL. */
int sp_lb_validate_shares(const unsigned int *shares, unsigned int n);
/* Replaces one direction's shares (validated; live and configured) and
 * restarts the byte counts of that direction. */
int sp_lb_set_shares(struct sp_lb_team *t, int dir, const unsigned int *shares);

/* One TimerInterval tick of dynamic load balancing for direction dir:
 * computes ActualLBShare and DifferenceLB from that interval's bytes,
 * adjusts the shares, clears the interval counters.  Returns the number of
 * shares changed (0 when nothing moved) or -EINVAL.  actual[] (optional,
 * SP_MAX_PATHS long) receives ActualLBShare per path, rounded. */
int sp_lb_dynamic_tick(struct sp_lb_team *t, const struct sp_lb_dynamic *p, int dir, unsigned int *actual);

/* Recompute shares when switching between static and dynamic ([0036]):
 * dynamic starts from the current shares, static restores the configured
 * ones.  Counters restart either way. */
void sp_lb_switch_algo(struct sp_lb_team *t, int algo);

int sp_lb_validate_dynamic(const struct sp_lb_dynamic *p);

#endif
