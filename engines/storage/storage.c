/* storage.c: the storage-side role: tgt's portals, targets, LUNs and sessions, refreshed by tgtadm child processes. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engines/registry.h"
#include "engines/storage/stor_private.h"
#include "common/array.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"

#define TAG STOR_TAG
#define KEY_PREFIX "stor.portal."
/* Rounds in a row that must fail before the rows of a silent tgtd go. */
#define FAILS_BEFORE_CLEAR 3

static const char stor_owner; /* our tgtadm jobs */

struct portal {
	struct stor_portal pub; /* first: handed out as is */
	int snmp;               /* created over SNMP: re-applied whenever tgt lacks it */
	int confirmed;          /* tgt has listed it since it was created here */
	int busy;               /* a `new portal` runs */
	int warned;             /* a failure was logged; cleared when tgt lists it */
	int seen;               /* sweep mark */
};

/* A portal being deleted: rounds ignore it in tgt's list until tgtadm ends. */
struct tombstone {
	char host[STOR_HOST_MAX];
	uint16_t port;
	struct tombstone *next;
};

static struct {
	int running;
	int control;
	int interval;
	unsigned int timer;
	int busy, again; /* a round runs; another one is due right after it */
	int fails;
	struct tgtc_show show; /* of the round in progress */
} stor_module;

static struct portal **portals; /* sorted by index */
static size_t nportals, capportals;
static uint32_t next_index = 1; /* kept across restarts: never reused while the agent runs */
static struct tombstone *tombs;
static struct stor_target *targets; /* sorted by tid */
static size_t ntargets;

static void round_start(void);

/* ---- lookups -------------------------------------------------------------- */

/* The keys the tables are sorted by, for cm_lower_bound. */
static int64_t target_key(const void *e)
{
	return ((const struct stor_target *)e)->tid;
}

static int64_t lun_key(const void *e)
{
	return ((const struct stor_lun *)e)->lun;
}

static int64_t session_key(const void *e)
{
	return ((const struct stor_session *)e)->sid;
}

static int64_t portal_key(const void *e)
{
	return (*(const struct portal *const *)e)->pub.index;
}

/* Walks ask for neighbouring rows: the last answers are where the next lookups start (cm_lower_bound_hint).  Only
 * hints, checked before use, so a rebuilt array needs no reset. */
static size_t target_hint, session_hint;

static size_t target_pos(uint32_t tid)
{
	return cm_lower_bound_hint(targets, ntargets, sizeof(*targets), tid, target_key, &target_hint);
}

const struct stor_target *stor_target_find(uint32_t tid)
{
	size_t i = target_pos(tid);

	return i < ntargets && targets[i].tid == tid ? &targets[i] : NULL;
}

const struct stor_target *stor_target_next(uint32_t after)
{
	size_t i = after == UINT32_MAX ? ntargets : target_pos(after + 1);

	return i < ntargets ? &targets[i] : NULL;
}

static size_t lun_pos(const struct stor_target *t, int64_t key)
{
	return cm_lower_bound(t->luns, t->nluns, sizeof(*t->luns), key, lun_key);
}

const struct stor_lun *stor_lun_find(const struct stor_target *t, uint32_t lun)
{
	size_t i = lun_pos(t, lun);

	return i < t->nluns && t->luns[i].lun == lun ? &t->luns[i] : NULL;
}

const struct stor_lun *stor_lun_next(const struct stor_target *t, int64_t after)
{
	size_t i = lun_pos(t, after + 1);

	return i < t->nluns ? &t->luns[i] : NULL;
}

static size_t session_pos(const struct stor_target *t, int64_t key)
{
	return cm_lower_bound_hint(t->sessions, t->nsessions, sizeof(*t->sessions), key, session_key, &session_hint);
}

const struct stor_session *stor_session_find(const struct stor_target *t, uint32_t sid)
{
	size_t i = session_pos(t, sid);

	return i < t->nsessions && t->sessions[i].sid == sid ? &t->sessions[i] : NULL;
}

const struct stor_session *stor_session_next(const struct stor_target *t, int64_t after)
{
	size_t i = session_pos(t, after + 1);

	return i < t->nsessions ? &t->sessions[i] : NULL;
}

static size_t portal_pos(uint32_t index)
{
	return cm_lower_bound(portals, nportals, sizeof(*portals), index, portal_key);
}

static struct portal *portal_get(uint32_t index)
{
	size_t i = portal_pos(index);

	return i < nportals && portals[i]->pub.index == index ? portals[i] : NULL;
}

const struct stor_portal *stor_portal_find(uint32_t index)
{
	struct portal *p = portal_get(index);

	return p ? &p->pub : NULL;
}

const struct stor_portal *stor_portal_next(uint32_t after)
{
	size_t i = after == UINT32_MAX ? nportals : portal_pos(after + 1);

	return i < nportals ? &portals[i]->pub : NULL;
}

uint32_t stor_portal_next_index(void)
{
	uint32_t i = next_index;

	/* Wrapping is theoretical (4 billion rows); skip indexes still in use. */
	while (!i || portal_get(i))
		i++;
	return i;
}

static struct portal *portal_by_addr(const char *host, uint16_t port)
{
	for (size_t i = 0; i < nportals; i++)
		if (portals[i]->pub.port == port && strcmp(portals[i]->pub.host, host) == 0)
			return portals[i];
	return NULL;
}

static int portal_insert(struct portal *p)
{
	size_t i = portal_pos(p->pub.index);

	if (cm_insert(&portals, &nportals, &capportals, sizeof(*portals), i, &p, 16) < 0)
		return -ENOMEM;
	if (p->pub.index >= next_index)
		next_index = p->pub.index + 1;
	return 0;
}

static void portal_remove(uint32_t index)
{
	size_t i = portal_pos(index);

	if (i >= nportals || portals[i]->pub.index != index)
		return;
	free(portals[i]);
	cm_remove(portals, &nportals, sizeof(*portals), i);
}

/* Numeric host in canonical form (tgt prints "127.0.0.1" and "::1"). */
int stor_canon_host(const char *in, char *out, size_t size)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, in, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)size) ? 0 : -EINVAL;
	if (inet_pton(AF_INET6, in, a) == 1)
		return inet_ntop(AF_INET6, a, out, (socklen_t)size) ? 0 : -EINVAL;
	return -EINVAL;
}

static void portal_param(const struct stor_portal *p, char *buf, size_t size)
{
	if (strchr(p->host, ':'))
		snprintf(buf, size, "portal=[%s]:%u", p->host, (unsigned int)p->port);
	else
		snprintf(buf, size, "portal=%s:%u", p->host, (unsigned int)p->port);
}

/* ---- persistence ------------------------------------------------------------ */

static int persist_portal(const struct stor_portal *p, int add)
{
	struct cm_state *st = sa_engines_state();
	char key[48], val[STOR_HOST_MAX + STOR_IFNAME_MAX + 24];
	int rc;

	if (!st)
		return -EIO;
	snprintf(key, sizeof(key), KEY_PREFIX "%u", (unsigned int)p->index);
	if (add) {
		/* "HOST PORT [IFNAME ADDED]" */
		if (p->ifname[0])
			snprintf(val, sizeof(val), "%s %u %s %d", p->host, (unsigned int)p->port, p->ifname, p->added);
		else
			snprintf(val, sizeof(val), "%s %u", p->host, (unsigned int)p->port);
		rc = cm_state_set(st, key, val);
	} else {
		rc = cm_state_del(st, key);
	}
	if (rc == 0 || (!add && rc == -ENOENT))
		rc = cm_state_commit(st);
	if (rc < 0) {
		/* Persist first, apply second: undo the in-memory change of the state. */
		if (add)
			cm_state_del(st, key);
		else
			cm_state_set(st, key, "");
		cm_log(CM_LOG_ERR, TAG, "cannot persist portal %u: %s", (unsigned int)p->index, strerror(-rc));
	}
	return rc;
}

static void restore_one(const char *key, const char *value, void *arg)
{
	char host[STOR_HOST_MAX], canon[STOR_HOST_MAX], ifname[STOR_IFNAME_MAX] = "";
	unsigned long index = strtoul(key + strlen(KEY_PREFIX), NULL, 10);
	unsigned int port;
	int added = 0, nf;
	struct portal *p;

	(void)arg;
	nf = sscanf(value, "%63s %u %31s %d", host, &port, ifname, &added);
	if ((nf != 2 && nf != 4) || port < 1 || port > 65535 || index < 1 || index > UINT32_MAX ||
	    stor_canon_host(host, canon, sizeof(canon)) < 0 || portal_get((uint32_t)index) ||
	    portal_by_addr(canon, (uint16_t)port)) {
		cm_log(CM_LOG_WARNING, TAG, "state: ignoring bad %s", key);
		return;
	}
	if (!(p = calloc(1, sizeof(*p))))
		return;
	p->pub.index = (uint32_t)index;
	snprintf(p->pub.host, sizeof(p->pub.host), "%s", canon);
	p->pub.port = (uint16_t)port;
	p->pub.storage = STOR_ST_NONVOLATILE;
	snprintf(p->pub.ifname, sizeof(p->pub.ifname), "%s", ifname);
	p->pub.added = added;
	p->snmp = 1;
	if (portal_insert(p) < 0)
		free(p);
}

/* ---- portals: tgtadm new/delete --------------------------------------------- */

static void new_done(void *arg, int rc, const char *out, size_t len)
{
	struct portal *p = portal_get((uint32_t)(uintptr_t)arg);

	(void)out;
	(void)len;
	if (rc == -ECANCELED || !p)
		return;
	p->busy = 0;
	if (rc == 0) {
		/* tgtd answers a new portal only after it listens there (it binds before it replies), so the row is
		 * active now: a rediscover move waits for exactly this.  The next listing, asked for now rather than in
		 * interval s, still has the last word. */
		if (!p->pub.active)
			cm_log(CM_LOG_INFO, TAG, "portal %u %s:%u is active", (unsigned int)p->pub.index, p->pub.host,
			       (unsigned int)p->pub.port);
		p->pub.active = 1;
		p->confirmed = 1;
		p->warned = 0;
		round_start();
		return;
	}
	if (p->snmp == 2 && !p->confirmed) {
		/* Created by a SET in this run and refused: the row goes, as documented. */
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d refused portal %s:%u (%s): row %u removed",
		       stor_module.control, p->pub.host, (unsigned int)p->pub.port, strerror(-rc),
		       (unsigned int)p->pub.index);
		if (p->pub.storage == STOR_ST_NONVOLATILE)
			persist_portal(&p->pub, 0);
		portal_remove(p->pub.index);
		return;
	}
	if (!p->warned)
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d cannot add portal %s:%u (%s); retried every round",
		       stor_module.control, p->pub.host, (unsigned int)p->pub.port, strerror(-rc));
	p->warned = 1;
}

/* Whether one of the host's interfaces has the address (tgt can listen on it). */
static int addr_local(const char *host)
{
	struct ifaddrs *ifa, *i;
	unsigned char want[16], got[16];
	int family = strchr(host, ':') ? AF_INET6 : AF_INET, found = 0;

	if (inet_pton(family, host, want) != 1 || getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET)
			memcpy(got, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		else
			memcpy(got, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		found = memcmp(got, want, family == AF_INET ? 4 : 16) == 0;
	}
	freeifaddrs(ifa);
	return found;
}

static void tgt_new(struct portal *p);

static void addr_added(void *arg, int rc, const char *out, size_t len)
{
	struct portal *p = portal_get((uint32_t)(uintptr_t)arg);

	(void)out;
	(void)len;
	if (rc == -ECANCELED || !p)
		return;
	p->busy = 0;
	if (rc == 0) {
		p->pub.added = 1;
		if (p->pub.storage == STOR_ST_NONVOLATILE)
			persist_portal(&p->pub, 1);
		cm_log(CM_LOG_INFO, TAG, "portal %u: address %s added on %s", (unsigned int)p->pub.index, p->pub.host,
		       p->pub.ifname);
		tgt_new(p);
		return;
	}
	/* As tgt refusing the portal: a row created in this run goes; an older one is retried every round. */
	new_done(arg, rc, NULL, 0);
}

/* The address on the interface first when the host lacks it, then tgt's portal. */
static void portal_apply(struct portal *p)
{
	char prefix[STOR_HOST_MAX + 8];

	if (p->busy || !stor_module.running)
		return;
	if (!p->pub.ifname[0] || addr_local(p->pub.host)) {
		tgt_new(p);
		return;
	}
	snprintf(prefix, sizeof(prefix), "%s/%s", p->pub.host, strchr(p->pub.host, ':') ? "128" : "32");
	if (tgtc_run_prog(&stor_owner, addr_added, (void *)(uintptr_t)p->pub.index, "ip", "addr", "add", prefix, "dev",
	                  p->pub.ifname, (char *)NULL) == 0)
		p->busy = 1;
}

static void tgt_new(struct portal *p)
{
	char param[STOR_HOST_MAX + 24];
	int rc;

	portal_param(&p->pub, param, sizeof(param));
	rc = tgtc_run(stor_module.control, &stor_owner, new_done, (void *)(uintptr_t)p->pub.index, "--lld", "iscsi",
	              "--op", "new", "--mode", "portal", "--param", param, (char *)NULL);
	if (rc == 0)
		p->busy = 1;
}

static void delete_done(void *arg, int rc, const char *out, size_t len)
{
	struct tombstone *t = arg, **pp;

	(void)out;
	(void)len;
	for (pp = &tombs; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = t->next;
	if (rc < 0 && rc != -ECANCELED)
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d cannot delete portal %s:%u: %s", stor_module.control, t->host,
		       (unsigned int)t->port, strerror(-rc));
	free(t);
}

static int ifname_ok(const char *s)
{
	size_t n = strlen(s);

	return n < STOR_IFNAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n;
}

int stor_portal_validate(uint32_t index, const char *host, uint16_t port, int storage, const char *ifname)
{
	char canon[STOR_HOST_MAX];

	if (!stor_module.running)
		return -ENODEV;
	if (!index || !port || (storage != STOR_ST_VOLATILE && storage != STOR_ST_NONVOLATILE) ||
	    stor_canon_host(host, canon, sizeof(canon)) < 0 || !ifname_ok(ifname ? ifname : ""))
		return -EINVAL;
	if (portal_get(index) || portal_by_addr(canon, port))
		return -EEXIST;
	return 0;
}

int stor_portal_create(uint32_t index, const char *host, uint16_t port, int storage, const char *ifname)
{
	struct portal *p;
	int rc = stor_portal_validate(index, host, port, storage, ifname);

	if (rc < 0)
		return rc;
	if (!(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	p->pub.index = index;
	stor_canon_host(host, p->pub.host, sizeof(p->pub.host));
	p->pub.port = port;
	p->pub.storage = storage;
	snprintf(p->pub.ifname, sizeof(p->pub.ifname), "%s", ifname ? ifname : "");
	p->snmp = 2; /* created in this run: removed if tgt refuses it */
	if (storage == STOR_ST_NONVOLATILE && (rc = persist_portal(&p->pub, 1)) < 0) {
		free(p);
		return rc;
	}
	if ((rc = portal_insert(p)) < 0) {
		if (storage == STOR_ST_NONVOLATILE)
			persist_portal(&p->pub, 0);
		free(p);
		return rc;
	}
	cm_log(CM_LOG_INFO, TAG, "portal %u %s:%u created by SET", (unsigned int)index, p->pub.host,
	       (unsigned int)port);
	portal_apply(p);
	return 0;
}

static void addr_deleted(void *arg, int rc, const char *out, size_t len)
{
	(void)arg;
	(void)out;
	(void)len;
	if (rc < 0 && rc != -ECANCELED)
		cm_log(CM_LOG_WARNING, TAG, "ip addr del of a moved portal's address: %s", strerror(-rc));
}

int stor_portal_destroy(uint32_t index)
{
	struct portal *p = portal_get(index);
	struct tombstone *t;
	char param[STOR_HOST_MAX + 24];
	int rc;

	if (!p)
		return -ENOENT;
	if (p->pub.storage == STOR_ST_NONVOLATILE && (rc = persist_portal(&p->pub, 0)) < 0)
		return rc;
	if (stor_module.running && (t = calloc(1, sizeof(*t)))) {
		snprintf(t->host, sizeof(t->host), "%s", p->pub.host);
		t->port = p->pub.port;
		portal_param(&p->pub, param, sizeof(param));
		if (tgtc_run(stor_module.control, &stor_owner, delete_done, t, "--lld", "iscsi", "--op", "delete",
		             "--mode", "portal", "--param", param, (char *)NULL) == 0) {
			t->next = tombs;
			tombs = t;
		} else {
			free(t);
		}
	}
	if (stor_module.running && p->pub.added && p->pub.ifname[0]) {
		char prefix[STOR_HOST_MAX + 8];

		/* The address may go while tgt still holds its socket: the two need no order. */
		snprintf(prefix, sizeof(prefix), "%s/%s", p->pub.host, strchr(p->pub.host, ':') ? "128" : "32");
		tgtc_run_prog(&stor_owner, addr_deleted, NULL, "ip", "addr", "del", prefix, "dev", p->pub.ifname,
		              (char *)NULL);
	}
	cm_log(CM_LOG_INFO, TAG, "portal %u %s:%u destroyed", (unsigned int)index, p->pub.host,
	       (unsigned int)p->pub.port);
	portal_remove(index);
	return 0;
}

static int tombstoned(const char *host, uint16_t port)
{
	for (struct tombstone *t = tombs; t; t = t->next)
		if (t->port == port && strcmp(t->host, host) == 0)
			return 1;
	return 0;
}

/* Add-or-update from tgt's list, then sweep: tgt's own rows that it no
 * longer lists go; rows created here are re-applied (tgt keeps no config). */
static void ingest_portals(const struct tgtc_portal *v, size_t n)
{
	for (size_t i = 0; i < nportals; i++)
		portals[i]->seen = 0;
	for (size_t i = 0; i < n; i++) {
		char canon[STOR_HOST_MAX];
		struct portal *p;

		if (stor_canon_host(v[i].host, canon, sizeof(canon)) < 0 || tombstoned(canon, v[i].port))
			continue;
		if (!(p = portal_by_addr(canon, v[i].port))) {
			if (!(p = calloc(1, sizeof(*p))))
				continue;
			p->pub.index = stor_portal_next_index();
			snprintf(p->pub.host, sizeof(p->pub.host), "%s", canon);
			p->pub.port = v[i].port;
			p->pub.storage = STOR_ST_OTHER;
			if (portal_insert(p) < 0) {
				free(p);
				continue;
			}
		}
		if (p->snmp && !p->pub.active)
			cm_log(CM_LOG_INFO, TAG, "portal %u %s:%u is active", (unsigned int)p->pub.index, p->pub.host,
			       (unsigned int)p->pub.port);
		p->seen = 1;
		p->pub.active = 1;
		p->pub.tpgt = v[i].tpgt;
		p->confirmed = 1;
		p->warned = 0;
	}
	for (size_t i = 0; i < nportals;) {
		struct portal *p = portals[i];

		if (p->seen) {
			i++;
			continue;
		}
		if (!p->snmp) {
			portal_remove(p->pub.index);
			continue;
		}
		if (p->pub.active)
			cm_log(CM_LOG_WARNING, TAG, "portal %u %s:%u vanished from tgt: adding it again",
			       (unsigned int)p->pub.index, p->pub.host, (unsigned int)p->pub.port);
		p->pub.active = 0;
		p->pub.tpgt = 0;
		if (!p->busy && !(p->snmp == 2 && !p->confirmed))
			portal_apply(p);
		i++;
	}
}

/* ---- targets, LUNs, sessions ------------------------------------------------ */

static void target_clear(struct stor_target *t)
{
	for (size_t k = 0; k < t->nsessions; k++)
		free(t->sessions[k].cids);
	free(t->sessions);
	free(t->luns);
}

static void targets_free(struct stor_target *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		target_clear(&v[i]);
	free(v);
}

static int cmp_target(const void *a, const void *b)
{
	uint32_t x = ((const struct stor_target *)a)->tid, y = ((const struct stor_target *)b)->tid;

	return x < y ? -1 : x > y;
}

static int cmp_lun(const void *a, const void *b)
{
	uint32_t x = ((const struct stor_lun *)a)->lun, y = ((const struct stor_lun *)b)->lun;

	return x < y ? -1 : x > y;
}

static int cmp_session(const void *a, const void *b)
{
	uint32_t x = ((const struct stor_session *)a)->sid, y = ((const struct stor_session *)b)->sid;

	return x < y ? -1 : x > y;
}

static void ctr_add(struct stor_counters *a, const struct stor_counters *b)
{
	a->rd_bytes += b->rd_bytes;
	a->wr_bytes += b->wr_bytes;
	a->rd_cmds += b->rd_cmds;
	a->wr_cmds += b->wr_cmds;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* tgt prints sizes in units of 10^6 bytes, rounded to the nearest (a
 * 32 MiB LU shows "34 MB"); rounding the MiB to the nearest again gives
 * back the exact size of every LU that is a whole number of MiB. */
static uint32_t mb_to_mib(uint64_t mb)
{
	uint64_t mib;

	if (mb > UINT64_MAX / 1000000u)
		return UINT32_MAX;
	mib = (mb * 1000000u + (1u << 19)) >> 20;
	return mib > UINT32_MAX ? UINT32_MAX : (uint32_t)mib;
}

static int build_target(struct stor_target *t, const struct tgtc_target_info *in)
{
	memset(t, 0, sizeof(*t));
	t->tid = in->tid;
	snprintf(t->name, sizeof(t->name), "%s", in->name);
	if (in->nluns && !(t->luns = calloc(in->nluns, sizeof(*t->luns))))
		return -ENOMEM;
	for (size_t i = 0; i < in->nluns; i++) {
		struct stor_lun *l = &t->luns[t->nluns];

		if (in->luns[i].lun > 16383)
			continue;
		l->lun = in->luns[i].lun;
		snprintf(l->type, sizeof(l->type), "%s", in->luns[i].type);
		snprintf(l->backing, sizeof(l->backing), "%s", in->luns[i].backing);
		snprintf(l->serial, sizeof(l->serial), "%s", in->luns[i].serial);
		snprintf(l->scsi_id, sizeof(l->scsi_id), "%s", in->luns[i].scsi_id);
		l->size_mib = mb_to_mib(in->luns[i].size_mb);
		t->nluns++;
	}
	if (t->nluns)
		qsort(t->luns, t->nluns, sizeof(*t->luns), cmp_lun);
	if (in->nnexus && !(t->sessions = calloc(in->nnexus, sizeof(*t->sessions))))
		return -ENOMEM;
	for (size_t i = 0; i < in->nnexus; i++) {
		const struct tgtc_nexus *nx = &in->nexus[i];
		struct stor_session *s = &t->sessions[t->nsessions];

		if (nx->sid > UINT32_MAX || stor_session_find(t, (uint32_t)nx->sid))
			continue;
		s->tid = t->tid;
		s->sid = (uint32_t)nx->sid;
		snprintf(s->initiator, sizeof(s->initiator), "%s", nx->initiator);
		if (nx->nconns && stor_canon_host(nx->conns[0].addr, s->addr, sizeof(s->addr)) < 0)
			s->addr[0] = '\0';
		if (nx->nconns && !(s->cids = calloc(nx->nconns, sizeof(*s->cids))))
			return -ENOMEM;
		for (size_t k = 0; k < nx->nconns; k++)
			s->cids[k] = nx->conns[k].cid;
		s->nconns = nx->nconns;
		t->nsessions++;
		/* Kept sorted as it grows so the duplicate check above is a search. */
		qsort(t->sessions, t->nsessions, sizeof(*t->sessions), cmp_session);
	}
	return 0;
}

int stor_ingest_targets(const struct tgtc_show *show, const struct tgtc_counter *ctr, size_t nctr)
{
	struct stor_target *nt = NULL;
	size_t n = 0, nf = 0;
	/* Per new session: the stat sums, and whether stat listed it at all. */
	struct stor_counters **fresh = NULL;
	unsigned char **have = NULL;
	int rc = -ENOMEM;

	if (show->ntargets && !(nt = calloc(show->ntargets, sizeof(*nt))))
		return -ENOMEM;
	for (size_t i = 0; i < show->ntargets; i++) {
		if (build_target(&nt[n], &show->targets[i]) < 0) {
			n++;
			goto out;
		}
		n++;
	}
	if (n) /* an empty tgtd: no array (qsort must not get NULL) */
		qsort(nt, n, sizeof(*nt), cmp_target);
	/* Duplicate tids cannot come from tgt; keep the first of each anyway. */
	for (size_t i = 1; i < n;) {
		if (nt[i].tid == nt[i - 1].tid) {
			target_clear(&nt[i]);
			cm_remove(nt, &n, sizeof(*nt), i);
			continue;
		}
		i++;
	}
	nf = n;
	if (n && (!(fresh = calloc(n, sizeof(*fresh))) || !(have = calloc(n, sizeof(*have)))))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (nt[i].nsessions &&
		    (!(fresh[i] = calloc(nt[i].nsessions, sizeof(**fresh))) || !(have[i] = calloc(nt[i].nsessions, 1))))
			goto out;
	}
	for (size_t i = 0; i < nctr; i++) {
		size_t lo = cm_lower_bound(nt, n, sizeof(*nt), ctr[i].tid, target_key), si;

		if (lo >= n || nt[lo].tid != ctr[i].tid)
			continue;
		si = session_pos(&nt[lo], ctr[i].sid);
		if (si >= nt[lo].nsessions || nt[lo].sessions[si].sid != ctr[i].sid)
			continue;
		fresh[lo][si].rd_bytes += ctr[i].rd_bytes;
		fresh[lo][si].wr_bytes += ctr[i].wr_bytes;
		fresh[lo][si].rd_cmds += ctr[i].rd_cmds;
		fresh[lo][si].wr_cmds += ctr[i].wr_cmds;
		have[lo][si] = 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct stor_target *t = &nt[i];
		const struct stor_target *old = stor_target_find(t->tid);

		/* Same tid, other name: a new target, counting from zero. */
		if (old && strcmp(old->name, t->name) != 0)
			old = NULL;
		if (old) {
			t->base = old->base;
			t->logins = old->logins;
			t->logouts = old->logouts;
		}
		for (size_t k = 0; k < t->nsessions; k++) {
			struct stor_session *s = &t->sessions[k];
			const struct stor_session *os = old ? stor_session_find(old, s->sid) : NULL;

			if (os && strcmp(os->initiator, s->initiator) != 0) {
				/* tgt reused the id for another session: the old one ended. */
				ctr_add(&t->base, &os->ctr);
				t->logouts++;
				os = NULL;
			}
			if (!os)
				t->logins++;
			if (have[i][k])
				s->ctr = fresh[i][k];
			if (os) {
				/* The feedback side's view of the session goes on with it. */
				s->win = os->win;
				s->rates = os->rates;
				memcpy(s->portal, os->portal, sizeof(s->portal));
				s->portal_port = os->portal_port;
				/* tgt's per-session counters only grow; a stat that missed
				 * the session (it runs after the show) must not lower them. */
				s->ctr.rd_bytes = max64(s->ctr.rd_bytes, os->ctr.rd_bytes);
				s->ctr.wr_bytes = max64(s->ctr.wr_bytes, os->ctr.wr_bytes);
				s->ctr.rd_cmds = max64(s->ctr.rd_cmds, os->ctr.rd_cmds);
				s->ctr.wr_cmds = max64(s->ctr.wr_cmds, os->ctr.wr_cmds);
			}
		}
		/* Ended sessions leave what they counted in the target's base. */
		for (size_t k = 0; old && k < old->nsessions; k++) {
			const struct stor_session *os = &old->sessions[k];

			/* (A reused id was counted in the loop above.) */
			if (!stor_session_find(t, os->sid)) {
				ctr_add(&t->base, &os->ctr);
				t->logouts++;
			}
		}
		t->ctr = t->base;
		for (size_t k = 0; k < t->nsessions; k++)
			ctr_add(&t->ctr, &t->sessions[k].ctr);
		/* A LUN with the same backing store, serial and SCSI ID is the same LU: its identity stays
		 * (identify.c). */
		for (size_t k = 0; old && k < t->nluns; k++) {
			struct stor_lun *l = &t->luns[k];
			const struct stor_lun *ol = stor_lun_find(old, l->lun);

			if (!ol || strcmp(ol->backing, l->backing) != 0 || strcmp(ol->serial, l->serial) != 0 ||
			    strcmp(ol->scsi_id, l->scsi_id) != 0)
				continue;
			l->probed = ol->probed;
			memcpy(l->designator, ol->designator, sizeof(l->designator));
			l->designator_len = ol->designator_len;
			memcpy(l->vendor, ol->vendor, sizeof(l->vendor));
			memcpy(l->model, ol->model, sizeof(l->model));
			l->capacity = ol->capacity;
			l->retry_ms = ol->retry_ms;
		}
	}
	targets_free(targets, ntargets);
	targets = nt;
	ntargets = n;
	nt = NULL;
	n = 0;
	rc = 0;
out:
	for (size_t i = 0; fresh && i < nf; i++)
		free(fresh[i]);
	for (size_t i = 0; have && i < nf; i++)
		free(have[i]);
	free(fresh);
	free(have);
	if (nt)
		targets_free(nt, n);
	return rc;
}

struct stor_target *stor_targets_mut(size_t *n)
{
	*n = ntargets;
	return targets;
}

void stor_reset(void)
{
	targets_free(targets, ntargets);
	targets = NULL;
	ntargets = 0;
	while (nportals)
		portal_remove(portals[nportals - 1]->pub.index);
	while (tombs) {
		struct tombstone *t = tombs;

		tombs = t->next;
		free(t);
	}
}

/* ---- sessions: ending ---------------------------------------------------------- */

static void conn_deleted(void *arg, int rc, const char *out, size_t len)
{
	(void)arg;
	(void)out;
	(void)len;
	if (rc < 0 && rc != -ECANCELED)
		cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d delete conn: %s", stor_module.control, strerror(-rc));
	else if (rc == 0)
		round_start(); /* show the session gone without waiting a whole interval */
}

int stor_session_validate_end(uint32_t tid, uint32_t sid)
{
	const struct stor_target *t;

	if (!stor_module.running)
		return -ENODEV;
	if (!(t = stor_target_find(tid)) || !stor_session_find(t, sid))
		return -ENOENT;
	return 0;
}

int stor_session_end(uint32_t tid, uint32_t sid)
{
	const struct stor_target *t;
	const struct stor_session *s;
	int rc = stor_session_validate_end(tid, sid);

	if (rc < 0)
		return rc;
	t = stor_target_find(tid);
	s = stor_session_find(t, sid);
	for (size_t i = 0; i < s->nconns; i++) {
		char ts[16], ss[16], cs[16];

		snprintf(ts, sizeof(ts), "%u", (unsigned int)tid);
		snprintf(ss, sizeof(ss), "%u", (unsigned int)sid);
		snprintf(cs, sizeof(cs), "%u", (unsigned int)s->cids[i]);
		if ((rc = tgtc_run(stor_module.control, &stor_owner, conn_deleted, NULL, "--lld", "iscsi", "--op",
		                   "delete", "--mode", "conn", "--tid", ts, "--sid", ss, "--cid", cs, (char *)NULL)) <
		    0)
			return rc;
	}
	cm_log(CM_LOG_INFO, TAG, "ending session %u of %s (%s, %zu connection%s)", (unsigned int)sid, t->name,
	       s->initiator, s->nconns, s->nconns == 1 ? "" : "s");
	return 0;
}

/* ---- rounds: show portal, show target, stat sys ------------------------------- */

static void round_end(int ok, const char *step, int rc)
{
	stor_module.busy = 0;
	tgtc_show_free(&stor_module.show);
	if (ok) {
		if (stor_module.fails)
			cm_log(CM_LOG_NOTICE, TAG, "tgtd -C %d answers again", stor_module.control);
		stor_module.fails = 0;
	} else {
		if (!stor_module.fails)
			cm_log(CM_LOG_WARNING, TAG, "tgtadm -C %d %s failed: %s", stor_module.control, step,
			       strerror(-rc));
		/* A tgtd that stays silent has no targets and no sessions any more. */
		if (++stor_module.fails == FAILS_BEFORE_CLEAR) {
			struct tgtc_show empty = {NULL, 0};

			stor_ingest_targets(&empty, NULL, 0);
		}
	}
	if (stor_module.again && stor_module.running) {
		stor_module.again = 0;
		round_start();
	}
}

static char (*round_accounts)[TGTC_NAME_MAX];
static size_t round_naccounts;

/* ---- a round's steps: what each tgtadm answer does to the model (rc: the command's own; 0 or -errno) ---- */

static int take_portals(int rc, const char *out, size_t len)
{
	struct tgtc_portal *v = NULL;
	size_t n = 0;

	if (rc == 0)
		rc = tgtc_parse_portals(out, len, &v, &n);
	if (rc == 0)
		ingest_portals(v, n);
	free(v);
	return rc;
}

static int take_targets(int rc, const char *out, size_t len)
{
	tgtc_show_free(&stor_module.show);
	if (rc == 0)
		rc = tgtc_parse_show_full(out, len, &stor_module.show);
	return rc;
}

static int take_stat(int rc, const char *out, size_t len)
{
	struct tgtc_counter *c = NULL;
	size_t n = 0;

	if (rc == 0)
		rc = tgtc_parse_stat(out, len, &c, &n);
	if (rc == 0)
		rc = stor_ingest_targets(&stor_module.show, c, n);
	if (rc == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		stor_fb_round((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u, NULL);
		stor_identify_round((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
	}
	free(c);
	return rc;
}

static int take_accounts(int rc, const char *out, size_t len)
{
	free(round_accounts);
	round_accounts = NULL;
	round_naccounts = 0;
	if (rc == 0)
		rc = tgtc_parse_accounts(out, len, &round_accounts, &round_naccounts);
	return rc;
}

static int take_sys(int rc, const char *out, size_t len)
{
	struct tgtc_isns isns;

	if (rc == 0)
		rc = tgtc_parse_isns(out, len, &isns);
	if (rc == 0) {
		stor_conf_round(&stor_module.show, round_accounts, round_naccounts, &isns);
		round_accounts = NULL;
		round_naccounts = 0;
	}
	return rc;
}

/* A round runs these commands in this order, each one once the answer before it was taken; the first step that
 * fails ends the round, as does the last one's answer. */
static const struct round_step {
	const char *lld, *op, *mode; /* lld NULL: a command of tgtd itself */
	int (*take)(int rc, const char *out, size_t len);
} round_steps[] = {
    {"iscsi", "show", "portal", take_portals},   /* the portals tgt listens on */
    {"iscsi", "show", "target", take_targets},   /* targets, LUNs, sessions */
    {"iscsi", "stat", "sys", take_stat},         /* their counters: the feedback round */
    {"iscsi", "show", "account", take_accounts}, /* the accounts and (next) iSNS settings: what */
    {NULL, "show", "sys", take_sys},             /* the agent keeps configured on tgt */
};
#define ROUND_NSTEPS (sizeof(round_steps) / sizeof(round_steps[0]))

static void step_done(void *arg, int rc, const char *out, size_t len);

static int step_run(const struct round_step *s)
{
	if (s->lld)
		return tgtc_run(stor_module.control, &stor_owner, step_done, (void *)s, "--lld", s->lld, "--op", s->op,
		                "--mode", s->mode, (char *)NULL);
	return tgtc_run(stor_module.control, &stor_owner, step_done, (void *)s, "--op", s->op, "--mode", s->mode,
	                (char *)NULL);
}

static void step_done(void *arg, int rc, const char *out, size_t len)
{
	const struct round_step *s = arg;
	int last = s == &round_steps[ROUND_NSTEPS - 1];

	if (rc == -ECANCELED)
		return;
	rc = s->take(rc, out, len);
	if (rc == 0 && !last)
		rc = step_run(s + 1);
	if (rc < 0 || last) {
		char what[64];

		snprintf(what, sizeof(what), "--op %s --mode %s", s->op, s->mode);
		round_end(rc == 0, what, rc);
	}
}

static void round_start(void)
{
	if (!stor_module.running)
		return;
	if (stor_module.busy) {
		stor_module.again = 1;
		return;
	}
	stor_module.busy = 1;
	if (step_run(&round_steps[0]) < 0)
		stor_module.busy = 0;
}

void stor_round_kick(void)
{
	round_start();
}

static void on_timer(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	round_start();
}

/* ---- start / stop ------------------------------------------------------------- */

int stor_running(void)
{
	return stor_module.running;
}

static int stor_start(const struct sa_storage_config *cfg)
{
	struct cm_state *st = sa_engines_state();

	stor_module.control = cfg->tgt_control;
	stor_module.interval = cfg->interval > 0 ? cfg->interval : 10;
	stor_module.fails = 0;
	stor_fb_reset();
	stor_fb_configure(cfg);
	stor_identify_configure(cfg);
	if (st)
		cm_state_foreach(st, KEY_PREFIX, restore_one, NULL);
	stor_conf_start(cfg, stor_module.control, &stor_owner);
	stor_module.timer = cm_ev_timer((unsigned int)stor_module.interval * 1000u, 1, on_timer, NULL);
	if (!stor_module.timer) {
		stor_conf_stop();
		stor_reset();
		return -ENOMEM;
	}
	stor_module.running = 1;
	cm_log(CM_LOG_INFO, TAG, "started: tgtd control port %d, every %d s", stor_module.control,
	       stor_module.interval);
	round_start();
	bus_publish(BUS_STORAGE, &(struct stor_event){.running = 1});
	return 0;
}

void stor_stop(void)
{
	if (!stor_module.running)
		return;
	stor_module.running = 0;
	cm_ev_cancel(stor_module.timer);
	stor_module.timer = 0;
	tgtc_cancel(&stor_owner);
	stor_identify_stop();
	stor_module.busy = stor_module.again = 0;
	tgtc_show_free(&stor_module.show);
	free(round_accounts);
	round_accounts = NULL;
	round_naccounts = 0;
	stor_conf_stop();
	stor_reset();
	stor_fb_reset();
	cm_log(CM_LOG_INFO, TAG, "stopped");
	bus_publish(BUS_STORAGE, &(struct stor_event){.running = 0});
}

int stor_apply(const struct sa_storage_config *cfg)
{
	if (!cfg || !cfg->enabled) {
		stor_stop();
		return 0;
	}
	if (stor_module.running && stor_module.control == cfg->tgt_control) {
		int interval = cfg->interval > 0 ? cfg->interval : 10;

		if (interval != stor_module.interval) {
			unsigned int t = cm_ev_timer((unsigned int)interval * 1000u, 1, on_timer, NULL);

			if (!t)
				return -ENOMEM;
			cm_ev_cancel(stor_module.timer);
			stor_module.timer = t;
			stor_module.interval = interval;
		}
		stor_fb_configure(cfg);
		stor_identify_configure(cfg);
		stor_conf_configure(cfg);
		return 0;
	}
	stor_stop();
	return stor_start(cfg);
}
