/* registry.h: the engines known to the agent, their admin/oper status and status events. */
#ifndef SA_ENGINES_REGISTRY_H
#define SA_ENGINES_REGISTRY_H

#include <stddef.h>
#include <time.h>

/* The engines, in engine table order (row index = id + 1). */
enum sa_engine_id {
	SA_ENGINE_DISCOVERY = 0,
	SA_ENGINE_BALANCE,
	SA_ENGINE_REDIRECT,
	SA_ENGINE_REDISCOVER,
	SA_ENGINE_CLUSTER,
	SA_ENGINE_COUNT
};

/* Engine names, also their section names in the config file; indexed by enum sa_engine_id. */
extern const char *const sa_engine_names[SA_ENGINE_COUNT];

enum sa_admin { SA_ADMIN_UP = 1, SA_ADMIN_DOWN = 2 };
/* unavailable: admin up, but this build has no implementation of the engine. */
enum sa_oper { SA_OPER_UP = 1, SA_OPER_DOWN = 2, SA_OPER_FAILED = 3, SA_OPER_UNAVAILABLE = 4 };

/* section is the engine's own config section (struct sa_discovery_config
 * for discovery, ...), handed through untouched: the registry knows neither
 * the engines' settings nor the agent's config file. */
struct sa_engine_ops {
	/* start/reload return 0 or -errno and may set an error text. */
	int (*start)(const void *section, char *err, size_t errlen);
	int (*reload)(const void *section, char *err, size_t errlen);
	void (*stop)(void);
};

/* What the config says about one engine (subagent/core.c fills these in). */
struct sa_engine_config {
	int enabled;         /* the section is present and not "enabled = false" */
	const void *section; /* the engine's own section; NULL for an engine without settings */
};

struct sa_engine {
	int index; /* stable 1-based row index == enum sa_engine_id + 1 */
	const char *name;
	const struct sa_engine_ops *ops; /* NULL until the engine is built */
	int admin;                       /* enum sa_admin */
	int admin_override;              /* 0 = follow config, else the admin status SET over SNMP */
	int oper;                        /* enum sa_oper */
	char last_error[256];
	time_t last_change;
};

/* Applies cfg: engines whose section is present (and not overridden down)
 * start, the others stop.  Used at start and on reload. */
void sa_engines_apply(const struct sa_engine_config cfg[SA_ENGINE_COUNT]);
void sa_engines_stop_all(void);

struct sa_engine *sa_engine_get(int index); /* NULL when out of range */
int sa_engine_count(void);

/* Admin status SET over SNMP: validate first (RESERVE1), then set (COMMIT). */
int sa_engine_validate_admin(int index, long admin);
int sa_engine_set_admin(int index, int admin, const struct sa_engine_config cfg[SA_ENGINE_COUNT]);

/* Engines built into this binary hand their ops to the registry at start
 * (the glue does it, so the registry does not depend on every engine). */
void sa_engine_set_ops(int index, const struct sa_engine_ops *ops);

/* The persistent state that engines store their nonVolatile rows in
 * (NULL when the state file could not be opened). */
struct cm_state;
void sa_engines_set_state(struct cm_state *st);
struct cm_state *sa_engines_state(void);

/* After any admin/oper change of an engine, the struct sa_engine is
 * published on BUS_ENGINES (common/bus.h). */

#endif
