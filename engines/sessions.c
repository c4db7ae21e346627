/* sessions.c: the session registry (sorted by id, ids never reused) with per-session rings of samples behind the
 * sliding-window metrics, and the initiator nodes (with their login counts) and portals its sessions use. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engines/sessions.h"
#include "common/bus.h"
#include "common/array.h"
#include "common/search.h"

/* One sample of a session's absolute counters, taken by sess_tick(). */
struct sess_sample {
	uint64_t t_ms;
	uint64_t tx, cmds;
	uint32_t errors;
	uint32_t lat_avg, lat_max;
};

struct sess {
	struct sess_view v; /* first: the public view is the row itself */
	sess_logout_fn logout;
	void *arg;
	/* Ring of the newest samples, oldest at head; window + 1 samples span
	 * window sample intervals. */
	struct sess_sample *ring;
	unsigned int cap, head, count;
	/* The ring still holds the session's first sample; born_errors: the error count the rate starts from then
	 * (the first sample's, less its errors_at_login). */
	int young;
	uint32_t born_errors;
};

#define SESS_WINDOW_DEFAULT 60
#define SESS_WINDOW_MIN 5
#define SESS_WINDOW_MAX 3600

/* Ids only grow, so appending keeps the array sorted and a lookup is a
 * binary search; removal is a memmove, as cheap as it gets for the few
 * thousand sessions a host holds. */
static struct sess **rows;
static size_t nrows, caprows;
static uint32_t last_id;
static unsigned int window = SESS_WINDOW_DEFAULT;
static void emit(int type, struct sess *s)
{
	struct sess_event ev = {.type = type, .id = s->v.id, .s = &s->v};

	bus_publish(BUS_SESSIONS, &ev);
}

/* ---- initiator nodes ------------------------------------------------------------ */

struct node {
	struct sess_node_view v; /* first: the public view */
	uint32_t *ids;           /* its sessions' ids, ascending */
	size_t cap;
};

/* Indexes only grow, so nodes stay sorted by index when appended.  A host opens sessions as a handful of
 * initiator names: finding one by name is a scan. */
static struct node **nodes;
static size_t nnodes, capnodes;
static uint32_t last_node;
static struct sess_fail_totals fail_totals;

static int64_t node_index_of(const void *e)
{
	return (*(struct node *const *)e)->v.index;
}

static struct node *node_by_index(uint32_t index)
{
	size_t p = cm_lower_bound(nodes, nnodes, sizeof(*nodes), index, node_index_of);

	return p < nnodes && nodes[p]->v.index == index ? nodes[p] : NULL;
}

static struct node *node_by_name(const char *name)
{
	struct node *n;

	for (size_t i = 0; i < nnodes; i++)
		if (strcmp(nodes[i]->v.name, name) == 0)
			return nodes[i];
	if (last_node == UINT32_MAX)
		return NULL;
	if (cm_grow(&nodes, &capnodes, nnodes, sizeof(*nodes), 4) < 0)
		return NULL;
	if (!(n = calloc(1, sizeof(*n))))
		return NULL;
	n->v.index = ++last_node;
	snprintf(n->v.name, sizeof(n->v.name), "%s", name);
	nodes[nnodes++] = n;
	return n;
}

static int64_t u32_of(const void *e)
{
	return *(const uint32_t *)e;
}

static int node_add_id(struct node *n, uint32_t id)
{
	size_t p = cm_lower_bound(n->ids, n->v.nsessions, sizeof(*n->ids), id, u32_of);

	if (cm_insert(&n->ids, &n->v.nsessions, &n->cap, sizeof(*n->ids), p, &id, 8) < 0)
		return -ENOMEM;
	return 0;
}

static void node_del_id(struct node *n, uint32_t id)
{
	size_t p;

	if (!n || !n->v.nsessions)
		return;
	p = cm_lower_bound(n->ids, n->v.nsessions, sizeof(*n->ids), id, u32_of);
	if (p < n->v.nsessions && n->ids[p] == id) {
		memmove(&n->ids[p], &n->ids[p + 1], (n->v.nsessions - p - 1) * sizeof(*n->ids));
		n->v.nsessions--;
	}
}

/* The row joins the node of its initiator name (0 when out of memory: the row is still served, under no node). */
static void node_join(struct sess_view *v)
{
	struct node *n = node_by_name(v->info.initiator);

	v->node = n && node_add_id(n, v->id) == 0 ? n->v.index : 0;
}

static void login_failure(struct sess_login_stats *st, const char *target, const char *addr, unsigned int port,
                          unsigned int status)
{
	st->login_failures++;
	if (status == 0x0201)
		st->auth_fails++;
	else if (status == 0x0202)
		st->authorize_fails++;
	else if ((status >> 8) == 1)
		st->redirects++;
	st->last_status = status;
	st->last_failure = time(NULL);
	snprintf(st->last_target, sizeof(st->last_target), "%s", target);
	snprintf(st->last_addr, sizeof(st->last_addr), "%s", addr);
	st->last_port = port;
}

void sess_login_failed(const char *initiator, const char *target, const char *addr, unsigned int port,
                       unsigned int status)
{
	struct node *n = initiator && initiator[0] ? node_by_name(initiator) : NULL;

	if (n)
		login_failure(&n->v.st, target ? target : "", addr ? addr : "", port, status);
}

/* A state change of one session as a login or logout count of its node (was 0: a new row, now 0: removed). */
static void node_count(const struct sess_view *v, int was, int now)
{
	struct node *n = node_by_index(v->node);
	struct sess_login_stats *st;

	if (!n || was == now)
		return;
	st = &n->v.st;
	if (was != SESS_LOGGED_IN && (now == SESS_LOGGED_IN || (was == SESS_LOGGING_IN && now == SESS_LOGGED_OUT)))
		st->accepts++; /* a probe logs in and out between two reports */
	if (was == SESS_LOGGED_IN && (now == SESS_LOGGED_OUT || now == 0))
		st->logout_normals++;
	if (was == SESS_LOGGING_IN && now == SESS_LOGGED_OUT)
		st->logout_normals++;
	if (was != SESS_LOGGED_IN && now == SESS_FAILED)
		login_failure(st, v->info.target, v->info.portal_addr, v->info.portal_port, 0);
	if (was == SESS_LOGGED_IN && now == SESS_FAILED) {
		st->session_failures++;
		fail_totals.session_failures++;
		snprintf(fail_totals.last_remote, sizeof(fail_totals.last_remote), "%s", v->info.target);
	}
}

/* ---- initiator portals ---------------------------------------------------------- */

static struct sess_portal_view **portals;
static size_t nportals, capportals;
static uint32_t last_portal;

static int64_t portal_index_of(const void *e)
{
	return (*(struct sess_portal_view *const *)e)->index;
}

static struct sess_portal_view *portal_by_index(uint32_t index)
{
	size_t p = cm_lower_bound(portals, nportals, sizeof(*portals), index, portal_index_of);

	return p < nportals && portals[p]->index == index ? portals[p] : NULL;
}

/* The row joins the portal of its source address (0: none known, or out of memory). */
static void portal_join(struct sess_view *v)
{
	struct sess_portal_view *p = NULL;

	v->portal = 0;
	if (!v->info.src_addr[0])
		return;
	for (size_t i = 0; i < nportals && !p; i++)
		if (strcmp(portals[i]->addr, v->info.src_addr) == 0)
			p = portals[i];
	if (!p) {
		if (last_portal == UINT32_MAX)
			return;
		if (cm_grow(&portals, &capportals, nportals, sizeof(*portals), 4) < 0)
			return;
		if (!(p = calloc(1, sizeof(*p))))
			return;
		p->index = ++last_portal;
		snprintf(p->addr, sizeof(p->addr), "%s", v->info.src_addr);
		portals[nportals++] = p;
	}
	p->nsessions++;
	v->portal = p->index;
}

static void portal_leave(struct sess_view *v)
{
	struct sess_portal_view *p = portal_by_index(v->portal);

	if (p && p->nsessions)
		p->nsessions--;
	v->portal = 0;
}

const struct sess_portal_view *sess_portal_find(uint32_t index)
{
	return portal_by_index(index);
}

const struct sess_portal_view *sess_portal_next(uint32_t after)
{
	size_t p;

	if (after == UINT32_MAX)
		return NULL;
	p = cm_lower_bound(portals, nportals, sizeof(*portals), (int64_t)after + 1, portal_index_of);
	return p < nportals ? portals[p] : NULL;
}

size_t sess_portal_count(void)
{
	return nportals;
}

const struct sess_node_view *sess_node_find(uint32_t index)
{
	struct node *n = node_by_index(index);

	return n ? &n->v : NULL;
}

const struct sess_node_view *sess_node_next(uint32_t after)
{
	size_t p;

	if (after == UINT32_MAX)
		return NULL;
	p = cm_lower_bound(nodes, nnodes, sizeof(*nodes), (int64_t)after + 1, node_index_of);
	return p < nnodes ? &nodes[p]->v : NULL;
}

size_t sess_node_count(void)
{
	return nnodes;
}

const struct sess_fail_totals *sess_fail_totals(void)
{
	return &fail_totals;
}

static int64_t row_id_of(const void *e)
{
	return (*(const struct sess *const *)e)->v.id;
}

/* First position whose id >= id. */
static size_t lower_bound(uint32_t id)
{
	return cm_lower_bound(rows, nrows, sizeof(*rows), id, row_id_of);
}

static struct sess *find(uint32_t id, size_t *pos)
{
	size_t p = lower_bound(id);

	if (p < nrows && rows[p]->v.id == id) {
		if (pos)
			*pos = p;
		return rows[p];
	}
	return NULL;
}

const struct sess_view *sess_find(uint32_t id)
{
	struct sess *s = find(id, NULL);

	return s ? &s->v : NULL;
}

const struct sess_view *sess_next(uint32_t after)
{
	size_t p;

	if (after == UINT32_MAX)
		return NULL;
	p = lower_bound(after + 1);
	return p < nrows ? &rows[p]->v : NULL;
}

size_t sess_count(void)
{
	return nrows;
}

static void copy_info(struct sess_info *dst, const struct sess_info *in)
{
	*dst = *in;
	/* Owners fill fixed buffers; a row never shows bytes past a missing NUL. */
	dst->initiator[sizeof(dst->initiator) - 1] = 0;
	dst->target[sizeof(dst->target) - 1] = 0;
	dst->portal_addr[sizeof(dst->portal_addr) - 1] = 0;
	dst->src_addr[sizeof(dst->src_addr) - 1] = 0;
}

uint32_t sess_add(const struct sess_info *in, sess_logout_fn logout, void *arg)
{
	struct sess *s;

	if (!in || last_id == UINT32_MAX)
		return 0;
	if (cm_grow(&rows, &caprows, nrows, sizeof(*rows), 16) < 0)
		return 0;
	if (!(s = calloc(1, sizeof(*s))))
		return 0;
	s->v.id = ++last_id;
	copy_info(&s->v.info, in);
	s->v.can_logout = logout != NULL;
	s->young = 1;
	s->logout = logout;
	s->arg = arg;
	rows[nrows++] = s;
	node_join(&s->v);
	portal_join(&s->v);
	node_count(&s->v, 0, s->v.info.state);
	if (s->v.info.state == SESS_LOGGED_IN)
		emit(SESS_EV_UP, s);
	return s->v.id;
}

int sess_set_info(uint32_t id, const struct sess_info *in)
{
	struct sess *s = find(id, NULL);
	int was;

	if (!s)
		return -ENOENT;
	if (!in)
		return -EINVAL;
	was = s->v.info.state;
	if (strncmp(s->v.info.src_addr, in->src_addr, sizeof(in->src_addr)) != 0) {
		portal_leave(&s->v);
		snprintf(s->v.info.src_addr, sizeof(s->v.info.src_addr), "%s", in->src_addr);
		portal_join(&s->v);
	}
	if (strncmp(s->v.info.initiator, in->initiator, sizeof(in->initiator)) != 0) {
		node_del_id(node_by_index(s->v.node), id);
		copy_info(&s->v.info, in);
		node_join(&s->v);
	} else {
		copy_info(&s->v.info, in);
	}
	node_count(&s->v, was, in->state);
	if (was != SESS_LOGGED_IN && in->state == SESS_LOGGED_IN)
		emit(SESS_EV_UP, s);
	else if (was == SESS_LOGGED_IN && in->state != SESS_LOGGED_IN)
		emit(SESS_EV_DOWN, s);
	return 0;
}

int sess_set_counters(uint32_t id, const struct sess_counters *c)
{
	struct sess *s = find(id, NULL);
	const struct sess_counters *o;

	if (!s)
		return -ENOENT;
	if (!c)
		return -EINVAL;
	o = &s->v.c;
	/* Counters that go back mean the owner started over (a restarted
	 * data plane): a delta across that would be nonsense, so the window
	 * starts again. */
	if (c->tx_bytes < o->tx_bytes || c->cmds < o->cmds || c->errors < o->errors) {
		s->count = s->head = 0;
		s->young = 0;
	}
	s->v.c = *c;
	return 0;
}

int sess_remove(uint32_t id)
{
	size_t pos;
	struct sess *s = find(id, &pos);

	if (!s)
		return -ENOENT;
	/* The notification carries the row's last values: it is still there. */
	if (s->v.info.state == SESS_LOGGED_IN)
		emit(SESS_EV_DOWN, s);
	node_count(&s->v, s->v.info.state, 0);
	node_del_id(node_by_index(s->v.node), id);
	portal_leave(&s->v);
	/* A listener cannot add or remove, so pos is still ours. */
	memmove(&rows[pos], &rows[pos + 1], (nrows - pos - 1) * sizeof(*rows));
	nrows--;
	free(s->ring);
	free(s);
	return 0;
}

int sess_logout_validate(uint32_t id)
{
	struct sess *s = find(id, NULL);

	if (!s)
		return -ENOENT;
	/* A session whose owner cannot log it out (the redirector's short
	 * probes, an owner without the verb) refuses, as the MIB says. */
	if (!s->logout)
		return -EOPNOTSUPP;
	return 0;
}

int sess_logout(uint32_t id)
{
	struct sess *s = find(id, NULL);
	int rc = sess_logout_validate(id);

	if (rc < 0)
		return rc;
	return s->logout(id, s->arg);
}

int sess_set_window(unsigned int seconds)
{
	if (seconds < SESS_WINDOW_MIN || seconds > SESS_WINDOW_MAX)
		return -EINVAL;
	window = seconds;
	return 0;
}

unsigned int sess_window(void)
{
	return window;
}

/* Gives the ring window + 1 slots, keeping the newest samples. */
static int ring_fit(struct sess *s)
{
	unsigned int want = window + 1, keep, skip;
	struct sess_sample *nr;

	if (s->cap == want)
		return 0;
	if (!(nr = calloc(want, sizeof(*nr))))
		return -ENOMEM;
	keep = s->count < want ? s->count : want;
	skip = s->count - keep;
	if (skip)
		s->young = 0;
	for (unsigned int i = 0; i < keep; i++)
		nr[i] = s->ring[(s->head + skip + i) % s->cap];
	free(s->ring);
	s->ring = nr;
	s->cap = want;
	s->head = 0;
	s->count = keep;
	return 0;
}

static const struct sess_sample *at(const struct sess *s, unsigned int i)
{
	return &s->ring[(s->head + i) % s->cap];
}

static uint32_t clamp32(double v)
{
	if (v <= 0)
		return 0;
	if (v >= (double)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)v;
}

/* KiB/s of bytes moved in ms milliseconds. */
static double kib_per_s(uint64_t bytes, uint64_t ms)
{
	return (double)bytes * 1000.0 / (double)ms / 1024.0;
}

static void compute(struct sess *s)
{
	struct sess_metrics m = {0};
	const struct sess_sample *first, *last;
	double lat_sum = 0;
	uint64_t lat_cmds = 0;
	int have_rate = 0;

	if (s->count < 2) {
		s->v.m = m;
		return;
	}
	for (unsigned int i = 1; i < s->count; i++) {
		const struct sess_sample *a = at(s, i - 1), *b = at(s, i);
		uint64_t dt = b->t_ms - a->t_ms, dc = b->cmds - a->cmds;
		uint32_t r = clamp32(kib_per_s(b->tx - a->tx, dt));

		if (!have_rate || r > m.tx_rate_max)
			m.tx_rate_max = r;
		if (!have_rate || r < m.tx_rate_min)
			m.tx_rate_min = r;
		have_rate = 1;
		m.tx_rate = r;
		/* An owner's latency report describes the commands of its
		 * interval: weigh it by them, and ignore idle intervals whose
		 * report is stale. */
		if (dc) {
			uint32_t mx = b->lat_max ? b->lat_max : b->lat_avg;

			lat_sum += (double)b->lat_avg * (double)dc;
			lat_cmds += dc;
			if (mx > m.latency_max)
				m.latency_max = mx;
		}
	}
	first = at(s, 0);
	last = at(s, s->count - 1);
	m.tx_rate_avg = clamp32(kib_per_s(last->tx - first->tx, last->t_ms - first->t_ms));
	m.error_rate = clamp32((double)(last->errors - (s->young ? s->born_errors : first->errors)) * 3600000.0 /
	                       (double)(last->t_ms - first->t_ms));
	if (lat_cmds)
		m.latency_avg = clamp32(lat_sum / (double)lat_cmds);
	s->v.m = m;
}

void sess_tick(uint64_t now_ms)
{
	for (size_t i = 0; i < nrows; i++) {
		struct sess *s = rows[i];
		struct sess_sample *smp;

		if (ring_fit(s) < 0)
			continue;
		/* Two samples at the same instant have no rate between them. */
		if (s->count && at(s, s->count - 1)->t_ms >= now_ms)
			continue;
		if (s->count == s->cap) {
			s->head = (s->head + 1) % s->cap;
			s->count--;
			s->young = 0;
		}
		if (!s->count && s->young) {
			uint32_t pre = s->v.c.errors_at_login;

			s->born_errors = s->v.c.errors - (pre < s->v.c.errors ? pre : s->v.c.errors);
		}
		smp = &s->ring[(s->head + s->count) % s->cap];
		smp->t_ms = now_ms;
		smp->tx = s->v.c.tx_bytes;
		smp->cmds = s->v.c.cmds;
		smp->errors = s->v.c.errors;
		smp->lat_avg = s->v.c.avg_latency_us;
		smp->lat_max = s->v.c.max_latency_us;
		s->count++;
		compute(s);
	}
}

const struct sess_view *sess_node_session_next(uint32_t node, uint32_t after)
{
	struct node *n = node_by_index(node);
	size_t p;

	if (!n || after == UINT32_MAX)
		return NULL;
	p = cm_lower_bound(n->ids, n->v.nsessions, sizeof(*n->ids), (int64_t)after + 1, u32_of);
	return p < n->v.nsessions ? sess_find(n->ids[p]) : NULL;
}
