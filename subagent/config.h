/* config.h: the agent's libconfig file, validated against a schema into a plain struct. */
#ifndef SA_CONFIG_H
#define SA_CONFIG_H

#include <stddef.h>

#include "engines/rediscover/redisc_config.h"

enum sa_engine_id {
	SA_ENGINE_DISCOVERY = 0,
	SA_ENGINE_BALANCE,
	SA_ENGINE_REDIRECT,
	SA_ENGINE_REDISCOVER,
	SA_ENGINE_CLUSTER,
	SA_ENGINE_COUNT
};

/* Section names in the config file, indexed by enum sa_engine_id. */
extern const char *const sa_engine_names[SA_ENGINE_COUNT];

struct sa_trap_community {
	char *community;
	/* CIDR prefixes ("127.0.0.0/8", "::1/128") the community is accepted from. */
	char **sources;
	size_t nsources;
};

struct sa_trap_user {
	char *name;
	char *auth_protocol;   /* "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512" */
	char *auth_passphrase; /* secret: never logged */
	char *priv_protocol;   /* "" (authNoPriv), "DES", "AES" */
	char *priv_passphrase; /* secret: never logged */
	char *engine_id;       /* hex, sender's engine for v3 traps; "" accepts informs only */
};

/* redirect { servers = ( ... ); }: a storage server behind the portal. */
struct sa_redir_server_cfg {
	char *name;
	char *address; /* numeric IPv4 or IPv6 */
	int port;
	int capacity;
	char *admin;     /* "up", "drain", "down" */
	int tgt_control; /* local tgtd control port, -1 = none */
	/* The server's own sanagent agent: its storage-side tables
	 * list the targets (resources) and their byte counters (loads). */
	char *agent;                 /* net-snmp peer spec, "" = none */
	char *agent_community;       /* secret: SNMPv2c reads */
	char *agent_user;            /* SNMPv3 user (SHA/AES authPriv) for reads without a community and for SETs */
	char *agent_auth_passphrase; /* secret */
	char *agent_priv_passphrase; /* secret */
};

/* redirect { resources = ( ... ); }: a target and where it starts. */
struct sa_redir_resource_cfg {
	char *target;
	char *server; /* "" = the engine places it */
	int pinned;
};

/* redirect { etcd = { ... }; }: redirectors sharing mapping and server states. */
struct sa_redir_etcd_cfg {
	int present;      /* 0 = no etcd: this redirector's state file is the only store */
	char **endpoints; /* "http://HOST:PORT" of the etcd v3 JSON gateway */
	size_t nendpoints;
	char *cluster; /* keys live under /sanagent/redirect/<cluster>/ */
	int lease_ttl; /* s: the leader's lease; a dead leader is replaced within about ttl + 1 s */
};

struct sa_redirect_config {
	char **listen; /* "ADDR:PORT" or "[V6]:PORT"; none given = 127.0.0.1:3260 */
	size_t nlisten;
	int permanent;
	int threshold; /* percent */
	int interval;  /* s, 0 = no periodic rebalance */
	int max_moves;
	int probe_interval_ms;
	int probe_timeout_ms;
	int load_interval; /* s */
	int max_connections;
	int max_per_source;
	int header_timeout; /* s */
	int login_timeout_ms;
	int max_data_segment;
	struct sa_redir_server_cfg *servers;
	size_t nservers;
	struct sa_redir_resource_cfg *resources;
	size_t nresources;
	struct sa_redir_etcd_cfg etcd;
};

/* balance { teams = ( { paths = ( ... ) } ) }: one path of a team. */
struct sa_bal_path_cfg {
	char *portal;                /* "ADDR:PORT" */
	char *iface;                 /* source interface, "" = any */
	int share_read, share_write; /* percent; all 0 in a direction = equal shares */
};

/* A multipath team to one LU, run by an nbdkit-sanpath process. */
struct sa_bal_team_cfg {
	char *name;
	char *target;
	int lun;
	char *mode; /* "failover", "lb" */
	char *algo; /* "static", "dynamic", "round-robin", "queue-length", "service-time" */
	int timer_interval_ms;
	int change_threshold;
	int lb_change;
	struct sa_bal_path_cfg *paths;
	size_t npaths;
};

struct sa_balance_config {
	char *run_dir;      /* unix sockets, shm segments and data-plane logs */
	char *nbdkit;       /* nbdkit executable (PATH is searched) */
	char *plugin;       /* nbdkit-sanpath-plugin.so */
	char **plugin_args; /* extra KEY=VALUE parameters for every team's plug-in */
	size_t nplugin_args;
	int poll_interval_ms;
	int shares_notify_interval; /* s between sanTeamSharesChanged of one team */
	struct sa_bal_team_cfg *teams;
	size_t nteams;
};

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
};

/* storage { }: the storage-side role next to a tgt target: its
 * portals, targets, LUNs and sessions, read and changed through tgtadm. */
struct sa_storage_config {
	int enabled;     /* the section is present */
	int tgt_control; /* tgtd's control port (tgtadm -C) */
	int interval;    /* s between reads of tgt's state */
};

struct sa_config {
	char *path;

	/* agent { } */
	char *agentx_socket;      /* "" = net-snmp default */
	int agentx_ping_interval; /* seconds between pings / reconnect attempts */
	char *state_file;
	char *pid_file;

	/* trap_receiver { }: absent section = receiver off */
	int trap_enabled;
	char *trap_listen; /* net-snmp transport spec, e.g. "udp:127.0.0.1:1162" */
	struct sa_trap_community *communities;
	size_t ncommunities;
	struct sa_trap_user *users;
	size_t nusers;

	/* one section per engine: absent = engine off */
	int engine_enabled[SA_ENGINE_COUNT];

	/* redirect { } */
	struct sa_redirect_config redirect;

	/* balance { } */
	struct sa_balance_config balance;

	/* discovery { } */
	struct sa_discovery_config discovery;

	/* storage { } */
	struct sa_storage_config storage;

	/* rediscover { } */
	struct sa_rediscover_config rediscover;
};

/* Loads and validates path.  On error returns a negative errno and writes
 * "file:line: message" into err (the line of the offending setting; line 0
 * when the file cannot be read at all).  *out is only set on success. */
int sa_config_load(const char *path, struct sa_config **out, char *err, size_t errlen);
void sa_config_free(struct sa_config *cfg);

#endif
