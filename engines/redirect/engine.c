/* engine.c: the redirect engine's model (servers, resources, clients, plans), its verbs, persistence and events. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engines/redirect/etcd.h"
#include "engines/redirect/rebalance.h"
#include "engines/redirect/redir_int.h"
#include "engines/redirect/redirect.h"
#include "iscsi/pdu.h"
#include "iscsi/textkeys.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/state.h"

#define TAG "redirect"
#define REDIR_MAX_CLIENTS 10000 /* client session rows kept; the oldest go first */
#define REDIR_MAX_PLANS 100     /* plan history rows kept */
#define REDIR_MAX_LISTENERS 8

/* Rows keep their public struct first so *_find can hand it out directly
 * and one binary search serves every table (index is the first member). */
struct srv {
	struct redir_server pub;
	int cfg_admin;      /* the admin state the config asked for (config rows) */
	int admin_override; /* 0, or the admin state SET over SNMP (persisted) */
	int seen;           /* config sweep */
	/* load sampling from tgt */
	struct tgtc_counter *prev;
	size_t nprev;
	struct timespec prev_at;
	int have_prev;
	int load_busy;
};

struct res {
	struct redir_resource pub;
	char cfg_server[64]; /* the server the config named, "" if none */
	int seen;
	time_t agent_seen;    /* discovered rows: last time an agent listed it (or could not be asked) */
	uint64_t shared_load; /* etcd leader: the load last written to etcd */
	int shared_load_ok;   /* shared_load is in etcd */
};

struct vec {
	void *v;
	size_t n, cap, size;
	size_t hint; /* the last position vec_pos answered; see there */
};

static struct vec S = {.size = sizeof(struct srv)};
static struct vec R = {.size = sizeof(struct res)};
static struct vec C = {.size = sizeof(struct redir_client)};
static struct vec P = {.size = sizeof(struct redir_plan_record)};
#define SRV(i) (&((struct srv *)S.v)[i])
#define RES(i) (&((struct res *)R.v)[i])
#define CLI(i) (&((struct redir_client *)C.v)[i])
#define PLAN(i) (&((struct redir_plan_record *)P.v)[i])

static uint32_t next_srv = 1, next_res = 1, next_cli = 1, next_plan = 1;
static struct redir_params params;
static struct redir_params cfg_params; /* what the config said, to spot changes on reload */
static struct redir_counters counters;
static int running;
static unsigned int rebalance_timer, load_timer, manual_timer;
static unsigned int loads_pending;
static int loads_measured;
static struct timespec last_auto_plan;
/* With etcd, only the leader probes, rebalances and writes the mapping;
 * followers serve logins from the mapping they watch. */
static int etcd_mode;
#define PASSIVE() (etcd_mode && !redir_etcd_is_leader())
static char **listen_cfg;
static size_t nlisten_cfg;
static struct redir_portal_limits portal_lim;

static struct {
	redir_listener fn;
	void *arg;
} listeners[REDIR_MAX_LISTENERS];
static int nlisteners;

/* ---- small helpers ----------------------------------------------------- */

static void emit(int type, uint32_t a, uint32_t b, uint32_t c)
{
	struct redir_event ev = {.type = type, .a = a, .b = b, .c = c};

	for (int i = 0; i < nlisteners; i++)
		listeners[i].fn(&ev, listeners[i].arg);
}

void redir_listen(redir_listener fn, void *arg)
{
	for (int i = 0; i < nlisteners; i++)
		if (listeners[i].fn == fn && listeners[i].arg == arg)
			return;
	if (nlisteners < REDIR_MAX_LISTENERS) {
		listeners[nlisteners].fn = fn;
		listeners[nlisteners].arg = arg;
		nlisteners++;
	}
}

static uint32_t vec_key(const struct vec *t, size_t pos)
{
	return *(const uint32_t *)(const void *)((const char *)t->v + pos * t->size);
}

/* Lower bound on the index, which every row type carries first.  A walk
 * asks for the row it was just given, or the one after it (GETNEXT, then
 * GET of the same row): the last answer and its successor are tried first,
 * so a walk costs O(1) per varbind.  At 100,000 resources every step of a
 * binary search is a cache miss, which made large walks measurably slower
 * per row. */
static size_t vec_pos(struct vec *t, uint32_t idx)
{
	size_t lo = 0, hi = t->n;

	for (size_t h = t->hint; h <= t->hint + 1; h++)
		if (h <= t->n && (h == t->n || vec_key(t, h) >= idx) && (h == 0 || vec_key(t, h - 1) < idx))
			return t->hint = h;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (vec_key(t, mid) < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return t->hint = lo;
}

static void *vec_at(const struct vec *t, size_t pos)
{
	return (char *)t->v + pos * t->size;
}

static void *vec_find(struct vec *t, uint32_t idx)
{
	size_t p = vec_pos(t, idx);

	if (p < t->n && *(uint32_t *)vec_at(t, p) == idx)
		return vec_at(t, p);
	return NULL;
}

static void *vec_next(struct vec *t, uint32_t after)
{
	size_t p = after == UINT32_MAX ? t->n : vec_pos(t, after + 1);

	return p < t->n ? vec_at(t, p) : NULL;
}

/* Inserts a zeroed row at its sorted place; NULL on ENOMEM. */
static void *vec_insert(struct vec *t, uint32_t idx)
{
	size_t p = vec_pos(t, idx);
	char *row;

	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		void *nv = realloc(t->v, ncap * t->size);

		if (!nv)
			return NULL;
		t->v = nv;
		t->cap = ncap;
	}
	row = vec_at(t, p);
	if (p < t->n)
		memmove(row + t->size, row, (t->n - p) * t->size);
	memset(row, 0, t->size);
	*(uint32_t *)(void *)row = idx;
	t->n++;
	return row;
}

static void vec_remove_pos(struct vec *t, size_t p)
{
	char *row = vec_at(t, p);

	if (p + 1 < t->n)
		memmove(row, row + t->size, (t->n - p - 1) * t->size);
	t->n--;
}

static void vec_free(struct vec *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* ---- name hashes: target -> resource, (initiator, isid, target) -> client */

struct ihash {
	uint32_t *slot; /* 0 = empty, else a row index */
	size_t mask;
	size_t used;
};
static struct ihash res_hash, cli_hash;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ull;
	return h;
}

static uint64_t res_key(const char *target)
{
	return fnv(1469598103934665603ull, target, strlen(target));
}

static uint64_t cli_key(const char *ini, const uint8_t isid[6], const char *target)
{
	uint64_t h = fnv(1469598103934665603ull, ini, strlen(ini) + 1);

	h = fnv(h, isid, 6);
	return fnv(h, target, strlen(target));
}

static int ihash_grow(struct ihash *h, size_t want)
{
	size_t n = 64;

	while (n < want * 2)
		n *= 2;
	free(h->slot);
	h->slot = calloc(n, sizeof(uint32_t));
	if (!h->slot) {
		h->mask = 0;
		h->used = 0;
		return -ENOMEM;
	}
	h->mask = n - 1;
	h->used = 0;
	return 0;
}

static void ihash_put(struct ihash *h, uint64_t key, uint32_t idx)
{
	size_t i;

	if (!h->slot)
		return;
	for (i = key & h->mask; h->slot[i]; i = (i + 1) & h->mask)
		;
	h->slot[i] = idx;
	h->used++;
}

static void res_hash_rebuild(void)
{
	if (ihash_grow(&res_hash, R.n + 1) < 0)
		return;
	for (size_t i = 0; i < R.n; i++)
		ihash_put(&res_hash, res_key(RES(i)->pub.target), RES(i)->pub.index);
}

static void res_hash_add(struct res *r)
{
	if (!res_hash.slot || (res_hash.used + 1) * 2 > res_hash.mask + 1)
		res_hash_rebuild();
	else
		ihash_put(&res_hash, res_key(r->pub.target), r->pub.index);
}

static struct res *res_by_target(const char *target)
{
	if (!res_hash.slot)
		return NULL;
	for (size_t i = res_key(target) & res_hash.mask; res_hash.slot[i]; i = (i + 1) & res_hash.mask) {
		struct res *r = vec_find(&R, res_hash.slot[i]);

		if (r && strcmp(r->pub.target, target) == 0)
			return r;
	}
	return NULL;
}

static void cli_hash_rebuild(void)
{
	if (ihash_grow(&cli_hash, C.n + 1) < 0)
		return;
	for (size_t i = 0; i < C.n; i++)
		ihash_put(&cli_hash, cli_key(CLI(i)->initiator, CLI(i)->isid, CLI(i)->target), CLI(i)->index);
}

static struct redir_client *cli_lookup(const char *ini, const uint8_t isid[6], const char *target)
{
	if (!cli_hash.slot)
		return NULL;
	for (size_t i = cli_key(ini, isid, target) & cli_hash.mask; cli_hash.slot[i]; i = (i + 1) & cli_hash.mask) {
		struct redir_client *c = vec_find(&C, cli_hash.slot[i]);

		if (c && memcmp(c->isid, isid, 6) == 0 && strcmp(c->initiator, ini) == 0 &&
		    strcmp(c->target, target) == 0)
			return c;
	}
	return NULL;
}

/* ---- lookups (redirect.h) --------------------------------------------- */

const struct redir_server *redir_server_find(uint32_t index)
{
	struct srv *s = vec_find(&S, index);

	return s ? &s->pub : NULL;
}

const struct redir_server *redir_server_next(uint32_t after)
{
	struct srv *s = vec_next(&S, after);

	return s ? &s->pub : NULL;
}

const struct redir_resource *redir_resource_find(uint32_t index)
{
	struct res *r = vec_find(&R, index);

	return r ? &r->pub : NULL;
}

const struct redir_resource *redir_resource_next(uint32_t after)
{
	struct res *r = vec_next(&R, after);

	return r ? &r->pub : NULL;
}

const struct redir_client *redir_client_find(uint32_t index)
{
	return vec_find(&C, index);
}

const struct redir_client *redir_client_next(uint32_t after)
{
	return vec_next(&C, after);
}

const struct redir_plan_record *redir_plan_find(uint32_t index)
{
	return vec_find(&P, index);
}

const struct redir_plan_record *redir_plan_next(uint32_t after)
{
	return vec_next(&P, after);
}

const struct redir_counters *redir_counters(void)
{
	return &counters;
}

struct redir_counters *redir_counters_mut(void)
{
	return &counters;
}

const struct redir_params *redir_params(void)
{
	return &params;
}

uint32_t redir_server_next_index(void)
{
	while (vec_find(&S, next_srv))
		next_srv++;
	return next_srv;
}

uint32_t redir_resource_next_index(void)
{
	while (vec_find(&R, next_res))
		next_res++;
	return next_res;
}

size_t redir_server_count(void)
{
	return S.n;
}

size_t redir_probe_targets(struct redir_probe_target *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < S.n && n < max; i++, n++) {
		out[n].index = SRV(i)->pub.index;
		out[n].family = SRV(i)->pub.family;
		snprintf(out[n].host, sizeof(out[n].host), "%s", SRV(i)->pub.host);
		out[n].port = SRV(i)->pub.port;
	}
	return n;
}

/* ---- persistence -------------------------------------------------------- */

static struct sa_state *st(void)
{
	return sa_engines_state();
}

static void st_setf(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void st_setf(const char *key, const char *fmt, ...)
{
	char val[512];
	va_list ap;

	if (!st())
		return;
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	sa_state_set(st(), key, val);
}

static int st_commit(void)
{
	int rc;

	if (!st())
		return -EIO;
	rc = sa_state_commit(st());
	if (rc < 0)
		sa_log(SA_LOG_ERR, TAG, "cannot write the state file: %s", strerror(-rc));
	return rc;
}

/* ---- indexes that outlive restarts ------------------------------------------
 * Config rows (and targets learnt from the servers' agents) keep their index
 * by name across restarts, and no index is handed out twice: the highest one
 * ever given is persisted, so a manager that still holds an index from before
 * a restart never reaches a different row with it. */
static uint32_t hw_srv, hw_res;
static bool idx_dirty; /* a mark or a name's index changed since the last commit */

static void idx_key(char *k, size_t len, bool server, const char *name)
{
	snprintf(k, len, "redir.idx.%s.%s", server ? "server" : "resource", name);
}

/* A row got index; name: the key it keeps it by (NULL for SNMP rows). */
static void idx_note(bool server, uint32_t index, const char *name)
{
	char k[REDIR_NAME_MAX + 32], v[16];
	uint32_t *hw = server ? &hw_srv : &hw_res;
	const char *old;

	if (!st())
		return;
	if (index > *hw) {
		*hw = index;
		st_setf(server ? "redir.hw.server" : "redir.hw.resource", "%u", index);
		idx_dirty = true;
	}
	if (!name)
		return;
	idx_key(k, sizeof(k), server, name);
	snprintf(v, sizeof(v), "%u", index);
	old = sa_state_get(st(), k);
	if (!old || strcmp(old, v)) {
		sa_state_set(st(), k, v);
		idx_dirty = true;
	}
}

static uint32_t idx_parse(const char *v)
{
	char *end;
	unsigned long n = v ? strtoul(v, &end, 10) : 0;

	return v && *v && !*end && n <= UINT32_MAX ? (uint32_t)n : 0;
}

/* The index a named row had before, if it is free; else a new one. */
static uint32_t idx_for(bool server, const char *name)
{
	char k[REDIR_NAME_MAX + 32];
	uint32_t n;

	if (st()) {
		idx_key(k, sizeof(k), server, name);
		n = idx_parse(sa_state_get(st(), k));
		if (n && !vec_find(server ? &S : &R, n))
			return n;
	}
	return server ? redir_server_next_index() : redir_resource_next_index();
}

/* At start: new indexes go above every one handed out before. */
static void idx_load(void)
{
	if (!st())
		return;
	hw_srv = idx_parse(sa_state_get(st(), "redir.hw.server"));
	hw_res = idx_parse(sa_state_get(st(), "redir.hw.resource"));
	if (hw_srv >= next_srv)
		next_srv = hw_srv + 1;
	if (hw_res >= next_res)
		next_res = hw_res + 1;
}

/* Rows that are not persisted themselves still move the mark. */
static void idx_commit(void)
{
	if (idx_dirty && st_commit() == 0)
		idx_dirty = false;
}

static const char *admin_name(int a)
{
	return a == REDIR_ADMIN_DRAIN ? "drain" : a == REDIR_ADMIN_DOWN ? "down" : "up";
}

static int admin_parse(const char *s)
{
	if (!s)
		return 0;
	if (strcmp(s, "up") == 0)
		return REDIR_ADMIN_UP;
	if (strcmp(s, "drain") == 0)
		return REDIR_ADMIN_DRAIN;
	if (strcmp(s, "down") == 0)
		return REDIR_ADMIN_DOWN;
	return 0;
}

static void st_del_prefix(const char *prefix);

static void st_save_server(const struct srv *s)
{
	char k[96];

	snprintf(k, sizeof(k), "redir.server.%u.name", s->pub.index);
	sa_state_set(st(), k, s->pub.name);
	snprintf(k, sizeof(k), "redir.server.%u.host", s->pub.index);
	sa_state_set(st(), k, s->pub.host);
	snprintf(k, sizeof(k), "redir.server.%u.port", s->pub.index);
	st_setf(k, "%u", s->pub.port);
	snprintf(k, sizeof(k), "redir.server.%u.capacity", s->pub.index);
	st_setf(k, "%u", s->pub.capacity);
	snprintf(k, sizeof(k), "redir.server.%u.admin", s->pub.index);
	sa_state_set(st(), k, admin_name(s->pub.admin));
	snprintf(k, sizeof(k), "redir.server.%u.tgt", s->pub.index);
	st_setf(k, "%d", s->pub.tgt_control);
}

static void st_save_resource(const struct res *r)
{
	char k[96];

	snprintf(k, sizeof(k), "redir.resource.%u.target", r->pub.index);
	sa_state_set(st(), k, r->pub.target);
	snprintf(k, sizeof(k), "redir.resource.%u.pinned", r->pub.index);
	sa_state_set(st(), k, r->pub.pinned ? "1" : "0");
}

/* The mapping of every resource, so a restart serves logins from where the
 * last failover or rebalance put them (the embedded single-redirector store). */
static void st_save_map(const struct res *r)
{
	const struct redir_server *s = redir_server_find(r->pub.server);
	char k[REDIR_NAME_MAX + 16];

	if (etcd_mode && s)
		redir_etcd_put_map(r->pub.target, s->name);
	if (!st())
		return;
	snprintf(k, sizeof(k), "redir.map.%s", r->pub.target);
	if (s)
		sa_state_set(st(), k, s->name);
	else
		sa_state_del(st(), k);
}

struct del_ctx {
	char **keys;
	size_t n, cap;
};

static void collect_key(const char *key, const char *value, void *arg)
{
	struct del_ctx *d = arg;

	(void)value;
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		char **nk = realloc(d->keys, nc * sizeof(char *));

		if (!nk)
			return;
		d->keys = nk;
		d->cap = nc;
	}
	if ((d->keys[d->n] = strdup(key)))
		d->n++;
}

static void st_del_prefix(const char *prefix)
{
	struct del_ctx d = {0};

	if (!st())
		return;
	sa_state_foreach(st(), prefix, collect_key, &d);
	for (size_t i = 0; i < d.n; i++) {
		sa_state_del(st(), d.keys[i]);
		free(d.keys[i]);
	}
	free(d.keys);
}

/* ---- server state -------------------------------------------------------- */

static int srv_rb_state(const struct srv *s)
{
	if (s->pub.admin == REDIR_ADMIN_DOWN || s->pub.oper == REDIR_OPER_DOWN)
		return REDIR_SRV_DOWN;
	if (s->pub.admin == REDIR_ADMIN_DRAIN)
		return REDIR_SRV_DRAIN;
	return REDIR_SRV_UP;
}

/* A drained server still answers for resources that could not move. */
static bool srv_routable(const struct srv *s)
{
	return s->pub.admin != REDIR_ADMIN_DOWN && s->pub.oper != REDIR_OPER_DOWN;
}

static void recount(void)
{
	for (size_t i = 0; i < S.n; i++) {
		SRV(i)->pub.load = 0;
		SRV(i)->pub.nresources = 0;
	}
	for (size_t i = 0; i < R.n; i++) {
		struct srv *s = vec_find(&S, RES(i)->pub.server);

		if (s) {
			s->pub.nresources++;
			s->pub.load += RES(i)->pub.load;
		}
	}
}

static void format_addr(const struct redir_server *s, char *out, size_t len)
{
	if (s->family == AF_INET6)
		snprintf(out, len, "[%s]:%u,1", s->host, s->port);
	else
		snprintf(out, len, "%s:%u,1", s->host, s->port);
}

/* ---- plans: failover, rebalance, placement -------------------------------- */

struct rbctx {
	struct redir_rb_server *srv;
	struct redir_rb_resource *res;
	size_t *resmap; /* rb resource -> R position */
	size_t nres;
};

static void rb_free(struct rbctx *c)
{
	free(c->srv);
	free(c->res);
	free(c->resmap);
}

static int rb_build(struct rbctx *c)
{
	memset(c, 0, sizeof(*c));
	c->srv = calloc(S.n ? S.n : 1, sizeof(*c->srv));
	c->res = calloc(R.n ? R.n : 1, sizeof(*c->res));
	c->resmap = calloc(R.n ? R.n : 1, sizeof(*c->resmap));
	if (!c->srv || !c->res || !c->resmap) {
		rb_free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < S.n; i++) {
		c->srv[i].capacity = SRV(i)->pub.capacity;
		c->srv[i].state = srv_rb_state(SRV(i));
	}
	for (size_t i = 0; i < R.n; i++) {
		size_t p;

		if (!RES(i)->pub.server)
			continue;
		p = vec_pos(&S, RES(i)->pub.server);
		if (p >= S.n || SRV(p)->pub.index != RES(i)->pub.server)
			continue;
		c->res[c->nres].load = RES(i)->pub.load;
		c->res[c->nres].server = (uint32_t)p;
		c->res[c->nres].pinned = RES(i)->pub.pinned != 0;
		c->resmap[c->nres++] = i;
	}
	return 0;
}

static void end_sessions(uint32_t server, const char *target)
{
	const struct redir_server *s = redir_server_find(server);

	if (s && s->tgt_control >= 0)
		tgtc_end_sessions(s->tgt_control, target);
}

static void record_plan(int trigger, const struct redir_plan *plan, const struct rbctx *c)
{
	struct redir_plan_record *pr;
	size_t off = 0;

	while (P.n >= REDIR_MAX_PLANS) {
		uint32_t gone = PLAN(0)->index;

		vec_remove_pos(&P, 0);
		emit(REDIR_EV_ROW_REMOVED, REDIR_T_PLAN, gone, 0);
	}
	pr = vec_insert(&P, next_plan++);
	if (!pr)
		return;
	pr->when = time(NULL);
	pr->trigger = trigger;
	pr->nmoves = (uint32_t)plan->n_moves;
	/* Load per unit of capacity, rounded: seed 003's Fig. 8 reads 700 -> 450. */
	pr->max_before = (uint64_t)llround(plan->max_rel_before);
	pr->max_after = (uint64_t)llround(plan->max_rel_after);
	for (size_t i = 0; i < plan->n_moves; i++) {
		const struct redir_move *m = &plan->moves[i];
		char one[64];
		int n =
		    snprintf(one, sizeof(one), "%sres%u:%u->%u", i ? " " : "", RES(c->resmap[m->resource])->pub.index,
		             SRV(m->from)->pub.index, SRV(m->to)->pub.index);

		if (n < 0)
			break;
		if (off + (size_t)n + 4 >= sizeof(pr->moves)) {
			snprintf(pr->moves + off, sizeof(pr->moves) - off, "...");
			break;
		}
		memcpy(pr->moves + off, one, (size_t)n + 1);
		off += (size_t)n;
	}
	emit(REDIR_EV_ROW_ADDED, REDIR_T_PLAN, pr->index, 0);
	emit(REDIR_EV_REBALANCED, pr->index, 0, 0);
}

static const char *trigger_name(int t)
{
	static const char *const n[] = {"?", "periodic", "threshold", "manual", "failover", "drain"};

	return t >= 1 && t <= 5 ? n[t] : n[0];
}

/* Rewrites the mapping, ends the moved resources' sessions on their old
 * server (their initiators log in again through the portal), persists. */
static void apply_plan(int trigger, const struct redir_plan *plan, const struct rbctx *c, bool record)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < plan->n_moves; i++) {
		const struct redir_move *m = &plan->moves[i];
		struct res *r = RES(c->resmap[m->resource]);
		uint32_t from = SRV(m->from)->pub.index, to = SRV(m->to)->pub.index;

		r->pub.server = to;
		r->pub.mapped_since = now;
		st_save_map(r);
		end_sessions(from, r->pub.target);
		sa_log(SA_LOG_INFO, TAG, "%s: %s moved from %s to %s", trigger_name(trigger), r->pub.target,
		       SRV(m->from)->pub.name, SRV(m->to)->pub.name);
		emit(REDIR_EV_RESOURCE_REMAPPED, r->pub.index, from, to);
	}
	recount();
	if (plan->n_moves && st())
		st_commit();
	if (record)
		record_plan(trigger, plan, c);
}

/* Moves the resources off one server that went down or is drained. */
static void failover_server(uint32_t index, int trigger)
{
	struct redir_plan plan = {0};
	struct rbctx c;
	size_t pos = vec_pos(&S, index);
	int rc;

	if (pos >= S.n || SRV(pos)->pub.index != index || !SRV(pos)->pub.nresources || PASSIVE())
		return;
	if (rb_build(&c) < 0)
		return;
	rc = redir_failover(c.srv, S.n, c.res, c.nres, (uint32_t)pos, false, &plan);
	if (rc == -EHOSTUNREACH)
		sa_log(SA_LOG_WARNING, TAG, "%s: no server is up to take its %u resources; logins get 0x0301",
		       SRV(pos)->pub.name, SRV(pos)->pub.nresources);
	else if (rc < 0)
		sa_log(SA_LOG_ERR, TAG, "%s: failover failed: %s", SRV(pos)->pub.name, strerror(-rc));
	else if (plan.n_moves)
		apply_plan(trigger, &plan, &c, true);
	redir_plan_free(&plan);
	rb_free(&c);
}

/* Resources stuck on servers that cannot take them (all servers were down
 * when theirs failed) move as soon as some server is up again. */
static void heal_orphans(void)
{
	if (PASSIVE())
		return;
	for (size_t i = 0; i < S.n; i++) {
		struct srv *s = SRV(i);

		if (srv_rb_state(s) != REDIR_SRV_UP && s->pub.nresources)
			failover_server(s->pub.index,
			                s->pub.admin == REDIR_ADMIN_DRAIN ? REDIR_TRIG_DRAIN : REDIR_TRIG_FAILOVER);
	}
}

/* Places one unmapped resource on the UP server with the fewest resources
 * per unit of capacity (loads are unknown for a new resource). */
static void place(struct res *r)
{
	struct srv *best = NULL;

	for (size_t i = 0; i < S.n; i++) {
		struct srv *s = SRV(i);

		if (srv_rb_state(s) != REDIR_SRV_UP)
			continue;
		if (!best ||
		    (uint64_t)s->pub.nresources * best->pub.capacity < (uint64_t)best->pub.nresources * s->pub.capacity)
			best = s;
	}
	if (!best)
		return;
	r->pub.server = best->pub.index;
	r->pub.mapped_since = time(NULL);
	best->pub.nresources++;
	best->pub.load += r->pub.load;
}

static int run_rebalance(int trigger, bool force, bool record_empty)
{
	struct redir_rb_params p = {
	    .threshold_pct = params.threshold_pct, .max_moves = params.max_moves, .force = force};
	struct redir_plan plan = {0};
	struct rbctx c;
	int rc;

	if (PASSIVE())
		return -EPERM;
	if ((rc = rb_build(&c)) < 0)
		return rc;
	rc = redir_rebalance(c.srv, S.n, c.res, c.nres, &p, &plan);
	if (rc < 0) {
		sa_log(SA_LOG_ERR, TAG, "%s rebalance failed: %s", trigger_name(trigger), strerror(-rc));
	} else if (plan.triggered && (plan.n_moves || record_empty)) {
		sa_log(SA_LOG_NOTICE, TAG, "%s rebalance: %zu moves, max load per capacity %.0f -> %.0f",
		       trigger_name(trigger), plan.n_moves, plan.max_rel_before, plan.max_rel_after);
		apply_plan(trigger, &plan, &c, true);
		if (plan.n_moves)
			clock_gettime(CLOCK_MONOTONIC, &last_auto_plan);
	} else if (record_empty) {
		apply_plan(trigger, &plan, &c, true);
	}
	redir_plan_free(&plan);
	rb_free(&c);
	return rc;
}

/* ---- portal callbacks ------------------------------------------------------ */

static void client_note(const char *ini, const uint8_t isid[6], const struct sockaddr_storage *src, const char *target,
                        uint32_t resource, uint32_t server)
{
	struct redir_client *c = cli_lookup(ini, isid, target);
	time_t now = time(NULL);

	if (!c) {
		if (C.n >= REDIR_MAX_CLIENTS) {
			/* Drop the oldest eighth at once so the hash is rebuilt rarely. */
			size_t drop = REDIR_MAX_CLIENTS / 8;

			for (size_t i = 0; i < drop; i++)
				emit(REDIR_EV_ROW_REMOVED, REDIR_T_CLIENT, CLI(i)->index, 0);
			memmove(C.v, CLI(drop), (C.n - drop) * C.size);
			C.n -= drop;
			cli_hash_rebuild();
		}
		c = vec_insert(&C, next_cli++);
		if (!c)
			return;
		snprintf(c->initiator, sizeof(c->initiator), "%s", ini);
		memcpy(c->isid, isid, 6);
		snprintf(c->target, sizeof(c->target), "%s", target);
		c->first_seen = now;
		if (!cli_hash.slot || (cli_hash.used + 1) * 2 > cli_hash.mask + 1)
			cli_hash_rebuild();
		else
			ihash_put(&cli_hash, cli_key(ini, isid, target), c->index);
		emit(REDIR_EV_ROW_ADDED, REDIR_T_CLIENT, c->index, 0);
		c = vec_find(&C, next_cli - 1);
		if (!c)
			return;
	}
	if (src)
		c->source = *src;
	c->resource = resource;
	c->server = server;
	c->last_seen = now;
	c->logins++;
}

void redir_note_discovery(const char *initiator, const uint8_t isid[6], const struct sockaddr_storage *src)
{
	counters.discovery_sessions++;
	client_note(initiator, isid, src, "", 0, 0);
}

int redir_route_login(const char *target, const char *initiator, const uint8_t isid[6],
                      const struct sockaddr_storage *src, char *addr, size_t addrlen)
{
	struct res *r = res_by_target(target);
	struct srv *s;

	if (!r) {
		counters.rejects++;
		return SA_LOGIN_NOT_FOUND;
	}
	s = vec_find(&S, r->pub.server);
	if (!s || !srv_routable(s)) {
		counters.rejects++;
		return SA_LOGIN_SERVICE_UNAVAILABLE;
	}
	format_addr(&s->pub, addr, addrlen);
	counters.redirects++;
	r->pub.redirects++;
	client_note(initiator, isid, src, target, r->pub.index, s->pub.index);
	return params.permanent ? SA_LOGIN_REDIRECT_PERM : SA_LOGIN_REDIRECT_TEMP;
}

int redir_sendtargets(struct sa_tk_buf *b, const char *self_addr)
{
	int rc;

	for (size_t i = 0; i < R.n; i++) {
		if ((rc = sa_tk_add(b, "TargetName", RES(i)->pub.target)) < 0 ||
		    (rc = sa_tk_add(b, "TargetAddress", self_addr)) < 0)
			return rc;
	}
	return 0;
}

/* ---- health ---------------------------------------------------------------- */

void redir_server_probed(uint32_t index, int ok, const char *why)
{
	struct srv *s = vec_find(&S, index);
	int was;

	if (!s)
		return;
	if (ok)
		s->pub.probes_ok++;
	else
		s->pub.probes_failed++;
	was = s->pub.oper;
	if (ok && was != REDIR_OPER_UP) {
		s->pub.oper = REDIR_OPER_UP;
		s->pub.last_change = time(NULL);
		s->pub.last_error[0] = '\0';
		sa_log(SA_LOG_NOTICE, TAG, "server %s (%s:%u) is up", s->pub.name, s->pub.host, s->pub.port);
		if (etcd_mode)
			redir_etcd_put_server(s->pub.name, "up");
		if (was == REDIR_OPER_DOWN)
			emit(REDIR_EV_SERVER_UP, index, 0, 0);
		heal_orphans();
	} else if (!ok && was != REDIR_OPER_DOWN) {
		s->pub.oper = REDIR_OPER_DOWN;
		s->pub.last_change = time(NULL);
		snprintf(s->pub.last_error, sizeof(s->pub.last_error), "%s", why ? why : "probe failed");
		sa_log(SA_LOG_WARNING, TAG, "server %s (%s:%u) is down: %s", s->pub.name, s->pub.host, s->pub.port,
		       s->pub.last_error);
		if (etcd_mode)
			redir_etcd_put_server(s->pub.name, "down");
		emit(REDIR_EV_SERVER_DOWN, index, 0, 0);
		failover_server(index, REDIR_TRIG_FAILOVER);
	} else if (!ok) {
		snprintf(s->pub.last_error, sizeof(s->pub.last_error), "%s", why ? why : "probe failed");
	}
}

/* ---- loads from tgt ---------------------------------------------------------- */

static bool plan_cooled_down(void)
{
	struct timespec now;
	double gap = 3.0 * params.load_interval_s;

	if (!last_auto_plan.tv_sec)
		return true;
	if (gap < 5)
		gap = 5;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - last_auto_plan.tv_sec) + (now.tv_nsec - last_auto_plan.tv_nsec) / 1e9 >= gap;
}

static void etcd_publish_loads(void);

static void loads_round_done(void)
{
	struct rbctx c;

	etcd_publish_loads();
	if (!loads_measured || !running)
		return;
	loads_measured = 0;
	/* Only measured loads trigger: SET loads wait for a manual or periodic
	 * run, so an external monitor can inject a whole set first. */
	if (!plan_cooled_down() || rb_build(&c) < 0)
		return;
	if (redir_rb_imbalanced(c.srv, S.n, c.res, c.nres, params.threshold_pct)) {
		rb_free(&c);
		run_rebalance(REDIR_TRIG_THRESHOLD, false, false);
		return;
	}
	rb_free(&c);
}

static void stats_done(uint32_t server, int rc, const struct tgtc_stats *stt)
{
	struct srv *s = vec_find(&S, server);
	struct timespec now;
	double secs;

	if (loads_pending)
		loads_pending--;
	if (!s) {
		if (!loads_pending)
			loads_round_done();
		return;
	}
	s->load_busy = 0;
	if (rc < 0 || !stt) {
		s->have_prev = 0;
		if (!loads_pending)
			loads_round_done();
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - s->prev_at.tv_sec) + (now.tv_nsec - s->prev_at.tv_nsec) / 1e9;
	if (s->have_prev && secs > 0.01) {
		/* Per target: the byte growth of each (lun, session) counter since
		 * the last sample; a session that is new since then counts whole. */
		uint64_t *delta = calloc(stt->ntargets ? stt->ntargets : 1, sizeof(uint64_t));

		for (size_t i = 0; delta && i < stt->ncounters; i++) {
			const struct tgtc_counter *k = &stt->counters[i];
			uint64_t before = 0;
			size_t t;

			for (size_t j = 0; j < s->nprev; j++) {
				if (s->prev[j].tid == k->tid && s->prev[j].lun == k->lun && s->prev[j].sid == k->sid) {
					before = s->prev[j].bytes;
					break;
				}
			}
			for (t = 0; t < stt->ntargets; t++)
				if (stt->targets[t].tid == k->tid)
					break;
			if (t < stt->ntargets && k->bytes >= before)
				delta[t] += k->bytes - before;
		}
		for (size_t t = 0; delta && t < stt->ntargets; t++) {
			struct res *r = res_by_target(stt->targets[t].name);

			/* The mapped server's figure is the resource's load; a SET
			 * load stays until the next SET (documented in the MIB). */
			if (r && r->pub.server == server && !r->pub.load_set)
				r->pub.load = (uint64_t)((double)delta[t] / secs);
		}
		/* Mapped here but no longer exported or idle: no bytes. */
		for (size_t i = 0; delta && i < R.n; i++) {
			struct res *r = RES(i);
			size_t t;

			if (r->pub.server != server || r->pub.load_set)
				continue;
			for (t = 0; t < stt->ntargets; t++)
				if (strcmp(stt->targets[t].name, r->pub.target) == 0)
					break;
			if (t == stt->ntargets)
				r->pub.load = 0;
		}
		free(delta);
		loads_measured = 1;
		recount();
	}
	free(s->prev);
	s->prev = NULL;
	s->nprev = 0;
	if (stt->ncounters && (s->prev = malloc(stt->ncounters * sizeof(*s->prev)))) {
		memcpy(s->prev, stt->counters, stt->ncounters * sizeof(*s->prev));
		s->nprev = stt->ncounters;
	}
	s->prev_at = now;
	s->have_prev = 1;
	if (!loads_pending)
		loads_round_done();
}

static void load_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	for (size_t i = 0; i < S.n; i++) {
		struct srv *s = SRV(i);

		if (s->pub.tgt_control < 0 || s->load_busy || s->pub.oper == REDIR_OPER_DOWN)
			continue;
		if (tgtc_read_stats(s->pub.index, s->pub.tgt_control, stats_done) == 0) {
			s->load_busy = 1;
			loads_pending++;
		}
	}
}

static void rebalance_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	run_rebalance(REDIR_TRIG_PERIODIC, true, false);
}

static void manual_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	manual_timer = 0;
	run_rebalance(REDIR_TRIG_MANUAL, true, true);
}

static void timers_stop(void)
{
	sa_ev_cancel(rebalance_timer);
	sa_ev_cancel(load_timer);
	sa_ev_cancel(manual_timer);
	rebalance_timer = load_timer = manual_timer = 0;
}

static void timers_start(void)
{
	timers_stop();
	if (params.interval_s)
		rebalance_timer = sa_ev_timer(params.interval_s * 1000u, 1, rebalance_tick, NULL);
	load_timer = sa_ev_timer(params.load_interval_s * 1000u, 1, load_tick, NULL);
}

/* ---- targets and loads from the servers' agents (remote.c) ------------------ */

uint32_t redir_server_index_by_name(const char *name)
{
	for (size_t i = 0; i < S.n; i++)
		if (strcmp(SRV(i)->pub.name, name) == 0)
			return SRV(i)->pub.index;
	return 0;
}

/* (resource, server that lists it) pairs of new targets, for placement at the end of a round. */
struct lister {
	uint32_t res, srv;
};
static struct lister *listers;
static size_t nlisters, caplisters;

static bool name_ok(const char *n, size_t max);
static uint32_t persisted_map(const char *target);
static void res_remove(uint32_t index);
static struct res *res_add(uint32_t index, const char *target, uint32_t server, int pinned, int origin, int storage);

void redir_agent_report(uint32_t server, int ok, char *const *names, const uint64_t *rates, size_t n)
{
	time_t now = time(NULL);
	struct srv *s = vec_find(&S, server);

	if (!s || !running)
		return;
	if (!ok) {
		/* Unknown is not gone: what it serves stays until it answers. */
		for (size_t i = 0; i < R.n; i++)
			if (RES(i)->pub.server == server)
				RES(i)->agent_seen = now;
		return;
	}
	for (size_t i = 0; i < R.n; i++)
		RES(i)->seen = 0;
	for (size_t i = 0; i < n; i++) {
		struct res *r = res_by_target(names[i]);

		if (!r) {
			if (!name_ok(names[i], REDIR_NAME_MAX))
				continue;
			r = res_add(idx_for(false, names[i]), names[i], persisted_map(names[i]), 0,
			            REDIR_ORIGIN_DISCOVERED, REDIR_ST_VOLATILE);
			if (!r)
				continue;
			sa_log(SA_LOG_INFO, TAG, "resource %s listed by the agent of %s", names[i], s->pub.name);
			emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, r->pub.index, 0);
		}
		r->agent_seen = now;
		r->seen = 1;
		if (!r->pub.server && nlisters < 1000000) {
			if (nlisters == caplisters) {
				size_t nc = caplisters ? caplisters * 2 : 64;
				struct lister *nl = realloc(listers, nc * sizeof(*nl));

				if (!nl)
					continue;
				listers = nl;
				caplisters = nc;
			}
			listers[nlisters++] = (struct lister){r->pub.index, server};
		}
		/* A follower shows the leader's loads (etcd load/ keys). */
		if (r->pub.server == server && !r->pub.load_set && rates && rates[i] != UINT64_MAX && !PASSIVE()) {
			r->pub.load = rates[i];
			loads_measured = 1;
		}
	}
	/* Mapped here but no longer listed: no bytes (the server is the source). */
	for (size_t i = 0; i < R.n && !PASSIVE(); i++)
		if (RES(i)->pub.server == server && !RES(i)->seen && !RES(i)->pub.load_set)
			RES(i)->pub.load = 0;
	recount();
	idx_commit(); /* new targets' indexes, one commit per report */
}

void redir_agent_round(unsigned int grace_s)
{
	time_t now = time(NULL);
	bool changed = false;

	/* New targets go to the least-filled server (per capacity) among those
	 * that listed them: another server may not export them at all.  A
	 * follower takes the leader's placement from etcd instead. */
	for (size_t i = 0; i < nlisters && !PASSIVE(); i++) {
		struct res *r = vec_find(&R, listers[i].res);
		struct srv *best = NULL;

		if (!r || r->pub.server)
			continue;
		for (size_t j = i; j < nlisters; j++) {
			struct srv *s;

			if (listers[j].res != listers[i].res || !(s = vec_find(&S, listers[j].srv)) ||
			    srv_rb_state(s) != REDIR_SRV_UP)
				continue;
			if (!best || (uint64_t)s->pub.nresources * best->pub.capacity <
			                 (uint64_t)best->pub.nresources * s->pub.capacity)
				best = s;
		}
		if (!best)
			continue;
		r->pub.server = best->pub.index;
		r->pub.mapped_since = now;
		best->pub.nresources++;
		st_save_map(r);
		changed = true;
	}
	nlisters = 0;
	for (size_t i = 0; i < R.n;) {
		struct res *r = RES(i);

		if (r->pub.origin == REDIR_ORIGIN_DISCOVERED && grace_s && now - r->agent_seen > (time_t)grace_s) {
			sa_log(SA_LOG_NOTICE, TAG, "resource %s: no agent lists it any more; dropped", r->pub.target);
			res_remove(r->pub.index);
			changed = true;
			continue;
		}
		i++;
	}
	recount();
	if (changed && st())
		st_commit();
	loads_round_done();
}

/* ---- verbs: servers ------------------------------------------------------------ */

static int host_family(const char *host)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, host, bin) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, bin) == 1)
		return AF_INET6;
	return 0;
}

static struct srv *srv_by_name(const char *name)
{
	for (size_t i = 0; i < S.n; i++)
		if (strcmp(SRV(i)->pub.name, name) == 0)
			return SRV(i);
	return NULL;
}

int redir_server_validate(uint32_t index, const struct redir_server_spec *spec)
{
	if (!index || !spec)
		return -EINVAL;
	if (vec_find(&S, index))
		return -EEXIST;
	if (!spec->name[0] || !memchr(spec->name, '\0', sizeof(spec->name)))
		return -EINVAL;
	if (srv_by_name(spec->name))
		return -EEXIST;
	if (!memchr(spec->host, '\0', sizeof(spec->host)) || !host_family(spec->host))
		return -EINVAL;
	if (!spec->port)
		return -EINVAL;
	if (spec->capacity < 1 || spec->capacity > 1000000)
		return -ERANGE;
	if (spec->admin < REDIR_ADMIN_UP || spec->admin > REDIR_ADMIN_DOWN)
		return -EINVAL;
	if (spec->storage != REDIR_ST_VOLATILE && spec->storage != REDIR_ST_NONVOLATILE)
		return -EINVAL;
	if (spec->tgt_control < -1 || spec->tgt_control > 65535)
		return -ERANGE;
	return 0;
}

static struct srv *srv_add(uint32_t index, const char *name, const char *host, unsigned port, unsigned capacity,
                           int admin, int tgt, int origin, int storage)
{
	struct srv *s = vec_insert(&S, index);

	if (!s)
		return NULL;
	snprintf(s->pub.name, sizeof(s->pub.name), "%s", name);
	snprintf(s->pub.host, sizeof(s->pub.host), "%s", host);
	s->pub.family = host_family(host);
	s->pub.port = (uint16_t)port;
	s->pub.capacity = capacity;
	s->pub.admin = admin;
	s->cfg_admin = admin;
	s->pub.oper = REDIR_OPER_UNKNOWN;
	s->pub.tgt_control = tgt;
	s->pub.origin = origin;
	s->pub.storage = storage;
	s->pub.last_change = time(NULL);
	if (index >= next_srv)
		next_srv = index + 1;
	idx_note(true, index, origin == REDIR_ORIGIN_CONFIG ? name : NULL);
	return s;
}

int redir_server_create(uint32_t index, const struct redir_server_spec *spec)
{
	struct srv *s;
	int rc = redir_server_validate(index, spec);

	if (rc < 0)
		return rc;
	s = srv_add(index, spec->name, spec->host, spec->port, spec->capacity, spec->admin, spec->tgt_control,
	            REDIR_ORIGIN_SNMP, spec->storage);
	if (!s)
		return -ENOMEM;
	if (spec->storage == REDIR_ST_NONVOLATILE) {
		if (!st()) {
			vec_remove_pos(&S, vec_pos(&S, index));
			return -EIO;
		}
		st_save_server(s);
		if ((rc = st_commit()) < 0) {
			char pfx[48];

			snprintf(pfx, sizeof(pfx), "redir.server.%u.", index);
			st_del_prefix(pfx);
			vec_remove_pos(&S, vec_pos(&S, index));
			return rc;
		}
	}
	idx_commit();
	sa_log(SA_LOG_INFO, TAG, "server %s (%s:%u) created over SNMP", spec->name, spec->host, spec->port);
	emit(REDIR_EV_ROW_ADDED, REDIR_T_SERVER, index, 0);
	/* A new server may take resources that had nowhere to go. */
	heal_orphans();
	for (size_t i = 0; i < R.n; i++)
		if (!RES(i)->pub.server)
			place(RES(i));
	return 0;
}

static void srv_remove(uint32_t index)
{
	size_t p = vec_pos(&S, index);
	struct srv *s;

	if (p >= S.n || SRV(p)->pub.index != index)
		return;
	s = SRV(p);
	/* Its resources go elsewhere first; those that cannot become unmapped. */
	if (srv_rb_state(s) == REDIR_SRV_UP) {
		s->pub.admin = REDIR_ADMIN_DOWN;
	}
	failover_server(index, REDIR_TRIG_FAILOVER);
	for (size_t i = 0; i < R.n; i++) {
		if (RES(i)->pub.server == index) {
			RES(i)->pub.server = 0;
			st_save_map(RES(i));
		}
	}
	p = vec_pos(&S, index);
	free(SRV(p)->prev);
	vec_remove_pos(&S, p);
	recount();
	emit(REDIR_EV_ROW_REMOVED, REDIR_T_SERVER, index, 0);
}

int redir_server_validate_destroy(uint32_t index)
{
	struct srv *s = vec_find(&S, index);

	if (!s)
		return -ENOENT;
	/* Config rows come and go with the config file only. */
	if (s->pub.origin == REDIR_ORIGIN_CONFIG || s->pub.storage == REDIR_ST_READONLY)
		return -EPERM;
	return 0;
}

int redir_server_destroy(uint32_t index)
{
	struct srv *s = vec_find(&S, index);
	char pfx[48];
	int rc = redir_server_validate_destroy(index);

	if (rc < 0)
		return rc;
	if (s->pub.storage == REDIR_ST_NONVOLATILE && st()) {
		snprintf(pfx, sizeof(pfx), "redir.server.%u.", index);
		st_del_prefix(pfx);
	}
	srv_remove(index);
	if (st())
		st_commit();
	return 0;
}

int redir_server_validate_admin(uint32_t index, int admin)
{
	if (!vec_find(&S, index))
		return -ENOENT;
	if (admin < REDIR_ADMIN_UP || admin > REDIR_ADMIN_DOWN)
		return -EINVAL;
	/* A follower takes it too: it goes to the leader through etcd. */
	return 0;
}

static void srv_apply_admin(struct srv *s, int admin)
{
	uint32_t index = s->pub.index;

	if (s->pub.admin == admin)
		return;
	sa_log(SA_LOG_NOTICE, TAG, "server %s: admin %s -> %s", s->pub.name, admin_name(s->pub.admin),
	       admin_name(admin));
	s->pub.admin = admin;
	s->pub.last_change = time(NULL);
	if (admin != REDIR_ADMIN_UP)
		failover_server(index, admin == REDIR_ADMIN_DRAIN ? REDIR_TRIG_DRAIN : REDIR_TRIG_FAILOVER);
	else
		heal_orphans();
}

/* Admin is the one column SNMP may change on a config row too: draining a
 * server for maintenance must not need a config edit.  The override lasts
 * until the config's own admin value for that server changes. */
static int admin_store(struct srv *s, int admin);

int redir_server_set_admin(uint32_t index, int admin)
{
	struct srv *s;
	int rc = redir_server_validate_admin(index, admin);

	if (rc < 0)
		return rc;
	s = vec_find(&S, index);
	if ((rc = admin_store(s, admin)) < 0)
		return rc;
	/* With etcd every redirector, the leader first, applies it from the
	 * watch; applying it here too shows it at once (a follower does not
	 * remap: the leader does, and shares the new mapping). */
	if (etcd_mode)
		redir_etcd_put_admin(s->pub.name, admin_name(admin));
	srv_apply_admin(s, admin);
	return 0;
}

/* Persists an admin state: an override of a config row's, or a SET row's own. */
static int admin_store(struct srv *s, int admin)
{
	uint32_t index = s->pub.index;
	char k[128];
	int rc;

	if (s->pub.origin == REDIR_ORIGIN_CONFIG) {
		if (st()) {
			snprintf(k, sizeof(k), "redir.admin.%s", s->pub.name);
			sa_state_set(st(), k, admin_name(admin));
			if ((rc = st_commit()) < 0) {
				sa_state_del(st(), k);
				return rc;
			}
		}
		s->admin_override = admin;
	} else if (s->pub.storage == REDIR_ST_NONVOLATILE) {
		if (!st())
			return -EIO;
		snprintf(k, sizeof(k), "redir.server.%u.admin", index);
		sa_state_set(st(), k, admin_name(admin));
		if ((rc = st_commit()) < 0) {
			sa_state_set(st(), k, admin_name(s->pub.admin));
			return rc;
		}
	}
	return 0;
}

int redir_server_validate_capacity(uint32_t index, uint32_t capacity)
{
	struct srv *s = vec_find(&S, index);

	if (!s)
		return -ENOENT;
	if (s->pub.origin == REDIR_ORIGIN_CONFIG)
		return -EPERM;
	if (capacity < 1 || capacity > 1000000)
		return -ERANGE;
	return 0;
}

int redir_server_set_capacity(uint32_t index, uint32_t capacity)
{
	struct srv *s;
	char k[96];
	int rc = redir_server_validate_capacity(index, capacity);

	if (rc < 0)
		return rc;
	s = vec_find(&S, index);
	if (s->pub.storage == REDIR_ST_NONVOLATILE) {
		if (!st())
			return -EIO;
		snprintf(k, sizeof(k), "redir.server.%u.capacity", index);
		st_setf(k, "%u", capacity);
		if ((rc = st_commit()) < 0) {
			st_setf(k, "%u", s->pub.capacity);
			return rc;
		}
	}
	s->pub.capacity = capacity;
	return 0;
}

/* ---- verbs: resources ------------------------------------------------------------ */

/* iSCSI names (RFC 7143 4.2.7): printable, no spaces, at most 223 octets. */
static bool name_ok(const char *n, size_t max)
{
	size_t len = strnlen(n, max);

	if (!len || len >= max)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n[i] <= 0x20 || n[i] == 0x7f)
			return false;
	return true;
}

int redir_resource_validate(uint32_t index, const struct redir_resource_spec *spec)
{
	return redir_resource_validate_in(index, spec, NULL);
}

int redir_resource_validate_in(uint32_t index, const struct redir_resource_spec *spec,
                               const struct redir_txn_view *view)
{
	if (!index || !spec)
		return -EINVAL;
	if (vec_find(&R, index))
		return -EEXIST;
	if (!name_ok(spec->target, sizeof(spec->target)))
		return -EINVAL;
	if (res_by_target(spec->target))
		return -EEXIST;
	if (spec->server && !vec_find(&S, spec->server) && !(view && view->server_created(spec->server, view->arg)))
		return -ENOENT;
	if (spec->pinned != 0 && spec->pinned != 1)
		return -EINVAL;
	if (spec->storage != REDIR_ST_VOLATILE && spec->storage != REDIR_ST_NONVOLATILE)
		return -EINVAL;
	return 0;
}

static struct res *res_add(uint32_t index, const char *target, uint32_t server, int pinned, int origin, int storage)
{
	struct res *r = vec_insert(&R, index);

	if (!r)
		return NULL;
	snprintf(r->pub.target, sizeof(r->pub.target), "%s", target);
	r->pub.server = server;
	r->pub.pinned = pinned;
	r->pub.origin = origin;
	r->pub.storage = storage;
	r->pub.mapped_since = time(NULL);
	if (index >= next_res)
		next_res = index + 1;
	idx_note(false, index, origin == REDIR_ORIGIN_SNMP ? NULL : target);
	res_hash_add(r);
	return r;
}

int redir_resource_create(uint32_t index, const struct redir_resource_spec *spec)
{
	struct res *r;
	int rc = redir_resource_validate(index, spec);

	if (rc < 0)
		return rc;
	if (spec->storage == REDIR_ST_NONVOLATILE && !st())
		return -EIO;
	r = res_add(index, spec->target, spec->server, spec->pinned, REDIR_ORIGIN_SNMP, spec->storage);
	if (!r)
		return -ENOMEM;
	if (!r->pub.server)
		place(r);
	recount();
	if (spec->storage == REDIR_ST_NONVOLATILE) {
		st_save_resource(r);
		st_save_map(r);
		if ((rc = st_commit()) < 0) {
			char pfx[48], k[REDIR_NAME_MAX + 16];

			snprintf(pfx, sizeof(pfx), "redir.resource.%u.", index);
			st_del_prefix(pfx);
			snprintf(k, sizeof(k), "redir.map.%s", spec->target);
			sa_state_del(st(), k);
			vec_remove_pos(&R, vec_pos(&R, index));
			res_hash_rebuild();
			recount();
			return rc;
		}
	}
	idx_commit();
	emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, index, 0);
	return 0;
}

static void res_remove(uint32_t index)
{
	size_t p = vec_pos(&R, index);
	char k[REDIR_NAME_MAX + 16];

	if (p >= R.n || RES(p)->pub.index != index)
		return;
	if (st()) {
		snprintf(k, sizeof(k), "redir.map.%s", RES(p)->pub.target);
		sa_state_del(st(), k);
	}
	if (etcd_mode && redir_etcd_is_leader()) {
		redir_etcd_put_map(RES(p)->pub.target, NULL);
		redir_etcd_put_load(RES(p)->pub.target, NULL);
	}
	vec_remove_pos(&R, p);
	res_hash_rebuild();
	emit(REDIR_EV_ROW_REMOVED, REDIR_T_RESOURCE, index, 0);
}

int redir_resource_validate_destroy(uint32_t index)
{
	struct res *r = vec_find(&R, index);

	if (!r)
		return -ENOENT;
	if (r->pub.origin == REDIR_ORIGIN_CONFIG || r->pub.storage == REDIR_ST_READONLY)
		return -EPERM;
	return 0;
}

int redir_resource_destroy(uint32_t index)
{
	struct res *r = vec_find(&R, index);
	char pfx[48];
	int rc = redir_resource_validate_destroy(index);

	if (rc < 0)
		return rc;
	if (st()) {
		char k[REDIR_NAME_MAX + 16];

		snprintf(pfx, sizeof(pfx), "redir.resource.%u.", index);
		st_del_prefix(pfx);
		/* The target's remembered mapping goes with the row. */
		snprintf(k, sizeof(k), "redir.map.%s", r->pub.target);
		sa_state_del(st(), k);
	}
	res_remove(index);
	recount();
	if (st())
		st_commit();
	return 0;
}

int redir_resource_validate_move(uint32_t index, uint32_t server)
{
	struct res *r = vec_find(&R, index);
	struct srv *s = vec_find(&S, server);

	if (!r || !s)
		return -ENOENT;
	if (r->pub.server == server)
		return 0;
	if (PASSIVE())
		return -EAGAIN; /* a follower's mapping comes from the leader */
	if (srv_rb_state(s) != REDIR_SRV_UP)
		return -EBUSY;
	return 0;
}

int redir_resource_move(uint32_t index, uint32_t server)
{
	struct res *r;
	uint32_t old;
	int rc = redir_resource_validate_move(index, server);

	if (rc < 0)
		return rc;
	r = vec_find(&R, index);
	old = r->pub.server;
	if (old == server)
		return 0;
	r->pub.server = server;
	r->pub.mapped_since = time(NULL);
	if (st()) {
		st_save_map(r);
		st_commit();
	}
	recount();
	end_sessions(old, r->pub.target);
	sa_log(SA_LOG_INFO, TAG, "manual: %s moved from server %u to %u", r->pub.target, old, server);
	emit(REDIR_EV_RESOURCE_REMAPPED, index, old, server);
	return 0;
}

int redir_resource_set_load(uint32_t index, uint64_t load)
{
	struct res *r = vec_find(&R, index);

	if (!r)
		return -ENOENT;
	r->pub.load = load;
	r->pub.load_set = 1;
	recount();
	etcd_publish_loads();
	return 0;
}

int redir_resource_set_pinned(uint32_t index, int pinned)
{
	struct res *r = vec_find(&R, index);
	char k[96];

	if (!r)
		return -ENOENT;
	if (pinned != 0 && pinned != 1)
		return -EINVAL;
	if (r->pub.origin == REDIR_ORIGIN_SNMP && r->pub.storage == REDIR_ST_NONVOLATILE && st()) {
		int rc;

		snprintf(k, sizeof(k), "redir.resource.%u.pinned", index);
		sa_state_set(st(), k, pinned ? "1" : "0");
		if ((rc = st_commit()) < 0) {
			sa_state_set(st(), k, r->pub.pinned ? "1" : "0");
			return rc;
		}
	}
	r->pub.pinned = pinned;
	return 0;
}

/* ---- verbs: parameters ------------------------------------------------------------ */

int redir_params_validate(const struct redir_params *p)
{
	if (!p)
		return -EINVAL;
	if (p->threshold_pct < 1 || p->threshold_pct > 1000 || p->interval_s > 86400 || p->max_moves > 1000000 ||
	    p->probe_interval_ms < 50 || p->probe_interval_ms > 600000 || p->probe_timeout_ms < 50 ||
	    p->probe_timeout_ms > 600000 || p->load_interval_s < 1 || p->load_interval_s > 3600)
		return -ERANGE;
	if (p->permanent != 0 && p->permanent != 1)
		return -EINVAL;
	return 0;
}

static void params_save(const struct redir_params *p)
{
	st_setf("redir.param.threshold", "%u", p->threshold_pct);
	st_setf("redir.param.interval", "%u", p->interval_s);
	st_setf("redir.param.max_moves", "%u", p->max_moves);
	st_setf("redir.param.probe_interval_ms", "%u", p->probe_interval_ms);
	st_setf("redir.param.probe_timeout_ms", "%u", p->probe_timeout_ms);
	st_setf("redir.param.load_interval", "%u", p->load_interval_s);
	st_setf("redir.param.permanent", "%d", p->permanent);
}

static void params_apply(const struct redir_params *p)
{
	bool probes =
	    p->probe_interval_ms != params.probe_interval_ms || p->probe_timeout_ms != params.probe_timeout_ms;
	bool timers = p->interval_s != params.interval_s || p->load_interval_s != params.load_interval_s;

	params = *p;
	if (!running || PASSIVE())
		return;
	if (timers)
		timers_start();
	if (probes) {
		redir_health_stop();
		redir_health_start(params.probe_interval_ms, params.probe_timeout_ms);
	}
}

/* SNMP-set parameters persist and win over the config until the config's
 * own value for that parameter changes. */
int redir_params_set(const struct redir_params *p)
{
	int rc = redir_params_validate(p);

	if (rc < 0)
		return rc;
	if (st()) {
		params_save(p);
		if ((rc = st_commit()) < 0) {
			params_save(&params);
			return rc;
		}
	}
	params_apply(p);
	return 0;
}

int redir_rebalance_now(void)
{
	if (!running || PASSIVE())
		return -EAGAIN;
	if (!manual_timer)
		manual_timer = sa_ev_timer(1, 0, manual_tick, NULL);
	return manual_timer ? 0 : -ENOMEM;
}

/* ---- config and start/stop ----------------------------------------------------------- */

static void params_from_cfg(const struct sa_redirect_config *rc, struct redir_params *p)
{
	p->threshold_pct = (unsigned)rc->threshold;
	p->interval_s = (unsigned)rc->interval;
	p->max_moves = (unsigned)rc->max_moves;
	p->probe_interval_ms = (unsigned)rc->probe_interval_ms;
	p->probe_timeout_ms = (unsigned)rc->probe_timeout_ms;
	p->load_interval_s = (unsigned)rc->load_interval;
	p->permanent = rc->permanent;
}

static unsigned st_uint(const char *key, unsigned def)
{
	const char *v = st() ? sa_state_get(st(), key) : NULL;
	char *end;
	unsigned long x;

	if (!v || !*v)
		return def;
	x = strtoul(v, &end, 10);
	return *end ? def : (unsigned)x;
}

/* Config values, then persisted SNMP overrides for the ones the config did not change. */
static void params_merge(const struct redir_params *ncfg, const struct redir_params *ocfg, struct redir_params *out)
{
	struct redir_params ov;

	*out = *ncfg;
	ov.threshold_pct = st_uint("redir.param.threshold", ncfg->threshold_pct);
	ov.interval_s = st_uint("redir.param.interval", ncfg->interval_s);
	ov.max_moves = st_uint("redir.param.max_moves", ncfg->max_moves);
	ov.probe_interval_ms = st_uint("redir.param.probe_interval_ms", ncfg->probe_interval_ms);
	ov.probe_timeout_ms = st_uint("redir.param.probe_timeout_ms", ncfg->probe_timeout_ms);
	ov.load_interval_s = st_uint("redir.param.load_interval", ncfg->load_interval_s);
	ov.permanent = (int)st_uint("redir.param.permanent", (unsigned)ncfg->permanent);
#define MERGE(f, key)                                                                                                  \
	do {                                                                                                           \
		if (ocfg && ocfg->f != ncfg->f) {                                                                      \
			if (st())                                                                                      \
				sa_state_del(st(), key);                                                               \
		} else {                                                                                               \
			out->f = ov.f;                                                                                 \
		}                                                                                                      \
	} while (0)
	MERGE(threshold_pct, "redir.param.threshold");
	MERGE(interval_s, "redir.param.interval");
	MERGE(max_moves, "redir.param.max_moves");
	MERGE(probe_interval_ms, "redir.param.probe_interval_ms");
	MERGE(probe_timeout_ms, "redir.param.probe_timeout_ms");
	MERGE(load_interval_s, "redir.param.load_interval");
	MERGE(permanent, "redir.param.permanent");
#undef MERGE
	if (redir_params_validate(out) < 0)
		*out = *ncfg;
}

struct st_rows {
	uint32_t *idx;
	size_t n, cap;
};

static void collect_index(const char *key, const char *value, void *arg)
{
	struct st_rows *r = arg;
	const char *p = strchr(key, '.');
	unsigned long x;
	char *end;

	(void)value;
	/* key: redir.<table>.<idx>.<field> */
	p = p ? strchr(p + 1, '.') : NULL;
	if (!p)
		return;
	x = strtoul(p + 1, &end, 10);
	if (*end != '.' || !x || x > UINT32_MAX)
		return;
	if (r->n && r->idx[r->n - 1] == x)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->idx[i] == x)
			return;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		uint32_t *ni = realloc(r->idx, nc * sizeof(*ni));

		if (!ni)
			return;
		r->idx = ni;
		r->cap = nc;
	}
	r->idx[r->n++] = (uint32_t)x;
}

static const char *st_field(const char *table, uint32_t idx, const char *field)
{
	char k[96];

	snprintf(k, sizeof(k), "redir.%s.%u.%s", table, idx, field);
	return sa_state_get(st(), k);
}

/* nonVolatile rows created over SNMP before the last stop. */
static void load_persisted_servers(void)
{
	struct st_rows rows = {0};

	if (!st())
		return;
	sa_state_foreach(st(), "redir.server.", collect_index, &rows);
	for (size_t i = 0; i < rows.n; i++) {
		const char *name = st_field("server", rows.idx[i], "name"),
		           *host = st_field("server", rows.idx[i], "host");
		unsigned port, cap;
		int admin, tgt;
		char k[48];

		snprintf(k, sizeof(k), "redir.server.%u.port", rows.idx[i]);
		port = st_uint(k, 0);
		snprintf(k, sizeof(k), "redir.server.%u.capacity", rows.idx[i]);
		cap = st_uint(k, 1);
		snprintf(k, sizeof(k), "redir.server.%u.tgt", rows.idx[i]);
		tgt = sa_state_get(st(), k) ? atoi(sa_state_get(st(), k)) : -1;
		admin = admin_parse(st_field("server", rows.idx[i], "admin"));
		if (!name || !host || !host_family(host) || !port || port > 65535 || !cap || !admin ||
		    vec_find(&S, rows.idx[i]) || srv_by_name(name)) {
			sa_log(SA_LOG_WARNING, TAG, "state: ignoring bad server row %u", rows.idx[i]);
			continue;
		}
		srv_add(rows.idx[i], name, host, port, cap, admin, tgt, REDIR_ORIGIN_SNMP, REDIR_ST_NONVOLATILE);
	}
	free(rows.idx);
}

static void load_persisted_resources(void)
{
	struct st_rows rows = {0};

	if (!st())
		return;
	sa_state_foreach(st(), "redir.resource.", collect_index, &rows);
	for (size_t i = 0; i < rows.n; i++) {
		const char *t = st_field("resource", rows.idx[i], "target"),
		           *pin = st_field("resource", rows.idx[i], "pinned");

		if (!t || !name_ok(t, REDIR_NAME_MAX) || vec_find(&R, rows.idx[i]) || res_by_target(t)) {
			sa_log(SA_LOG_WARNING, TAG, "state: ignoring bad resource row %u", rows.idx[i]);
			continue;
		}
		res_add(rows.idx[i], t, 0, pin && strcmp(pin, "1") == 0, REDIR_ORIGIN_SNMP, REDIR_ST_NONVOLATILE);
	}
	free(rows.idx);
}

/* The persisted mapping (by server name), when that server still exists. */
static uint32_t persisted_map(const char *target)
{
	char k[REDIR_NAME_MAX + 16];
	const char *v;
	struct srv *s;

	if (!st())
		return 0;
	snprintf(k, sizeof(k), "redir.map.%s", target);
	v = sa_state_get(st(), k);
	s = v ? srv_by_name(v) : NULL;
	return s ? s->pub.index : 0;
}

static int cfg_admin_of(const struct sa_redir_server_cfg *c)
{
	return admin_parse(c->admin) ? admin_parse(c->admin) : REDIR_ADMIN_UP;
}

static int sync_config(const struct sa_redirect_config *rc, bool initial)
{
	char k[128];

	for (size_t i = 0; i < S.n; i++)
		SRV(i)->seen = 0;
	for (size_t i = 0; i < rc->nservers; i++) {
		const struct sa_redir_server_cfg *c = &rc->servers[i];
		struct srv *s = srv_by_name(c->name);
		int cadm = cfg_admin_of(c);

		if (s && s->pub.origin != REDIR_ORIGIN_CONFIG) {
			sa_log(SA_LOG_WARNING, TAG, "config server %s: an SNMP-created server has that name; skipped",
			       c->name);
			continue;
		}
		if (!s) {
			const char *ov;

			s = srv_add(idx_for(true, c->name), c->name, c->address, (unsigned)c->port,
			            (unsigned)c->capacity, cadm, c->tgt_control, REDIR_ORIGIN_CONFIG,
			            REDIR_ST_READONLY);
			if (!s)
				return -ENOMEM;
			snprintf(k, sizeof(k), "redir.admin.%s", c->name);
			ov = st() ? sa_state_get(st(), k) : NULL;
			if (admin_parse(ov)) {
				s->admin_override = admin_parse(ov);
				s->pub.admin = s->admin_override;
			}
			s->seen = 1;
			if (!initial)
				emit(REDIR_EV_ROW_ADDED, REDIR_T_SERVER, s->pub.index, 0);
			continue;
		}
		s->seen = 1;
		if (strcmp(s->pub.host, c->address) || s->pub.port != c->port) {
			snprintf(s->pub.host, sizeof(s->pub.host), "%s", c->address);
			s->pub.family = host_family(c->address);
			s->pub.port = (uint16_t)c->port;
			s->pub.oper = REDIR_OPER_UNKNOWN;
			s->pub.last_change = time(NULL);
		}
		s->pub.capacity = (uint32_t)c->capacity;
		if (s->pub.tgt_control != c->tgt_control) {
			s->pub.tgt_control = c->tgt_control;
			s->have_prev = 0;
		}
		if (cadm != s->cfg_admin) {
			s->cfg_admin = cadm;
			s->admin_override = 0;
			snprintf(k, sizeof(k), "redir.admin.%s", c->name);
			if (st())
				sa_state_del(st(), k);
		}
		srv_apply_admin(s, s->admin_override ? s->admin_override : s->cfg_admin);
	}
	for (size_t i = 0; i < S.n;) {
		if (SRV(i)->pub.origin == REDIR_ORIGIN_CONFIG && !SRV(i)->seen) {
			sa_log(SA_LOG_NOTICE, TAG, "server %s left the config", SRV(i)->pub.name);
			srv_remove(SRV(i)->pub.index);
			continue;
		}
		i++;
	}

	for (size_t i = 0; i < R.n; i++)
		RES(i)->seen = 0;
	for (size_t i = 0; i < rc->nresources; i++) {
		const struct sa_redir_resource_cfg *c = &rc->resources[i];
		struct res *r = res_by_target(c->target);
		struct srv *home = c->server[0] ? srv_by_name(c->server) : NULL;

		if (r && r->pub.origin != REDIR_ORIGIN_CONFIG) {
			sa_log(SA_LOG_WARNING, TAG,
			       "config resource %s: an SNMP-created resource has that target; skipped", c->target);
			continue;
		}
		if (!r) {
			/* Where the last failover or rebalance left it wins over
			 * the config's initial placement. */
			uint32_t server = persisted_map(c->target);

			if (!server && home)
				server = home->pub.index;
			r = res_add(idx_for(false, c->target), c->target, server, c->pinned, REDIR_ORIGIN_CONFIG,
			            REDIR_ST_READONLY);
			if (!r)
				return -ENOMEM;
			snprintf(r->cfg_server, sizeof(r->cfg_server), "%s", c->server);
			r->seen = 1;
			if (!initial)
				emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, r->pub.index, 0);
			continue;
		}
		r->seen = 1;
		r->pub.pinned = c->pinned;
		if (strcmp(r->cfg_server, c->server)) {
			/* The operator changed the placement in the config: honour it. */
			snprintf(r->cfg_server, sizeof(r->cfg_server), "%s", c->server);
			if (home && home->pub.index != r->pub.server) {
				uint32_t old = r->pub.server;

				r->pub.server = home->pub.index;
				r->pub.mapped_since = time(NULL);
				st_save_map(r);
				end_sessions(old, r->pub.target);
				emit(REDIR_EV_RESOURCE_REMAPPED, r->pub.index, old, home->pub.index);
			}
		}
	}
	for (size_t i = 0; i < R.n;) {
		if (RES(i)->pub.origin == REDIR_ORIGIN_CONFIG && !RES(i)->seen) {
			res_remove(RES(i)->pub.index);
			continue;
		}
		i++;
	}
	recount();
	/* Resources whose server is gone or unknown, then those on servers that cannot take them. */
	for (size_t i = 0; i < R.n; i++) {
		if (RES(i)->pub.server && !vec_find(&S, RES(i)->pub.server))
			RES(i)->pub.server = 0;
		if (!RES(i)->pub.server) {
			place(RES(i));
			st_save_map(RES(i));
		}
	}
	recount();
	heal_orphans();
	return 0;
}

static void model_free(bool announce)
{
	if (announce) {
		for (size_t i = 0; i < C.n; i++)
			emit(REDIR_EV_ROW_REMOVED, REDIR_T_CLIENT, CLI(i)->index, 0);
		for (size_t i = 0; i < P.n; i++)
			emit(REDIR_EV_ROW_REMOVED, REDIR_T_PLAN, PLAN(i)->index, 0);
		for (size_t i = 0; i < R.n; i++)
			emit(REDIR_EV_ROW_REMOVED, REDIR_T_RESOURCE, RES(i)->pub.index, 0);
		for (size_t i = 0; i < S.n; i++)
			emit(REDIR_EV_ROW_REMOVED, REDIR_T_SERVER, SRV(i)->pub.index, 0);
	}
	for (size_t i = 0; i < S.n; i++)
		free(SRV(i)->prev);
	vec_free(&S);
	vec_free(&R);
	vec_free(&C);
	vec_free(&P);
	free(res_hash.slot);
	free(cli_hash.slot);
	memset(&res_hash, 0, sizeof(res_hash));
	memset(&cli_hash, 0, sizeof(cli_hash));
}

static void listen_free(void)
{
	for (size_t i = 0; i < nlisten_cfg; i++)
		free(listen_cfg[i]);
	free(listen_cfg);
	listen_cfg = NULL;
	nlisten_cfg = 0;
}

static int listen_copy(const struct sa_redirect_config *rc)
{
	static char *const def[] = {"127.0.0.1:3260"};
	char *const *src = rc->nlisten ? rc->listen : def;
	size_t n = rc->nlisten ? rc->nlisten : 1;

	listen_free();
	listen_cfg = calloc(n, sizeof(char *));
	if (!listen_cfg)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(listen_cfg[i] = strdup(src[i]))) {
			nlisten_cfg = i;
			listen_free();
			return -ENOMEM;
		}
	}
	nlisten_cfg = n;
	return 0;
}

static bool listen_same(const struct sa_redirect_config *rc)
{
	static const char *const def[] = {"127.0.0.1:3260"};
	size_t n = rc->nlisten ? rc->nlisten : 1;

	if (n != nlisten_cfg)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rc->nlisten ? rc->listen[i] : def[i], listen_cfg[i]))
			return false;
	return true;
}

static void limits_from_cfg(const struct sa_redirect_config *rc, struct redir_portal_limits *l)
{
	l->max_connections = (unsigned)rc->max_connections;
	l->max_per_source = (unsigned)rc->max_per_source;
	l->header_timeout_ms = (unsigned)rc->header_timeout * 1000u;
	l->login_timeout_ms = (unsigned)rc->login_timeout_ms;
	l->max_data_segment = (size_t)rc->max_data_segment;
}

/* ---- etcd: the mapping and server states shared by redirectors ------------------ */

static char etcd_sig[1024]; /* the etcd config in use, to notice a change on reload */

static const char *oper_name(int o)
{
	return o == REDIR_OPER_UP ? "up" : o == REDIR_OPER_DOWN ? "down" : "unknown";
}

int redir_role(void)
{
	if (!etcd_mode)
		return REDIR_ROLE_STANDALONE;
	return redir_etcd_is_leader() ? REDIR_ROLE_LEADER : REDIR_ROLE_FOLLOWER;
}

static void etcd_role(int leader)
{
	if (!running)
		return;
	if (leader) {
		/* The model already holds what the previous leader wrote (we
		 * followed it); write it back whole, then take over the work. */
		for (size_t i = 0; i < S.n; i++)
			redir_etcd_put_server(SRV(i)->pub.name, oper_name(SRV(i)->pub.oper));
		for (size_t i = 0; i < R.n; i++) {
			const struct redir_server *s = redir_server_find(RES(i)->pub.server);

			if (s)
				redir_etcd_put_map(RES(i)->pub.target, s->name);
		}
		for (size_t i = 0; i < R.n; i++)
			RES(i)->shared_load_ok = 0;
		etcd_publish_loads();
		heal_orphans();
		redir_health_start(params.probe_interval_ms, params.probe_timeout_ms);
		timers_start();
	} else {
		timers_stop();
		redir_health_stop();
	}
}

/* A follower takes the leader's mapping as is: counts move incrementally
 * so reading a large map at start stays linear. */
static void etcd_map(const char *target, const char *server)
{
	struct res *r;
	struct srv *to, *from;

	if (!running || !server || redir_etcd_is_leader())
		return;
	r = res_by_target(target);
	to = srv_by_name(server);
	if (!to)
		return;
	if (!r) {
		/* A target the leader learnt from a server's agent before this
		 * follower did: served from the leader's placement at once. */
		if (!name_ok(target, REDIR_NAME_MAX) || !(r = res_add(idx_for(false, target), target, to->pub.index, 0,
		                                                      REDIR_ORIGIN_DISCOVERED, REDIR_ST_VOLATILE)))
			return;
		idx_commit();
		r->agent_seen = time(NULL);
		to->pub.nresources++;
		st_save_map(r);
		sa_log(SA_LOG_INFO, TAG, "shared mapping: new resource %s -> %s", target, server);
		emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, r->pub.index, 0);
		return;
	}
	if (r->pub.server == to->pub.index)
		return;
	from = vec_find(&S, r->pub.server);
	if (from) {
		from->pub.nresources--;
		from->pub.load -= r->pub.load <= from->pub.load ? r->pub.load : from->pub.load;
	}
	to->pub.nresources++;
	to->pub.load += r->pub.load;
	r->pub.server = to->pub.index;
	r->pub.mapped_since = time(NULL);
	st_save_map(r);
	sa_log(SA_LOG_INFO, TAG, "shared mapping: %s -> %s", target, server);
}

static void etcd_server(const char *name, const char *state)
{
	struct srv *s;
	int oper;

	if (!running || !state || redir_etcd_is_leader() || !(s = srv_by_name(name)))
		return;
	oper = strcmp(state, "up") == 0     ? REDIR_OPER_UP
	       : strcmp(state, "down") == 0 ? REDIR_OPER_DOWN
	                                    : REDIR_OPER_UNKNOWN;
	if (s->pub.oper == oper)
		return;
	s->pub.oper = oper;
	s->pub.last_change = time(NULL);
	sa_log(SA_LOG_INFO, TAG, "shared state: server %s is %s", name, state);
}

/* A follower shows the leader's loads; the leader is their source. */
static void etcd_load(const char *target, const char *value)
{
	struct res *r;
	struct srv *s;
	char *end;
	unsigned long long v;

	if (!running || !value || redir_etcd_is_leader() || !(r = res_by_target(target)))
		return;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || end == value || *end)
		return;
	if ((s = vec_find(&S, r->pub.server)))
		s->pub.load = s->pub.load - (r->pub.load <= s->pub.load ? r->pub.load : s->pub.load) + v;
	r->pub.load = v;
}

/* The leader writes the loads that changed since it last wrote them. */
static void etcd_publish_loads(void)
{
	char v[24];

	if (!etcd_mode || !redir_etcd_is_leader())
		return;
	for (size_t i = 0; i < R.n; i++) {
		struct res *r = RES(i);

		if (r->shared_load_ok && r->shared_load == r->pub.load)
			continue;
		snprintf(v, sizeof(v), "%llu", (unsigned long long)r->pub.load);
		redir_etcd_put_load(r->pub.target, v);
		r->shared_load = r->pub.load;
		r->shared_load_ok = 1;
	}
}

/* Any redirector may have taken the SET; every one applies it, and only
 * the leader remaps (failover_server does nothing on a follower). */
static void etcd_admin(const char *name, const char *state)
{
	struct srv *s;
	int admin = admin_parse(state);

	if (!running || !admin || !(s = srv_by_name(name)) || s->pub.admin == admin)
		return;
	if (admin_store(s, admin) < 0)
		sa_log(SA_LOG_WARNING, TAG, "server %s: cannot keep the shared admin state %s in the state file", name,
		       state);
	sa_log(SA_LOG_INFO, TAG, "shared admin state: server %s is %s", name, state);
	srv_apply_admin(s, admin);
}

static void etcd_signature(const struct sa_redirect_config *rc, char *out, size_t len)
{
	size_t off;

	out[0] = '\0';
	if (!rc->etcd.present)
		return;
	off = (size_t)snprintf(out, len, "%s|%d", rc->etcd.cluster ? rc->etcd.cluster : "", rc->etcd.lease_ttl);
	for (size_t i = 0; i < rc->etcd.nendpoints && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "|%s", rc->etcd.endpoints[i]);
}

static int etcd_begin(const struct sa_redirect_config *rc, char *err, size_t errlen)
{
	static const struct redir_etcd_cbs cbs = {
	    .role = etcd_role, .map = etcd_map, .server = etcd_server, .load = etcd_load, .admin = etcd_admin};
	char self[320], host[128] = "";
	int r;

	gethostname(host, sizeof(host) - 1);
	snprintf(self, sizeof(self), "%s/%s", host, nlisten_cfg ? listen_cfg[0] : "?");
	etcd_mode = 1;
	if ((r = redir_etcd_start(&rc->etcd, self, &cbs, err, errlen)) < 0) {
		etcd_mode = 0;
		return r;
	}
	etcd_signature(rc, etcd_sig, sizeof(etcd_sig));
	return 0;
}

static void etcd_end(void)
{
	redir_etcd_stop();
	etcd_mode = 0;
	etcd_sig[0] = '\0';
}

static void redir_stop(void)
{
	if (!running)
		return;
	running = 0;
	redir_remote_stop();
	nlisters = 0;
	etcd_end();
	timers_stop();
	redir_health_stop();
	redir_portal_stop();
	tgtc_stop();
	model_free(true);
	listen_free();
	loads_pending = 0;
	sa_log(SA_LOG_NOTICE, TAG, "stopped");
}

/* The schema fills defaults only when the section is present; an engine
 * switched on over SNMP without a section gets the same defaults here
 * (probe_interval_ms is never 0 in a parsed section). */
static const struct sa_redirect_config *cfg_or_defaults(const struct sa_redirect_config *cfg)
{
	static struct sa_redirect_config d;

	if (cfg && cfg->probe_interval_ms)
		return cfg;
	memset(&d, 0, sizeof(d));
	d.threshold = 50;
	d.max_moves = 2;
	d.probe_interval_ms = 300;
	d.probe_timeout_ms = 500;
	d.load_interval = 1;
	d.max_connections = 256;
	d.max_per_source = 32;
	d.header_timeout = 2;
	d.login_timeout_ms = 5000;
	d.max_data_segment = 65536;
	return &d;
}

static int redir_start(const void *section, char *err, size_t errlen)
{
	const struct sa_redirect_config *rc = cfg_or_defaults(section);
	struct redir_params p;
	int r;

	if (running)
		redir_stop();
	memset(&counters, 0, sizeof(counters));
	params_from_cfg(rc, &cfg_params);
	params_merge(&cfg_params, NULL, &p);
	params = p;
	idx_load();
	load_persisted_servers();
	load_persisted_resources();
	if ((r = sync_config(rc, true)) < 0 || (r = listen_copy(rc)) < 0) {
		snprintf(err, errlen, "out of memory");
		model_free(false);
		return r;
	}
	for (size_t i = 0; i < R.n; i++) {
		uint32_t m = persisted_map(RES(i)->pub.target);

		if (m && RES(i)->pub.origin == REDIR_ORIGIN_SNMP)
			RES(i)->pub.server = m;
		else if (!RES(i)->pub.server)
			place(RES(i));
	}
	recount();
	limits_from_cfg(rc, &portal_lim);
	r = redir_portal_start(listen_cfg, nlisten_cfg, &portal_lim, err, errlen);
	if (r < 0) {
		model_free(false);
		listen_free();
		return r;
	}
	if (rc->etcd.present && (r = etcd_begin(rc, err, errlen)) < 0) {
		redir_portal_stop();
		model_free(false);
		listen_free();
		return r;
	}
	running = 1;
	for (size_t i = 0; i < S.n; i++)
		emit(REDIR_EV_ROW_ADDED, REDIR_T_SERVER, SRV(i)->pub.index, 0);
	for (size_t i = 0; i < R.n; i++)
		emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, RES(i)->pub.index, 0);
	/* A member of an etcd cluster waits for the lease before it probes. */
	if (!PASSIVE()) {
		redir_health_start(params.probe_interval_ms, params.probe_timeout_ms);
		timers_start();
	}
	redir_remote_start(rc);
	if (st())
		st_commit();
	sa_log(SA_LOG_NOTICE, TAG, "started: %zu servers, %zu resources, portal on %s%s", S.n, R.n, listen_cfg[0],
	       nlisten_cfg > 1 ? " and more" : "");
	return 0;
}

static int redir_reload(const void *section, char *err, size_t errlen)
{
	const struct sa_redirect_config *rc = cfg_or_defaults(section);
	struct redir_params ncfg, p;
	char sig[sizeof(etcd_sig)];
	int r;

	if (!running)
		return redir_start(section, err, errlen);
	if (!listen_same(rc)) {
		redir_portal_stop();
		if ((r = listen_copy(rc)) < 0)
			return r;
		limits_from_cfg(rc, &portal_lim);
		if ((r = redir_portal_start(listen_cfg, nlisten_cfg, &portal_lim, err, errlen)) < 0)
			return r;
	} else {
		limits_from_cfg(rc, &portal_lim);
		redir_portal_set_limits(&portal_lim);
	}
	params_from_cfg(rc, &ncfg);
	params_merge(&ncfg, &cfg_params, &p);
	cfg_params = ncfg;
	params_apply(&p);
	if ((r = sync_config(rc, false)) < 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	etcd_signature(rc, sig, sizeof(sig));
	if (strcmp(sig, etcd_sig)) {
		bool was = etcd_mode;

		etcd_end();
		if (rc->etcd.present) {
			if (!was) {
				timers_stop();
				redir_health_stop();
			}
			if ((r = etcd_begin(rc, err, errlen)) < 0)
				return r;
		} else if (was) {
			redir_health_start(params.probe_interval_ms, params.probe_timeout_ms);
			timers_start();
		}
	}
	redir_remote_start(rc);
	if (st())
		st_commit();
	sa_log(SA_LOG_NOTICE, TAG, "reloaded: %zu servers, %zu resources", S.n, R.n);
	return 0;
}

const struct sa_engine_ops redir_engine_ops = {
    .start = redir_start,
    .reload = redir_reload,
    .stop = redir_stop,
};
