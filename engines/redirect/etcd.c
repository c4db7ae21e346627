/* etcd.c: redirectors sharing the mapping and server states through etcd's v3 JSON gateway, one leader by lease. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/redirect/etcd.h"
#include "common/array.h"
#include "common/log.h"

#ifndef HAVE_ETCD

int redir_etcd_start(const struct sa_redir_etcd_cfg *cfg, const char *self, const struct redir_etcd_cbs *cbs, char *err,
                     size_t errlen)
{
	(void)cfg;
	(void)self;
	(void)cbs;
	snprintf(err, errlen, "etcd support not built (libcurl and jansson were missing at configure time)");
	return -ENOTSUP;
}
void redir_etcd_stop(void)
{
}
int redir_etcd_running(void)
{
	return 0;
}
int redir_etcd_is_leader(void)
{
	return 0;
}
void redir_etcd_put_map(const char *target, const char *server)
{
	(void)target;
	(void)server;
}
void redir_etcd_put_server(const char *name, const char *state)
{
	(void)name;
	(void)state;
}
void redir_etcd_put_load(const char *target, const char *bytes_per_s)
{
	(void)target;
	(void)bytes_per_s;
}
void redir_etcd_put_admin(const char *name, const char *state)
{
	(void)name;
	(void)state;
}

#else

#include <curl/curl.h>
#include <jansson.h>

#include "common/evloop.h"
#include "engines/etcd_client.h"

#define TAG "redirect-etcd"
#define ETCD_TXN_MAX 100 /* etcd's default --max-txn-ops is 128 */
#define ETCD_RETRY_MS 500

enum rq_kind { RQ_RANGE = 1, RQ_WATCH, RQ_GRANT, RQ_KEEPALIVE, RQ_CAMPAIGN, RQ_PUT, RQ_PUT_FREE };

struct op {
	char *key;
	char *value;
	unsigned long seq; /* queue order, so the last write of a key wins */
};

/* The one etcd client of this redirector: connection, lease, watch and the write queue. */
static struct {
	int on;
	struct sa_etcd *cli;
	unsigned int ka_timer, retry_timer, flush_timer, kick_timer;
	char *prefix; /* "/sanagent/redirect/<cluster>/" */
	char *self;
	int ttl;
	struct redir_etcd_cbs cbs;
	char lease[32]; /* "" = none */
	int leader;
	int synced;    /* the prefix was read once: campaign only with the shared state in hand */
	long long rev; /* the revision the watch continues from */
	bool grant_busy, ka_busy, campaign_busy, range_busy, watch_on;
	struct timespec ka_ok; /* last keepalive the server confirmed */
	struct op *ops;
	size_t nops, capops;
	unsigned long seq;
} etcd_client;

/* ---- small helpers ------------------------------------------------------------ */

#define b64_dec sa_etcd_b64_dec
#define jb64 sa_etcd_jb64
#define jll sa_etcd_jll

static char *key_of(const char *rel)
{
	size_t n = strlen(etcd_client.prefix) + strlen(rel) + 1;
	char *k = malloc(n);

	if (k)
		snprintf(k, n, "%s%s", etcd_client.prefix, rel);
	return k;
}

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

static void set_role(int leader)
{
	if (etcd_client.leader == leader)
		return;
	etcd_client.leader = leader;
	cm_log(CM_LOG_NOTICE, TAG, "%s is now %s of cluster %s", etcd_client.self, leader ? "leader" : "a follower",
	       etcd_client.prefix);
	if (etcd_client.cbs.role)
		etcd_client.cbs.role(leader);
}

/* ---- requests through the shared etcd client ------------------------------------- */

static void finish(int kind, bool ok, long http, const char *buf, size_t len, const char *err);
static int on_watch_json(json_t *j);

static void rq_done(void *arg, int ok, long http, const char *buf, size_t len, const char *err)
{
	int kind = (int)(intptr_t)arg;

	if (!etcd_client.on)
		return;
	if (!ok && kind != RQ_WATCH)
		cm_log(CM_LOG_DEBUG, TAG, "request %d failed: %s (HTTP %ld)", kind, err[0] ? err : "HTTP error", http);
	finish(kind, ok, http, buf, len, err);
}

static int watch_line(void *arg, json_t *j)
{
	(void)arg;
	if (!etcd_client.on)
		return -1;
	return on_watch_json(j);
}

static int rq_send(int kind, const char *path, json_t *body)
{
	/* A watch streams for ever; everything else must answer well within a lease. */
	long to = kind == RQ_WATCH ? 0 : kind == RQ_KEEPALIVE ? (long)etcd_client.ttl * 700L : 3000L;

	return sa_etcd_post(etcd_client.cli, path, body, to, rq_done, kind == RQ_WATCH ? watch_line : NULL,
	                    (void *)(intptr_t)kind);
}

/* ---- the shared state ------------------------------------------------------------ */

static void campaign(void);

static void kick_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	etcd_client.kick_timer = 0;
	campaign();
}

/* One key of the prefix changed (value NULL: deleted). */
static void dispatch(const char *key, const char *value)
{
	size_t pl = strlen(etcd_client.prefix);
	const char *rel;

	if (strncmp(key, etcd_client.prefix, pl))
		return;
	rel = key + pl;
	if (strcmp(rel, "leader") == 0) {
		if (!value && !etcd_client.leader && !etcd_client.kick_timer)
			/* The old leader's lease ended: try at once, but outside
			 * libcurl's callback (no multi calls from in there). */
			etcd_client.kick_timer = cm_ev_timer(1, 0, kick_tick, NULL);
		else if (value && etcd_client.leader && strcmp(value, etcd_client.self))
			set_role(0);
	} else if (strncmp(rel, "map/", 4) == 0 && rel[4]) {
		if (etcd_client.cbs.map)
			etcd_client.cbs.map(rel + 4, value);
	} else if (strncmp(rel, "server/", 7) == 0 && rel[7]) {
		if (etcd_client.cbs.server)
			etcd_client.cbs.server(rel + 7, value);
	} else if (strncmp(rel, "load/", 5) == 0 && rel[5]) {
		if (etcd_client.cbs.load)
			etcd_client.cbs.load(rel + 5, value);
	} else if (strncmp(rel, "admin/", 6) == 0 && rel[6]) {
		if (etcd_client.cbs.admin)
			etcd_client.cbs.admin(rel + 6, value);
	}
}

static void dispatch_kv(json_t *kv, bool deleted)
{
	char *k = b64_dec(json_string_value(json_object_get(kv, "key")));
	char *v = deleted ? NULL : b64_dec(json_string_value(json_object_get(kv, "value")));

	if (k && (deleted || v))
		dispatch(k, v);
	free(k);
	free(v);
}

static json_t *range_body(void)
{
	return sa_etcd_prefix_range(etcd_client.prefix);
}

static void retry_tick(unsigned int id, void *arg);

static void resync(void)
{
	json_t *b;

	if (etcd_client.range_busy || etcd_client.watch_on)
		return;
	if (!(b = range_body()) || rq_send(RQ_RANGE, "/v3/kv/range", b) < 0) {
		if (!etcd_client.retry_timer)
			etcd_client.retry_timer = cm_ev_timer(ETCD_RETRY_MS, 0, retry_tick, NULL);
	} else {
		etcd_client.range_busy = true;
	}
	json_decref(b);
}

static void watch_start(void)
{
	json_t *b = range_body(), *w;

	if (!b)
		return;
	json_object_set_new(b, "start_revision", json_sprintf("%lld", etcd_client.rev + 1));
	w = json_pack("{s:o}", "create_request", b);
	if (w && rq_send(RQ_WATCH, "/v3/watch", w) == 0)
		etcd_client.watch_on = true;
	json_decref(w);
}

static void grant(void)
{
	json_t *b;

	if (etcd_client.grant_busy || etcd_client.lease[0])
		return;
	b = json_pack("{s:I}", "TTL", (json_int_t)etcd_client.ttl);
	if (b && rq_send(RQ_GRANT, "/v3/lease/grant", b) == 0)
		etcd_client.grant_busy = true;
	json_decref(b);
}

/* Creates the leader key with our lease only if nobody holds it. */
static void campaign(void)
{
	char *k;
	json_t *b;

	if (!etcd_client.on || etcd_client.campaign_busy || !etcd_client.lease[0] || !etcd_client.synced ||
	    etcd_client.leader)
		return;
	if (!(k = key_of("leader")))
		return;
	b = json_pack("{s:[{s:o,s:s,s:s}],s:[{s:{s:o,s:o,s:s}}],s:[{s:{s:o}}]}", "compare", "key", jb64(k), "target",
	              "CREATE", "create_revision", "0", "success", "request_put", "key", jb64(k), "value",
	              jb64(etcd_client.self), "lease", etcd_client.lease, "failure", "request_range", "key", jb64(k));
	if (b && rq_send(RQ_CAMPAIGN, "/v3/kv/txn", b) == 0)
		etcd_client.campaign_busy = true;
	json_decref(b);
	free(k);
}

static void lease_lost(const char *why)
{
	if (etcd_client.lease[0])
		cm_log(CM_LOG_WARNING, TAG, "lease %s lost: %s", etcd_client.lease, why);
	etcd_client.lease[0] = '\0';
	set_role(0);
	grant();
}

static void ka_tick(unsigned int id, void *arg)
{
	json_t *b;

	(void)id;
	(void)arg;
	/* Without a confirmed keepalive for a whole TTL the lease may be gone:
	 * stop acting as leader before another redirector takes over. */
	if (etcd_client.leader && since(&etcd_client.ka_ok) > (double)etcd_client.ttl)
		set_role(0);
	if (!etcd_client.lease[0]) {
		grant();
		return;
	}
	if (!etcd_client.ka_busy) {
		b = json_pack("{s:s}", "ID", etcd_client.lease);
		if (b && rq_send(RQ_KEEPALIVE, "/v3/lease/keepalive", b) == 0)
			etcd_client.ka_busy = true;
		json_decref(b);
	}
	campaign();
}

static void retry_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	etcd_client.retry_timer = 0;
	resync();
}

/* Returns -1 when the watch must end (etcd canceled it). */
static int on_watch_json(json_t *j)
{
	json_t *r = json_object_get(j, "result"), *evs, *ev;
	size_t i;

	if (!r) {
		cm_log(CM_LOG_WARNING, TAG, "watch error from etcd");
		return -1;
	}
	if (json_is_true(json_object_get(r, "canceled"))) {
		/* Compacted past our revision: read everything again. */
		cm_log(CM_LOG_WARNING, TAG, "watch canceled by etcd; reading the prefix again");
		return -1;
	}
	evs = json_object_get(r, "events");
	json_array_foreach(evs, i, ev)
	{
		json_t *kv = json_object_get(ev, "kv");
		const char *type = json_string_value(json_object_get(ev, "type"));
		long long mr = jll(json_object_get(kv, "mod_revision"));

		if (mr > etcd_client.rev)
			etcd_client.rev = mr;
		dispatch_kv(kv, type && strcmp(type, "DELETE") == 0);
	}
	return 0;
}

static size_t on_body_discard(char *data, size_t sz, size_t nm, void *arg)
{
	(void)data;
	(void)arg;
	return sz * nm;
}

static void finish(int kind, bool ok, long http, const char *buf, size_t len, const char *err)
{
	json_t *j = NULL, *x;
	size_t i;

	if (ok && kind != RQ_WATCH && kind != RQ_PUT && kind != RQ_PUT_FREE && !(j = json_loadb(buf, len, 0, NULL)))
		ok = false;
	switch (kind) {
	case RQ_RANGE:
		etcd_client.range_busy = false;
		if (!ok) {
			if (!etcd_client.retry_timer)
				etcd_client.retry_timer = cm_ev_timer(ETCD_RETRY_MS, 0, retry_tick, NULL);
			break;
		}
		etcd_client.rev = jll(json_object_get(json_object_get(j, "header"), "revision"));
		json_array_foreach(json_object_get(j, "kvs"), i, x) dispatch_kv(x, false);
		if (!etcd_client.synced)
			cm_log(CM_LOG_INFO, TAG, "read %zu keys at revision %lld",
			       json_array_size(json_object_get(j, "kvs")), etcd_client.rev);
		etcd_client.synced = 1;
		watch_start();
		campaign();
		break;
	case RQ_WATCH:
		etcd_client.watch_on = false;
		cm_log(CM_LOG_WARNING, TAG, "watch ended (%s, HTTP %ld): %.200s; reading the prefix again",
		       err[0] ? err : "closed", http, buf);
		if (!etcd_client.retry_timer)
			etcd_client.retry_timer = cm_ev_timer(ETCD_RETRY_MS, 0, retry_tick, NULL);
		break;
	case RQ_GRANT:
		etcd_client.grant_busy = false;
		if (ok && (x = json_object_get(j, "ID")) && jll(x) > 0) {
			snprintf(etcd_client.lease, sizeof(etcd_client.lease), "%lld", jll(x));
			clock_gettime(CLOCK_MONOTONIC, &etcd_client.ka_ok);
			campaign();
		}
		break;
	case RQ_KEEPALIVE:
		etcd_client.ka_busy = false;
		if (!ok)
			break; /* the TTL check in ka_tick decides */
		x = json_object_get(j, "result");
		if (jll(json_object_get(x, "TTL")) <= 0)
			lease_lost("expired");
		else
			clock_gettime(CLOCK_MONOTONIC, &etcd_client.ka_ok);
		break;
	case RQ_CAMPAIGN:
		etcd_client.campaign_busy = false;
		if (!ok)
			break;
		if (json_is_true(json_object_get(j, "succeeded"))) {
			set_role(1);
			break;
		}
		/* Somebody holds it; if it is our own key from this lease, we lead. */
		x = json_array_get(
		    json_object_get(
		        json_object_get(json_array_get(json_object_get(j, "responses"), 0), "response_range"), "kvs"),
		    0);
		if (x && jll(json_object_get(x, "lease")) == atoll(etcd_client.lease)) {
			set_role(1);
		}
		break;
	case RQ_PUT:
		if (!ok) {
			cm_log(CM_LOG_WARNING, TAG, "writing the shared state failed: %s", err[0] ? err : "HTTP error");
			break;
		}
		j = json_loadb(buf, len, 0, NULL);
		/* The writes are guarded by our lease on the leader key. */
		if (j && !json_is_true(json_object_get(j, "succeeded")))
			set_role(0);
		break;
	case RQ_PUT_FREE:
		/* What the watch echoes back is what counts; a lost write is
		 * only logged (the operator sees the old value and sets again). */
		if (!ok)
			cm_log(CM_LOG_WARNING, TAG, "writing a shared admin state failed: %s",
			       err[0] ? err : "HTTP error");
		break;
	}
	json_decref(j);
}

/* ---- writes ------------------------------------------------------------------------ */

static int op_cmp(const void *a, const void *b)
{
	const struct op *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* etcd refuses a transaction that names a key twice: keep the last write. */
static void ops_dedup(void)
{
	size_t w = 0;

	qsort(etcd_client.ops, etcd_client.nops, sizeof(*etcd_client.ops), op_cmp);
	for (size_t i = 0; i < etcd_client.nops; i++) {
		if (i + 1 < etcd_client.nops && strcmp(etcd_client.ops[i].key, etcd_client.ops[i + 1].key) == 0) {
			free(etcd_client.ops[i].key);
			free(etcd_client.ops[i].value);
			continue;
		}
		etcd_client.ops[w++] = etcd_client.ops[i];
	}
	etcd_client.nops = w;
}

static void flush_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	etcd_client.flush_timer = 0;
	ops_dedup();
	while (etcd_client.nops && etcd_client.leader) {
		size_t n = etcd_client.nops < ETCD_TXN_MAX ? etcd_client.nops : ETCD_TXN_MAX;
		char *lk = key_of("leader");
		json_t *ops = json_array(), *b;

		for (size_t i = 0; i < n; i++) {
			struct op *o = &etcd_client.ops[i];

			if (o->value)
				json_array_append_new(ops, json_pack("{s:{s:o,s:o}}", "request_put", "key",
				                                     jb64(o->key), "value", jb64(o->value)));
			else
				json_array_append_new(
				    ops, json_pack("{s:{s:o}}", "request_delete_range", "key", jb64(o->key)));
			free(o->key);
			free(o->value);
		}
		memmove(etcd_client.ops, etcd_client.ops + n, (etcd_client.nops - n) * sizeof(*etcd_client.ops));
		etcd_client.nops -= n;
		b = json_pack("{s:[{s:o,s:s,s:s}],s:o}", "compare", "key", jb64(lk ? lk : ""), "target", "LEASE",
		              "lease", etcd_client.lease, "success", ops);
		if (b)
			rq_send(RQ_PUT, "/v3/kv/txn", b);
		json_decref(b);
		free(lk);
	}
	for (size_t i = 0; i < etcd_client.nops; i++) {
		free(etcd_client.ops[i].key);
		free(etcd_client.ops[i].value);
	}
	etcd_client.nops = 0;
}

static void queue(const char *rel, const char *value)
{
	struct op *o;

	if (!etcd_client.on || !etcd_client.leader)
		return;
	if (cm_grow(&etcd_client.ops, &etcd_client.capops, etcd_client.nops, sizeof(*etcd_client.ops), 64) < 0)
		return;
	o = &etcd_client.ops[etcd_client.nops];
	o->key = key_of(rel);
	o->value = value ? strdup(value) : NULL;
	o->seq = ++etcd_client.seq;
	if (!o->key || (value && !o->value)) {
		free(o->key);
		free(o->value);
		return;
	}
	etcd_client.nops++;
	if (!etcd_client.flush_timer)
		etcd_client.flush_timer = cm_ev_timer(1, 0, flush_tick, NULL);
}

void redir_etcd_put_map(const char *target, const char *server)
{
	char rel[300];

	snprintf(rel, sizeof(rel), "map/%s", target);
	queue(rel, server);
}

void redir_etcd_put_server(const char *name, const char *state)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "server/%s", name);
	queue(rel, state);
}

void redir_etcd_put_load(const char *target, const char *bytes_per_s)
{
	char rel[300];

	snprintf(rel, sizeof(rel), "load/%s", target);
	queue(rel, bytes_per_s);
}

void redir_etcd_put_admin(const char *name, const char *state)
{
	char rel[128], *k;
	json_t *b;

	if (!etcd_client.on)
		return;
	snprintf(rel, sizeof(rel), "admin/%s", name);
	if (!(k = key_of(rel)))
		return;
	b = json_pack("{s:o,s:o}", "key", jb64(k), "value", jb64(state));
	if (!b || rq_send(RQ_PUT_FREE, "/v3/kv/put", b) < 0)
		cm_log(CM_LOG_WARNING, TAG, "cannot send the admin state of %s", name);
	json_decref(b);
	free(k);
}

/* ---- start / stop ---------------------------------------------------------------------- */

int redir_etcd_running(void)
{
	return etcd_client.on;
}

int redir_etcd_is_leader(void)
{
	return etcd_client.on && etcd_client.leader;
}

int redir_etcd_start(const struct sa_redir_etcd_cfg *cfg, const char *self, const struct redir_etcd_cbs *cbs, char *err,
                     size_t errlen)
{
	size_t n;

	if (etcd_client.on)
		redir_etcd_stop();
	if (!cfg || !cfg->present || !cfg->nendpoints) {
		snprintf(err, errlen, "no etcd endpoints");
		return -EINVAL;
	}
	memset(&etcd_client, 0, sizeof(etcd_client));
	etcd_client.ttl = cfg->lease_ttl > 0 ? cfg->lease_ttl : 1;
	etcd_client.cbs = *cbs;
	n = strlen(cfg->cluster ? cfg->cluster : "default") + 32;
	etcd_client.prefix = malloc(n);
	etcd_client.self = strdup(self);
	if (!etcd_client.prefix || !etcd_client.self)
		goto nomem;
	if (!(etcd_client.cli = sa_etcd_new(cfg->endpoints, cfg->nendpoints, err, errlen))) {
		etcd_client.on = 1;
		redir_etcd_stop();
		return -ENOMEM;
	}
	snprintf(etcd_client.prefix, n, "/sanagent/redirect/%s/", cfg->cluster ? cfg->cluster : "default");
	etcd_client.on = 1;
	/* Keepalive three times per TTL, as etcd's own clients do. */
	etcd_client.ka_timer = cm_ev_timer((unsigned)etcd_client.ttl * 300u, 1, ka_tick, NULL);
	resync();
	grant();
	cm_log(CM_LOG_NOTICE, TAG, "%s joins cluster %s at %s%s (lease %d s)", etcd_client.self, etcd_client.prefix,
	       sa_etcd_endpoint(etcd_client.cli), cfg->nendpoints > 1 ? " and more" : "", etcd_client.ttl);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	etcd_client.on = 1;
	redir_etcd_stop();
	return -ENOMEM;
}

void redir_etcd_stop(void)
{
	if (!etcd_client.on)
		return;
	/* A clean stop hands leadership over at once instead of after the TTL:
	 * one short blocking revoke, outside any request the loop waits for. */
	if (etcd_client.lease[0] && etcd_client.cli) {
		CURL *h = curl_easy_init();
		char url[512], body[64];

		if (h) {
			snprintf(url, sizeof(url), "%s/v3/lease/revoke", sa_etcd_endpoint(etcd_client.cli));
			snprintf(body, sizeof(body), "{\"ID\":\"%s\"}", etcd_client.lease);
			curl_easy_setopt(h, CURLOPT_URL, url);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 300L);
			curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_discard);
			curl_easy_perform(h);
			curl_easy_cleanup(h);
		}
	}
	etcd_client.on = 0;
	cm_ev_cancel(etcd_client.ka_timer);
	cm_ev_cancel(etcd_client.retry_timer);
	cm_ev_cancel(etcd_client.flush_timer);
	cm_ev_cancel(etcd_client.kick_timer);
	sa_etcd_free(etcd_client.cli);
	for (size_t i = 0; i < etcd_client.nops; i++) {
		free(etcd_client.ops[i].key);
		free(etcd_client.ops[i].value);
	}
	free(etcd_client.ops);
	free(etcd_client.prefix);
	free(etcd_client.self);
	memset(&etcd_client, 0, sizeof(etcd_client));
}

#endif
