/* clu_host.h: the host side of the cluster engine: ownership takes effect on this host's logins and teams. */
#ifndef SA_ENGINES_CLU_HOST_H
#define SA_ENGINES_CLU_HOST_H

#include <stdint.h>

#include "engines/cluster/cluster.h"

#define CLU_ALL_LUNS UINT32_MAX

/* What the host side needs from the login world, plugged in by subagent/ (engines never include each other). */
struct clu_host_ops {
	/* Ends every session to target (lun CLU_ALL_LUNS: any LUN) this host may no longer use; how many ended. */
	int (*end_sessions)(const char *target, uint32_t lun);
	/* Calls cb for each (target, LUN) this host has a session to, or is logging in to. */
	void (*sessions)(void (*cb)(const char *target, uint32_t lun, void *arg), void *arg);
	/* What this host may use changed (optional): logins waiting for a target try again, teams logged out by
	 * end_sessions log in again where the target is ours again. */
	void (*access_changed)(void);
};
void clu_host_ops_register(const struct clu_host_ops *ops); /* NULL unregisters */

/* Host role: follows the CRT (CLU_EV_CHANGED) and ends the sessions to what this host lost (clu_host_may_use_target
 * and _lun of cluster.h) after clu_ownership_grace() seconds, then publishes CLU_EV_OWNERSHIP_LOST (counted in
 * ownership_lost).  0 or -errno; a unit role does nothing. */
int clu_host_start(const struct sa_cluster_config *c);
void clu_host_stop(void);
/* A login or team to target was refused (counted in logins_refused). */
void clu_host_refused(const char *target);

#endif
