/* config.h: the agent's libconfig file, validated against a schema into a plain struct; each engine's
 * section is that engine's own struct, declared in its own header. */
#ifndef SA_CONFIG_H
#define SA_CONFIG_H

#include <stddef.h>

#include "engines/balance/bal_config.h"
#include "engines/cluster/clu_config.h"
#include "engines/discovery/disc_config.h"
#include "engines/redirect/redir_config.h"
#include "engines/rediscover/redisc_config.h"
#include "engines/registry.h"
#include "engines/storage/stor_config.h"
#include "traps/receiver.h"

struct sa_config {
	char *path;

	/* agent { } */
	char *agentx_socket;      /* "" = net-snmp default */
	int agentx_ping_interval; /* seconds between pings / reconnect attempts */
	char *state_file;
	char *pid_file;
	int max_pending_rows; /* rows of one table created over SNMP but not active yet */
	int pending_row_age;  /* s such a row may go without a SET before it is dropped */

	/* trap_receiver { }: absent section = receiver off */
	struct sa_trap_receiver_config trap_receiver;

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

	/* cluster { } */
	struct sa_cluster_config cluster;
};

/* Loads and validates path.  On error returns a negative errno and writes
 * "file:line: message" into err (the line of the offending setting; line 0
 * when the file cannot be read at all).  *out is only set on success. */
int sa_config_load(const char *path, struct sa_config **out, char *err, size_t errlen);
void sa_config_free(struct sa_config *cfg);

#endif
