/* disc_config.h: the discovery engine's config section (discovery { }); the agent fills it in from its config file. */
#ifndef SA_ENGINES_DISC_CONFIG_H
#define SA_ENGINES_DISC_CONFIG_H

#include <stddef.h>

/* discovery { scan = ( ... ); }: one subnet to sweep for portals. */
struct sa_disc_scan_cfg {
	char *cidr; /* IPv4 prefix, /16 or longer */
	int *ports; /* none given = 3260 */
	size_t nports;
	int concurrency; /* connects in flight */
	int timeout_ms;  /* connect timeout per address */
};

struct sa_discovery_config {
	char *initiator_name; /* sent in discovery logins */
	char **portals;       /* SendTargets portals, "ADDR:PORT" */
	size_t nportals;
	char **isns; /* iSNS servers, "ADDR:PORT" */
	size_t nisns;
	int interval;         /* s between rediscoveries */
	int age_out;          /* s a target or portal may go unseen before it is dropped */
	int timeout_ms;       /* a whole SendTargets exchange */
	int max_reply;        /* bytes of one SendTargets reply */
	int max_data_segment; /* MaxRecvDataSegmentLength declared in discovery sessions */
	struct sa_disc_scan_cfg *scan;
	size_t nscan;
	/* Discovery CHAP for every SendTargets exchange ("" user = none); the
	 * target_* pair is mutual CHAP (the target's name and secret). */
	char *chap_user;
	char *chap_secret; /* secret: never logged */
	char *chap_target_user;
	char *chap_target_secret; /* secret: never logged */
	int isns_scn_port;        /* TCP port iSNS state change notifications arrive on, 0 = any free one */
	char *isns_scn_address;   /* where the SCN listener binds, "" = our address towards the first iSNS server */
	int isns_scn_idle;        /* s an SCN connection may stay silent */
	/* Connections (logins, CHAP credential rows, sessions table). */
	int chap_secret_min, chap_secret_max; /* bytes a credential's secret may have */
	char *login_initiator_name;           /* InitiatorName of data-plane logins */
	int session_window;                   /* s of the sliding window behind the session metrics */
	/* SNMPv3 users of the trap receiver whose sanRediscover and
	 * sanRediscoverAlternative this initiator obeys (a name server's
	 * agent); from anyone else they are dropped and counted. */
	char **rediscover_users;
	size_t nrediscover_users;
	int feedback_interval; /* s between two sanSessionFeedback of each session to the name server; 0 = off */
};

#endif
