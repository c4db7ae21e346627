/* etcd.c: the CRT and the membership in etcd (the seed's central fabric services database variant).
 *
 * Keys under /sanagent/cluster/<cluster>/:
 *   crt            the whole table (JSON: writer, granularity, rows): one key, so a transaction leaves etcd with
 *                  the old table or the whole new one, never a mix; its mod_revision is the CRT version
 *   member/<guid>  one member of the fabric (JSON: type, address, name), written by the agents that know it
 *
 * A local change (SET, probe, membership) is applied to the local table first, as in the embedded mode, then
 * written by a transaction that compares the crt key's mod_revision with the revision the change was made
 * against.  A stale base fails and cannot produce two tables: the host adopts etcd's table, and re-applies its
 * change on top only when the rows it changed are as the change found them and the seed's rules still hold;
 * otherwise the change is dropped and reported (sanCluConflict, log), never silently.  Every host watches the
 * prefix and adopts what it sees through the model's adopt path, persisted locally, so a host boots from its
 * state file while etcd is away (changes are refused until etcd answers).  Adopting another agent's change moves
 * this agent's sanCluAllocLock, so a manager that read the lock before that change is refused at SET time.
 *
 * A change is acknowledged once it is in the local state file, before etcd has it: the state file also keeps the
 * revision the table was last confirmed at.  An agent killed before its transaction was answered finds on restart
 * a version that is not that revision: it reads etcd's table at that revision (what its change was made against),
 * then writes its change on etcd's table as any stale base is handled, so an acknowledged change is never dropped
 * silently by a restart. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "engines/cluster/clu_etcd.h"
#include "engines/cluster/clu_int.h"

#ifndef HAVE_ETCD

int clu_etcd_start(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	if (!c->etcd.present)
		return 0;
	snprintf(err, errlen, "etcd support not built (libcurl and jansson were missing at configure time)");
	return -ENOTSUP;
}
void clu_etcd_stop(void)
{
}
int clu_etcd_on(void)
{
	return 0;
}
int clu_etcd_ready(void)
{
	return 0;
}
void clu_etcd_push(void)
{
}

#else

#include <jansson.h>

#include "common/evloop.h"
#include "common/search.h"
#include "engines/etcd_client.h"

#define TAG "cluster-etcd"
#define RETRY_MS 500
#define REQ_MS 3000L

static struct {
	int on, ready;
	struct sa_etcd *cli;
	char prefix[96];
	char crt_key[112];
	long long base;             /* mod_revision of the crt key the local table is on (0: none in etcd) */
	struct clu_table confirmed; /* etcd's table at base: what a local change is measured against */
	int have_confirmed;
	struct clu_table sent; /* the table of the transaction out */
	int txn_busy, dirty, range_busy, watch_on;
	json_t *seen; /* the newest crt value the watch showed while a transaction was out */
	long long seen_rev, watch_rev;
	unsigned int retry_timer, push_timer;
	long long boot_base; /* a restart's local change was made on this revision: read it before anything else */
	int boot_pending;    /* that revision read: the first range decides whether the change is still to write */
	int unreach_logged;  /* once per time etcd cannot be read */
} E;

/* ---- the table as JSON ------------------------------------------------------------------------- */

static json_t *row_json(const struct clu_res *r)
{
	char g[2 * CLU_GUID_MAX + 1], sz[24];
	json_t *o = json_array(), *j;

	for (size_t k = 0; k < r->nowners; k++)
		json_array_append_new(o, json_integer(r->owners[k]));
	clu_guid_hex(r->guid, r->guid_len, g, sizeof(g));
	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)r->size);
	j = json_pack("{s:I,s:s,s:i,s:s,s:I,s:I,s:i,s:o,s:I,s:s,s:s,s:s,s:s,s:b,s:I}", "i", (json_int_t)r->index, "g",
	              g, "t", r->type, "a", r->address, "n", (json_int_t)r->number, "p", (json_int_t)r->parent, "o",
	              r->ownership, "w", o, "v", (json_int_t)r->version, "nm", r->name, "vd", r->vendor, "md", r->model,
	              "sz", sz, "ok", r->valid, "ph", (json_int_t)r->paths);
	return j;
}

static char *table_dump(const struct clu_res *rows, size_t n, int granularity)
{
	char w[17];
	json_t *a = json_array(), *j;
	char *s;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, row_json(&rows[i]));
	clu_guid_hex(clu_m.self_guid, 8, w, sizeof(w));
	j = json_pack("{s:s,s:i,s:o}", "writer", w, "granularity", granularity, "rows", a);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

static void cp(char *dst, size_t len, json_t *j)
{
	snprintf(dst, len, "%s", json_is_string(j) ? json_string_value(j) : "");
}

static int cmp_row(const void *a, const void *b)
{
	uint32_t x = ((const struct clu_res *)a)->index, y = ((const struct clu_res *)b)->index;

	return x < y ? -1 : x > y;
}

/* 0, or -EINVAL when the value is not a table. */
static int table_parse(const char *s, long long rev, struct clu_table *t)
{
	json_t *j = json_loads(s, 0, NULL), *rows, *x;
	size_t i, len;

	memset(t, 0, sizeof(*t));
	if (!j || !json_is_array(rows = json_object_get(j, "rows")))
		goto bad;
	t->version.counter = (uint32_t)rev;
	if (cm_hex_decode(json_string_value(json_object_get(j, "writer")) ?: "", t->version.writer, 8, &len) < 0 ||
	    len != 8)
		memset(t->version.writer, 0, 8);
	t->granularity = (long)json_integer_value(json_object_get(j, "granularity"));
	if (json_array_size(rows) && !(t->rows = calloc(json_array_size(rows), sizeof(*t->rows))))
		goto bad;
	json_array_foreach(rows, i, x)
	{
		struct clu_res *r = &t->rows[t->nrows++];
		json_t *o, *y;
		size_t k;

		r->index = (uint32_t)json_integer_value(json_object_get(x, "i"));
		if (cm_hex_decode(json_string_value(json_object_get(x, "g")) ?: "", r->guid, CLU_GUID_MAX,
		                  &r->guid_len) < 0)
			r->guid_len = 0;
		r->type = (int)json_integer_value(json_object_get(x, "t"));
		cp(r->address, sizeof(r->address), json_object_get(x, "a"));
		r->number = (uint32_t)json_integer_value(json_object_get(x, "n"));
		r->parent = (uint32_t)json_integer_value(json_object_get(x, "p"));
		r->ownership = (int)json_integer_value(json_object_get(x, "o"));
		o = json_object_get(x, "w");
		json_array_foreach(o, k, y)
		{
			if (r->nowners < CLU_MAX_OWNERS)
				r->owners[r->nowners++] = (uint32_t)json_integer_value(y);
		}
		r->version = (uint32_t)json_integer_value(json_object_get(x, "v"));
		cp(r->name, sizeof(r->name), json_object_get(x, "nm"));
		cp(r->vendor, sizeof(r->vendor), json_object_get(x, "vd"));
		cp(r->model, sizeof(r->model), json_object_get(x, "md"));
		r->size = strtoull(json_string_value(json_object_get(x, "sz")) ?: "0", NULL, 10);
		r->valid = json_is_true(json_object_get(x, "ok"));
		r->paths = (uint32_t)json_integer_value(json_object_get(x, "ph"));
	}
	if (t->nrows)
		qsort(t->rows, t->nrows, sizeof(*t->rows), cmp_row);
	json_decref(j);
	return 0;
bad:
	json_decref(j);
	free(t->rows);
	memset(t, 0, sizeof(*t));
	return -EINVAL;
}

static void table_free(struct clu_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

static int table_copy_local(struct clu_table *t)
{
	memset(t, 0, sizeof(*t));
	if (clu_m.nrows && !(t->rows = malloc(clu_m.nrows * sizeof(*t->rows))))
		return -ENOMEM;
	if (clu_m.nrows)
		memcpy(t->rows, clu_m.rows, clu_m.nrows * sizeof(*t->rows));
	t->nrows = clu_m.nrows;
	t->version = clu_m.ver;
	t->granularity = clu_m.granularity;
	return 0;
}

static int64_t row_index_of(const void *elem)
{
	return ((const struct clu_res *)elem)->index;
}

static const struct clu_res *table_row(const struct clu_table *t, uint32_t index)
{
	return cm_find_key(t->rows, t->nrows, sizeof(*t->rows), index, row_index_of);
}

static int same_owners(const struct clu_res *a, const struct clu_res *b)
{
	return a->ownership == b->ownership && a->nowners == b->nowners &&
	       memcmp(a->owners, b->owners, a->nowners * sizeof(uint32_t)) == 0;
}

/* ---- requests ------------------------------------------------------------------------------------ */

static void resync(void);
static void send_txn(void);
static void base_read(void);

static void retry_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	E.retry_timer = 0;
	if (E.boot_base)
		base_read();
	else if (!E.watch_on)
		resync();
	if (E.dirty)
		send_txn();
}

static void retry_later(void)
{
	if (!E.retry_timer)
		E.retry_timer = cm_ev_timer(RETRY_MS, 0, retry_tick, NULL);
}

static void put_members(void)
{
	for (uint32_t i = 0; clu_member_next(i, &i) == 0;) {
		const struct clu_member *m = clu_member_get(i);
		char g[17], key[160];
		json_t *v, *b;
		char *s;

		if (!m || !m->from_config)
			continue;
		clu_guid_hex(m->guid, 8, g, sizeof(g));
		snprintf(key, sizeof(key), "%smember/%s", E.prefix, g);
		v = json_pack("{s:s,s:s,s:s}", "type", m->type == CLU_UNIT ? "unit" : "host", "address", m->address,
		              "name", m->name);
		s = v ? json_dumps(v, JSON_COMPACT) : NULL;
		/* Written only when etcd has another value (or none): a restart does not move the revision. */
		b = s ? json_pack("{s:[{s:o,s:s,s:s,s:o}],s:[{s:{s:o,s:o}}]}", "compare", "key", sa_etcd_jb64(key),
		                  "target", "VALUE", "result", "EQUAL", "value", sa_etcd_jb64(s), "failure",
		                  "request_put", "key", sa_etcd_jb64(key), "value", sa_etcd_jb64(s))
		      : NULL;
		if (b)
			sa_etcd_post(E.cli, "/v3/kv/txn", b, REQ_MS, NULL, NULL, NULL);
		json_decref(b);
		json_decref(v);
		free(s);
	}
}

/* A member another agent wrote: taken into the local membership when this agent does not know it. */
static void member_seen(const char *guidhex, const char *value)
{
	json_t *j = json_loads(value, 0, NULL);
	struct clu_member m;
	size_t len;
	int rc;

	memset(&m, 0, sizeof(m));
	if (!j || cm_hex_decode(guidhex, m.guid, 8, &len) < 0 || len != 8)
		goto out;
	for (uint32_t i = 0; clu_member_next(i, &i) == 0;) {
		const struct clu_member *k = clu_member_get(i);

		if (k && memcmp(k->guid, m.guid, 8) == 0)
			goto out;
	}
	m.index = clu_member_next_index();
	m.type = strcmp(json_string_value(json_object_get(j, "type")) ?: "", "unit") == 0 ? CLU_UNIT : CLU_HOST;
	cp(m.address, sizeof(m.address), json_object_get(j, "address"));
	cp(m.name, sizeof(m.name), json_object_get(j, "name"));
	if ((rc = clu_member_put(&m)) < 0)
		cm_log(CM_LOG_WARNING, TAG, "member %s from etcd not taken: %s", guidhex, strerror(-rc));
out:
	json_decref(j);
}

/* etcd's table at rev becomes the local one.  What this host changed since its base (rows whose ownership differs
 * from the confirmed table) goes on top again when the winner left those rows as the change found them and the
 * rules hold: a retry that re-checks; else the change is dropped and reported. */
static void rebase(const char *value, long long rev)
{
	struct clu_table t;
	struct clu_change *mine = NULL;
	size_t nmine = 0, lost = 0;
	struct clu_version prev = clu_m.ver, lostv = clu_m.ver;
	long long prev_base;
	char from[48];
	int rc;

	if (table_parse(value, rev, &t) < 0) {
		cm_log(CM_LOG_WARNING, TAG, "the CRT in etcd at revision %lld is not a table: ignored", rev);
		return;
	}
	if (E.have_confirmed && clu_m.nrows && (mine = calloc(clu_m.nrows, sizeof(*mine)))) {
		for (size_t i = 0; i < clu_m.nrows; i++) {
			const struct clu_res *l = &clu_m.rows[i], *c = table_row(&E.confirmed, l->index),
			                     *w = table_row(&t, l->index);

			if (!c || same_owners(l, c) || !w || same_owners(w, l))
				continue;
			if (!same_owners(w, c)) {
				lost++; /* the winner changed a row this host changed too: the manager decided on a
				           stale view */
				continue;
			}
			mine[nmine].index = l->index;
			mine[nmine].ownership = l->ownership;
			mine[nmine].set_owners = 1;
			mine[nmine].nowners = l->nowners;
			memcpy(mine[nmine].owners, l->owners, l->nowners * sizeof(uint32_t));
			nmine++;
		}
	}
	/* etcd decides: adopted whatever the local counter says (a local optimistic counter may be higher). */
	free(clu_m.last);
	clu_m.last = NULL;
	clu_m.nlast = 0;
	memset(&clu_m.ver, 0, sizeof(clu_m.ver));
	snprintf(from, sizeof(from), "etcd revision %lld", rev);
	prev_base = clu_m.etcd_base;
	clu_m.etcd_base = rev; /* persisted with the adopted table */
	if ((rc = clu_adopt(&t, from)) < 0) {
		clu_m.ver = prev;
		clu_m.etcd_base = prev_base;
		cm_log(CM_LOG_ERR, TAG, "cannot adopt the CRT at revision %lld: %s", rev, strerror(-rc));
		table_free(&t);
		free(mine);
		return;
	}
	/* Another agent changed the table: a manager that read sanCluAllocLock here before it decided on what it saw,
	 * and gets inconsistentValue now (RFC 2579 TestAndIncr: any change of the value stales what was read). */
	if (memcmp(t.version.writer, clu_m.self_guid, 8) != 0)
		clu_lock_incr();
	table_free(&E.confirmed);
	E.confirmed = t;
	E.have_confirmed = 1;
	E.base = rev;
	E.ready = 1;
	if (lost) {
		char d[128];

		snprintf(d, sizeof(d), "refused by etcd: %zu rows were changed at revision %lld first", lost, rev);
		cm_log(CM_LOG_WARNING, TAG, "local change %u %s; dropped", (unsigned int)lostv.counter, d);
		clu_conflict_note(&lostv, &clu_m.ver, d);
	} else if (nmine) {
		if ((rc = clu_check(mine, nmine)) == 0)
			rc = clu_apply(mine, nmine);
		if (rc < 0) {
			char d[128];

			snprintf(d, sizeof(d), "refused on etcd's revision %lld: %.80s", rev,
			         rc == -EDOM ? clu_last_why() : strerror(-rc));
			cm_log(CM_LOG_WARNING, TAG, "local change %u %s; dropped", (unsigned int)lostv.counter, d);
			clu_conflict_note(&lostv, &clu_m.ver, d);
		} else {
			cm_log(CM_LOG_NOTICE, TAG, "local change re-applied on etcd's revision %lld", rev);
		}
	}
	free(mine);
}

static void txn_done(void *arg, int ok, long http, const char *buf, size_t len, const char *err)
{
	json_t *j = ok ? json_loadb(buf, len, 0, NULL) : NULL, *kv;

	(void)arg;
	E.txn_busy = 0;
	if (!E.on)
		goto out;
	if (!j) {
		cm_log(CM_LOG_WARNING, TAG, "writing the CRT to etcd failed: %s (HTTP %ld); retrying",
		       err[0] ? err : "?", http);
		E.dirty = 1;
		table_free(&E.sent);
		retry_later();
		goto out;
	}
	if (json_is_true(json_object_get(j, "succeeded"))) {
		long long rev = sa_etcd_jll(json_object_get(json_object_get(j, "header"), "revision"));
		uint32_t none = 0;

		E.base = rev;
		table_free(&E.confirmed);
		E.confirmed = E.sent;
		memset(&E.sent, 0, sizeof(E.sent));
		E.confirmed.version.counter = (uint32_t)rev;
		memcpy(E.confirmed.version.writer, clu_m.self_guid, 8);
		E.have_confirmed = 1;
		/* Persisted with the next commit when a local change is already waiting (it was made on this table). */
		clu_m.etcd_base = rev;
		/* The version is etcd's revision of the table, not the local counter. */
		if (!E.dirty) {
			clu_m.ver = E.confirmed.version;
			clu_persist(&none, 0);
		}
		cm_log(CM_LOG_INFO, TAG, "CRT written at etcd revision %lld", rev);
	} else {
		/* A stale base: somebody wrote first.  The failure branch read the key. */
		kv = json_array_get(
		    json_object_get(
		        json_object_get(json_array_get(json_object_get(j, "responses"), 0), "response_range"), "kvs"),
		    0);
		table_free(&E.sent);
		clu_m.ctr.consistency_rejected++;
		if (kv) {
			char *v = sa_etcd_b64_dec(json_string_value(json_object_get(kv, "value")));

			E.dirty = 0;
			if (v)
				rebase(v, sa_etcd_jll(json_object_get(kv, "mod_revision")));
			free(v);
		} else {
			E.base = 0; /* the key is gone: write ours */
			E.dirty = 1;
		}
	}
	if (E.seen && E.seen_rev > E.base) {
		char *v = sa_etcd_b64_dec(json_string_value(json_object_get(E.seen, "value")));

		if (v)
			rebase(v, E.seen_rev);
		free(v);
	}
	json_decref(E.seen);
	E.seen = NULL;
	if (E.dirty)
		send_txn();
out:
	json_decref(j);
}

static void send_txn(void)
{
	char *s;
	json_t *b;

	if (!E.on)
		return;
	if (E.txn_busy || !E.ready) {
		E.dirty = 1;
		return;
	}
	E.dirty = 0;
	table_free(&E.sent);
	if (table_copy_local(&E.sent) < 0 || !(s = table_dump(clu_m.rows, clu_m.nrows, clu_granularity()))) {
		E.dirty = 1;
		retry_later();
		return;
	}
	b = json_pack("{s:[{s:o,s:s,s:s,s:I}],s:[{s:{s:o,s:o}}],s:[{s:{s:o}}]}", "compare", "key",
	              sa_etcd_jb64(E.crt_key), "target", "MOD", "result", "EQUAL", "mod_revision", (json_int_t)E.base,
	              "success", "request_put", "key", sa_etcd_jb64(E.crt_key), "value", sa_etcd_jb64(s), "failure",
	              "request_range", "key", sa_etcd_jb64(E.crt_key));
	free(s);
	if (b && sa_etcd_post(E.cli, "/v3/kv/txn", b, REQ_MS, txn_done, NULL, NULL) == 0) {
		E.txn_busy = 1;
	} else {
		E.dirty = 1;
		retry_later();
	}
	json_decref(b);
}

static void push_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	E.push_timer = 0;
	send_txn();
}

void clu_etcd_push(void)
{
	if (!E.on)
		return;
	E.dirty = 1;
	/* After the SET's handler returned (and every commit of this loop turn), once. */
	if (!E.push_timer)
		E.push_timer = cm_ev_timer(1, 0, push_tick, NULL);
}

/* One key of the prefix as the range or the watch shows it (value NULL: deleted). */
static void key_seen(json_t *kv, int deleted)
{
	char *k = sa_etcd_b64_dec(json_string_value(json_object_get(kv, "key")));
	long long rev = sa_etcd_jll(json_object_get(kv, "mod_revision"));
	size_t pl = strlen(E.prefix);

	if (!k || strncmp(k, E.prefix, pl))
		goto out;
	if (strcmp(k, E.crt_key) == 0) {
		char *v;

		if (deleted) {
			cm_log(CM_LOG_WARNING, TAG, "the CRT was deleted from etcd: writing this host's");
			E.base = 0;
			clu_etcd_push();
			goto out;
		}
		if (rev <= E.base)
			goto out; /* our own write, echoed */
		if (E.txn_busy) {
			/* Decided when the transaction answers (it fails if this is newer than its base). */
			json_decref(E.seen);
			E.seen = json_incref(kv);
			E.seen_rev = rev;
			goto out;
		}
		if ((v = sa_etcd_b64_dec(json_string_value(json_object_get(kv, "value")))))
			rebase(v, rev);
		free(v);
	} else if (strncmp(k + pl, "member/", 7) == 0 && !deleted) {
		char *v = sa_etcd_b64_dec(json_string_value(json_object_get(kv, "value")));

		if (v)
			member_seen(k + pl + 7, v);
		free(v);
	}
out:
	free(k);
}

static int watch_line(void *arg, json_t *j)
{
	json_t *r = json_object_get(j, "result"), *ev;
	size_t i;

	(void)arg;
	if (!E.on || !r || json_is_true(json_object_get(r, "canceled")))
		return -1; /* compacted past our revision or refused: read everything again */
	json_array_foreach(json_object_get(r, "events"), i, ev)
	{
		json_t *kv = json_object_get(ev, "kv");
		const char *type = json_string_value(json_object_get(ev, "type"));
		long long mr = sa_etcd_jll(json_object_get(kv, "mod_revision"));

		if (mr > E.watch_rev)
			E.watch_rev = mr;
		key_seen(kv, type && strcmp(type, "DELETE") == 0);
	}
	return 0;
}

static void watch_done(void *arg, int ok, long http, const char *buf, size_t len, const char *err)
{
	(void)arg;
	(void)ok;
	(void)len;
	E.watch_on = 0;
	if (!E.on)
		return;
	/* Without the watch this host may miss a change: none is made here until the prefix is read again. */
	E.ready = 0;
	cm_log(CM_LOG_WARNING, TAG, "watch ended (%s, HTTP %ld): %.200s; reading the prefix again",
	       err[0] ? err : "closed", http, buf);
	retry_later();
}

static void watch_start(void)
{
	json_t *b = sa_etcd_prefix_range(E.prefix), *w;

	if (!b)
		return;
	json_object_set_new(b, "start_revision", json_sprintf("%lld", E.watch_rev + 1));
	w = json_pack("{s:o}", "create_request", b);
	if (w && sa_etcd_post(E.cli, "/v3/watch", w, 0, watch_done, watch_line, NULL) == 0)
		E.watch_on = 1;
	else
		retry_later();
	json_decref(w);
}

static void range_done(void *arg, int ok, long http, const char *buf, size_t len, const char *err)
{
	json_t *j = ok ? json_loadb(buf, len, 0, NULL) : NULL, *x;
	size_t i;
	int had_crt = 0, first = !E.ready;
	long long base0 = E.base;

	(void)arg;
	E.range_busy = 0;
	if (!E.on)
		goto out;
	if (!j) {
		if (first && !E.unreach_logged++)
			cm_log(CM_LOG_WARNING, TAG,
			       "etcd at %s not reachable: %s (HTTP %ld); the table stays as the state "
			       "file has it, changes wait",
			       sa_etcd_endpoint(E.cli), err[0] ? err : "?", http);
		retry_later();
		goto out;
	}
	E.unreach_logged = 0;
	E.watch_rev = sa_etcd_jll(json_object_get(json_object_get(j, "header"), "revision"));
	json_array_foreach(json_object_get(j, "kvs"), i, x)
	{
		char *k = sa_etcd_b64_dec(json_string_value(json_object_get(x, "key")));

		if (k && strcmp(k, E.crt_key) == 0)
			had_crt = 1;
		free(k);
		key_seen(x, 0);
	}
	if (had_crt && E.have_confirmed)
		E.ready = 1; /* at etcd's table (adopted above, or already on it) */
	if (E.boot_pending) {
		/* Nobody wrote since the revision the restart's change was made on: it goes to etcd now (else the
		 * rebase above re-applied it on the newer table, or reported why not). */
		E.boot_pending = 0;
		if (had_crt && E.base == base0) {
			cm_log(CM_LOG_NOTICE, TAG,
			       "local change (version %u) on etcd's revision %lld still to write: writing it",
			       (unsigned int)clu_m.ver.counter, E.base);
			clu_etcd_push();
		}
	}
	if (!had_crt) {
		/* A new cluster (or an emptied etcd): this host's table is the first. */
		E.base = 0;
		table_free(&E.confirmed);
		E.have_confirmed = 1;
		E.ready = 1;
		clu_etcd_push();
	}
	if (first) {
		cm_log(CM_LOG_NOTICE, TAG, "in step with etcd at revision %lld: CRT version %u, %zu rows", E.watch_rev,
		       (unsigned int)clu_m.ver.counter, clu_m.nrows);
		put_members();
	}
	watch_start();
	if (E.dirty)
		send_txn();
out:
	json_decref(j);
}

/* etcd's table at the revision a local change from before a restart was made on: what the change is measured
 * against, as if its transaction had just failed. */
static void base_done(void *arg, int ok, long http, const char *buf, size_t len, const char *err)
{
	json_t *j = json_loadb(buf, len, 0, NULL), *kv;
	struct clu_table t;
	char *v = NULL;

	(void)arg;
	E.range_busy = 0;
	if (!E.on)
		goto out;
	if (!ok && (!j || http == 0)) {
		retry_later(); /* etcd not reachable: the table stays as the state file has it */
		goto out;
	}
	kv = ok ? json_array_get(json_object_get(j, "kvs"), 0) : NULL;
	if (!kv || !(v = sa_etcd_b64_dec(json_string_value(json_object_get(kv, "value")))) ||
	    table_parse(v, E.boot_base, &t) < 0) {
		static const struct clu_version none;
		char d[128];

		/* Compacted away (or not a table): the change cannot be told from what others did since. */
		snprintf(d, sizeof(d), "etcd has no CRT at revision %lld (%.60s): not re-applied", E.boot_base,
		         ok       ? "no such key"
		         : err[0] ? err
		                  : buf);
		cm_log(CM_LOG_WARNING, TAG, "local change %u from before the restart: %s; dropped",
		       (unsigned int)clu_m.ver.counter, d);
		clu_conflict_note(&clu_m.ver, &none, d);
	} else {
		table_free(&E.confirmed);
		E.confirmed = t;
		E.have_confirmed = 1;
		E.base = E.boot_base;
		E.boot_pending = 1;
	}
	E.boot_base = 0;
	resync();
out:
	free(v);
	json_decref(j);
}

static void base_read(void)
{
	json_t *b;

	if (!E.on || E.range_busy)
		return;
	b = json_pack("{s:o,s:o}", "key", sa_etcd_jb64(E.crt_key), "revision", json_sprintf("%lld", E.boot_base));
	if (b && sa_etcd_post(E.cli, "/v3/kv/range", b, REQ_MS, base_done, NULL, NULL) == 0)
		E.range_busy = 1;
	else
		retry_later();
	json_decref(b);
}

static void resync(void)
{
	json_t *b;

	if (!E.on || E.range_busy || E.watch_on)
		return;
	if ((b = sa_etcd_prefix_range(E.prefix)) &&
	    sa_etcd_post(E.cli, "/v3/kv/range", b, REQ_MS, range_done, NULL, NULL) == 0)
		E.range_busy = 1;
	else
		retry_later();
	json_decref(b);
}

/* ---- life ---------------------------------------------------------------------------------------- */

int clu_etcd_on(void)
{
	return E.on;
}

int clu_etcd_ready(void)
{
	return E.on && E.ready;
}

int clu_etcd_start(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	const char *name = c->etcd.cluster && c->etcd.cluster[0] ? c->etcd.cluster : "default";

	clu_etcd_stop();
	if (!c->etcd.present)
		return 0;
	if (!(E.cli = sa_etcd_new(c->etcd.endpoints, c->etcd.nendpoints, err, errlen)))
		return -ENOMEM;
	snprintf(E.prefix, sizeof(E.prefix), "/sanagent/cluster/%s/", name);
	snprintf(E.crt_key, sizeof(E.crt_key), "%scrt", E.prefix);
	E.on = 1;
	cm_log(CM_LOG_NOTICE, TAG, "the CRT lives in etcd at %s%s under %s", sa_etcd_endpoint(E.cli),
	       c->etcd.nendpoints > 1 ? " and more" : "", E.prefix);
	if (clu_m.etcd_base > 0 && clu_m.ver.counter != (uint32_t)clu_m.etcd_base) {
		E.boot_base = clu_m.etcd_base;
		cm_log(CM_LOG_NOTICE, TAG,
		       "version %u is a local change on etcd's revision %lld etcd may not have: reading that revision",
		       (unsigned int)clu_m.ver.counter, E.boot_base);
		base_read();
	} else {
		resync();
	}
	return 0;
}

void clu_etcd_stop(void)
{
	if (!E.on && !E.cli)
		return;
	E.on = 0;
	cm_ev_cancel(E.retry_timer);
	cm_ev_cancel(E.push_timer);
	sa_etcd_free(E.cli);
	table_free(&E.confirmed);
	table_free(&E.sent);
	json_decref(E.seen);
	memset(&E, 0, sizeof(E));
}

#endif
