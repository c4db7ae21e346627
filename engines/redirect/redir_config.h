/* redir_config.h: the redirect engine's config section (redirect { }); the agent fills it in from its config file. */
#ifndef SA_ENGINES_REDIR_CONFIG_H
#define SA_ENGINES_REDIR_CONFIG_H

#include <stddef.h>

/* redirect { servers = ( ... ); }: a storage server behind the portal. */
struct sa_redir_server_cfg {
	char *name;
	char *address; /* numeric IPv4 or IPv6 */
	int port;
	int capacity;
	char *admin;     /* "up", "drain", "down", "spare" */
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
	char *fail_policy; /* "stay" or "move": a pinned resource when its server fails */
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
	char *auth;        /* "none" or "chap": what the portal asks of an initiator */
	int auth_lifetime; /* s: a CHAP pass covers later logins from that initiator and address */
	int weight_bytes, weight_commands, weight_cpu, weight_memory; /* server load terms (redir_params) */
	int threshold;                                                /* percent */
	int interval;                                                 /* s, 0 = no periodic rebalance */
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

#endif
