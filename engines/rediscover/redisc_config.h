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

/* rediscover { storage_agents = ( ... ); }: a storage agent, the portals it serves and how to reach it.
 * Its session table is polled and its portal and session tables are written (act mode) over SNMPv3
 * authPriv (SHA/AES) as user. */
struct sa_redisc_storage_agent_cfg {
	char *peer;            /* net-snmp peer spec, e.g. "udp:203.0.113.3:161" */
	char *user;            /* SNMPv3 user */
	char *auth_passphrase; /* secret */
	char *priv_passphrase; /* secret */
	char **portals;        /* "ADDRESS:PORT" ("[V6]:PORT") it serves */
	size_t nportals;
	int poll_interval; /* s between polls of its session table, 0 none */
};

/* rediscover { initiator_agents = ( ... ); }: where an initiator's agent receives rediscovery messages. */
struct sa_redisc_initiator_agent_cfg {
	char *initiator; /* iSCSI name */
	char *address;   /* its trap receiver, "ADDRESS:PORT" ("[V6]:PORT") */
};

/* rediscover { targets = ( ... ); }: targets the name server may offer an offender instead of the one it
 * leaves (sanRediscoverAlternative otherTarget, the seed's target Y), with the initiators their discovery
 * domains admit (none listed: every one). */
struct sa_redisc_target_cfg {
	char *name;
	char **portals; /* "ADDRESS:PORT" */
	size_t nportals;
	char **initiators;
	size_t ninitiators;
};

struct sa_rediscover_config {
	char *mode;             /* "off", "dry-run", "act" */
	int hold_time;          /* s a metric must stay outside its threshold */
	int move_step_timeout;  /* ms a step of a move may take (the storage agent's answer, tgt listening, iSNS); 0 keeps
	                         * the current value */
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
	/* replacement portals, "ADDRESS", "ADDRESS:PORT" or "[V6]:PORT", each optionally followed by
	 * "@IFACE": the storage host's interface the address is added to when a portal moves there */
	char **pool;
	size_t npool;
	struct sa_redisc_storage_agent_cfg *storage_agents;
	size_t nstorage_agents;
	char *isns_server; /* "ADDRESS:PORT" of isnsd, "" none: act mode then leaves iSNS alone */
	char *isns_source; /* iSCSI name the agent registers as iSNS control node */
	struct sa_redisc_initiator_agent_cfg *initiator_agents;
	size_t ninitiator_agents;
	/* The SNMPv3 user (SHA/AES authPriv) the rediscovery messages are sent as; each initiator agent's
	 * trap receiver knows it.  No user: no messages (initiators learn from iSNS alone). */
	struct {
		int present;
		char *name;
		char *auth_passphrase; /* secret */
		char *priv_passphrase; /* secret */
	} message_user;
	struct sa_redisc_target_cfg *targets;
	size_t ntargets;
};

#endif
