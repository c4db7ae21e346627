/* redisc_config.h: the rediscover engine's config section (rediscover { }); the agent fills it in from its file. */
#ifndef SA_ENGINES_REDISC_CONFIG_H
#define SA_ENGINES_REDISC_CONFIG_H

#include <stddef.h>

/* rediscover { thresholds = ( ... ); }: one metric's threshold. */
struct sa_redisc_threshold_cfg {
	char *metric;    /* "tx_rate_max", "tx_rate_min", "tx_rate_avg", "error_rate", "latency" */
	int value;       /* in the metric's units (KiB/s, errors per hour, microseconds) */
	char *direction; /* "above", "below" */
};

struct sa_rediscover_config {
	char *mode;             /* "off", "dry-run", "act" */
	int hold_time;          /* s a metric must stay outside its threshold */
	int target_cooldown;    /* s between two decisions for one target */
	int portal_cooldown;    /* s between two decisions for one portal */
	int max_moves_per_hour; /* global cap */
	int imbalance_share;    /* percent of a portal's bytes that makes the largest initiator the offender */
	int session_age_out;    /* s a known session may go unreported */
	int history;            /* decision rows kept */
	int agent_port;         /* UDP port of learned initiator agents' trap receivers */
	/* SNMPv3 users (of the trap receiver) whose notifications count as
	 * feedback; storage_users' feedback also vouches that a session exists. */
	char **feedback_users;
	size_t nfeedback_users;
	char **storage_users;
	size_t nstorage_users;
	struct sa_redisc_threshold_cfg *thresholds;
	size_t nthresholds;
	char **pool; /* replacement portals, "ADDRESS" or "ADDRESS:PORT" ("[V6]:PORT") */
	size_t npool;
};

#endif
