/* receiver.h: the incoming SNMP notification receiver and its counters. */
#ifndef SA_TRAPS_RECEIVER_H
#define SA_TRAPS_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/trap.h"

/* trap_receiver { communities = ( ... ); }: a v2c community and where it is accepted from. */
struct sa_trap_community {
	char *community; /* secret: never logged */
	/* CIDR prefixes ("127.0.0.0/8", "::1/128") the community is accepted from. */
	char **sources;
	size_t nsources;
};

/* trap_receiver { users = ( ... ); }: an SNMPv3 user traps and informs may come from. */
struct sa_trap_user {
	char *name;
	char *auth_protocol;   /* "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512" */
	char *auth_passphrase; /* secret: never logged */
	char *priv_protocol;   /* "" (authNoPriv), "DES", "AES" */
	char *priv_passphrase; /* secret: never logged */
	char *engine_id;       /* hex, sender's engine for v3 traps; "" accepts informs only */
};

/* trap_receiver { }: the receiver's config section; the agent fills it in from its config file. */
struct sa_trap_receiver_config {
	int enabled;  /* the section is present */
	char *listen; /* net-snmp transport spec, e.g. "udp:127.0.0.1:1162" */
	struct sa_trap_community *communities;
	size_t ncommunities;
	struct sa_trap_user *users;
	size_t nusers;
};

/* Starts (or restarts with the new settings) the receiver described by cfg;
 * stops it when cfg->enabled is 0.  Returns 0 or -errno. */
int sa_trap_receiver_apply(const struct sa_trap_receiver_config *cfg, char *err, size_t errlen);
void sa_trap_receiver_stop(void);
const struct cm_trap_counters *sa_trap_receiver_counters(void);

#endif
