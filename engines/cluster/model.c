/* model.c: the CRT: rows, owners, the seed's consistency rules on the whole candidate, versions, the allocation
 * lock, granularity, adoption of a peer's table (with the conflict rule), probe merges and persistence. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/bus.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"
#include "engines/cluster/clu_etcd.h"
#include "engines/cluster/clu_int.h"
#include "engines/registry.h"

struct clu_model clu_m;

/* ---- small helpers --------------------------------------------------------------------------- */

void clu_guid_hash(const char *s, uint8_t out[8])
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	for (int i = 7; i >= 0; i--, h >>= 8)
		out[i] = (uint8_t)h;
}

void clu_guid_hex(const uint8_t *g, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen)
		out[0] = 0;
	for (size_t i = 0; i < len && o + 3 <= outlen; i++, o += 2)
		snprintf(out + o, outlen - o, "%02x", g[i]);
}

int clu_version_cmp(const struct clu_version *a, const struct clu_version *b)
{
	if (a->counter != b->counter)
		return a->counter < b->counter ? -1 : 1;
	return memcmp(a->writer, b->writer, sizeof(a->writer));
}

void clu_publish(int type, uint32_t index, uint32_t member, const struct clu_version *v,
                 const struct clu_version *other)
{
	struct clu_event ev = {.type = type, .index = index, .member = member};

	if (v)
		ev.version = *v;
	if (other)
		ev.other = *other;
	bus_publish(BUS_CLUSTER, &ev);
}

static int owners_has(const uint32_t *o, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		if (o[i] == h)
			return 1;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- reading --------------------------------------------------------------------------------- */

/* Written out rather than cm_lower_bound: every GET and GETNEXT of a walk of the resource table comes here, and
 * the search's key callback is not inlined. */
static size_t res_lower(uint32_t index)
{
	size_t lo = 0, hi = clu_m.nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (clu_m.rows[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct clu_res *clu_res_mut(uint32_t index)
{
	size_t i = res_lower(index);

	return i < clu_m.nrows && clu_m.rows[i].index == index ? &clu_m.rows[i] : NULL;
}

const struct clu_res *clu_res_get(uint32_t index)
{
	return clu_res_mut(index);
}

int clu_res_next(uint32_t after, uint32_t *out)
{
	size_t i = after == UINT32_MAX ? clu_m.nrows : res_lower(after + 1);

	if (i >= clu_m.nrows)
		return -ENOENT;
	*out = clu_m.rows[i].index;
	return 0;
}

size_t clu_res_count(void)
{
	return clu_m.nrows;
}

uint32_t clu_res_next_index(void)
{
	return clu_m.nrows ? clu_m.rows[clu_m.nrows - 1].index + 1 : 1;
}

const struct clu_res *clu_res_find_guid(const uint8_t *guid, size_t len)
{
	for (size_t i = 0; i < clu_m.nrows; i++)
		if (clu_m.rows[i].guid_len == len && memcmp(clu_m.rows[i].guid, guid, len) == 0)
			return &clu_m.rows[i];
	return NULL;
}

const struct clu_res *clu_res_find_name(int type, const char *name)
{
	for (size_t i = 0; i < clu_m.nrows; i++)
		if (clu_m.rows[i].type == type && strcmp(clu_m.rows[i].name, name) == 0)
			return &clu_m.rows[i];
	return NULL;
}

/* (type, GUID) -> row, so that a probe of a unit with many devices stays linear: open addressing over CRT indexes
 * (0 empty), rebuilt after the table was replaced, kept up as rows are added. */
static struct {
	uint32_t *slot;
	size_t cap, used;
	int stale;
} gidx = {.stale = 1};

static uint64_t guid_hash(int type, const uint8_t *g, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)type;

	for (size_t i = 0; i < len; i++) {
		h ^= g[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void gidx_put(const struct clu_res *r)
{
	size_t i = (size_t)(guid_hash(r->type, r->guid, r->guid_len) & (gidx.cap - 1));

	while (gidx.slot[i])
		i = (i + 1) & (gidx.cap - 1);
	gidx.slot[i] = r->index;
	gidx.used++;
}

static int gidx_build(void)
{
	size_t cap = 64;

	while (cap < 2 * clu_m.nrows + 2)
		cap *= 2;
	free(gidx.slot);
	gidx.used = 0;
	if (!(gidx.slot = calloc(cap, sizeof(*gidx.slot)))) {
		gidx.cap = 0;
		gidx.stale = 1;
		return -ENOMEM;
	}
	gidx.cap = cap;
	for (size_t i = 0; i < clu_m.nrows; i++)
		gidx_put(&clu_m.rows[i]);
	gidx.stale = 0;
	return 0;
}

/* After a row was added: in the index, which grows at half full. */
static void gidx_added(const struct clu_res *r)
{
	if (gidx.stale)
		return;
	if (2 * (gidx.used + 1) > gidx.cap)
		gidx.stale = 1; /* rebuilt, larger, at the next lookup */
	else
		gidx_put(r);
}

static const struct clu_res *find_type_guid(int type, const uint8_t *guid, size_t len)
{
	size_t i;

	if (gidx.stale && gidx_build() < 0) {
		for (size_t k = 0; k < clu_m.nrows; k++)
			if (clu_m.rows[k].type == type && clu_m.rows[k].guid_len == len &&
			    memcmp(clu_m.rows[k].guid, guid, len) == 0)
				return &clu_m.rows[k];
		return NULL;
	}
	for (i = (size_t)(guid_hash(type, guid, len) & (gidx.cap - 1)); gidx.slot[i]; i = (i + 1) & (gidx.cap - 1)) {
		const struct clu_res *r = clu_res_get(gidx.slot[i]);

		if (r && r->type == type && r->guid_len == len && memcmp(r->guid, guid, len) == 0)
			return r;
	}
	return NULL;
}

void clu_version_get(struct clu_version *out)
{
	*out = clu_m.ver;
}

const struct clu_res *clu_self(void)
{
	if (clu_m.role != CLU_ROLE_HOST)
		return NULL;
	return find_type_guid(CLU_HOST, clu_m.self_guid, 8);
}

void clu_self_guid(uint8_t out[8])
{
	memcpy(out, clu_m.self_guid, 8);
}

int clu_role(void)
{
	return clu_m.role ? clu_m.role : CLU_ROLE_HOST;
}

int clu_ownership_grace(void)
{
	return clu_m.ownership_grace;
}

void clu_counters_get(struct clu_counters *out)
{
	*out = clu_m.ctr;
}

const struct clu_conflict *clu_conflict_get(uint32_t index)
{
	for (size_t i = 0; i < clu_m.nconflicts; i++)
		if (clu_m.conflicts[i].index == index)
			return &clu_m.conflicts[i];
	return NULL;
}

int clu_conflict_next(uint32_t after, uint32_t *out)
{
	for (size_t i = 0; i < clu_m.nconflicts; i++)
		if (clu_m.conflicts[i].index > after) {
			*out = clu_m.conflicts[i].index;
			return 0;
		}
	return -ENOENT;
}

struct clu_res *clu_res_add(const struct clu_res *row)
{
	struct clu_res *r;

	if (cm_grow(&clu_m.rows, &clu_m.caprows, clu_m.nrows, sizeof(*clu_m.rows), 64) < 0)
		return NULL;
	r = &clu_m.rows[clu_m.nrows];
	*r = *row;
	r->index = clu_res_next_index();
	clu_m.nrows++;
	gidx_added(r);
	return r;
}

/* ---- persistence ----------------------------------------------------------------------------- */

/* A row is one value: tab-separated fields (no field holds a tab: texts are cleaned when they enter). */
static void row_encode(const struct clu_res *r, char *buf, size_t len)
{
	char guid[2 * CLU_GUID_MAX + 1], owners[CLU_MAX_OWNERS * 11 + 1] = "";
	size_t o = 0;

	clu_guid_hex(r->guid, r->guid_len, guid, sizeof(guid));
	for (size_t i = 0; i < r->nowners && o < sizeof(owners); i++)
		o += (size_t)snprintf(owners + o, sizeof(owners) - o, "%s%u", i ? "," : "", (unsigned int)r->owners[i]);
	snprintf(buf, len, "1\t%d\t%s\t%s\t%u\t%u\t%d\t%s\t%u\t%s\t%s\t%s\t%llu\t%d\t%u", r->type, guid, r->address,
	         (unsigned int)r->number, (unsigned int)r->parent, r->ownership, owners, (unsigned int)r->version,
	         r->name, r->vendor, r->model, (unsigned long long)r->size, r->valid, (unsigned int)r->paths);
}

static int row_decode(uint32_t index, const char *val, struct clu_res *r)
{
	char buf[1024], *f[15], *p, *save = NULL;
	size_t n = 0;

	if (strlen(val) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, val);
	p = buf;
	while (n < 15) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = 0;
	}
	if (n != 15 || strcmp(f[0], "1") != 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->index = index;
	r->type = atoi(f[1]);
	if (cm_hex_decode(f[2], r->guid, sizeof(r->guid), &r->guid_len) < 0)
		return -EINVAL;
	snprintf(r->address, sizeof(r->address), "%s", f[3]);
	r->number = (uint32_t)strtoul(f[4], NULL, 10);
	r->parent = (uint32_t)strtoul(f[5], NULL, 10);
	r->ownership = atoi(f[6]);
	for (char *t = strtok_r(f[7], ",", &save); t && r->nowners < CLU_MAX_OWNERS; t = strtok_r(NULL, ",", &save))
		r->owners[r->nowners++] = (uint32_t)strtoul(t, NULL, 10);
	r->version = (uint32_t)strtoul(f[8], NULL, 10);
	snprintf(r->name, sizeof(r->name), "%s", f[9]);
	snprintf(r->vendor, sizeof(r->vendor), "%s", f[10]);
	snprintf(r->model, sizeof(r->model), "%s", f[11]);
	r->size = strtoull(f[12], NULL, 10);
	r->valid = atoi(f[13]);
	r->paths = (uint32_t)strtoul(f[14], NULL, 10);
	if (r->type < CLU_HOST || r->type > CLU_DEVICE || r->ownership < CLU_UNALLOCATED ||
	    r->ownership > CLU_DEDICATED)
		return -EINVAL;
	return 0;
}

static void key_of(char *key, size_t len, const char *what, uint32_t index)
{
	snprintf(key, len, "%s.%s.%u", clu_m.state_key, what, (unsigned int)index);
}

static void put_version(struct cm_state *st)
{
	char key[96], val[64], w[17];

	clu_guid_hex(clu_m.ver.writer, 8, w, sizeof(w));
	snprintf(key, sizeof(key), "%s.version", clu_m.state_key);
	if (clu_m.etcd_base > 0)
		snprintf(val, sizeof(val), "%u %s %d %lld", (unsigned int)clu_m.ver.counter, w, clu_m.granularity,
		         clu_m.etcd_base);
	else
		snprintf(val, sizeof(val), "%u %s %d", (unsigned int)clu_m.ver.counter, w, clu_m.granularity);
	cm_state_set(st, key, val);
}

struct key_list {
	char **v;
	size_t n, cap;
	int oom;
};

static void collect_key(const char *key, const char *value, void *arg)
{
	struct key_list *l = arg;

	(void)value;
	if (cm_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 64) < 0) {
		l->oom = 1;
		return;
	}
	if (!(l->v[l->n] = strdup(key)))
		l->oom = 1;
	else
		l->n++;
}

int clu_persist(const uint32_t *dirty, size_t ndirty)
{
	struct cm_state *st = sa_engines_state();
	char key[96], val[1024], prefix[80];
	int rc;

	if (!st)
		return 0; /* no state file: the table lives in memory (logged by the agent) */
	cm_state_begin(st);
	if (!dirty) {
		/* The whole table: rows no longer there go, in the same commit. */
		struct key_list l = {0};

		snprintf(prefix, sizeof(prefix), "%s.res.", clu_m.state_key);
		cm_state_foreach(st, prefix, collect_key, &l);
		for (size_t i = 0; i < l.n; i++) {
			uint32_t idx = (uint32_t)strtoul(l.v[i] + strlen(prefix), NULL, 10);

			if (!clu_res_get(idx))
				cm_state_del(st, l.v[i]);
			free(l.v[i]);
		}
		free(l.v);
		for (size_t i = 0; i < clu_m.nrows; i++) {
			key_of(key, sizeof(key), "res", clu_m.rows[i].index);
			row_encode(&clu_m.rows[i], val, sizeof(val));
			cm_state_set(st, key, val);
		}
	} else {
		for (size_t i = 0; i < ndirty; i++) {
			const struct clu_res *r = clu_res_get(dirty[i]);

			key_of(key, sizeof(key), "res", dirty[i]);
			if (!r) {
				cm_state_del(st, key);
				continue;
			}
			row_encode(r, val, sizeof(val));
			cm_state_set(st, key, val);
		}
	}
	put_version(st);
	if ((rc = cm_state_end(st)) < 0)
		cm_log(CM_LOG_ERR, CLU_TAG, "cannot persist the CRT: %s", strerror(-rc));
	return rc;
}

static void load_row(const char *key, const char *value, void *arg)
{
	const char *dot = strrchr(key, '.');
	struct clu_res r;
	uint32_t idx = dot ? (uint32_t)strtoul(dot + 1, NULL, 10) : 0;

	(void)arg;
	if (!idx || row_decode(idx, value, &r) < 0) {
		cm_log(CM_LOG_WARNING, CLU_TAG, "state: ignoring bad CRT row %s", key);
		return;
	}
	if (clu_res_get(idx))
		return;
	if (cm_grow(&clu_m.rows, &clu_m.caprows, clu_m.nrows, sizeof(*clu_m.rows), 64) < 0)
		return;
	clu_m.rows[clu_m.nrows++] = r;
}

static int cmp_res(const void *a, const void *b)
{
	uint32_t x = ((const struct clu_res *)a)->index, y = ((const struct clu_res *)b)->index;

	return x < y ? -1 : x > y;
}

void clu_model_load(struct cm_state *st)
{
	char key[96], prefix[80], w[17];
	const char *v;
	unsigned int counter;
	long long base = 0;
	int gran;

	if (!st)
		return;
	snprintf(key, sizeof(key), "%s.version", clu_m.state_key);
	if ((v = cm_state_get(st, key)) && sscanf(v, "%u %16s %d %lld", &counter, w, &gran, &base) >= 3) {
		size_t len;

		clu_m.etcd_base = base > 0 ? base : 0;

		clu_m.ver.counter = counter;
		if (cm_hex_decode(w, clu_m.ver.writer, 8, &len) < 0 || len != 8)
			memset(clu_m.ver.writer, 0, 8);
		if (gran == CLU_GRAN_CONTROLLER || gran == CLU_GRAN_DEVICE)
			clu_m.granularity = gran;
	}
	snprintf(prefix, sizeof(prefix), "%s.res.", clu_m.state_key);
	cm_state_foreach(st, prefix, load_row, NULL);
	if (clu_m.nrows) /* an empty state has no array: qsort's pointer must not be NULL even for 0 elements */
		qsort(clu_m.rows, clu_m.nrows, sizeof(*clu_m.rows), cmp_res);
	gidx.stale = 1;
}

void clu_model_reset(void)
{
	free(clu_m.rows);
	free(clu_m.last);
	free(gidx.slot);
	gidx.slot = NULL;
	gidx.cap = gidx.used = 0;
	gidx.stale = 1;
	clu_m.rows = NULL;
	clu_m.last = NULL;
	clu_m.nrows = clu_m.caprows = clu_m.nlast = 0;
	memset(&clu_m.ver, 0, sizeof(clu_m.ver));
	clu_m.etcd_base = 0;
}

int clu_commit_local(const uint32_t *dirty, size_t ndirty)
{
	struct clu_version old = clu_m.ver;
	int rc;

	clu_m.ver.counter++;
	memcpy(clu_m.ver.writer, clu_m.self_guid, 8);
	if ((rc = clu_persist(dirty, ndirty)) < 0) {
		clu_m.ver = old;
		return rc;
	}
	clu_publish(CLU_EV_CHANGED, 0, 0, &clu_m.ver, NULL);
	if (clu_m.running && clu_etcd_on())
		clu_etcd_push();
	else if (clu_m.running)
		clu_sync_push();
	return 0;
}

/* ---- the candidate and the seed's rules ------------------------------------------------------ */

/* What a change makes of one row: its ownership and owners (the rest of the row does not change). */
struct cand_row {
	uint32_t index;
	int own;
	int explicit_; /* named by the change itself (not carried along by granularity) */
	size_t n;
	uint32_t owners[CLU_MAX_OWNERS];
};
struct cand {
	struct cand_row *v;
	size_t n, cap;
};

static char clu_why[160];

static int64_t cand_index_of(const void *elem)
{
	return ((const struct cand_row *)elem)->index;
}

static size_t cand_lower(const struct cand *c, uint32_t index)
{
	return cm_lower_bound(c->v, c->n, sizeof(*c->v), index, cand_index_of);
}

static struct cand_row *cand_find(const struct cand *c, uint32_t index)
{
	size_t i = cand_lower(c, index);

	return i < c->n && c->v[i].index == index ? &c->v[i] : NULL;
}

static struct cand_row *cand_get(struct cand *c, const struct clu_res *r)
{
	size_t i = cand_lower(c, r->index);

	if (i < c->n && c->v[i].index == r->index)
		return &c->v[i];
	if (cm_grow(&c->v, &c->cap, c->n, sizeof(*c->v), 16) < 0)
		return NULL;
	memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof(*c->v));
	c->n++;
	c->v[i].index = r->index;
	c->v[i].own = r->ownership;
	c->v[i].explicit_ = 0;
	c->v[i].n = r->nowners;
	memcpy(c->v[i].owners, r->owners, r->nowners * sizeof(uint32_t));
	return &c->v[i];
}

/* A row as the candidate has it. */
static void eff(const struct cand *c, const struct clu_res *r, int *own, const uint32_t **owners, size_t *n)
{
	const struct cand_row *cr = cand_find(c, r->index);

	*own = cr ? cr->own : r->ownership;
	*owners = cr ? cr->owners : r->owners;
	*n = cr ? cr->n : r->nowners;
}

static int why(int rc, const char *fmt, unsigned int a, unsigned int b)
{
	snprintf(clu_why, sizeof(clu_why), fmt, a, b);
	return rc;
}

static int check_row_alone(const struct clu_res *r, const struct cand_row *cr)
{
	if (cr->own < CLU_UNALLOCATED || cr->own > CLU_DEDICATED)
		return why(-EINVAL, "row %u: ownership %u", r->index, (unsigned int)cr->own);
	if ((cr->own == CLU_UNALLOCATED && cr->n) || (cr->own == CLU_DEDICATED && cr->n != 1) ||
	    (cr->own == CLU_SHARED && !cr->n))
		return why(-EDOM, "row %u: %u owners do not fit its ownership", r->index, (unsigned int)cr->n);
	for (size_t k = 0; k < cr->n; k++) {
		const struct clu_res *h = clu_res_get(cr->owners[k]);

		if (!h || h->type != CLU_HOST || !h->valid)
			return why(-EDOM, "row %u: owner %u is not a host", r->index, cr->owners[k]);
	}
	if (r->type == CLU_HOST && (cr->own != CLU_DEDICATED || cr->owners[0] != r->index))
		return why(-EDOM, "host row %u: dedicated to itself %u", r->index, r->index);
	return 0;
}

/* The seed's rules between a child and its parent, as the candidate has both. */
static int check_pair(const struct cand *c, const struct clu_res *child, const struct clu_res *parent)
{
	int co, po;
	const uint32_t *cw, *pw;
	size_t cn, pn;

	eff(c, child, &co, &cw, &cn);
	eff(c, parent, &po, &pw, &pn);
	/* Unallocated is allowed anywhere: a new device under an allocated controller waits for its owner. */
	if (co == CLU_UNALLOCATED)
		return 0;
	if (po == CLU_UNALLOCATED)
		return why(-EDOM, "row %u: allocated under unallocated parent %u", child->index, parent->index);
	if (po == CLU_DEDICATED) {
		if (co != CLU_DEDICATED || cw[0] != pw[0])
			return why(-EDOM,
			           "row %u: parent %u is dedicated: the child must be dedicated to the same host",
			           child->index, parent->index);
		return 0;
	}
	for (size_t k = 0; k < cn; k++)
		if (!owners_has(pw, pn, cw[k]))
			return why(-EDOM, "row %u: owner %u is not an owner of its parent", child->index, cw[k]);
	return 0;
}

static void cand_free(struct cand *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* Builds the candidate of a change and checks it: 0 or -errno (clu_why says what). */
static int build(const struct clu_change *ch, size_t n, struct cand *c)
{
	memset(c, 0, sizeof(*c));
	clu_why[0] = 0;
	for (size_t i = 0; i < n; i++) {
		const struct clu_res *r = clu_res_get(ch[i].index);
		struct cand_row *cr;

		if (!r)
			return why(-ENOENT, "row %u: no such row%.0u", ch[i].index, 0);
		if (!(cr = cand_get(c, r)))
			return -ENOMEM;
		cr->explicit_ = 1;
		if (ch[i].ownership) {
			if (ch[i].ownership < CLU_UNALLOCATED || ch[i].ownership > CLU_DEDICATED)
				return why(-EINVAL, "row %u: ownership %u", r->index, (unsigned int)ch[i].ownership);
			cr->own = ch[i].ownership;
		}
		if (ch[i].set_owners) {
			if (ch[i].nowners > CLU_MAX_OWNERS)
				return why(-EINVAL, "row %u: %u owners", r->index, (unsigned int)ch[i].nowners);
			memcpy(cr->owners, ch[i].owners, ch[i].nowners * sizeof(uint32_t));
			cr->n = ch[i].nowners;
			qsort(cr->owners, cr->n, sizeof(uint32_t), cmp_u32);
			for (size_t k = 1; k < cr->n; k++)
				if (cr->owners[k] == cr->owners[k - 1])
					return why(-EINVAL, "row %u: owner %u twice", r->index, cr->owners[k]);
		} else if (ch[i].ownership == CLU_UNALLOCATED) {
			cr->n = 0; /* unallocated: the owner list goes with it */
		}
	}
	if (clu_m.granularity != CLU_GRAN_DEVICE) {
		/* Devices follow their controller: carried along, and not allocated on their own. */
		size_t nexp = c->n;

		for (size_t i = 0; i < clu_m.nrows; i++) {
			const struct clu_res *d = &clu_m.rows[i];
			const struct clu_res *p;
			struct cand_row *pc, *dc;

			if (d->type != CLU_DEVICE || !(p = clu_res_get(d->parent)) || p->type != CLU_CONTROLLER)
				continue;
			pc = cand_find(c, p->index);
			dc = cand_find(c, d->index);
			if (!pc) {
				if (dc && (dc->own != p->ownership || dc->n != p->nowners ||
				           memcmp(dc->owners, p->owners, p->nowners * sizeof(uint32_t))))
					return why(-EDOM,
					           "row %u: granularity is controller: devices follow controller %u",
					           d->index, p->index);
				continue;
			}
			if (dc && (dc->own != pc->own || dc->n != pc->n ||
			           memcmp(dc->owners, pc->owners, pc->n * sizeof(uint32_t))))
				return why(-EDOM, "row %u: granularity is controller: devices follow controller %u",
				           d->index, p->index);
			if (!dc) {
				struct cand_row copy = *cand_find(c, p->index);

				if (!(dc = cand_get(c, d)))
					return -ENOMEM;
				dc->own = copy.own;
				dc->n = copy.n;
				memcpy(dc->owners, copy.owners, copy.n * sizeof(uint32_t));
			}
		}
		(void)nexp;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct clu_res *r = clu_res_get(c->v[i].index);
		const struct clu_res *p = r->parent ? clu_res_get(r->parent) : NULL;
		int rc;

		if ((rc = check_row_alone(r, &c->v[i])) < 0)
			return rc;
		if (p && (rc = check_pair(c, r, p)) < 0)
			return rc;
	}
	/* Children of changed rows: a parent's change must leave them consistent too. */
	for (size_t i = 0; i < clu_m.nrows; i++) {
		const struct clu_res *r = &clu_m.rows[i];
		const struct clu_res *p;
		int rc;

		if (!r->parent || cand_find(c, r->index) || !cand_find(c, r->parent) || !(p = clu_res_get(r->parent)))
			continue;
		if ((rc = check_pair(c, r, p)) < 0)
			return rc;
	}
	return 0;
}

const char *clu_last_why(void)
{
	return clu_why;
}

int clu_check(const struct clu_change *ch, size_t n)
{
	struct cand c;
	int rc;

	if (clu_etcd_on() && !clu_etcd_ready()) {
		/* etcd is the database and this host is not in step with it: a change now has no base. */
		snprintf(clu_why, sizeof(clu_why), "etcd not reachable: the CRT cannot change now");
		clu_m.ctr.consistency_rejected++;
		return -EDOM;
	}
	rc = build(ch, n, &c);

	cand_free(&c);
	if (rc == -EDOM) {
		clu_m.ctr.consistency_rejected++;
		cm_log(CM_LOG_INFO, CLU_TAG, "change refused: %s", clu_why);
	}
	return rc;
}

static int remember_last(const struct cand *c)
{
	struct clu_change *v = c->n ? calloc(c->n, sizeof(*v)) : NULL;

	if (c->n && !v)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		v[i].index = c->v[i].index;
		v[i].ownership = c->v[i].own;
		v[i].set_owners = 1;
		v[i].nowners = c->v[i].n;
		memcpy(v[i].owners, c->v[i].owners, c->v[i].n * sizeof(uint32_t));
	}
	free(clu_m.last);
	clu_m.last = v;
	clu_m.nlast = c->n;
	clu_m.last_ver = clu_m.ver;
	return 0;
}

int clu_apply(const struct clu_change *ch, size_t n)
{
	struct cand c;
	struct clu_res *old = NULL;
	uint32_t *dirty = NULL;
	int rc = build(ch, n, &c);

	if (rc < 0)
		goto out;
	if (c.n && (!(old = calloc(c.n, sizeof(*old))) || !(dirty = calloc(c.n, sizeof(*dirty))))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		struct clu_res *r = clu_res_mut(c.v[i].index);

		old[i] = *r;
		dirty[i] = r->index;
		r->ownership = c.v[i].own;
		r->nowners = c.v[i].n;
		memcpy(r->owners, c.v[i].owners, c.v[i].n * sizeof(uint32_t));
		r->version = clu_m.ver.counter + 1;
	}
	if ((rc = clu_commit_local(dirty, c.n)) < 0) {
		for (size_t i = 0; i < c.n; i++)
			*clu_res_mut(old[i].index) = old[i];
		goto out;
	}
	clu_m.ctr.changes++;
	if (remember_last(&c) < 0)
		cm_log(CM_LOG_WARNING, CLU_TAG, "out of memory: version %u cannot be re-applied after a conflict",
		       (unsigned int)clu_m.ver.counter);
	cm_log(CM_LOG_NOTICE, CLU_TAG, "CRT version %u: ownership of %zu rows changed", (unsigned int)clu_m.ver.counter,
	       c.n);
out:
	free(old);
	free(dirty);
	cand_free(&c);
	return rc;
}

/* ---- lock and granularity -------------------------------------------------------------------- */

long clu_lock_value(void)
{
	return clu_m.lock;
}

int clu_lock_check(long value)
{
	if (value != clu_m.lock) {
		clu_m.ctr.lock_rejected++;
		return -ESTALE;
	}
	return 0;
}

void clu_lock_incr(void)
{
	clu_m.lock = clu_m.lock >= 2147483647L ? 0 : clu_m.lock + 1;
}

void clu_lock_restore(long value)
{
	clu_m.lock = value;
}

int clu_granularity(void)
{
	return clu_m.granularity ? clu_m.granularity : CLU_GRAN_CONTROLLER;
}

/* Granularity is part of the table (peers adopt it with the rows): a change is a new version. */
int clu_granularity_set(int g)
{
	int old = clu_m.granularity, rc;

	if (g != CLU_GRAN_CONTROLLER && g != CLU_GRAN_DEVICE)
		return -EINVAL;
	if (g == old)
		return 0;
	clu_m.granularity = g;
	if ((rc = clu_commit_local(NULL, 0)) < 0)
		clu_m.granularity = old;
	return rc;
}

/* ---- adoption of a peer's table -------------------------------------------------------------- */

static void add_conflict(const struct clu_version *lost, const struct clu_version *won, const char *detail)
{
	struct clu_conflict *k;

	if (clu_m.nconflicts) {
		k = &clu_m.conflicts[clu_m.nconflicts - 1];
		if (clu_version_cmp(&k->lost, lost) == 0 && clu_version_cmp(&k->won, won) == 0)
			return; /* the same table seen again (a re-check): one conflict */
	}
	if (clu_m.nconflicts == CLU_CONFLICTS_MAX) {
		memmove(&clu_m.conflicts[0], &clu_m.conflicts[1], (CLU_CONFLICTS_MAX - 1) * sizeof(clu_m.conflicts[0]));
		clu_m.nconflicts--;
	}
	k = &clu_m.conflicts[clu_m.nconflicts++];
	memset(k, 0, sizeof(*k));
	k->index = ++clu_m.next_conflict;
	k->when = time(NULL);
	k->lost = *lost;
	k->won = *won;
	snprintf(k->detail, sizeof(k->detail), "%s", detail);
	clu_m.ctr.conflicts++;
	clu_publish(CLU_EV_CONFLICT, 0, 0, lost, won);
}

void clu_conflict_note(const struct clu_version *lost, const struct clu_version *won, const char *detail)
{
	add_conflict(lost, won, detail);
}

/* Whether the table t holds the effect of our last local change: each row it changed is as the change left it,
 * or was changed again by a writer that had seen it (a later counter). */
static int includes_last(const struct clu_table *t)
{
	for (size_t i = 0; i < clu_m.nlast; i++) {
		const struct clu_change *l = &clu_m.last[i];
		const struct clu_res *r = NULL;

		for (size_t k = 0; k < t->nrows; k++)
			if (t->rows[k].index == l->index) {
				r = &t->rows[k];
				break;
			}
		if (!r)
			return 0;
		if (r->ownership == l->ownership && r->nowners == l->nowners &&
		    memcmp(r->owners, l->owners, l->nowners * sizeof(uint32_t)) == 0)
			continue;
		if (r->version > clu_m.last_ver.counter)
			continue;
		return 0;
	}
	return 1;
}

/* Two hosts that made the same change (the same probe, the same allocation) on one base differ in the writer only:
 * nothing was lost, no conflict. */
static int same_table(const struct clu_table *t)
{
	if (t->nrows != clu_m.nrows || t->granularity != clu_m.granularity)
		return 0;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct clu_res *a = &t->rows[i], *b = &clu_m.rows[i];

		if (a->index != b->index || a->type != b->type || a->ownership != b->ownership ||
		    a->nowners != b->nowners || memcmp(a->owners, b->owners, a->nowners * sizeof(uint32_t)) ||
		    a->guid_len != b->guid_len || memcmp(a->guid, b->guid, a->guid_len) || a->parent != b->parent ||
		    !a->valid != !b->valid)
			return 0;
	}
	return 1;
}

static int table_ok(const struct clu_table *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		const struct clu_res *r = &t->rows[i];

		if (!r->index || (i && r->index <= t->rows[i - 1].index) || r->type < CLU_HOST ||
		    r->type > CLU_DEVICE || r->ownership < CLU_UNALLOCATED || r->ownership > CLU_DEDICATED ||
		    r->nowners > CLU_MAX_OWNERS || r->guid_len > CLU_GUID_MAX)
			return 0;
	}
	return 1;
}

int clu_adopt(const struct clu_table *t, const char *from)
{
	struct clu_res *rows = NULL, *old_rows = clu_m.rows;
	size_t old_n = clu_m.nrows, old_cap = clu_m.caprows;
	struct clu_version old_ver = clu_m.ver, lost = clu_m.last_ver;
	int old_gran = clu_m.granularity, lost_change, rc;

	if (clu_version_cmp(&t->version, &clu_m.ver) <= 0) {
		/* Same counter, another writer: two changes on the same base.  Ours is newer by the rule (higher
		 * writer GUID); the peer re-applies its own change on top of ours when it sees our table. */
		if (t->version.counter == clu_m.ver.counter &&
		    memcmp(t->version.writer, clu_m.ver.writer, sizeof(t->version.writer)) != 0 && !same_table(t)) {
			char d[256];

			snprintf(d, sizeof(d), "from %.60s: lost to this agent's table; its writer re-applies it",
			         from ? from : "?");
			add_conflict(&t->version, &clu_m.ver, d);
		}
		return -EALREADY;
	}
	if (!table_ok(t)) {
		cm_log(CM_LOG_WARNING, CLU_TAG, "table from %s refused: rows out of order or out of range",
		       from ? from : "?");
		return -EINVAL;
	}
	lost_change = clu_m.nlast && !includes_last(t);
	if (t->nrows && !(rows = malloc(t->nrows * sizeof(*rows))))
		return -ENOMEM;
	if (t->nrows)
		memcpy(rows, t->rows, t->nrows * sizeof(*rows));
	clu_m.rows = rows;
	clu_m.nrows = clu_m.caprows = t->nrows;
	clu_m.ver = t->version;
	gidx.stale = 1;
	if (t->granularity == CLU_GRAN_CONTROLLER || t->granularity == CLU_GRAN_DEVICE)
		clu_m.granularity = (int)t->granularity;
	if ((rc = clu_persist(NULL, 0)) < 0) {
		clu_m.rows = old_rows;
		clu_m.nrows = old_n;
		clu_m.caprows = old_cap;
		clu_m.ver = old_ver;
		clu_m.granularity = old_gran;
		gidx.stale = 1;
		free(rows);
		clu_persist(NULL, 0); /* pending again as it was: the next commit writes the old table */
		return rc;
	}
	free(old_rows);
	clu_m.ctr.adoptions++;
	cm_log(CM_LOG_NOTICE, CLU_TAG, "adopted CRT version %u from %s (%zu rows)", (unsigned int)t->version.counter,
	       from ? from : "?", t->nrows);
	{
		struct clu_event ev = {.type = CLU_EV_CHANGED, .adopted = 1, .version = clu_m.ver};

		bus_publish(BUS_CLUSTER, &ev);
	}
	if (lost_change) {
		/* Nothing is lost silently: our change goes on top of the winner as a new version if it still fits. */
		struct clu_change *l = clu_m.last;
		size_t nl = clu_m.nlast;
		struct clu_version won = clu_m.ver;
		char d[256];

		clu_m.last = NULL;
		clu_m.nlast = 0;
		rc = clu_apply(l, nl);
		if (rc == 0)
			snprintf(d, sizeof(d), "lost to %.60s; re-applied as version %u", from ? from : "?",
			         (unsigned int)clu_m.ver.counter);
		else
			snprintf(d, sizeof(d), "lost to %.40s; not re-applied: %.80s", from ? from : "?",
			         clu_why[0] ? clu_why : strerror(-rc));
		cm_log(CM_LOG_WARNING, CLU_TAG, "conflict: local version %u %s", (unsigned int)lost.counter, d);
		add_conflict(&lost, &won, d);
		free(l);
	} else {
		free(clu_m.last);
		clu_m.last = NULL;
		clu_m.nlast = 0;
	}
	/* Our own members' rows, if the winner lacks them. */
	{
		uint32_t *dirty = NULL;
		size_t nd = 0;

		if (clu_members_sync_rows(&dirty, &nd) > 0)
			clu_commit_local(dirty, nd);
		free(dirty);
	}
	return 0;
}

/* ---- probe merges ---------------------------------------------------------------------------- */

static void clean_text(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
	for (char *p = dst; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
}

/* A set of row indexes in insertion order, with O(1) membership (a mark per index, or a scan past 16M). */
struct iset {
	uint32_t *v;
	size_t n, cap;
	uint8_t *mark;
	size_t nmark;
};
#define ISET_MARK_MAX (1u << 24)

static int iset_has(const struct iset *s, uint32_t idx)
{
	if (idx < s->nmark)
		return s->mark[idx];
	if (idx < ISET_MARK_MAX)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == idx)
			return 1;
	return 0;
}

/* 1 added, 0 already there, -ENOMEM. */
static int iset_add(struct iset *s, uint32_t idx)
{
	if (iset_has(s, idx))
		return 0;
	if (idx < ISET_MARK_MAX && idx >= s->nmark) {
		size_t m = s->nmark ? s->nmark : 1024;
		uint8_t *nm;

		while (m <= idx)
			m *= 2;
		if (!(nm = realloc(s->mark, m)))
			return -ENOMEM;
		memset(nm + s->nmark, 0, m - s->nmark);
		s->mark = nm;
		s->nmark = m;
	}
	if (cm_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 16) < 0)
		return -ENOMEM;
	s->v[s->n++] = idx;
	if (idx < s->nmark)
		s->mark[idx] = 1;
	return 1;
}

static void iset_free(struct iset *s)
{
	free(s->v);
	free(s->mark);
	memset(s, 0, sizeof(*s));
}

static void device_guid(const struct clu_probed_controller *c, const struct clu_probed_device *d, uint8_t *g,
                        size_t *len)
{
	char s[CLU_NAME_MAX + 16];

	if (d->designator_len && d->designator_len <= CLU_GUID_MAX) {
		memcpy(g, d->designator, d->designator_len);
		*len = d->designator_len;
		return;
	}
	/* No designator: the device is known by where it is (no dedup across controllers then). */
	snprintf(s, sizeof(s), "%s/%u", c->iqn, (unsigned int)d->lun);
	clu_guid_hash(s, g);
	*len = 8;
}

/* How many controllers of a probe lead to each device (its paths): counted once per probe. */
struct gcount {
	struct gc_slot {
		uint8_t g[CLU_GUID_MAX];
		size_t len;
		uint32_t count;
	} * slot;
	size_t cap;
};

static struct gc_slot *gc_find(struct gcount *c, const uint8_t *g, size_t len)
{
	size_t i = (size_t)(guid_hash(CLU_DEVICE, g, len) & (c->cap - 1));

	while (c->slot[i].count && (c->slot[i].len != len || memcmp(c->slot[i].g, g, len) != 0))
		i = (i + 1) & (c->cap - 1);
	return &c->slot[i];
}

static int gcount_build(struct gcount *c, const struct clu_probed_controller *ctl, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += ctl[i].ndevices;
	for (c->cap = 16; c->cap < 2 * total + 2; c->cap *= 2)
		;
	if (!(c->slot = calloc(c->cap, sizeof(*c->slot))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ctl[i].ndevices; j++) {
			uint8_t g[CLU_GUID_MAX];
			size_t len;
			struct gc_slot *e;

			device_guid(&ctl[i], &ctl[i].devices[j], g, &len);
			e = gc_find(c, g, len);
			if (!e->count) {
				memcpy(e->g, g, len);
				e->len = len;
			}
			e->count++;
		}
	return 0;
}

static uint32_t sightings(struct gcount *c, const uint8_t *g, size_t glen)
{
	uint32_t k = gc_find(c, g, glen)->count;

	return k ? k : 1;
}

int clu_probe_merge(uint32_t unit, const struct clu_probed_controller *ctl, size_t n)
{
	const struct clu_res *u = clu_res_get(unit);
	struct iset dirty = {0}, fresh = {0}, gone = {0}, seen = {0};
	struct gcount paths = {0};
	uint32_t next = clu_m.ver.counter + 1;
	char uname[CLU_NAME_MAX];
	int rc = 0;

	if (!u || u->type != CLU_UNIT)
		return -ENOENT;
	snprintf(uname, sizeof(uname), "%s", u->name); /* u moves when rows are added */
	clu_m.ctr.probes++;
	if ((rc = gcount_build(&paths, ctl, n)) < 0)
		goto out;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		const struct clu_res *cr = clu_res_find_name(CLU_CONTROLLER, ctl[i].iqn);
		uint32_t cidx;

		if (!cr) {
			struct clu_res r = {
			    .type = CLU_CONTROLLER, .ownership = CLU_UNALLOCATED, .valid = 1, .paths = 1};
			struct clu_res *nr;

			clu_guid_hash(ctl[i].iqn, r.guid);
			r.guid_len = 8;
			clean_text(r.name, sizeof(r.name), ctl[i].iqn);
			clean_text(r.address, sizeof(r.address), ctl[i].portal);
			r.number = ctl[i].tid;
			r.parent = unit;
			r.version = next;
			if (!(nr = clu_res_add(&r))) {
				rc = -ENOMEM;
				break;
			}
			cidx = nr->index;
			if ((rc = iset_add(&fresh, cidx)) < 0 || (rc = iset_add(&dirty, cidx)) < 0)
				break;
		} else {
			struct clu_res *m = clu_res_mut(cr->index);
			char portal[CLU_ADDR_MAX];

			cidx = m->index;
			clean_text(portal, sizeof(portal), ctl[i].portal);
			if (!m->valid || m->number != ctl[i].tid || strcmp(m->address, portal) != 0 ||
			    m->parent != unit) {
				m->valid = 1;
				m->number = ctl[i].tid;
				snprintf(m->address, sizeof(m->address), "%s", portal);
				m->parent = unit;
				m->version = next;
				if ((rc = iset_add(&dirty, cidx)) < 0)
					break;
			}
		}
		if ((rc = iset_add(&seen, cidx)) < 0)
			break;
		for (size_t k = 0; k < ctl[i].ndevices; k++) {
			const struct clu_probed_device *d = &ctl[i].devices[k];
			uint8_t g[CLU_GUID_MAX];
			size_t glen;
			const struct clu_res *dr;
			struct clu_res *m;
			char vendor[16], model[32];
			uint32_t np;

			device_guid(&ctl[i], d, g, &glen);
			np = sightings(&paths, g, glen);
			dr = find_type_guid(CLU_DEVICE, g, glen);
			if (!dr) {
				struct clu_res r = {.type = CLU_DEVICE, .ownership = CLU_UNALLOCATED, .valid = 1};
				struct clu_res *nr;

				memcpy(r.guid, g, glen);
				r.guid_len = glen;
				r.number = d->lun;
				r.parent = cidx;
				r.paths = np;
				clean_text(r.vendor, sizeof(r.vendor), d->vendor);
				clean_text(r.model, sizeof(r.model), d->model);
				r.size = d->size;
				r.version = next;
				if (!(nr = clu_res_add(&r))) {
					rc = -ENOMEM;
					break;
				}
				if ((rc = iset_add(&fresh, nr->index)) < 0 || (rc = iset_add(&dirty, nr->index)) < 0 ||
				    (rc = iset_add(&seen, nr->index)) < 0)
					break;
				continue;
			}
			m = clu_res_mut(dr->index);
			if ((rc = iset_add(&seen, m->index)) < 0)
				break;
			if (rc == 0)
				continue; /* the same LU through another controller: taken at its first sighting */
			clean_text(vendor, sizeof(vendor), d->vendor);
			clean_text(model, sizeof(model), d->model);
			if (!m->valid || strcmp(m->vendor, vendor) || strcmp(m->model, model) || m->size != d->size ||
			    m->paths != np || (m->parent == cidx && m->number != d->lun)) {
				m->valid = 1;
				snprintf(m->vendor, sizeof(m->vendor), "%s", vendor);
				snprintf(m->model, sizeof(m->model), "%s", model);
				m->size = d->size;
				m->paths = np;
				if (m->parent == cidx)
					m->number = d->lun;
				m->version = next;
				if ((rc = iset_add(&dirty, m->index)) < 0)
					break;
			}
		}
	}
	/* Rows of this unit the probe did not see: invalid, never dropped. */
	for (size_t i = 0; i < clu_m.nrows && rc >= 0; i++) {
		struct clu_res *r = &clu_m.rows[i];
		const struct clu_res *p;

		if (!r->valid || iset_has(&seen, r->index) ||
		    !((r->type == CLU_CONTROLLER && r->parent == unit) ||
		      (r->type == CLU_DEVICE && (p = clu_res_get(r->parent)) && p->type == CLU_CONTROLLER &&
		       p->parent == unit)))
			continue;
		r->valid = 0;
		r->version = next;
		if ((rc = iset_add(&dirty, r->index)) < 0 || (rc = iset_add(&gone, r->index)) < 0)
			break;
	}
	if (rc >= 0)
		rc = 0;
	if (rc == 0 && dirty.n && (rc = clu_commit_local(dirty.v, dirty.n)) == 0) {
		clu_m.ctr.new_devices += fresh.n;
		clu_m.ctr.devices_gone += gone.n;
		for (size_t i = 0; i < fresh.n; i++)
			clu_publish(CLU_EV_NEW_DEVICE, fresh.v[i], 0, &clu_m.ver, NULL);
		for (size_t i = 0; i < gone.n; i++)
			clu_publish(CLU_EV_DEVICE_GONE, gone.v[i], 0, &clu_m.ver, NULL);
		cm_log(CM_LOG_NOTICE, CLU_TAG, "probe of %s: %zu new, %zu gone; CRT version %u", uname, fresh.n, gone.n,
		       (unsigned int)clu_m.ver.counter);
	}
out:
	if (rc < 0)
		cm_log(CM_LOG_ERR, CLU_TAG, "probe merge of unit row %u failed: %s", (unsigned int)unit, strerror(-rc));
	free(paths.slot);
	iset_free(&dirty);
	iset_free(&fresh);
	iset_free(&gone);
	iset_free(&seen);
	return rc;
}

/* ---- this host's use --------------------------------------------------------------------------- */

static int self_owns(const struct clu_res *r)
{
	const struct clu_res *me = clu_self();

	return me && owners_has(r->owners, r->nowners, me->index);
}

int clu_host_may_use_target(const char *iqn)
{
	const struct clu_res *c;

	if (!clu_m.running || clu_m.role != CLU_ROLE_HOST || !iqn || !(c = clu_res_find_name(CLU_CONTROLLER, iqn)))
		return 0;
	if (self_owns(c))
		return 0;
	/* Device granularity: a host that owns one device of the target needs the target too. */
	for (size_t i = 0; i < clu_m.nrows; i++)
		if (clu_m.rows[i].type == CLU_DEVICE && clu_m.rows[i].parent == c->index && self_owns(&clu_m.rows[i]))
			return 0;
	return -EACCES;
}

int clu_host_may_use_lun(const char *iqn, uint32_t lun)
{
	const struct clu_res *c;

	if (!clu_m.running || clu_m.role != CLU_ROLE_HOST || !iqn || !(c = clu_res_find_name(CLU_CONTROLLER, iqn)))
		return 0;
	for (size_t i = 0; i < clu_m.nrows; i++) {
		const struct clu_res *d = &clu_m.rows[i];

		if (d->type == CLU_DEVICE && d->parent == c->index && d->number == lun)
			return self_owns(d) ? 0 : -EACCES;
	}
	return self_owns(c) ? 0 : -EACCES;
}
