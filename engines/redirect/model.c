/* model.c: the redirect engine's tables (servers, resources, clients, plans), their lookups and name hashes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines/redirect/model.h"
#include "common/array.h"
#include "common/bus.h"
#include "common/search.h"

#define TAG "redirect"
#define REDIR_MAX_CLIENTS 10000 /* client session rows kept; the oldest go first */

struct redir_vec redir_servers = {.size = sizeof(struct redir_srv)};
struct redir_vec redir_resources = {.size = sizeof(struct redir_res)};
struct redir_vec redir_clients = {.size = sizeof(struct redir_client)};
struct redir_vec redir_plans = {.size = sizeof(struct redir_plan_record)};

uint32_t redir_next_srv = 1, redir_next_res = 1;
static uint32_t next_cli = 1;
struct redir_params redir_cur_params;
struct redir_counters redir_portal_counters;
int redir_running;

/* ---- small helpers ----------------------------------------------------- */

void redir_emit(int type, uint32_t a, uint32_t b, uint32_t c)
{
	struct redir_event ev = {.type = type, .a = a, .b = b, .c = c};

	bus_publish(BUS_REDIRECT, &ev);
}

static int64_t row_index_of(const void *row)
{
	return *(const uint32_t *)row;
}

/* Lower bound on the index, which every row type carries first, from the last answer (cm_lower_bound_hint). */
size_t redir_vec_pos(struct redir_vec *t, uint32_t idx)
{
	return cm_lower_bound_hint(t->v, t->n, t->size, idx, row_index_of, &t->hint);
}

static void *vec_at(const struct redir_vec *t, size_t pos)
{
	return (char *)t->v + pos * t->size;
}

void *redir_vec_find(struct redir_vec *t, uint32_t idx)
{
	size_t p = redir_vec_pos(t, idx);

	if (p < t->n && *(uint32_t *)vec_at(t, p) == idx)
		return vec_at(t, p);
	return NULL;
}

static void *vec_next(struct redir_vec *t, uint32_t after)
{
	size_t p = after == UINT32_MAX ? t->n : redir_vec_pos(t, after + 1);

	return p < t->n ? vec_at(t, p) : NULL;
}

/* Inserts a zeroed row at its sorted place; NULL on ENOMEM. */
void *redir_vec_insert(struct redir_vec *t, uint32_t idx)
{
	size_t p = redir_vec_pos(t, idx);
	char *row;

	if (cm_grow(&t->v, &t->cap, t->n, t->size, 16) < 0)
		return NULL;
	row = vec_at(t, p);
	if (p < t->n)
		memmove(row + t->size, row, (t->n - p) * t->size);
	memset(row, 0, t->size);
	*(uint32_t *)(void *)row = idx;
	t->n++;
	return row;
}

void redir_vec_remove_pos(struct redir_vec *t, size_t p)
{
	char *row = vec_at(t, p);

	if (p + 1 < t->n)
		memmove(row, row + t->size, (t->n - p - 1) * t->size);
	t->n--;
}

static void vec_free(struct redir_vec *t)
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

void redir_res_hash_rebuild(void)
{
	if (ihash_grow(&res_hash, redir_resources.n + 1) < 0)
		return;
	for (size_t i = 0; i < redir_resources.n; i++)
		ihash_put(&res_hash, res_key(RES(i)->pub.target), RES(i)->pub.index);
}

static void res_hash_add(struct redir_res *r)
{
	if (!res_hash.slot || (res_hash.used + 1) * 2 > res_hash.mask + 1)
		redir_res_hash_rebuild();
	else
		ihash_put(&res_hash, res_key(r->pub.target), r->pub.index);
}

struct redir_res *redir_res_by_target(const char *target)
{
	if (!res_hash.slot)
		return NULL;
	for (size_t i = res_key(target) & res_hash.mask; res_hash.slot[i]; i = (i + 1) & res_hash.mask) {
		struct redir_res *r = redir_vec_find(&redir_resources, res_hash.slot[i]);

		if (r && strcmp(r->pub.target, target) == 0)
			return r;
	}
	return NULL;
}

static void cli_hash_rebuild(void)
{
	if (ihash_grow(&cli_hash, redir_clients.n + 1) < 0)
		return;
	for (size_t i = 0; i < redir_clients.n; i++)
		ihash_put(&cli_hash, cli_key(CLI(i)->initiator, CLI(i)->isid, CLI(i)->target), CLI(i)->index);
}

static struct redir_client *cli_lookup(const char *ini, const uint8_t isid[6], const char *target)
{
	if (!cli_hash.slot)
		return NULL;
	for (size_t i = cli_key(ini, isid, target) & cli_hash.mask; cli_hash.slot[i]; i = (i + 1) & cli_hash.mask) {
		struct redir_client *c = redir_vec_find(&redir_clients, cli_hash.slot[i]);

		if (c && memcmp(c->isid, isid, 6) == 0 && strcmp(c->initiator, ini) == 0 &&
		    strcmp(c->target, target) == 0)
			return c;
	}
	return NULL;
}

/* ---- lookups (redirect.h) --------------------------------------------- */

const struct redir_server *redir_server_find(uint32_t index)
{
	struct redir_srv *s = redir_vec_find(&redir_servers, index);

	return s ? &s->pub : NULL;
}

const struct redir_server *redir_server_next(uint32_t after)
{
	struct redir_srv *s = vec_next(&redir_servers, after);

	return s ? &s->pub : NULL;
}

const struct redir_resource *redir_resource_find(uint32_t index)
{
	struct redir_res *r = redir_vec_find(&redir_resources, index);

	return r ? &r->pub : NULL;
}

const struct redir_resource *redir_resource_next(uint32_t after)
{
	struct redir_res *r = vec_next(&redir_resources, after);

	return r ? &r->pub : NULL;
}

const struct redir_client *redir_client_find(uint32_t index)
{
	return redir_vec_find(&redir_clients, index);
}

const struct redir_client *redir_client_next(uint32_t after)
{
	return vec_next(&redir_clients, after);
}

const struct redir_plan_record *redir_plan_find(uint32_t index)
{
	return redir_vec_find(&redir_plans, index);
}

const struct redir_plan_record *redir_plan_next(uint32_t after)
{
	return vec_next(&redir_plans, after);
}

const struct redir_counters *redir_counters(void)
{
	return &redir_portal_counters;
}

struct redir_counters *redir_counters_mut(void)
{
	return &redir_portal_counters;
}

const struct redir_params *redir_params(void)
{
	return &redir_cur_params;
}

uint32_t redir_server_next_index(void)
{
	while (redir_vec_find(&redir_servers, redir_next_srv))
		redir_next_srv++;
	return redir_next_srv;
}

uint32_t redir_resource_next_index(void)
{
	while (redir_vec_find(&redir_resources, redir_next_res))
		redir_next_res++;
	return redir_next_res;
}

size_t redir_server_count(void)
{
	return redir_servers.n;
}

size_t redir_probe_targets(struct redir_probe_target *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < redir_servers.n && n < max; i++, n++) {
		out[n].index = SRV(i)->pub.index;
		out[n].family = SRV(i)->pub.family;
		snprintf(out[n].host, sizeof(out[n].host), "%s", SRV(i)->pub.host);
		out[n].port = SRV(i)->pub.port;
	}
	return n;
}

int redir_srv_rb_state(const struct redir_srv *s)
{
	if (s->pub.admin == REDIR_ADMIN_DOWN || s->pub.oper == REDIR_OPER_DOWN)
		return REDIR_SRV_DOWN;
	if (s->pub.admin == REDIR_ADMIN_DRAIN)
		return REDIR_SRV_DRAIN;
	/* A spare on standby is kept out of placement and rebalancing; once
	 * it has taken over a failed server's resources it serves like any. */
	if (s->pub.admin == REDIR_ADMIN_SPARE && !s->pub.nresources)
		return REDIR_SRV_DRAIN;
	return REDIR_SRV_UP;
}

void redir_recount(void)
{
	for (size_t i = 0; i < redir_servers.n; i++) {
		SRV(i)->pub.load = SRV(i)->pub.host_load;
		SRV(i)->pub.nresources = 0;
	}
	for (size_t i = 0; i < redir_resources.n; i++) {
		struct redir_srv *s = redir_vec_find(&redir_servers, RES(i)->pub.server);

		if (s) {
			s->pub.nresources++;
			s->pub.load += RES(i)->pub.load;
		}
	}
	for (size_t i = 0; i < redir_servers.n; i++)
		if (!SRV(i)->pub.nresources)
			SRV(i)->pub.spare_for = 0;
	for (size_t i = 0; i < redir_resources.n; i++) {
		struct redir_srv *s = redir_vec_find(&redir_servers, RES(i)->pub.server);

		if (!s || redir_srv_rb_state(s) != REDIR_SRV_DOWN)
			RES(i)->stranded = 0;
	}
}

void redir_client_note(const char *ini, const uint8_t isid[6], const struct sockaddr_storage *src, const char *target,
                       uint32_t resource, uint32_t server)
{
	struct redir_client *c = cli_lookup(ini, isid, target);
	time_t now = time(NULL);

	if (!c) {
		if (redir_clients.n >= REDIR_MAX_CLIENTS) {
			/* Drop the oldest eighth at once so the hash is rebuilt rarely. */
			size_t drop = REDIR_MAX_CLIENTS / 8;

			for (size_t i = 0; i < drop; i++)
				redir_emit(REDIR_EV_ROW_REMOVED, REDIR_T_CLIENT, CLI(i)->index, 0);
			memmove(redir_clients.v, CLI(drop), (redir_clients.n - drop) * redir_clients.size);
			redir_clients.n -= drop;
			cli_hash_rebuild();
		}
		c = redir_vec_insert(&redir_clients, next_cli++);
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
		redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_CLIENT, c->index, 0);
		c = redir_vec_find(&redir_clients, next_cli - 1);
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

uint32_t redir_server_index_by_name(const char *name)
{
	for (size_t i = 0; i < redir_servers.n; i++)
		if (strcmp(SRV(i)->pub.name, name) == 0)
			return SRV(i)->pub.index;
	return 0;
}

int redir_host_family(const char *host)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, host, bin) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, bin) == 1)
		return AF_INET6;
	return 0;
}

struct redir_srv *redir_srv_by_name(const char *name)
{
	for (size_t i = 0; i < redir_servers.n; i++)
		if (strcmp(SRV(i)->pub.name, name) == 0)
			return SRV(i);
	return NULL;
}

struct redir_srv *redir_srv_add(uint32_t index, const char *name, const char *host, unsigned port, unsigned capacity,
                                int admin, int tgt, int origin, int storage)
{
	struct redir_srv *s = redir_vec_insert(&redir_servers, index);

	if (!s)
		return NULL;
	snprintf(s->pub.name, sizeof(s->pub.name), "%s", name);
	snprintf(s->pub.host, sizeof(s->pub.host), "%s", host);
	s->pub.family = redir_host_family(host);
	s->pub.port = (uint16_t)port;
	s->pub.capacity = capacity;
	s->pub.admin = admin;
	s->cfg_admin = admin;
	s->pub.oper = REDIR_OPER_UNKNOWN;
	s->pub.cpu_pct = s->pub.mem_pct = -1;
	s->pub.tgt_control = tgt;
	s->pub.origin = origin;
	s->pub.storage = storage;
	s->pub.last_change = time(NULL);
	if (index >= redir_next_srv)
		redir_next_srv = index + 1;
	redir_idx_note(true, index, origin == REDIR_ORIGIN_CONFIG ? name : NULL);
	return s;
}

/* iSCSI names (RFC 7143 4.2.7): printable, no spaces, at most 223 octets. */
bool redir_name_ok(const char *n, size_t max)
{
	size_t len = strnlen(n, max);

	if (!len || len >= max)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n[i] <= 0x20 || n[i] == 0x7f)
			return false;
	return true;
}

struct redir_res *redir_res_add(uint32_t index, const char *target, uint32_t server, int pinned, int origin,
                                int storage)
{
	struct redir_res *r = redir_vec_insert(&redir_resources, index);

	if (!r)
		return NULL;
	snprintf(r->pub.target, sizeof(r->pub.target), "%s", target);
	r->pub.server = server;
	r->pub.pinned = pinned;
	r->pub.fail_policy = REDIR_FAIL_STAY;
	r->pub.origin = origin;
	r->pub.storage = storage;
	r->pub.mapped_since = time(NULL);
	if (index >= redir_next_res)
		redir_next_res = index + 1;
	redir_idx_note(false, index, origin == REDIR_ORIGIN_SNMP ? NULL : target);
	res_hash_add(r);
	return r;
}

void redir_model_free(bool announce)
{
	if (announce) {
		for (size_t i = 0; i < redir_clients.n; i++)
			redir_emit(REDIR_EV_ROW_REMOVED, REDIR_T_CLIENT, CLI(i)->index, 0);
		for (size_t i = 0; i < redir_plans.n; i++)
			redir_emit(REDIR_EV_ROW_REMOVED, REDIR_T_PLAN, PLAN(i)->index, 0);
		for (size_t i = 0; i < redir_resources.n; i++)
			redir_emit(REDIR_EV_ROW_REMOVED, REDIR_T_RESOURCE, RES(i)->pub.index, 0);
		for (size_t i = 0; i < redir_servers.n; i++)
			redir_emit(REDIR_EV_ROW_REMOVED, REDIR_T_SERVER, SRV(i)->pub.index, 0);
	}
	for (size_t i = 0; i < redir_servers.n; i++)
		free(SRV(i)->prev);
	vec_free(&redir_servers);
	vec_free(&redir_resources);
	vec_free(&redir_clients);
	vec_free(&redir_plans);
	free(res_hash.slot);
	free(cli_hash.slot);
	memset(&res_hash, 0, sizeof(res_hash));
	memset(&cli_hash, 0, sizeof(cli_hash));
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

uint64_t redir_weighted(uint64_t bytes, uint64_t cmds)
{
	return sat_add(sat_mul(redir_cur_params.w_bytes, bytes), sat_mul(redir_cur_params.w_cmds, cmds));
}

static void host_load_of(struct redir_srv *s)
{
	s->pub.host_load = sat_add(s->pub.cpu_pct > 0 ? sat_mul(redir_cur_params.w_cpu, (uint64_t)s->pub.cpu_pct) : 0,
	                           s->pub.mem_pct > 0 ? sat_mul(redir_cur_params.w_mem, (uint64_t)s->pub.mem_pct) : 0);
}

void redir_host_report(uint32_t server, int cpu_pct, int mem_pct)
{
	struct redir_srv *s = redir_vec_find(&redir_servers, server);

	if (!s)
		return;
	s->pub.cpu_pct = cpu_pct;
	s->pub.mem_pct = mem_pct;
	host_load_of(s);
	redir_recount();
}

void redir_reweigh(void)
{
	for (size_t i = 0; i < redir_resources.n; i++)
		if (!RES(i)->pub.load_set)
			RES(i)->pub.load = redir_weighted(RES(i)->pub.byte_rate, RES(i)->pub.cmd_rate);
	for (size_t i = 0; i < redir_servers.n; i++)
		host_load_of(SRV(i));
	redir_recount();
}
