/* registry.c: the engine table's rows: which engines run, why not, and status events. */
#include "engines/registry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/bus.h"
#include "common/log.h"

const char *const sa_engine_names[SA_ENGINE_COUNT] = {
    [SA_ENGINE_DISCOVERY] = "discovery",   [SA_ENGINE_BALANCE] = "balance", [SA_ENGINE_REDIRECT] = "redirect",
    [SA_ENGINE_REDISCOVER] = "rediscover", [SA_ENGINE_CLUSTER] = "cluster",
};

/* Engines arrive with later issues; until an engine has ops its row says
 * "unavailable" with the reason, rather than pretending to run. */
static struct sa_engine sa_engines[SA_ENGINE_COUNT];
static int sa_engines_ready;

static struct cm_state *sa_engine_state;

void sa_engines_set_state(struct cm_state *st)
{
	sa_engine_state = st;
}

struct cm_state *sa_engines_state(void)
{
	return sa_engine_state;
}

void sa_engine_set_ops(int index, const struct sa_engine_ops *ops)
{
	struct sa_engine *e = sa_engine_get(index);

	if (e)
		e->ops = ops;
}

static void sa_engines_init(void)
{
	if (sa_engines_ready)
		return;
	for (int i = 0; i < SA_ENGINE_COUNT; i++) {
		sa_engines[i].index = i + 1;
		sa_engines[i].name = sa_engine_names[i];
		sa_engines[i].admin = SA_ADMIN_DOWN;
		sa_engines[i].oper = SA_OPER_DOWN;
		sa_engines[i].last_change = time(NULL);
	}
	sa_engines_ready = 1;
}

static const char *sa_oper_name(int oper)
{
	static const char *const names[] = {"?", "up", "down", "failed", "unavailable"};

	return oper >= 1 && oper <= 4 ? names[oper] : names[0];
}

static void sa_engine_changed(struct sa_engine *e, int admin, int oper, const char *err)
{
	if (e->admin == admin && e->oper == oper && strcmp(e->last_error, err) == 0)
		return;
	e->admin = admin;
	e->oper = oper;
	snprintf(e->last_error, sizeof(e->last_error), "%s", err);
	e->last_change = time(NULL);
	cm_log(CM_LOG_INFO, "engine", "%s: admin %s, oper %s%s%s", e->name, admin == SA_ADMIN_UP ? "up" : "down",
	       sa_oper_name(oper), err[0] ? ": " : "", err);
	bus_publish(BUS_ENGINES, e);
}

/* Brings one engine to the admin status wanted, running its ops if any. */
static void sa_engine_drive(struct sa_engine *e, int want, const struct sa_engine_config *cfg, int reload)
{
	char err[sizeof(e->last_error)] = "";
	int rc;

	if (want == SA_ADMIN_DOWN) {
		if (e->oper == SA_OPER_UP && e->ops && e->ops->stop)
			e->ops->stop();
		sa_engine_changed(e, want, SA_OPER_DOWN, "");
		return;
	}
	if (!e->ops) {
		sa_engine_changed(e, want, SA_OPER_UNAVAILABLE, "engine not implemented in this build");
		return;
	}
	if (reload && e->oper == SA_OPER_UP && e->ops->reload)
		rc = e->ops->reload(cfg ? cfg->section : NULL, err, sizeof(err));
	else
		rc = e->ops->start(cfg ? cfg->section : NULL, err, sizeof(err));
	if (rc < 0 && !err[0])
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	sa_engine_changed(e, want, rc < 0 ? SA_OPER_FAILED : SA_OPER_UP, rc < 0 ? err : "");
}

static int sa_engine_wanted(const struct sa_engine *e, const struct sa_engine_config *cfg)
{
	if (e->admin_override)
		return e->admin_override;
	return cfg && cfg->enabled ? SA_ADMIN_UP : SA_ADMIN_DOWN;
}

void sa_engines_apply(const struct sa_engine_config cfg[SA_ENGINE_COUNT])
{
	sa_engines_init();
	for (int i = 0; i < SA_ENGINE_COUNT; i++) {
		const struct sa_engine_config *c = cfg ? &cfg[i] : NULL;

		sa_engine_drive(&sa_engines[i], sa_engine_wanted(&sa_engines[i], c), c, 1);
	}
}

void sa_engines_stop_all(void)
{
	sa_engines_init();
	for (int i = 0; i < SA_ENGINE_COUNT; i++)
		sa_engine_drive(&sa_engines[i], SA_ADMIN_DOWN, NULL, 0);
}

struct sa_engine *sa_engine_get(int index)
{
	sa_engines_init();
	if (index < 1 || index > SA_ENGINE_COUNT)
		return NULL;
	return &sa_engines[index - 1];
}

int sa_engine_count(void)
{
	return SA_ENGINE_COUNT;
}

int sa_engine_validate_admin(int index, long admin)
{
	if (!sa_engine_get(index))
		return -ENOENT;
	if (admin != SA_ADMIN_UP && admin != SA_ADMIN_DOWN)
		return -EINVAL;
	return 0;
}

int sa_engine_set_admin(int index, int admin, const struct sa_engine_config cfg[SA_ENGINE_COUNT])
{
	struct sa_engine *e = sa_engine_get(index);
	int rc = sa_engine_validate_admin(index, admin);

	if (rc < 0)
		return rc;
	e->admin_override = admin;
	if (e->admin != admin)
		sa_engine_drive(e, admin, cfg ? &cfg[index - 1] : NULL, 0);
	return 0;
}
