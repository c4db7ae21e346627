/* host.c: ownership takes effect on a host: a target (or LUN) this host does not own may not be logged in to,
 * and sessions to what it loses end after the grace period the administrator set. */
#include "engines/cluster/clu_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "engines/cluster/clu_int.h"

/* A (target, LUN) this host lost while it had a session to it: its sessions end when the timer fires. */
struct host_pending {
	char target[CLU_NAME_MAX];
	uint32_t lun;
	unsigned int timer;
};

static struct {
	int running;
	int sub; /* bus handle, 0: not subscribed */
	const struct clu_host_ops *ops;
	struct host_pending *pend;
	size_t npend;
} host;

void clu_host_ops_register(const struct clu_host_ops *ops)
{
	host.ops = ops;
}

/* The device row of LUN lun of controller row ctl, NULL when the CRT has none (it follows its controller). */
static const struct clu_res *device_of(uint32_t ctl, uint32_t lun)
{
	uint32_t i = 0;

	/* Devices sit right after their controller when rows are made by a probe, but an adopted table may order them
	 * otherwise: a scan is exact, and this runs for a login check or a CRT change, never per packet. */
	while (clu_res_next(i, &i) == 0) {
		const struct clu_res *r = clu_res_get(i);

		if (r && r->type == CLU_DEVICE && r->parent == ctl && r->number == lun)
			return r;
	}
	return NULL;
}

static int may_use(const char *target, uint32_t lun)
{
	int rc = clu_host_may_use_target(target);

	return rc < 0 || lun == CLU_ALL_LUNS ? rc : clu_host_may_use_lun(target, lun);
}

void clu_host_refused(const char *target)
{
	clu_m.ctr.logins_refused++;
	/* The refusing side logs why; this only counts. */
	cm_log(CM_LOG_DEBUG, CLU_TAG, "refused a login to %s: not owned by this host", target);
}

/* ---- losing a target ---------------------------------------------------------------------------------------- */

static struct host_pending *pending_find(const char *target, uint32_t lun)
{
	for (size_t i = 0; i < host.npend; i++)
		if (host.pend[i].lun == lun && strcmp(host.pend[i].target, target) == 0)
			return &host.pend[i];
	return NULL;
}

static void pending_remove(struct host_pending *p)
{
	size_t i = (size_t)(p - host.pend);

	cm_remove(host.pend, &host.npend, sizeof(*host.pend), i);
}

static void grace_over(unsigned int id, void *arg)
{
	struct host_pending *p = NULL, copy;
	struct clu_event ev = {.type = CLU_EV_OWNERSHIP_LOST};
	const struct clu_res *c, *d;
	int n;

	(void)arg;
	for (size_t i = 0; i < host.npend; i++)
		if (host.pend[i].timer == id)
			p = &host.pend[i];
	if (!p)
		return;
	copy = *p;
	pending_remove(p);
	if (may_use(copy.target, copy.lun) == 0) {
		cm_log(CM_LOG_INFO, CLU_TAG, "%s LUN %u is this host's again: its sessions stay", copy.target,
		       copy.lun);
		return;
	}
	n = host.ops && host.ops->end_sessions ? host.ops->end_sessions(copy.target, copy.lun) : 0;
	if (n <= 0)
		return; /* they ended meanwhile: nothing was taken from anyone */
	/* The row that says why: its device when the target is still this host's (only that LUN was lost), else the
	 * controller. */
	c = clu_res_find_name(CLU_CONTROLLER, copy.target);
	d = c && clu_host_may_use_target(copy.target) == 0 ? device_of(c->index, copy.lun) : NULL;
	ev.index = d ? d->index : c ? c->index : 0;
	clu_version_get(&ev.version);
	clu_m.ctr.ownership_lost++;
	cm_log(CM_LOG_NOTICE, CLU_TAG,
	       "%s LUN %u no longer owned by this host: %d session(s) ended after the grace period", copy.target,
	       copy.lun, n);
	bus_publish(BUS_CLUSTER, &ev);
}

static void check_one(const char *target, uint32_t lun, void *arg)
{
	struct host_pending *p;
	unsigned int grace_ms;

	(void)arg;
	if (may_use(target, lun) == 0 || pending_find(target, lun))
		return;
	if (!(p = realloc(host.pend, (host.npend + 1) * sizeof(*p)))) {
		cm_log(CM_LOG_ERR, CLU_TAG, "out of memory: sessions to %s stay", target);
		return;
	}
	host.pend = p;
	p = &host.pend[host.npend];
	memset(p, 0, sizeof(*p));
	snprintf(p->target, sizeof(p->target), "%s", target);
	p->lun = lun;
	/* The grace as it is now (sanCluOwnershipGrace may have been set).  Never from inside the bus callback, even
	 * without grace: the login world publishes on its own bus while it ends sessions. */
	grace_ms = clu_ownership_grace() > 0 ? (unsigned int)clu_ownership_grace() * 1000u : 0;
	if (!(p->timer = cm_ev_timer(grace_ms ? grace_ms : 1, 0, grace_over, NULL))) {
		cm_log(CM_LOG_ERR, CLU_TAG, "cannot schedule the end of the sessions to %s", target);
		return;
	}
	host.npend++;
	cm_log(CM_LOG_NOTICE, CLU_TAG, "%s LUN %u is no longer this host's: its sessions end in %u ms", target, lun,
	       grace_ms);
}

/* What this host has sessions to, against the table as it is now. */
static void host_scan(void)
{
	if (!host.ops)
		return;
	if (host.ops->sessions)
		host.ops->sessions(check_one, NULL);
	if (host.ops->access_changed)
		host.ops->access_changed();
}

static void on_cluster(int topic, const void *data, void *arg)
{
	const struct clu_event *ev = data;

	(void)topic;
	(void)arg;
	if (host.running && ev->type == CLU_EV_CHANGED)
		host_scan();
}

int clu_host_start(const struct sa_cluster_config *c)
{
	int rc;

	if (host.running)
		clu_host_stop();
	if (c->role && strcmp(c->role, "host") != 0)
		return 0;
	if ((rc = bus_subscribe(BUS_CLUSTER, on_cluster, NULL)) < 0)
		return rc;
	host.sub = rc;
	host.running = 1;
	/* Sessions made before the table was loaded are judged now. */
	host_scan();
	return 0;
}

void clu_host_stop(void)
{
	if (host.sub)
		bus_unsubscribe(host.sub);
	host.sub = 0;
	for (size_t i = 0; i < host.npend; i++)
		cm_ev_cancel(host.pend[i].timer);
	free(host.pend);
	host.pend = NULL;
	host.npend = 0;
	host.running = 0;
}
