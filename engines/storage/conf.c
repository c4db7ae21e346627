/* conf.c: what an administrator configures on tgt over SNMP (targets, LUNs, CHAP accounts, bindings, ACLs, iSNS):
 * kept, persisted, and re-applied with tgtadm whenever tgt lacks it. */
#define _GNU_SOURCE /* realpath of a directory */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engines/registry.h"
#include "engines/storage/stor_private.h"
#include "common/array.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"

#define TAG STOR_TAG
#define KEY_PREFIX "stor.cfg."
#define ISNS_KEY KEY_PREFIX "isns"

struct item {
	struct stor_conf pub; /* first: handed out as is */
	uint64_t id;          /* names the item to tgtadm callbacks (items may go while a job runs) */
	int fresh;            /* created by a SET in this run and never listed by tgt: removed if tgt refuses it */
	int busy;             /* a tgtadm job for it runs */
	uint64_t settle;      /* its job succeeded while round `settle` may have been listing: not applied again then */
	int warned;           /* a failure was logged; cleared when tgt lists it */
};

static const char kind_char[STOR_K_COUNT] = {'t', 'l', 'a', 'b', 'c'};
static const char *const kind_name[STOR_K_COUNT] = {"target", "LUN", "account", "binding", "ACL"};

static struct {
	struct item **v;
	size_t n, cap;
} items[STOR_K_COUNT];

static struct {
	int running;
	int control;
	const void *owner;
	char lun_dir[PATH_MAX]; /* resolved; "" none */
	uint64_t next_id;
	/* What the last round saw, for validation. */
	char (*accounts)[TGTC_NAME_MAX];
	size_t naccounts;
	struct tgtc_isns tgt_isns;
	struct stor_isns isns; /* configured */
	int isns_busy;
	int isns_warned;
	uint64_t rounds; /* listings ingested; one runs at a time */
} conf;

/* ---- lookups ---------------------------------------------------------------------------------------------------- */

static int key_cmp(const struct item *it, uint32_t k0, uint32_t k1)
{
	if (it->pub.k[0] != k0)
		return it->pub.k[0] < k0 ? -1 : 1;
	if (it->pub.k[1] != k1)
		return it->pub.k[1] < k1 ? -1 : 1;
	return 0;
}

struct item_key {
	uint32_t k0, k1;
};

static int item_cmp(const void *elem, const void *key)
{
	const struct item_key *k = key;

	return key_cmp(*(struct item *const *)elem, k->k0, k->k1);
}

/* First position whose key is >= (k0, k1). */
static size_t pos(int kind, uint32_t k0, uint32_t k1)
{
	struct item_key k = {k0, k1};

	return cm_lower_bound_cmp(items[kind].v, items[kind].n, sizeof(*items[kind].v), &k, item_cmp);
}

static struct item *get(int kind, uint32_t k0, uint32_t k1)
{
	size_t i = pos(kind, k0, k1);

	return i < items[kind].n && key_cmp(items[kind].v[i], k0, k1) == 0 ? items[kind].v[i] : NULL;
}

const struct stor_conf *stor_conf_find(int kind, uint32_t k0, uint32_t k1)
{
	struct item *it = kind >= 0 && kind < STOR_K_COUNT ? get(kind, k0, k1) : NULL;

	return it ? &it->pub : NULL;
}

const struct stor_conf *stor_conf_next(int kind, int first, uint32_t k0, uint32_t k1)
{
	size_t i;

	if (kind < 0 || kind >= STOR_K_COUNT)
		return NULL;
	if (first)
		i = 0;
	else if (k1 < UINT32_MAX)
		i = pos(kind, k0, k1 + 1);
	else if (k0 < UINT32_MAX)
		i = pos(kind, k0 + 1, 0);
	else
		return NULL;
	return i < items[kind].n ? &items[kind].v[i]->pub : NULL;
}

static struct item *by_id(uint64_t id, int *kind)
{
	for (int k = 0; k < STOR_K_COUNT; k++)
		for (size_t i = 0; i < items[k].n; i++)
			if (items[k].v[i]->id == id) {
				*kind = k;
				return items[k].v[i];
			}
	return NULL;
}

static int insert(struct item *it)
{
	int k = it->pub.kind;
	size_t i = pos(k, it->pub.k[0], it->pub.k[1]);

	if (cm_insert(&items[k].v, &items[k].n, &items[k].cap, sizeof(*items[k].v), i, &it, 16) < 0)
		return -ENOMEM;
	it->id = ++conf.next_id;
	return 0;
}

static void drop(int kind, uint32_t k0, uint32_t k1)
{
	size_t i = pos(kind, k0, k1);

	if (i >= items[kind].n || key_cmp(items[kind].v[i], k0, k1) != 0)
		return;
	explicit_bzero(items[kind].v[i]->pub.secret, sizeof(items[kind].v[i]->pub.secret));
	free(items[kind].v[i]);
	cm_remove(items[kind].v, &items[kind].n, sizeof(*items[kind].v), i);
}

static const struct stor_target *live_target(uint32_t tid)
{
	return stor_target_find(tid);
}

static struct item *account_by_user(const char *user)
{
	for (size_t i = 0; i < items[STOR_K_ACCOUNT].n; i++)
		if (strcmp(items[STOR_K_ACCOUNT].v[i]->pub.name, user) == 0)
			return items[STOR_K_ACCOUNT].v[i];
	return NULL;
}

int stor_target_row_next(int first, uint32_t after, uint32_t *tid)
{
	const struct stor_target *t = first ? stor_target_next(0) : stor_target_next(after);
	const struct stor_conf *c = stor_conf_next(STOR_K_TARGET, first, after, UINT32_MAX);

	/* stor_target_next(0) skips tid 0: tgt never uses it. */
	if (!t && !c)
		return -ENOENT;
	*tid = !c || (t && t->tid < c->k[0]) ? t->tid : c->k[0];
	return 0;
}

/* The first LUN of target t numbered after `after` (-1: from 0, the controller), live or configured. */
static int lun_in(uint32_t t, int64_t after, uint32_t *olun)
{
	const struct stor_target *lt = live_target(t);
	const struct stor_lun *l = lt ? stor_lun_next(lt, after) : NULL;
	const struct item *c = NULL;

	if (after < (int64_t)UINT32_MAX) {
		size_t i = pos(STOR_K_LUN, t, (uint32_t)(after + 1));

		if (i < items[STOR_K_LUN].n && items[STOR_K_LUN].v[i]->pub.k[0] == t)
			c = items[STOR_K_LUN].v[i];
	}
	if (!l && !c)
		return -ENOENT;
	*olun = !c || (l && l->lun < c->pub.k[1]) ? l->lun : c->pub.k[1];
	return 0;
}

int stor_lun_row_next(int first, uint32_t tid, uint32_t lun, uint32_t *otid, uint32_t *olun)
{
	uint32_t t;

	if (!first && lun_in(tid, lun, olun) == 0) {
		*otid = tid;
		return 0;
	}
	if (stor_target_row_next(first, tid, &t) < 0)
		return -ENOENT;
	for (;;) {
		if (lun_in(t, -1, olun) == 0) {
			*otid = t;
			return 0;
		}
		if (stor_target_row_next(0, t, &t) < 0)
			return -ENOENT;
	}
}

/* ---- persistence: "HEX(name);HEX(text);HEX(secret);size;flag;storage" ---------------------------------------------
 */

static void hex(char *out, const char *s)
{
	static const char d[] = "0123456789abcdef";

	for (; *s; s++) {
		*out++ = d[(unsigned char)*s >> 4];
		*out++ = d[(unsigned char)*s & 15];
	}
	*out = '\0';
}

static int unhex(char *out, size_t size, const char *s, const char *e)
{
	size_t n = 0;

	if ((e - s) % 2)
		return -EINVAL;
	for (; s < e; s += 2) {
		unsigned int v;
		char b[3] = {s[0], s[1], 0};

		if (n + 1 >= size || sscanf(b, "%2x", &v) != 1 || !v)
			return -EINVAL;
		out[n++] = (char)v;
	}
	out[n] = '\0';
	return 0;
}

static void item_key(const struct stor_conf *c, char *key, size_t size)
{
	snprintf(key, size, KEY_PREFIX "%c.%u.%u", kind_char[c->kind], (unsigned int)c->k[0], (unsigned int)c->k[1]);
}

static int persist(const struct stor_conf *c, int add)
{
	struct cm_state *st = sa_engines_state();
	char key[64], *val = NULL;
	const char *prev;
	char *saved = NULL;
	int rc;

	if (c->storage != STOR_ST_NONVOLATILE)
		return 0;
	if (!st)
		return -EIO;
	item_key(c, key, sizeof(key));
	if ((prev = cm_state_get(st, key)) && !(saved = strdup(prev)))
		return -ENOMEM;
	if (add) {
		size_t sz = 2 * (sizeof(c->name) + sizeof(c->text) + sizeof(c->secret)) + 64;

		if (!(val = malloc(sz))) {
			free(saved);
			return -ENOMEM;
		}
		char *p = val;

		hex(p, c->name);
		p += strlen(p);
		*p++ = ';';
		hex(p, c->text);
		p += strlen(p);
		*p++ = ';';
		hex(p, c->secret);
		p += strlen(p);
		snprintf(p, sz - (size_t)(p - val), ";%u;%d", (unsigned int)c->size_mib, c->flag);
		rc = cm_state_set(st, key, val);
		explicit_bzero(val, sz);
		free(val);
	} else {
		rc = cm_state_del(st, key);
	}
	if (rc == 0 || (!add && rc == -ENOENT))
		rc = cm_state_commit(st);
	if (rc < 0) {
		/* Persist first, apply second: the state goes back to what it was. */
		if (saved)
			cm_state_set(st, key, saved);
		else
			cm_state_del(st, key);
		cm_log(CM_LOG_ERR, TAG, "cannot persist %s %u.%u: %s", kind_name[c->kind], (unsigned int)c->k[0],
		       (unsigned int)c->k[1], strerror(-rc));
	}
	if (saved) {
		explicit_bzero(saved, strlen(saved));
		free(saved);
	}
	return rc;
}

static void restore_one(const char *key, const char *value, void *arg)
{
	const char *k = key + strlen(KEY_PREFIX), *f[5], *p = value;
	struct item *it;
	unsigned int k0, k1, size;
	int kind = -1, flag, nf = 0;
	char kc;

	(void)arg;
	if (strcmp(key, ISNS_KEY) == 0)
		return;
	if (sscanf(k, "%c.%u.%u", &kc, &k0, &k1) != 3)
		goto bad;
	for (int i = 0; i < STOR_K_COUNT; i++)
		if (kind_char[i] == kc)
			kind = i;
	/* Three hex fields, then size and flag. */
	for (f[nf++] = p; nf < 5 && (p = strchr(p, ';')); f[nf++] = ++p)
		;
	if (kind < 0 || nf != 5 || sscanf(f[3], "%u;%d", &size, &flag) != 2 || !(it = calloc(1, sizeof(*it))))
		goto bad;
	it->pub.kind = kind;
	it->pub.k[0] = k0;
	it->pub.k[1] = k1;
	it->pub.storage = STOR_ST_NONVOLATILE;
	it->pub.size_mib = size;
	it->pub.flag = flag;
	if (unhex(it->pub.name, sizeof(it->pub.name), f[0], f[1] - 1) < 0 ||
	    unhex(it->pub.text, sizeof(it->pub.text), f[1], f[2] - 1) < 0 ||
	    unhex(it->pub.secret, sizeof(it->pub.secret), f[2], f[3] - 1) < 0 || get(kind, k0, k1) || insert(it) < 0) {
		explicit_bzero(it->pub.secret, sizeof(it->pub.secret));
		free(it);
		goto bad;
	}
	return;
bad:
	cm_log(CM_LOG_WARNING, TAG, "state: ignoring bad %s", key);
}

static int persist_isns(const struct stor_isns *in)
{
	struct cm_state *st = sa_engines_state();
	char val[STOR_HOST_MAX + 32];
	const char *prev;
	char saved[STOR_HOST_MAX + 32] = "";
	int had, rc;

	if (!st)
		return -EIO;
	had = (prev = cm_state_get(st, ISNS_KEY)) != NULL;
	if (had)
		snprintf(saved, sizeof(saved), "%s", prev);
	snprintf(val, sizeof(val), "%d %u %s", in->on, (unsigned int)in->port, in->server[0] ? in->server : "-");
	if ((rc = cm_state_set(st, ISNS_KEY, val)) == 0)
		rc = cm_state_commit(st);
	if (rc < 0) {
		if (had)
			cm_state_set(st, ISNS_KEY, saved);
		else
			cm_state_del(st, ISNS_KEY);
		cm_log(CM_LOG_ERR, TAG, "cannot persist the iSNS settings: %s", strerror(-rc));
	}
	return rc;
}

static void restore_isns(void)
{
	struct cm_state *st = sa_engines_state();
	const char *v = st ? cm_state_get(st, ISNS_KEY) : NULL;
	char host[STOR_HOST_MAX];
	unsigned int port;
	int on;

	if (!v)
		return;
	if (sscanf(v, "%d %u %63s", &on, &port, host) != 3 || port > 65535) {
		cm_log(CM_LOG_WARNING, TAG, "state: ignoring bad %s", ISNS_KEY);
		return;
	}
	conf.isns.configured = 1;
	conf.isns.on = on == 1;
	conf.isns.port = (uint16_t)port;
	if (strcmp(host, "-") == 0 || stor_canon_host(host, conf.isns.server, sizeof(conf.isns.server)) < 0)
		conf.isns.server[0] = '\0';
}

/* ---- validation ------------------------------------------------------------------------------------------------- */

static int plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int iscsi_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 4 && n < STOR_NAME_MAX && plain(s) &&
	       (strncmp(s, "iqn.", 4) == 0 || strncmp(s, "eui.", 4) == 0 || strncmp(s, "naa.", 4) == 0);
}

/* ALL, a numeric address, or a subnet ADDR/PREFIX: what tgt's --initiator-address takes. */
static int address_rule_ok(const char *s)
{
	char host[STOR_HOST_MAX], canon[STOR_HOST_MAX];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);

	if (strcmp(s, "ALL") == 0)
		return 1;
	if (hl >= sizeof(host))
		return 0;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (stor_canon_host(host, canon, sizeof(canon)) < 0)
		return 0;
	if (slash) {
		char *e;
		unsigned long pl = strtoul(slash + 1, &e, 10);

		if (!slash[1] || *e || pl > (strchr(host, ':') ? 128u : 32u))
			return 0;
	}
	return 1;
}

/* A backing path inside lun_dir: absolute, no . or .. component, its directory (symlinks resolved) lun_dir itself. */
static int path_inside(const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	size_t dl;

	if (!conf.lun_dir[0] || path[0] != '/' || !slash || !plain(path))
		return 0;
	base = slash + 1;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strstr(path, "/./") ||
	    strstr(path, "/../") || strstr(path, "//"))
		return 0;
	dl = (size_t)(slash - path);
	if (dl == 0 || dl >= sizeof(dir))
		return 0;
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	if (!realpath(dir, real))
		return 0;
	return strcmp(real, conf.lun_dir) == 0;
}

static int target_exists(uint32_t tid)
{
	return get(STOR_K_TARGET, tid, 0) || live_target(tid);
}

int stor_conf_validate(const struct stor_conf *c, int parent_pending)
{
	struct stat sb;

	if (!conf.running)
		return -ENODEV;
	if (!c || c->kind < 0 || c->kind >= STOR_K_COUNT ||
	    (c->storage != STOR_ST_VOLATILE && c->storage != STOR_ST_NONVOLATILE))
		return -EINVAL;
	switch (c->kind) {
	case STOR_K_TARGET:
		if (!c->k[0] || c->k[0] > INT32_MAX || !iscsi_name_ok(c->name) || strpbrk(c->text, "\t\r\n"))
			return -EINVAL;
		if (target_exists(c->k[0]))
			return -EEXIST;
		for (size_t i = 0; i < items[STOR_K_TARGET].n; i++)
			if (strcmp(items[STOR_K_TARGET].v[i]->pub.name, c->name) == 0)
				return -EEXIST;
		for (const struct stor_target *t = stor_target_next(0); t; t = stor_target_next(t->tid))
			if (strcmp(t->name, c->name) == 0)
				return -EEXIST;
		return 0;
	case STOR_K_LUN:
		if (!c->k[0] || !c->k[1] || c->k[1] > STOR_LUN_MAX || c->size_mib > STOR_SIZE_MAX)
			return -EINVAL;
		if (!conf.lun_dir[0])
			return -EPERM;
		if (!path_inside(c->text))
			return -EINVAL;
		if (!parent_pending && !target_exists(c->k[0]))
			return -ENOENT;
		if (get(STOR_K_LUN, c->k[0], c->k[1]) ||
		    (live_target(c->k[0]) && stor_lun_find(live_target(c->k[0]), c->k[1])))
			return -EEXIST;
		if (stat(c->text, &sb) == 0)
			return S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode) ? 0 : -EINVAL;
		return c->size_mib ? 0 : -EDOM;
	case STOR_K_ACCOUNT:
		if (!c->k[0] || !c->name[0] || strlen(c->name) >= STOR_USER_MAX || !plain(c->name) || !plain(c->secret))
			return -EINVAL;
		if (strlen(c->secret) < STOR_SECRET_MIN || strlen(c->secret) > STOR_SECRET_MAX)
			return -EMSGSIZE;
		if (get(STOR_K_ACCOUNT, c->k[0], 0) || account_by_user(c->name))
			return -EEXIST;
		for (size_t i = 0; i < conf.naccounts; i++)
			if (strcmp(conf.accounts[i], c->name) == 0)
				return -EEXIST; /* tgt has it (not ours): its secret is unknown here */
		return 0;
	case STOR_K_BIND:
		if (c->flag != STOR_BIND_IN && c->flag != STOR_BIND_OUT)
			return -EINVAL;
		if (!parent_pending && (!target_exists(c->k[0]) || !get(STOR_K_ACCOUNT, c->k[1], 0)))
			return -ENOENT;
		if (get(STOR_K_BIND, c->k[0], c->k[1]))
			return -EEXIST;
		/* tgt keeps one outgoing account per target. */
		for (const struct stor_conf *b = stor_conf_next(STOR_K_BIND, 0, c->k[0], 0);
		     c->flag == STOR_BIND_OUT && b && b->k[0] == c->k[0];
		     b = stor_conf_next(STOR_K_BIND, 0, b->k[0], b->k[1]))
			if (b->flag == STOR_BIND_OUT)
				return -EEXIST;
		return 0;
	case STOR_K_ACL:
		if (!c->k[1] || (c->flag != STOR_ACL_NAME && c->flag != STOR_ACL_ADDRESS))
			return -EINVAL;
		if (c->flag == STOR_ACL_NAME ? !iscsi_name_ok(c->name) : !address_rule_ok(c->name))
			return -EINVAL;
		if (!parent_pending && !target_exists(c->k[0]))
			return -ENOENT;
		if (get(STOR_K_ACL, c->k[0], c->k[1]))
			return -EEXIST;
		for (const struct stor_conf *a = stor_conf_next(STOR_K_ACL, 0, c->k[0], 0); a && a->k[0] == c->k[0];
		     a = stor_conf_next(STOR_K_ACL, 0, a->k[0], a->k[1]))
			if (strcmp(a->name, c->name) == 0)
				return -EEXIST;
		return 0;
	}
	return -EINVAL;
}

/* ---- applying: tgtadm jobs -------------------------------------------------------------------------------------- */

static void job_done(void *arg, int rc, const char *out, size_t len)
{
	int kind;
	struct item *it = by_id((uint64_t)(uintptr_t)arg, &kind);

	(void)out;
	(void)len;
	if (rc == -ECANCELED || !it)
		return;
	it->busy = 0;
	if (rc == 0) {
		/* The listing in flight now may predate this job: it must not make us apply the item again (tgt
		 * would refuse a second bind, and a fresh row would be dropped for it). */
		it->settle = conf.rounds + 1;
		stor_round_kick(); /* confirmed by the next listing, which may apply what hangs on it */
		return;
	}
	if (it->fresh) {
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d refused %s %u.%u (%s): row removed", conf.control,
		       kind_name[kind], (unsigned int)it->pub.k[0], (unsigned int)it->pub.k[1], strerror(-rc));
		persist(&it->pub, 0);
		drop(kind, it->pub.k[0], it->pub.k[1]);
		return;
	}
	if (!it->warned)
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d cannot apply %s %u.%u (%s); retried every round",
		       conf.control, kind_name[kind], (unsigned int)it->pub.k[0], (unsigned int)it->pub.k[1],
		       strerror(-rc));
	it->warned = 1;
}

static void apply(struct item *it)
{
	char ts[16], ls[16];
	void *arg = (void *)(uintptr_t)it->id;
	const struct item *acct;
	int rc = -EINVAL;

	snprintf(ts, sizeof(ts), "%u", (unsigned int)it->pub.k[0]);
	snprintf(ls, sizeof(ls), "%u", (unsigned int)it->pub.k[1]);
	switch (it->pub.kind) {
	case STOR_K_TARGET:
		rc = tgtc_run(conf.control, conf.owner, job_done, arg, "--lld", "iscsi", "--op", "new", "--mode",
		              "target", "--tid", ts, "--targetname", it->pub.name, (char *)NULL);
		break;
	case STOR_K_LUN:
		rc = tgtc_run(conf.control, conf.owner, job_done, arg, "--lld", "iscsi", "--op", "new", "--mode",
		              "logicalunit", "--tid", ts, "--lun", ls, "--backing-store", it->pub.text, (char *)NULL);
		break;
	case STOR_K_ACCOUNT:
		/* The secret goes on tgtd's management socket, or on tgtadm's argv when that cannot be reached (tgt has
		 * no other way); it is never logged. */
		rc = tgtc_run(conf.control, conf.owner, job_done, arg, "--lld", "iscsi", "--op", "new", "--mode",
		              "account", "--user", it->pub.name, "--password", it->pub.secret, (char *)NULL);
		break;
	case STOR_K_BIND:
		if (!(acct = get(STOR_K_ACCOUNT, it->pub.k[1], 0)))
			return;
		if (it->pub.flag == STOR_BIND_OUT)
			rc = tgtc_run(conf.control, conf.owner, job_done, arg, "--lld", "iscsi", "--op", "bind",
			              "--mode", "account", "--tid", ts, "--user", acct->pub.name, "--outgoing",
			              (char *)NULL);
		else
			rc = tgtc_run(conf.control, conf.owner, job_done, arg, "--lld", "iscsi", "--op", "bind",
			              "--mode", "account", "--tid", ts, "--user", acct->pub.name, (char *)NULL);
		break;
	case STOR_K_ACL:
		rc = tgtc_acl(conf.control, conf.owner, job_done, arg, it->pub.k[0], 1, it->pub.flag == STOR_ACL_NAME,
		              it->pub.name);
		break;
	}
	if (rc == 0)
		it->busy = 1;
}

static void quiet_done(void *arg, int rc, const char *out, size_t len)
{
	(void)out;
	(void)len;
	/* Also when tgt never had it (a row destroyed before it was applied): not worth a warning. */
	if (rc < 0 && rc != -ECANCELED)
		cm_log(CM_LOG_INFO, TAG, "tgtadm -C %d: removing a %s: %s", conf.control, (const char *)arg,
		       strerror(-rc));
	else if (rc == 0)
		stor_round_kick();
}

/* Targets being destroyed with force: tried again every round (a session's commands in flight keep tgt from
 * deleting it) until tgt no longer lists them, a few rounds at most. */
#define DOOM_TRIES 10
struct doomed {
	uint32_t tid;
	char name[STOR_NAME_MAX];
	int tries, busy;
};
static struct doomed *doomed;
static size_t ndoomed;

static struct doomed *doomed_find(uint32_t tid)
{
	for (size_t i = 0; i < ndoomed; i++)
		if (doomed[i].tid == tid)
			return &doomed[i];
	return NULL;
}

static void doomed_deleted(void *arg, int rc, const char *out, size_t len)
{
	struct doomed *d;

	(void)out;
	(void)len;
	if (rc == -ECANCELED)
		return;
	if ((d = doomed_find((uint32_t)(uintptr_t)arg)))
		d->busy = 0;
	if (rc == 0)
		stor_round_kick();
}

/* The target is offline (no new logins): its sessions are ended, then it is deleted. */
static void offline_done(void *arg, int rc, const char *out, size_t len)
{
	uint32_t tid = (uint32_t)(uintptr_t)arg;
	const struct stor_target *t = stor_target_find(tid);
	char ts[16];

	(void)out;
	(void)len;
	if (rc == -ECANCELED)
		return;
	snprintf(ts, sizeof(ts), "%u", (unsigned int)tid);
	for (size_t i = 0; t && i < t->nsessions; i++)
		for (size_t k = 0; k < t->sessions[i].nconns; k++) {
			char ss[16], cs[16];

			snprintf(ss, sizeof(ss), "%u", (unsigned int)t->sessions[i].sid);
			snprintf(cs, sizeof(cs), "%u", (unsigned int)t->sessions[i].cids[k]);
			tgtc_run(conf.control, conf.owner, NULL, NULL, "--lld", "iscsi", "--op", "delete", "--mode",
			         "conn", "--tid", ts, "--sid", ss, "--cid", cs, (char *)NULL);
		}
	if (tgtc_run(conf.control, conf.owner, doomed_deleted, arg, "--lld", "iscsi", "--op", "delete", "--mode",
	             "target", "--tid", ts, "--force", (char *)NULL) < 0)
		doomed_deleted(arg, -ENOMEM, "", 0);
}

static void doom_try(struct doomed *d)
{
	char ts[16];

	snprintf(ts, sizeof(ts), "%u", (unsigned int)d->tid);
	d->tries++;
	if (tgtc_run(conf.control, conf.owner, offline_done, (void *)(uintptr_t)d->tid, "--lld", "iscsi", "--op",
	             "update", "--mode", "target", "--tid", ts, "--name", "state", "--value", "offline",
	             (char *)NULL) == 0)
		d->busy = 1;
}

static void doom(uint32_t tid, const char *name)
{
	struct doomed *d = doomed_find(tid), *nd;

	if (!d) {
		if (!(nd = realloc(doomed, (ndoomed + 1) * sizeof(*nd))))
			return;
		doomed = nd;
		d = &doomed[ndoomed++];
		memset(d, 0, sizeof(*d));
		d->tid = tid;
		snprintf(d->name, sizeof(d->name), "%s", name);
	}
	d->tries = 0;
	if (!d->busy)
		doom_try(d);
}

static void doomed_round(const struct tgtc_show *show)
{
	for (size_t i = 0; i < ndoomed;) {
		struct doomed *d = &doomed[i];
		const struct tgtc_target_info *t = NULL;

		for (size_t k = 0; k < show->ntargets && !t; k++)
			if (show->targets[k].tid == d->tid)
				t = &show->targets[k];
		if (!d->busy && (!t || strcmp(t->name, d->name) != 0 || d->tries >= DOOM_TRIES)) {
			if (t && d->tries >= DOOM_TRIES)
				cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d cannot delete target %u (%s)", conf.control,
				       (unsigned int)d->tid, d->name);
			doomed[i] = doomed[--ndoomed];
			continue;
		}
		if (!d->busy)
			doom_try(d);
		i++;
	}
}

static const struct tgtc_target_info *show_target(const struct tgtc_show *show, uint32_t tid)
{
	for (size_t i = 0; i < show->ntargets; i++)
		if (show->targets[i].tid == tid)
			return &show->targets[i];
	return NULL;
}

static void isns_done(void *arg, int rc, const char *out, size_t len)
{
	(void)arg;
	(void)out;
	(void)len;
	if (rc == -ECANCELED)
		return;
	conf.isns_busy--;
	if (rc == 0) {
		stor_round_kick();
		return;
	}
	if (!conf.isns_warned)
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d cannot set iSNS: %s; retried every round", conf.control,
		       strerror(-rc));
	conf.isns_warned = 1;
}

static void isns_update(const char *name, const char *value)
{
	if (tgtc_run(conf.control, conf.owner, isns_done, NULL, "--op", "update", "--mode", "sys", "--name", name,
	             "--value", value, (char *)NULL) == 0)
		conf.isns_busy++;
}

static void isns_round(const struct tgtc_isns *t)
{
	char port[8];
	int addr_ok, port_ok;

	if (!conf.isns.configured || !t || !t->seen || conf.isns_busy)
		return;
	addr_ok = strcmp(t->server, conf.isns.server) == 0;
	port_ok = t->port == conf.isns.port;
	if (!addr_ok && conf.isns.server[0])
		isns_update("iSNSServerIP", conf.isns.server);
	if (!port_ok) {
		snprintf(port, sizeof(port), "%u", (unsigned int)conf.isns.port);
		isns_update("iSNSServerPort", port);
	}
	/* On only once tgt has the server it is to register with; off at once. */
	if (t->on != conf.isns.on && (!conf.isns.on || (addr_ok && port_ok)))
		isns_update("iSNS", conf.isns.on ? "On" : "Off");
	if (t->on == conf.isns.on && addr_ok && port_ok)
		conf.isns_warned = 0;
}

void stor_conf_round(const struct tgtc_show *show, char (*accounts)[TGTC_NAME_MAX], size_t naccounts,
                     const struct tgtc_isns *isns)
{
	free(conf.accounts);
	conf.accounts = accounts;
	conf.naccounts = naccounts;
	if (isns)
		conf.tgt_isns = *isns;
	if (!conf.running)
		return;
	conf.rounds++;
	doomed_round(show);
	isns_round(isns);
	for (int k = 0; k < STOR_K_COUNT; k++) {
		for (size_t i = 0; i < items[k].n; i++) {
			struct item *it = items[k].v[i];
			const struct tgtc_target_info *t = show_target(show, it->pub.k[0]);
			const struct item *tc = get(STOR_K_TARGET, it->pub.k[0], 0);
			/* What hangs on a target waits until tgt lists the target (ours, when we configured it). */
			int t_ok = t && (!tc || tc->pub.active);
			int listed = 0, can = 0;

			switch (k) {
			case STOR_K_TARGET:
				listed = t && strcmp(t->name, it->pub.name) == 0;
				can = !t;
				if (t && !listed && !it->warned) {
					cm_log(CM_LOG_WARNING, TAG, "target %u: tgt has %s there, not %s",
					       (unsigned int)it->pub.k[0], t->name, it->pub.name);
					it->warned = 1;
				}
				break;
			case STOR_K_LUN:
				for (size_t l = 0; t_ok && l < t->nluns && !listed; l++)
					listed = t->luns[l].lun == it->pub.k[1];
				can = t_ok;
				break;
			case STOR_K_ACCOUNT:
				for (size_t a = 0; a < naccounts && !listed; a++)
					listed = strcmp(accounts[a], it->pub.name) == 0;
				can = 1;
				break;
			case STOR_K_BIND: {
				const struct item *acct = get(STOR_K_ACCOUNT, it->pub.k[1], 0);

				for (size_t b = 0; t_ok && acct && b < t->nbound && !listed; b++)
					listed = strcmp(t->bound[b].user, acct->pub.name) == 0 &&
					         t->bound[b].outgoing == (it->pub.flag == STOR_BIND_OUT);
				can = t_ok && acct && acct->pub.active;
				break;
			}
			case STOR_K_ACL:
				for (size_t a = 0; t_ok && a < t->nacls && !listed; a++)
					listed = strcmp(t->acls[a].rule, it->pub.name) == 0;
				can = t_ok;
				break;
			}
			if (listed) {
				if (!it->pub.active && !it->fresh)
					cm_log(CM_LOG_INFO, TAG, "%s %u.%u applied to tgt again", kind_name[k],
					       (unsigned int)it->pub.k[0], (unsigned int)it->pub.k[1]);
				it->pub.active = 1;
				it->fresh = 0;
				it->warned = 0;
				continue;
			}
			if (it->pub.active)
				cm_log(CM_LOG_WARNING, TAG, "%s %u.%u vanished from tgt: applying it again",
				       kind_name[k], (unsigned int)it->pub.k[0], (unsigned int)it->pub.k[1]);
			it->pub.active = 0;
			if (can && !it->busy && conf.rounds > it->settle)
				apply(it);
		}
	}
}

/* ---- verbs ------------------------------------------------------------------------------------------------------ */

/* Creates path as a sparse file of size_mib MiB when it is missing: 1 created, 0 there already, -errno. */
static int make_file(const char *path, uint32_t size_mib)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), rc = 0;

	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	if (ftruncate(fd, (off_t)size_mib << 20) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc < 0) {
		unlink(path);
		return rc;
	}
	return 1;
}

int stor_conf_create(const struct stor_conf *c)
{
	struct item *it;
	int rc = stor_conf_validate(c, 0), made = 0;

	if (rc < 0)
		return rc;
	if (c->kind == STOR_K_LUN && (made = make_file(c->text, c->size_mib)) < 0)
		return made;
	if (!(it = calloc(1, sizeof(*it)))) {
		rc = -ENOMEM;
		goto fail;
	}
	it->pub = *c;
	it->pub.active = 0;
	it->fresh = 1;
	if (c->kind == STOR_K_TARGET || c->kind == STOR_K_ACCOUNT)
		it->pub.k[1] = 0;
	if ((rc = persist(&it->pub, 1)) < 0)
		goto fail;
	if ((rc = insert(it)) < 0) {
		persist(&it->pub, 0);
		goto fail;
	}
	if (c->kind == STOR_K_LUN)
		cm_log(CM_LOG_INFO, TAG, "LUN %u.%u created by SET: %s%s", (unsigned int)c->k[0], (unsigned int)c->k[1],
		       c->text, made ? " (new sparse file)" : "");
	else
		cm_log(CM_LOG_INFO, TAG, "%s %u.%u %s created by SET", kind_name[c->kind], (unsigned int)c->k[0],
		       (unsigned int)c->k[1], c->name);
	stor_round_kick();
	return 0;
fail:
	if (it) {
		explicit_bzero(it->pub.secret, sizeof(it->pub.secret));
		free(it);
	}
	if (made > 0)
		unlink(c->text);
	return rc;
}

int stor_conf_validate_destroy(int kind, uint32_t k0, uint32_t k1, int force)
{
	const struct stor_target *t;

	if (!conf.running)
		return -ENODEV;
	if (kind < 0 || kind >= STOR_K_COUNT)
		return -EINVAL;
	switch (kind) {
	case STOR_K_TARGET:
		t = live_target(k0);
		if (!t && !get(kind, k0, 0))
			return -ENOENT;
		/* A target in use is not taken away by accident: force says the sessions may go. */
		return t && t->nsessions && !force ? -EBUSY : 0;
	case STOR_K_LUN:
		t = live_target(k0);
		if (!get(kind, k0, k1) && !(t && stor_lun_find(t, k1)))
			return -ENOENT;
		if (k1 == 0)
			return -EPERM; /* the controller LU goes with its target only */
		/* tgt refuses to delete an LU in use ("still active"): say so now rather than fail later. */
		return t && t->nsessions ? -EBUSY : 0;
	default: return get(kind, k0, k1) ? 0 : -ENOENT;
	}
}

/* Drops a configured row and its persisted copy (the state commits once per SET request). */
static void forget(int kind, uint32_t k0, uint32_t k1)
{
	struct item *it = get(kind, k0, k1);

	if (!it)
		return;
	persist(&it->pub, 0);
	drop(kind, k0, k1);
}

int stor_conf_destroy(int kind, uint32_t k0, uint32_t k1, int force)
{
	int rc = stor_conf_validate_destroy(kind, k0, k1, force);
	struct item *it = get(kind, k0, k1), *acct;
	const struct stor_target *lt;
	char ts[16], ls[16];
	/* tgt may have it even when the last round did not list it yet: remove it in any case. */

	if (rc < 0)
		return rc;
	snprintf(ts, sizeof(ts), "%u", (unsigned int)k0);
	snprintf(ls, sizeof(ls), "%u", (unsigned int)k1);
	switch (kind) {
	case STOR_K_TARGET:
		/* Its LUNs, bindings and ACLs go with it, in tgt and here. */
		for (int k = STOR_K_LUN; k < STOR_K_COUNT; k++) {
			const struct stor_conf *c;

			if (k == STOR_K_ACCOUNT)
				continue;
			while ((c = stor_conf_next(k, 0, k0, 0)) && c->k[0] == k0)
				forget(k, c->k[0], c->k[1]);
		}
		/* tgt refuses to delete a target whose LUs are in use, --force or not, but deletes an offline
		 * one: take it offline first (no new logins), then delete it. */
		if (force && (lt = live_target(k0)))
			doom(k0, lt->name);
		else
			tgtc_run(conf.control, conf.owner, quiet_done, "target", "--lld", "iscsi", "--op", "delete",
			         "--mode", "target", "--tid", ts, (char *)NULL);
		break;
	case STOR_K_LUN:
		tgtc_run(conf.control, conf.owner, quiet_done, "LUN", "--lld", "iscsi", "--op", "delete", "--mode",
		         "logicalunit", "--tid", ts, "--lun", ls, (char *)NULL);
		break;
	case STOR_K_ACCOUNT:
		/* tgt unbinds an account it deletes. */
		for (size_t i = 0; i < items[STOR_K_BIND].n;) {
			struct item *b = items[STOR_K_BIND].v[i];

			if (b->pub.k[1] == k0)
				forget(STOR_K_BIND, b->pub.k[0], b->pub.k[1]);
			else
				i++;
		}
		tgtc_run(conf.control, conf.owner, quiet_done, "account", "--lld", "iscsi", "--op", "delete", "--mode",
		         "account", "--user", it->pub.name, (char *)NULL);
		break;
	case STOR_K_BIND:
		if ((acct = get(STOR_K_ACCOUNT, k1, 0)))
			tgtc_run(conf.control, conf.owner, quiet_done, "binding", "--lld", "iscsi", "--op", "unbind",
			         "--mode", "account", "--tid", ts, "--user", acct->pub.name,
			         it->pub.flag == STOR_BIND_OUT ? "--outgoing" : (char *)NULL, (char *)NULL);
		break;
	case STOR_K_ACL:
		tgtc_acl(conf.control, conf.owner, quiet_done, (void *)"ACL", k0, 0, it->pub.flag == STOR_ACL_NAME,
		         it->pub.name);
		break;
	}
	if (it) {
		cm_log(CM_LOG_INFO, TAG, "%s %u.%u destroyed by SET", kind_name[kind], (unsigned int)k0,
		       (unsigned int)k1);
		forget(kind, k0, k1);
	}
	return 0;
}

int stor_conf_set_alias(uint32_t tid, const char *alias)
{
	struct item *it = get(STOR_K_TARGET, tid, 0);
	char old[STOR_ALIAS_MAX];
	int rc;

	if (!it)
		return live_target(tid) ? -EPERM : -ENOENT; /* tgt's own targets have no alias of ours */
	if (strlen(alias) >= sizeof(it->pub.text) || strpbrk(alias, "\t\r\n"))
		return -EINVAL;
	memcpy(old, it->pub.text, sizeof(old));
	snprintf(it->pub.text, sizeof(it->pub.text), "%s", alias);
	if ((rc = persist(&it->pub, 1)) < 0)
		memcpy(it->pub.text, old, sizeof(old));
	return rc;
}

/* ---- iSNS ------------------------------------------------------------------------------------------------------- */

void stor_isns_get(struct stor_isns *out)
{
	if (conf.isns.configured) {
		*out = conf.isns;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->on = conf.tgt_isns.on;
	if (stor_canon_host(conf.tgt_isns.server, out->server, sizeof(out->server)) < 0)
		out->server[0] = '\0';
	out->port = conf.tgt_isns.port ? conf.tgt_isns.port : 3205;
}

int stor_isns_validate(const struct stor_isns *in)
{
	char canon[STOR_HOST_MAX];

	if (!conf.running)
		return -ENODEV;
	if (!in->port || (in->server[0] && stor_canon_host(in->server, canon, sizeof(canon)) < 0))
		return -EINVAL;
	if (in->on && !in->server[0])
		return -EDOM;
	return 0;
}

int stor_isns_set(const struct stor_isns *in)
{
	struct stor_isns n = *in, old = conf.isns;
	int rc = stor_isns_validate(in);

	if (rc < 0)
		return rc;
	n.configured = 1;
	n.on = in->on ? 1 : 0;
	if (n.server[0])
		stor_canon_host(in->server, n.server, sizeof(n.server));
	conf.isns = n;
	if ((rc = persist_isns(&n)) < 0) {
		conf.isns = old;
		return rc;
	}
	cm_log(CM_LOG_INFO, TAG, "iSNS %s, server %s:%u, set by SET", n.on ? "on" : "off",
	       n.server[0] ? n.server : "(none)", (unsigned int)n.port);
	conf.isns_warned = 0;
	stor_round_kick();
	return 0;
}

/* ---- start / stop ----------------------------------------------------------------------------------------------- */

void stor_conf_configure(const struct sa_storage_config *cfg)
{
	conf.lun_dir[0] = '\0';
	if (cfg->lun_dir && cfg->lun_dir[0] && !realpath(cfg->lun_dir, conf.lun_dir)) {
		cm_log(CM_LOG_WARNING, TAG, "storage.lun_dir %s: %s: LUNs cannot be created over SNMP", cfg->lun_dir,
		       strerror(errno));
		conf.lun_dir[0] = '\0';
	}
}

void stor_conf_start(const struct sa_storage_config *cfg, int control, const void *owner)
{
	struct cm_state *st = sa_engines_state();

	conf.running = 1;
	conf.control = control;
	conf.owner = owner;
	stor_conf_configure(cfg);
	if (st) {
		cm_state_foreach(st, KEY_PREFIX, restore_one, NULL);
		restore_isns();
	}
}

void stor_conf_stop(void)
{
	for (int k = 0; k < STOR_K_COUNT; k++) {
		while (items[k].n)
			drop(k, items[k].v[items[k].n - 1]->pub.k[0], items[k].v[items[k].n - 1]->pub.k[1]);
		free(items[k].v);
		items[k].v = NULL;
		items[k].cap = 0;
	}
	free(conf.accounts);
	conf.accounts = NULL;
	conf.naccounts = 0;
	memset(&conf.isns, 0, sizeof(conf.isns));
	memset(&conf.tgt_isns, 0, sizeof(conf.tgt_isns));
	conf.isns_busy = 0;
	free(doomed);
	doomed = NULL;
	ndoomed = 0;
	conf.running = 0;
}
