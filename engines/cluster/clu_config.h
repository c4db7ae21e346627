/* clu_config.h: the cluster engine's config section (cluster { }); the agent fills it in from its file. */
#ifndef SA_ENGINES_CLU_CONFIG_H
#define SA_ENGINES_CLU_CONFIG_H

#include <stddef.h>

/* cluster { members = ( ... ); }: the fabric services database when there is no etcd: hosts and units. */
struct sa_clu_member_cfg {
	char *type;    /* "host" or "unit" */
	char *guid;    /* 16 hex digits */
	char *address; /* its agent, net-snmp peer spec "udp:ADDRESS:PORT" */
	char *name;    /* host: its initiator name; unit: a label */
	char *notify;  /* optional: its agent's trap receiver for sanCluCrtChanged, "udp:ADDRESS:PORT"; NULL: the
	                * address's host at port 162 */
};

struct sa_cluster_config {
	char *role;           /* "host" (an initiator host: uses what it owns) or "unit" (next to tgtd: applies ACLs) */
	char *guid;           /* this agent's GUID, 16 hex digits; "" derives it from the agent's engine ID */
	char *initiator_name; /* host role: this host's iSCSI initiator name (its CRT host row) */
	char *granularity;    /* "controller" (devices follow their controller) or "device" */
	int poll_interval;    /* s between probes of the units, 0 none */
	int sync_interval;    /* s between version checks of the peers, 0 only at start and on push */
	int ownership_grace;  /* s a host keeps sessions to what it no longer owns */
	int enforce_acl;      /* unit role: bind tgt targets to their owners' initiator names */
	char **acl_always;    /* unit role: initiator names always bound (the unit's own probe, for INQUIRY) */
	size_t nacl_always;
	char *state_key; /* prefix of its keys in the agent's state file; default "cluster" */
	struct sa_clu_member_cfg *members;
	size_t nmembers;
	/* SNMPv3 user (SHA/AES authPriv) the agent reads and informs peers as; each peer's snmpd and trap receiver
	 * know it.  No user: no sync (the table stays local). */
	struct {
		int present;
		char *name;
		char *auth_passphrase; /* secret */
		char *priv_passphrase; /* secret */
	} peer_user;
	/* trap receiver v3 users whose sanCluCrtChanged informs are accepted (others are dropped and counted) */
	char **sync_users;
	size_t nsync_users;
	/* etcd = { endpoints = [ ... ]; cluster = "..."; }: etcd is the fabric services database (the seed's central
	 * variant) instead of the peer sync: membership and the CRT live under /sanagent/cluster/<cluster>/, the etcd
	 * revision of the CRT is its version, a change is a transaction on the revision it was made against. */
	struct {
		int present;
		char **endpoints; /* "http://HOST:PORT" of the etcd v3 JSON gateway */
		size_t nendpoints;
		char *cluster;
	} etcd;
};

#endif
