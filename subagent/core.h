/* core.h: what sanagentd and the dlmod plug-in share: config, state, start-up and reload. */
#ifndef SA_CORE_H
#define SA_CORE_H

#include <time.h>

#include "subagent/config.h"
#include "common/state.h"

struct sa_core {
	struct sa_config *cfg;  /* config in force */
	struct cm_state *state; /* persistent rows, NULL if it could not be opened */
	time_t start_time;
	char *config_path; /* absolute path of the config file; reload re-reads it */
};

extern struct sa_core sa_core;

/* Registers handlers, opens state, starts the trap receiver and engines.
 * Takes ownership of cfg.  Returns 0 or -errno. */
int sa_core_start(struct sa_config *cfg);

/* Re-reads the config file.  A valid config is applied and announced with
 * sanAgentConfigReloaded; an invalid one is logged with file:line and the
 * old config stays in force.  Returns 0 or -errno. */
int sa_core_reload(void);

/* Sends sanAgentStop, stops engines and receiver, closes state. */
void sa_core_stop(void);
/* After sa_core_stop(), when the code itself goes (dlmod unload): stops the
 * notifications and the session clock and unregisters every handler. */
void sa_core_unregister(void);

/* Admin status SET over SNMP (ACTION phase): persists the override as
 * "engine.<name>.admin" and applies it.  Returns 0 or -errno; on error
 * nothing changed. */
int sa_core_set_engine_admin(int index, int admin);

/* Persists the state now (COMMIT phase of a SET).  Returns 0 or -errno. */
int sa_core_commit_state(void);

#endif
