/* probe.c: the host's probe of the units (seed Fig. 5 block 520): each unit member's agent is asked, through the
 * injected asynchronous SNMP client, for its controllers (tgt targets) and devices (LUNs with their VPD 0x83
 * designators), and the answer is merged into the CRT.  A unit that does not answer changes nothing in the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/secret.h"
#include "engines/cluster/clu_probe.h"
#include "engines/cluster/clu_sync.h"

#define TAG CLU_TAG
#define FIRST_PROBE_MS 1000 /* the agent's SNMP client and the boot sync come first */
#define BOOT_WAIT_MS 500

/* SANAGENT-SESSION-MIB's sanSessionObjects (the storage agent's tables; mib_lint.sh checks the MIB's numbers). */
static const uint32_t stor_objects[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1};
#define OBJ_LEN (sizeof(stor_objects) / sizeof(stor_objects[0]))
enum { TBL_PORTAL = 12, TBL_TARGET = 13, TBL_LUN = 14 };
enum { PCOL_ADDR = 3, PCOL_PORT = 4, PCOL_ROW_STATUS = 7 };
enum { TCOL_NAME = 2 };
enum { LCOL_TYPE = 2, LCOL_DESIGNATOR = 6, LCOL_VENDOR = 7, LCOL_MODEL = 8, LCOL_CAPACITY = 9, LCOL_ID_STATUS = 10 };
enum { ID_PENDING = 2, ID_READ = 3 };
/* The walks of one probe, in order. */
static const uint32_t walk_tables[] = {TBL_PORTAL, TBL_TARGET, TBL_LUN};
#define NWALKS (sizeof(walk_tables) / sizeof(walk_tables[0]))

struct unit;
/* One probe in flight.  It outlives its unit when the engine stops meanwhile (the client's callbacks still come):
 * orphaned, it is freed by its done callback. */
struct probe {
	struct unit *u; /* NULL: orphaned */
	struct clu_probe_walk w;
	size_t step; /* index in walk_tables */
	int nomem;
};

struct unit {
	uint32_t member;
	struct probe *busy;
	int down; /* the last probe failed (logged once per transition) */
};

static struct {
	int running;
	unsigned int timer, first;
	int interval_s;
	char *user, *auth, *priv; /* secrets copied, wiped when freed, never logged */
	struct unit *units;
	size_t nunits;
	int warned;
} pr;

/* ---- what the walk gives ---- */

/* The array v with room for element n (it may have moved), NULL when out of memory (v is then as it was). */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	return cm_grow(&v, cap, n, size, 16) < 0 ? NULL : v;
}

static void copy_str(char *dst, size_t size, const struct cm_snmpc_vb *vb)
{
	size_t n;

	if (vb->type != CM_SNMPC_STRING)
		return;
	n = vb->len < size ? vb->len : size - 1;
	memcpy(dst, vb->str, n);
	dst[n] = '\0';
}

/* Rows come column by column: a row's later columns find it among the rows its first column made. */
static struct clu_probe_portal *portal_row(struct clu_probe_walk *w, uint32_t index)
{
	struct clu_probe_portal *v;

	for (size_t i = 0; i < w->nportals; i++)
		if (w->portals[i].index == index)
			return &w->portals[i];
	if (!(v = grow(w->portals, &w->cap_portals, w->nportals, sizeof(*v))))
		return NULL;
	w->portals = v;
	memset(&v[w->nportals], 0, sizeof(*v));
	v[w->nportals].index = index;
	return &v[w->nportals++];
}

static struct clu_probe_target *target_row(struct clu_probe_walk *w, uint32_t tid)
{
	struct clu_probe_target *v;

	for (size_t i = 0; i < w->ntargets; i++)
		if (w->targets[i].tid == tid)
			return &w->targets[i];
	if (!(v = grow(w->targets, &w->cap_targets, w->ntargets, sizeof(*v))))
		return NULL;
	w->targets = v;
	memset(&v[w->ntargets], 0, sizeof(*v));
	v[w->ntargets].tid = tid;
	return &v[w->ntargets++];
}

static struct clu_probe_lun *lun_row(struct clu_probe_walk *w, uint32_t tid, uint32_t lun)
{
	struct clu_probe_lun *v;

	/* From the end: a column's rows come in index order, so the row wanted is usually among the last. */
	for (size_t i = w->nluns; i-- > 0;)
		if (w->luns[i].tid == tid && w->luns[i].lun == lun)
			return &w->luns[i];
	if (!(v = grow(w->luns, &w->cap_luns, w->nluns, sizeof(*v))))
		return NULL;
	w->luns = v;
	memset(&v[w->nluns], 0, sizeof(*v));
	v[w->nluns].tid = tid;
	v[w->nluns].lun = lun;
	return &v[w->nluns++];
}

int clu_probe_take(struct clu_probe_walk *w, const struct cm_snmpc_vb *vb)
{
	uint32_t tbl, col;

	if (vb->oidlen < OBJ_LEN + 4 || memcmp(vb->oid, stor_objects, sizeof(stor_objects)) != 0 ||
	    vb->oid[OBJ_LEN + 1] != 1)
		return 0;
	tbl = vb->oid[OBJ_LEN];
	col = vb->oid[OBJ_LEN + 2];
	if (tbl == TBL_PORTAL && vb->oidlen == OBJ_LEN + 4) {
		struct clu_probe_portal *p;

		if (col != PCOL_ADDR && col != PCOL_PORT && col != PCOL_ROW_STATUS)
			return 0;
		if (!(p = portal_row(w, vb->oid[OBJ_LEN + 3])))
			return -ENOMEM;
		if (col == PCOL_ADDR && vb->type == CM_SNMPC_STRING && (vb->len == 4 || vb->len == 16)) {
			memcpy(p->addr, vb->str, vb->len);
			p->addr_len = vb->len;
		} else if (col == PCOL_PORT) {
			p->port = vb->u <= 65535 ? (uint32_t)vb->u : 0;
		} else if (col == PCOL_ROW_STATUS) {
			p->row_status = (int)vb->i;
		}
	} else if (tbl == TBL_TARGET && vb->oidlen == OBJ_LEN + 4 && col == TCOL_NAME) {
		struct clu_probe_target *t = target_row(w, vb->oid[OBJ_LEN + 3]);

		if (!t)
			return -ENOMEM;
		copy_str(t->name, sizeof(t->name), vb);
	} else if (tbl == TBL_LUN && vb->oidlen == OBJ_LEN + 5) {
		struct clu_probe_lun *l;

		if (col != LCOL_TYPE && (col < LCOL_DESIGNATOR || col > LCOL_ID_STATUS))
			return 0;
		if (!(l = lun_row(w, vb->oid[OBJ_LEN + 3], vb->oid[OBJ_LEN + 4])))
			return -ENOMEM;
		switch (col) {
		case LCOL_TYPE: copy_str(l->type, sizeof(l->type), vb); break;
		case LCOL_DESIGNATOR:
			if (vb->type == CM_SNMPC_STRING && vb->len <= sizeof(l->designator)) {
				memcpy(l->designator, vb->str, vb->len);
				l->designator_len = vb->len;
			}
			break;
		case LCOL_VENDOR: copy_str(l->vendor, sizeof(l->vendor), vb); break;
		case LCOL_MODEL: copy_str(l->model, sizeof(l->model), vb); break;
		case LCOL_CAPACITY: l->capacity = vb->u; break;
		case LCOL_ID_STATUS: l->id_status = (int)vb->i; break;
		default: break;
		}
	}
	return 0;
}

void clu_probe_walk_free(struct clu_probe_walk *w)
{
	free(w->targets);
	free(w->luns);
	free(w->portals);
	memset(w, 0, sizeof(*w));
}

void clu_probe_free(struct clu_probed_controller *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free(c[i].devices);
	free(c);
}

static int all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return 0;
	return 1;
}

/* "ADDR:PORT" of the unit's first active portal ("" none). */
static void unit_portal(const struct clu_probe_walk *w, const char *unit_host, char *out, size_t size)
{
	const struct clu_probe_portal *best = NULL;

	out[0] = '\0';
	for (size_t i = 0; i < w->nportals; i++) {
		const struct clu_probe_portal *p = &w->portals[i];

		if (p->row_status == 1 && p->addr_len && p->port && (!best || p->index < best->index))
			best = p;
	}
	if (!best)
		return;
	if (all_zero(best->addr, best->addr_len) && unit_host && unit_host[0]) {
		/* tgt listens on every address: the unit is reached where its agent is. */
		snprintf(out, size, strchr(unit_host, ':') ? "[%s]:%u" : "%s:%u", unit_host, (unsigned int)best->port);
	} else {
		char h[64];

		if (!inet_ntop(best->addr_len == 4 ? AF_INET : AF_INET6, best->addr, h, sizeof(h)))
			return;
		snprintf(out, size, best->addr_len == 4 ? "%s:%u" : "[%s]:%u", h, (unsigned int)best->port);
	}
}

int clu_probe_pending(const struct clu_probe_walk *w)
{
	for (size_t i = 0; i < w->nluns; i++)
		if (w->luns[i].id_status == ID_PENDING)
			return 1;
	return 0;
}

int clu_probe_build(const struct clu_probe_walk *w, const char *unit_host, struct clu_probed_controller **out,
                    size_t *n)
{
	struct clu_probed_controller *c = NULL;
	char portal[CLU_ADDR_MAX];

	*out = NULL;
	*n = 0;
	if (!w->ntargets)
		return 0;
	if (!(c = calloc(w->ntargets, sizeof(*c))))
		return -ENOMEM;
	unit_portal(w, unit_host, portal, sizeof(portal));
	for (size_t i = 0; i < w->ntargets; i++) {
		const struct clu_probe_target *t = &w->targets[i];
		struct clu_probed_controller *pc = &c[*n];
		size_t nd = 0;

		if (!t->name[0])
			continue;
		pc->tid = t->tid;
		snprintf(pc->iqn, sizeof(pc->iqn), "%s", t->name);
		snprintf(pc->portal, sizeof(pc->portal), "%s", portal);
		for (size_t k = 0; k < w->nluns; k++)
			nd += w->luns[k].tid == t->tid;
		if (nd && !(pc->devices = calloc(nd, sizeof(*pc->devices)))) {
			clu_probe_free(c, *n);
			*n = 0;
			return -ENOMEM;
		}
		for (size_t k = 0; k < w->nluns; k++) {
			const struct clu_probe_lun *l = &w->luns[k];
			struct clu_probed_device *d;

			/* tgt's LU 0 is the target's own controller, not storage a host is given. */
			if (l->tid != t->tid || strcmp(l->type, "controller") == 0 || l->id_status == ID_PENDING)
				continue;
			d = &pc->devices[pc->ndevices++];
			d->lun = l->lun;
			/* A designator counts once read (an agent without the status column: whatever it serves). */
			if (!l->id_status || l->id_status == ID_READ) {
				memcpy(d->designator, l->designator, l->designator_len);
				d->designator_len = l->designator_len;
			}
			snprintf(d->vendor, sizeof(d->vendor), "%s", l->vendor);
			snprintf(d->model, sizeof(d->model), "%s", l->model);
			d->size = l->capacity;
		}
		(*n)++;
	}
	*out = c;
	return 0;
}

/* ---- the probe of one unit: three walks, then the merge ---- */

/* The host of a net-snmp peer spec "udp:ADDR:PORT", "udp6:[ADDR]:PORT" or "ADDR". */
static void spec_host(const char *spec, char *out, size_t size)
{
	const char *s = strchr(spec, ':'), *e;

	out[0] = '\0';
	/* A transport prefix is letters and digits before the first colon. */
	if (s && s > spec && strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789") == (size_t)(s - spec))
		spec = s + 1;
	if (spec[0] == '[') {
		if (!(e = strchr(spec, ']')))
			return;
		spec++;
	} else if (!(e = strrchr(spec, ':')) || strchr(spec, ':') != e) {
		e = spec + strlen(spec);
	}
	snprintf(out, size, "%.*s", (int)(e - spec), spec);
}

static int on_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct probe *p = arg;

	if (!p->u)
		return 1; /* orphaned: stop reading */
	if (clu_probe_take(&p->w, vb) < 0) {
		p->nomem = 1;
		return 1;
	}
	return 0;
}

static int walk_next(struct probe *p);

static void unit_failed(struct unit *u, const struct clu_member *m, const char *why)
{
	clu_m.ctr.probe_failures++;
	if (!u->down)
		cm_log(CM_LOG_WARNING, TAG, "unit %s (%s) does not answer the probe: %s; its rows stay as they are",
		       m ? m->name : "?", m ? m->address : "?", why);
	u->down = 1;
	clu_peer_contact_failed(u->member, why);
}

static void merge(struct probe *p, const struct clu_member *m)
{
	struct unit *u = p->u;
	const struct clu_res *row = clu_res_find_guid(m->guid, sizeof(m->guid));
	struct clu_probed_controller *c;
	size_t n;
	char host[CLU_ADDR_MAX];
	int rc;

	if (!row || row->type != CLU_UNIT) {
		/* The membership makes the unit's row; until it is there nothing can hang below it. */
		if (!pr.warned++)
			cm_log(CM_LOG_WARNING, TAG, "unit %s has no CRT row yet: its probe is not merged", m->name);
		return;
	}
	if (clu_probe_pending(&p->w)) {
		/* The unit is reading LUN identities (new LUNs, or its agent just started): merged now, its devices
		 * would be marked gone or keyed by place.  Taken whole at the next probe. */
		u->down = 0;
		clu_peer_contact_ok(u->member, NULL);
		cm_log(CM_LOG_DEBUG, TAG, "unit %s is reading LUN identities: merged at the next probe", m->name);
		return;
	}
	spec_host(m->address, host, sizeof(host));
	if ((rc = clu_probe_build(&p->w, host, &c, &n)) < 0) {
		unit_failed(u, m, "out of memory");
		return;
	}
	if (u->down)
		cm_log(CM_LOG_NOTICE, TAG, "unit %s answers the probe again: %zu controllers", m->name, n);
	u->down = 0;
	clu_peer_contact_ok(u->member, NULL);
	if ((rc = clu_probe_merge(row->index, c, n)) < 0)
		cm_log(CM_LOG_ERR, TAG, "unit %s: probe not merged: %s", m->name, strerror(-rc));
	clu_probe_free(c, n);
}

static void on_done(int rc, const char *why, void *arg)
{
	struct probe *p = arg;
	struct unit *u = p->u;
	const struct clu_member *m;

	if (!u) {
		clu_probe_walk_free(&p->w);
		free(p);
		return;
	}
	m = clu_member_get(u->member);
	if (rc == 0 && p->nomem) {
		rc = -ENOMEM;
		why = "out of memory";
	}
	if (rc == 0 && ++p->step < NWALKS && m) {
		if ((rc = walk_next(p)) == 0)
			return;
		why = NULL;
	}
	u->busy = NULL;
	if (!m) {
		; /* the member went meanwhile */
	} else if (rc < 0) {
		unit_failed(u, m, why && why[0] ? why : strerror(-rc));
	} else {
		merge(p, m);
	}
	clu_probe_walk_free(&p->w);
	free(p);
}

static int walk_next(struct probe *p)
{
	const struct clu_member *m = clu_member_get(p->u->member);
	const struct clu_net_ops *ops = clu_net;
	uint32_t root[OBJ_LEN + 2];
	struct cm_snmpc_peer peer = {0};

	if (!m || !ops || !ops->walk)
		return -ENODEV;
	memcpy(root, stor_objects, sizeof(stor_objects));
	root[OBJ_LEN] = walk_tables[p->step];
	root[OBJ_LEN + 1] = 1;
	peer.peer = m->address;
	peer.user = pr.user;
	peer.auth_pass = pr.auth;
	peer.priv_pass = pr.priv;
	peer.timeout_ms = 1000;
	peer.retries = 1;
	return ops->walk(&peer, root, OBJ_LEN + 2, on_vb, on_done, p);
}

static void probe_unit(struct unit *u)
{
	struct probe *p;
	int rc;

	/* One probe at a time: a slow unit is not asked again before it answered or timed out. */
	if (u->busy || !(p = calloc(1, sizeof(*p))))
		return;
	p->u = u;
	u->busy = p;
	if ((rc = walk_next(p)) < 0) {
		u->busy = NULL;
		free(p);
		unit_failed(u, clu_member_get(u->member), strerror(-rc));
	}
}

/* The units of the membership now (it may change between probes). */
static void units_refresh(void)
{
	size_t n = 0, k = 0;
	uint32_t idx = 0;
	struct unit *nu;

	for (int rc = clu_member_next(0, &idx); rc == 0; rc = clu_member_next(idx, &idx)) {
		const struct clu_member *m = clu_member_get(idx);

		n += m && m->type == CLU_UNIT;
	}
	if (!(nu = calloc(n ? n : 1, sizeof(*nu))))
		return;
	for (int rc = clu_member_next(0, &idx); rc == 0 && k < n; rc = clu_member_next(idx, &idx)) {
		const struct clu_member *m = clu_member_get(idx);

		if (!m || m->type != CLU_UNIT)
			continue;
		nu[k].member = idx;
		/* A unit being probed keeps its walk and its state. */
		for (size_t i = 0; i < pr.nunits; i++)
			if (pr.units[i].member == idx) {
				nu[k] = pr.units[i];
				pr.units[i].busy = NULL;
				pr.units[i].member = 0;
			}
		if (nu[k].busy)
			nu[k].busy->u = &nu[k];
		k++;
	}
	for (size_t i = 0; i < pr.nunits; i++)
		if (pr.units[i].busy)
			pr.units[i].busy->u = NULL; /* a unit gone from the membership: its walk is orphaned */
	free(pr.units);
	pr.units = nu;
	pr.nunits = k;
}

void clu_probe_now(void)
{
	if (!pr.running)
		return;
	if (!clu_net || !clu_net->walk) {
		if (!pr.warned++)
			cm_log(CM_LOG_ERR, TAG, "no SNMP client: the units are not probed");
		return;
	}
	units_refresh();
	for (size_t i = 0; i < pr.nunits; i++)
		probe_unit(&pr.units[i]);
}

static void on_timer(unsigned int id, void *arg)
{
	(void)arg;
	if (id == pr.first)
		pr.first = 0;
	/* A probe merged into a table about to be replaced by a peer's would be a change on an old base. */
	if (clu_sync_booting()) {
		if (!pr.first)
			pr.first = cm_ev_timer(BOOT_WAIT_MS, 0, on_timer, NULL);
		return;
	}
	clu_probe_now();
}

void clu_probe_stop(void)
{
	if (pr.timer)
		cm_ev_cancel(pr.timer);
	if (pr.first)
		cm_ev_cancel(pr.first);
	pr.timer = pr.first = 0;
	for (size_t i = 0; i < pr.nunits; i++)
		if (pr.units[i].busy)
			pr.units[i].busy->u = NULL; /* its done callback frees it */
	free(pr.units);
	pr.units = NULL;
	pr.nunits = 0;
	cm_secret_free(pr.user);
	cm_secret_free(pr.auth);
	cm_secret_free(pr.priv);
	pr.user = pr.auth = pr.priv = NULL;
	pr.running = 0;
}

int clu_probe_start(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	clu_probe_stop();
	pr.warned = 0;
	if (!c->role || strcmp(c->role, "host") != 0 || c->poll_interval <= 0)
		return 0;
	if (!c->peer_user.present || !c->peer_user.name) {
		cm_log(CM_LOG_WARNING, TAG, "no peer_user: the units are not probed");
		return 0;
	}
	if (!(pr.user = strdup(c->peer_user.name)) ||
	    !(pr.auth = strdup(c->peer_user.auth_passphrase ? c->peer_user.auth_passphrase : "")) ||
	    !(pr.priv = strdup(c->peer_user.priv_passphrase ? c->peer_user.priv_passphrase : ""))) {
		clu_probe_stop();
		snprintf(err, errlen, "probe: out of memory");
		return -ENOMEM;
	}
	pr.interval_s = c->poll_interval;
	pr.running = 1;
	if (!(pr.timer = cm_ev_timer((unsigned int)pr.interval_s * 1000u, 1, on_timer, NULL)) ||
	    !(pr.first = cm_ev_timer(FIRST_PROBE_MS, 0, on_timer, NULL))) {
		clu_probe_stop();
		snprintf(err, errlen, "probe: out of memory");
		return -ENOMEM;
	}
	cm_log(CM_LOG_INFO, TAG, "probing the units every %d s", pr.interval_s);
	return 0;
}
