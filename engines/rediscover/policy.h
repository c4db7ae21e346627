/* policy.h: the rediscover engine's decision rules as pure functions: thresholds, hold time, cooldowns, hourly cap,
 * competing groups and the offender's alternative. */
#ifndef SA_ENGINES_REDISC_POLICY_H
#define SA_ENGINES_REDISC_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The seed's session metrics, numbered as SanRediscMetric in the MIB. */
enum redisc_metric {
	REDISC_M_TX_MAX = 1, /* KiB/s */
	REDISC_M_TX_MIN,     /* KiB/s */
	REDISC_M_TX_AVG,     /* KiB/s */
	REDISC_M_ERRORS,     /* errors per hour */
	REDISC_M_LATENCY,    /* microseconds */
	REDISC_M_NONE        /* a request or a manual trigger */
};
#define REDISC_NMETRICS 5

enum redisc_dir { REDISC_ABOVE = 1, REDISC_BELOW = 2 };
enum redisc_mode { REDISC_OFF = 1, REDISC_DRY_RUN = 2, REDISC_ACT = 3 };

struct redisc_threshold {
	uint32_t value;
	int dir; /* enum redisc_dir */
	int enabled;
};

struct redisc_policy {
	int mode; /* enum redisc_mode */
	uint32_t hold_s;
	uint32_t target_cooldown_s;
	uint32_t portal_cooldown_s;
	uint32_t max_moves_per_hour;
	uint32_t imbalance_pct; /* 50..100 */
	uint32_t age_out_s;
	struct redisc_threshold th[REDISC_NMETRICS]; /* [metric - 1] */
};

/* 0 or -EINVAL (a value out of the MIB's ranges). */
int redisc_policy_validate(const struct redisc_policy *p);

/* A session's metrics as last reported; have has bit (metric - 1) for
 * each metric some feedback gave. */
struct redisc_metrics {
	uint32_t v[REDISC_NMETRICS];
	unsigned int have;
};

/* The metrics outside their enabled thresholds: bit (metric - 1) each. */
unsigned int redisc_outside(const struct redisc_policy *p, const struct redisc_metrics *m);

/* Hysteresis of one session: when each metric went outside (0: inside). */
struct redisc_hold {
	uint64_t since_ms[REDISC_NMETRICS];
};

/* Takes one feedback's merged metrics at now_ms.  Returns the metric that
 * has stayed outside for the hold time (the first in metric order), with
 * its value in *value, or 0.  A metric that triggers starts its hold
 * again, so a session that stays bad triggers once per hold time, not
 * once per feedback. */
int redisc_hold_update(struct redisc_hold *h, const struct redisc_policy *p, const struct redisc_metrics *m,
                       uint64_t now_ms, uint32_t *value);
/* Seconds the oldest outside metric has been outside, 0 when none is. */
uint32_t redisc_hold_age(const struct redisc_hold *h, uint64_t now_ms);

/* Cooldowns and the hourly cap.  Times are wall-clock seconds: the
 * limiter is rebuilt from the decision history after a restart, so a
 * restart does not reopen the gates. */
enum redisc_verdict { REDISC_GO = 0, REDISC_SUPP_TARGET, REDISC_SUPP_PORTAL, REDISC_SUPP_CAP };

struct redisc_stamp {
	char *key; /* a target name, or a portal "ADDRESS:PORT" */
	time_t when;
};

struct redisc_limiter {
	struct redisc_stamp *targets, *portals; /* sorted by key */
	size_t ntargets, nportals, captargets, capportals;
	time_t *moves; /* ring of the last hour's move times, oldest first */
	size_t head, nmoves, capmoves;
};

/* Whether a decision for target over portal may go at now. */
int redisc_limit_check(const struct redisc_limiter *l, const struct redisc_policy *p, const char *target,
                       const char *portal, time_t now);
/* Notes a move (or a recorded dry-run decision) of target from portal to
 * new_portal (NULL: none chosen).  0 or -ENOMEM. */
int redisc_limit_note(struct redisc_limiter *l, const char *target, const char *portal, const char *new_portal,
                      time_t now);
/* Moves in the hour before now. */
size_t redisc_limit_moves(struct redisc_limiter *l, time_t now);
void redisc_limit_free(struct redisc_limiter *l);
const char *redisc_verdict_name(int verdict);

/* A competing group: the sessions over one portal of one target. */
struct redisc_member {
	const char *initiator;
	uint64_t bytes;       /* what the session moved (storage side) */
	unsigned int outside; /* redisc_outside() of the session */
};

struct redisc_judgement {
	size_t ninitiators; /* distinct initiators */
	/* Initiators by bytes, largest first (pointers into the members). */
	const char **order;
	uint64_t *bytes;
	int offender;           /* index into order, -1 none */
	unsigned int share_pct; /* the largest initiator's share of the bytes */
	int imbalance;          /* the seed's significant imbalance */
	int suffering;          /* some initiator other than the largest is outside a threshold */
};

/* Judges the group (seed 000 Fig. 2): two or more initiators share the
 * portal and one takes more than imbalance_pct of its bytes while
 * another's metric is outside its threshold: that one is the offender.
 * Sessions of one initiator count together.  0 or -ENOMEM; free with
 * redisc_judgement_free(). */
int redisc_judge(const struct redisc_policy *p, const struct redisc_member *m, size_t n, struct redisc_judgement *out);
void redisc_judgement_free(struct redisc_judgement *j);

/* What the storage name server knows about targets: their portals and the
 * initiators their discovery domains admit (none listed: every one). */
struct redisc_dir_target {
	const char *name;
	const char *const *portals; /* "ADDRESS:PORT" */
	size_t nportals;
	const char *const *initiators;
	size_t ninitiators;
};

enum redisc_alt_kind { REDISC_ALT_PORTAL = 1, REDISC_ALT_TARGET = 2 };

struct redisc_alt {
	int kind; /* enum redisc_alt_kind */
	const char *target;
	const char *portal;
};

/* The type-2 message's content for the offender: the same target at a
 * portal other than the old and the new one (the seed's interface 38), or
 * else another target its discovery domain admits, at such a portal (the
 * seed's target Y).  0, or -ENOENT when there is none. */
int redisc_pick_alternative(const struct redisc_dir_target *d, size_t n, const char *target, const char *old_portal,
                            const char *new_portal, const char *offender, struct redisc_alt *out);

#endif
