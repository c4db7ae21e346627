/* acl.c: ownership takes effect in the unit's tgt: each local target lets in its owners' initiator names and the
 * configured acl_always names, nobody else (tgtadm bind/unbind through iscsi/tgtctl, asynchronously).  tgt has no
 * per-initiator LUN masking: ownership below target level is enforced on the hosts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "engines/cluster/clu_probe.h"
#include "iscsi/tgtctl.h"

#define TAG CLU_TAG
#define DEFAULT_INTERVAL_S 10

static const char acl_owner; /* our tgtadm jobs */

static struct {
	int running;
	int control;
	int sub;
	unsigned int timer;
	int busy, again; /* a round runs; another is due right after it */
	int cmds;        /* bind/unbind commands of the round still running */
	char **always;
	size_t nalways;
	struct clu_acl_counters ctr;
	int warned_unit;
} acl;

void clu_acl_tgt_control(int control)
{
	acl.control = control;
}

void clu_acl_counters_get(struct clu_acl_counters *out)
{
	*out = acl.ctr;
}

/* ---- what a target should let in ---- */

struct want {
	const char **names;
	size_t n, cap;
};

static int want_add(struct want *w, const char *name)
{
	if (!name || !name[0])
		return 0;
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->names[i], name) == 0)
			return 0;
	if (cm_grow(&w->names, &w->cap, w->n, sizeof(*w->names), 8) < 0)
		return -ENOMEM;
	w->names[w->n++] = name;
	return 0;
}

static int want_has(const struct want *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->names[i], name) == 0)
			return 1;
	return 0;
}

/* This unit's CRT row: the unit row with our GUID (NULL: not in the CRT yet). */
static const struct clu_res *unit_row(void)
{
	uint8_t g[8];
	const struct clu_res *r;

	clu_self_guid(g);
	r = clu_res_find_guid(g, sizeof(g));
	return r && r->type == CLU_UNIT ? r : NULL;
}

/* The names target iqn admits: always, plus its owners' when this unit's controller row has it allocated. */
static int target_want(const struct clu_res *unit, const char *iqn, char *const *always, size_t nalways, struct want *w)
{
	const struct clu_res *c = unit ? clu_res_find_name(CLU_CONTROLLER, iqn) : NULL;
	int rc = 0;

	for (size_t i = 0; i < nalways && rc == 0; i++)
		rc = want_add(w, always[i]);
	if (!c || c->parent != unit->index || c->ownership == CLU_UNALLOCATED)
		return rc;
	for (size_t i = 0; i < c->nowners && rc == 0; i++) {
		const struct clu_res *h = clu_res_get(c->owners[i]);

		if (h && h->type == CLU_HOST)
			rc = want_add(w, h->name);
	}
	return rc;
}

int clu_acl_plan(const struct clu_res *unit, const struct tgtc_target_info *t, char *const *always, size_t nalways,
                 clu_acl_emit emit, void *arg)
{
	struct want w = {0};
	int rc = target_want(unit, t->name, always, nalways, &w);

	if (rc < 0) {
		free(w.names);
		return rc;
	}
	/* Binds first: an owner is not shut out between the two. */
	for (size_t i = 0; i < w.n; i++) {
		int have = 0;

		for (size_t k = 0; k < t->nacls && !have; k++)
			have = strcmp(t->acls[k].rule, w.names[i]) == 0;
		if (!have)
			emit(t->tid, 1, 1, w.names[i], arg);
	}
	for (size_t i = 0; i < t->nacls; i++) {
		const char *r = t->acls[i].rule;

		/* ALL would let anybody in; initiator names not wanted go.  Address rules are the administrator's. */
		if (strcmp(r, "ALL") == 0)
			emit(t->tid, 0, 0, r, arg);
		else if (tgtc_acl_is_name(r) && !want_has(&w, r))
			emit(t->tid, 0, 1, r, arg);
	}
	free(w.names);
	return 0;
}

/* ---- a round: show, then the bind/unbind commands, all asynchronous ---- */

static void round_start(void);

static void round_end(void)
{
	acl.busy = 0;
	if (acl.again && acl.running) {
		acl.again = 0;
		round_start();
	}
}

struct cmd {
	uint32_t tid;
	int bind, by_name;
	char rule[TGTC_NAME_MAX];
	struct cmd *next;
};

/* The round's unbinds, held until its binds have ended: tgtctl runs several tgtadm children at once, so two
 * commands started together may reach tgtd in either order, and an unbind of ALL that overtook the bind of an
 * owner (or of the storage engine's probe initiator) would shut it out in between. */
static struct cmd *deferred, **deferred_tail = &deferred;

static void cmds_free(void)
{
	while (deferred) {
		struct cmd *c = deferred;

		deferred = c->next;
		free(c);
	}
	deferred_tail = &deferred;
}

static void cmd_launch(struct cmd *c);

/* One command of the round ended: when none is left, the held unbinds go, or the round ends. */
static void cmd_ended(void)
{
	if (--acl.cmds > 0)
		return;
	if (!deferred) {
		round_end();
		return;
	}
	acl.cmds++; /* as in show_done: commands ending during the loop cannot end the round early */
	while (deferred) {
		struct cmd *c = deferred;

		deferred = c->next;
		cmd_launch(c);
	}
	deferred_tail = &deferred;
	cmd_ended();
}

static void cmd_done(void *arg, int rc, const char *out, size_t len)
{
	struct cmd *c = arg;

	(void)out;
	(void)len;
	if (rc < 0 && rc != -ECANCELED) {
		acl.ctr.failures++;
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d %s tid %u %s: %s", acl.control, c->bind ? "bind" : "unbind",
		       (unsigned int)c->tid, c->rule, strerror(-rc));
	}
	free(c);
	if (rc != -ECANCELED)
		cmd_ended();
}

static void cmd_launch(struct cmd *c)
{
	int bind = c->bind;

	cm_log(CM_LOG_INFO, TAG, "tgt tid %u: %s %s", (unsigned int)c->tid, bind ? "bind" : "unbind", c->rule);
	/* Counted before the start: a command that cannot start ends (cmd_done, c freed) before tgtc_acl returns. */
	acl.cmds++;
	if (tgtc_acl(acl.control, &acl_owner, cmd_done, c, c->tid, bind, c->by_name, c->rule) < 0) {
		acl.cmds--;
		acl.ctr.failures++;
		free(c);
		return;
	}
	if (bind)
		acl.ctr.binds++;
	else
		acl.ctr.unbinds++;
}

/* clu_acl_plan's emit: binds start now, unbinds wait for them (deferred, above). */
static void cmd_start(uint32_t tid, int bind, int by_name, const char *rule, void *arg)
{
	struct cmd *c = calloc(1, sizeof(*c));

	(void)arg;
	if (!c) {
		acl.ctr.failures++;
		return;
	}
	c->tid = tid;
	c->bind = bind;
	c->by_name = by_name;
	snprintf(c->rule, sizeof(c->rule), "%s", rule);
	if (bind) {
		cmd_launch(c);
		return;
	}
	*deferred_tail = c;
	deferred_tail = &c->next;
}

static void show_done(void *arg, int rc, const char *out, size_t len)
{
	struct tgtc_show sh;
	const struct clu_res *unit;

	(void)arg;
	if (rc == -ECANCELED)
		return;
	if (rc == 0)
		rc = tgtc_parse_show_full(out, len, &sh);
	if (rc < 0) {
		acl.ctr.failures++;
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d --op show: %s: target ACLs not applied", acl.control,
		       strerror(-rc));
		round_end();
		return;
	}
	acl.ctr.rounds++;
	unit = unit_row();
	if (!unit && sh.ntargets && !acl.warned_unit++)
		cm_log(CM_LOG_NOTICE, TAG, "this unit is not in the CRT yet: its targets admit only acl_always");
	if (unit)
		acl.warned_unit = 0;
	/* One extra count so that commands ending during the loop cannot end the round early. */
	acl.cmds++;
	for (size_t i = 0; i < sh.ntargets; i++)
		if (clu_acl_plan(unit, &sh.targets[i], acl.always, acl.nalways, cmd_start, NULL) < 0)
			acl.ctr.failures++;
	tgtc_show_free(&sh);
	cmd_ended();
}

static void round_start(void)
{
	if (!acl.running)
		return;
	if (acl.busy) {
		acl.again = 1;
		return;
	}
	acl.busy = 1;
	acl.cmds = 0;
	if (tgtc_run(acl.control, &acl_owner, show_done, NULL, "--lld", "iscsi", "--op", "show", "--mode", "target",
	             (char *)NULL) < 0)
		acl.busy = 0;
}

static void on_event(int topic, const void *event, void *arg)
{
	const struct clu_event *e = event;

	(void)topic;
	(void)arg;
	if (e->type == CLU_EV_CHANGED)
		round_start();
}

static void on_timer(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	round_start();
}

void clu_acl_stop(void)
{
	if (acl.sub > 0)
		bus_unsubscribe(acl.sub);
	acl.sub = 0;
	if (acl.timer)
		cm_ev_cancel(acl.timer);
	acl.timer = 0;
	tgtc_cancel(&acl_owner);
	cmds_free();
	for (size_t i = 0; i < acl.nalways; i++)
		free(acl.always[i]);
	free(acl.always);
	acl.always = NULL;
	acl.nalways = 0;
	acl.busy = acl.again = acl.cmds = 0;
	acl.running = 0;
}

int clu_acl_start(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	int interval = c->poll_interval > 0 ? c->poll_interval : DEFAULT_INTERVAL_S;

	clu_acl_stop();
	if (!c->role || strcmp(c->role, "unit") != 0 || !c->enforce_acl)
		return 0;
	if (c->nacl_always && !(acl.always = calloc(c->nacl_always, sizeof(*acl.always))))
		goto nomem;
	for (size_t i = 0; i < c->nacl_always; i++) {
		if (!(acl.always[i] = strdup(c->acl_always[i])))
			goto nomem;
		acl.nalways++;
	}
	acl.warned_unit = 0;
	if ((acl.sub = bus_subscribe(BUS_CLUSTER, on_event, NULL)) < 0 ||
	    !(acl.timer = cm_ev_timer((unsigned int)interval * 1000u, 1, on_timer, NULL)))
		goto nomem;
	acl.running = 1;
	cm_log(CM_LOG_INFO, TAG, "target ACLs from the CRT in tgtd -C %d (%zu names always admitted), every %d s",
	       acl.control, acl.nalways, interval);
	round_start();
	return 0;
nomem:
	clu_acl_stop();
	snprintf(err, errlen, "acl: out of memory");
	return -ENOMEM;
}
