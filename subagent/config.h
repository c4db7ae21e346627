/* config.h: the agent's libconfig file, validated against a schema into a plain struct. */
#ifndef SA_CONFIG_H
#define SA_CONFIG_H

#include <stddef.h>

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
	char *auth_protocol; /* "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512" */
	char *auth_passphrase; /* secret: never logged */
	char *priv_protocol; /* "" (authNoPriv), "DES", "AES" */
	char *priv_passphrase; /* secret: never logged */
	char *engine_id; /* hex, sender's engine for v3 traps; "" accepts informs only */
};

struct sa_config {
	char *path;

	/* agent { } */
	char *agentx_socket; /* "" = net-snmp default */
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
};

/* Loads and validates path.  On error returns a negative errno and writes
 * "file:line: message" into err (the line of the offending setting; line 0
 * when the file cannot be read at all).  *out is only set on success. */
int sa_config_load(const char *path, struct sa_config **out, char *err, size_t errlen);
void sa_config_free(struct sa_config *cfg);

#endif
