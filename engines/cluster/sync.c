/* sync.c: the CRT between hosts in embedded mode (seed Fig. 5 blocks 505-515 and 530).  At start every host peer is
 * asked for its version in parallel and the newest table is pulled (GETBULK walks of the peer's scalars, CRT and
 * owner table, taken only when the peer's version did not move during the walk) and adopted; a peer holding an
 * older one is told ours.  After each local change an inform sanCluCrtChanged carries the new version to every
 * peer; a peer pulls only a strictly newer table.  Everything runs on the agent loop through the injected client. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/trap.h"
#include "engines/cluster/clu_sync.h"

#define TAG "cluster"
#define PULL_TRIES 3
/* Short tries: the boot round waits for the slowest host peer it asks, and a peer down must not hold the
 * adoption of the newest table back by more than a second. */
#define PEER_TIMEOUT_MS 400
#define PEER_RETRIES 1
#define DEFAULT_NOTIFY_PORT 162

static const uint32_t mib[] = {CLU_OID_MIB};
static const uint32_t crt_changed_oid[] = {CLU_OID_NOTIFICATIONS, CLU_N_CRT_CHANGED};
/* The subtrees of sanCluObjects a pull walks. */
enum { SUB_SCALARS = 1, SUB_RES = 3, SUB_OWNERS = 4 };

const struct clu_net_ops *clu_snmp_ops(void)
{
	return clu_net;
}

/* Where each member's agent receives sanCluCrtChanged, from the config (matched by GUID). */
struct notify_addr {
	uint8_t guid[8];
	char addr[CLU_ADDR_MAX];
};

struct pull;
static struct {
	int running, host;
	unsigned int gen;         /* requests of an earlier start are orphans: their callbacks only free them */
	char *user, *auth, *priv; /* auth, priv: secrets, wiped when freed, never logged */
	char **sync_users;
	size_t nsync_users;
	struct notify_addr *notify;
	size_t nnotify;
	int interval_s;
	unsigned int timer, boot_timer;
	int trap_sub;
	unsigned int boot_pending; /* version queries of the boot round not answered yet */
	int booting;
	struct pull *pull; /* at most one pull at a time */
	int want;          /* a newer table is known at want_member: pull it after the current one */
	uint32_t want_member;
	struct clu_version want_version;
	uint32_t *asking; /* members whose version query is in flight (no second one meanwhile) */
	size_t nasking, asking_cap;
	struct clu_sync_counters ctr;
} S;

static int has_peer_user(void)
{
	return S.user && S.auth && S.priv;
}

static void secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int hex_guid(const char *s, uint8_t out[8])
{
	for (int i = 0; i < 8; i++) {
		unsigned int v;

		if (!s || sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void fmt_version(const struct clu_version *v, char *buf, size_t len)
{
	snprintf(buf, len, "%u/%02x%02x%02x%02x%02x%02x%02x%02x", v->counter, v->writer[0], v->writer[1], v->writer[2],
	         v->writer[3], v->writer[4], v->writer[5], v->writer[6], v->writer[7]);
}

/* "udp:ADDR:PORT", "ADDR:PORT", "udp6:[ADDR]:PORT" -> ADDR (no brackets). */
static void addr_host(const char *spec, char *out, size_t len)
{
	const char *s = spec, *c, *e;

	if ((c = strchr(s, ':')) && c - s <= 4 && strncmp(s, "udp", 3) == 0)
		s = c + 1;
	if (*s == '[') {
		s++;
		e = strchr(s, ']');
	} else {
		e = strrchr(s, ':');
		/* more than one colon without brackets: a bare IPv6 address, no port */
		if (e && strchr(s, ':') != e)
			e = NULL;
	}
	if (!e)
		e = s + strlen(s);
	snprintf(out, len, "%.*s", (int)(e - s), s);
}

static void notify_addr_of(const struct clu_member *m, char *out, size_t len)
{
	char host[CLU_ADDR_MAX];

	for (size_t i = 0; i < S.nnotify; i++)
		if (memcmp(S.notify[i].guid, m->guid, 8) == 0 && S.notify[i].addr[0]) {
			snprintf(out, len, "%s", S.notify[i].addr);
			return;
		}
	addr_host(m->address, host, sizeof(host));
	snprintf(out, len, strchr(host, ':') ? "udp6:[%s]:%d" : "udp:%s:%d", host, DEFAULT_NOTIFY_PORT);
}

static void peer_of(const struct clu_member *m, const char *addr, struct cm_snmpc_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->peer = addr ? addr : m->address;
	p->user = S.user;
	p->auth_pass = S.auth;
	p->priv_pass = S.priv;
	p->timeout_ms = PEER_TIMEOUT_MS;
	p->retries = PEER_RETRIES;
}

/* ---- reading a peer's cluster MIB ---------------------------------------------------------------------- */

/* The varbind's OID under the cluster MIB: its part after the MIB's prefix (NULL when outside). */
static const uint32_t *under_mib(const uint32_t *oid, size_t len, size_t *rest)
{
	if (len <= CLU_OID_MIB_LEN || memcmp(oid, mib, sizeof(mib)) != 0)
		return NULL;
	*rest = len - CLU_OID_MIB_LEN;
	return oid + CLU_OID_MIB_LEN;
}

/* A scalar of .1.1 into a version/granularity. */
static void take_scalar(const struct cm_snmpc_vb *vb, struct clu_version *v, long *gran, int *have)
{
	size_t n;
	const uint32_t *o = under_mib(vb->oid, vb->oidlen, &n);

	if (!o || n != 4 || o[0] != 1 || o[1] != SUB_SCALARS || o[3] != 0)
		return;
	switch (o[2]) {
	case CLU_S_VERSION:
		if (vb->type == CM_SNMPC_UNSIGNED && vb->u <= UINT32_MAX) {
			v->counter = (uint32_t)vb->u;
			*have |= 1;
		}
		break;
	case CLU_S_VERSION_WRITER:
		if (vb->type == CM_SNMPC_STRING && vb->len == 8) {
			memcpy(v->writer, vb->str, 8);
			*have |= 2;
		}
		break;
	case CLU_S_GRANULARITY:
		if (gran && vb->type == CM_SNMPC_INTEGER)
			*gran = (long)vb->i;
		break;
	}
}

/* ---- version query (boot round and periodic re-check) ----------------------------------------------- */
struct vq {
	unsigned int gen;
	uint32_t member;
	int boot;
	struct clu_version v;
	int have;
};

static void pull_start(uint32_t member, const struct clu_version *v);
static void push_to(const struct clu_member *m, const struct clu_version *v);

static void asking_drop(uint32_t member)
{
	for (size_t i = 0; i < S.nasking; i++)
		if (S.asking[i] == member) {
			S.asking[i] = S.asking[--S.nasking];
			return;
		}
}

static int asking_has(uint32_t member)
{
	for (size_t i = 0; i < S.nasking; i++)
		if (S.asking[i] == member)
			return 1;
	return 0;
}

static void boot_step_done(void)
{
	struct clu_version v;
	char vs[48];
	uint32_t idx = 0;

	if (!S.booting || S.boot_pending || S.pull || S.want)
		return;
	S.booting = 0;
	clu_version_get(&v);
	fmt_version(&v, vs, sizeof(vs));
	cm_log(CM_LOG_NOTICE, TAG, "boot sync done: CRT version %s, %zu rows", vs, clu_res_count());
	/* The seed's newer host pushes: every host peer that answered with an older table is told ours. */
	while (S.host && clu_peer_next(idx, &idx) == 0) {
		const struct clu_peer *p = clu_peer_get(idx);
		const struct clu_member *m = clu_member_get(idx);

		if (p && m && m->type == CLU_HOST && p->state == CLU_PEER_REACHABLE &&
		    clu_version_cmp(&p->version, &v) < 0)
			push_to(m, &v);
	}
}

/* What a peer's version means for us: pull a newer one, tell an older one ours.  Same counter with another
 * writer is the seed's concurrent change: the newer by the model's order wins on both sides (the loser pulls and
 * clu_adopt reports the conflict), so the one holding the winner tells the other. */
static void consider(uint32_t member, const struct clu_version *theirs)
{
	struct clu_version ours;
	const struct clu_member *m = clu_member_get(member);
	int cmp;

	clu_version_get(&ours);
	cmp = clu_version_cmp(theirs, &ours);
	if (cmp > 0) {
		if (theirs->counter == ours.counter) {
			char a[48], b[48];

			fmt_version(&ours, a, sizeof(a));
			fmt_version(theirs, b, sizeof(b));
			cm_log(CM_LOG_NOTICE, TAG, "concurrent change: ours %s, %s has %s: the rule takes theirs", a,
			       m ? m->address : "?", b);
		}
		pull_start(member, theirs);
	} else if (cmp < 0 && m && S.host && !S.booting) {
		/* (during the boot round the older ones are told once it ended, with the newest by then) */
		push_to(m, &ours);
	}
}

static int vq_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct vq *q = arg;

	if (q->gen != S.gen)
		return 1;
	take_scalar(vb, &q->v, NULL, &q->have);
	return 0;
}

static void vq_done(int rc, const char *why, void *arg)
{
	struct vq *q = arg;

	if (q->gen != S.gen) {
		free(q);
		return;
	}
	asking_drop(q->member);
	if (rc < 0) {
		clu_peer_contact_failed(q->member, why && why[0] ? why : strerror(-rc));
	} else if (q->have != 3) {
		/* it answers, but holds no cluster table (engine down, or not a cluster agent) */
		clu_peer_contact_ok(q->member, NULL);
	} else {
		clu_peer_contact_ok(q->member, &q->v);
		consider(q->member, &q->v);
	}
	if (q->boot && S.boot_pending)
		S.boot_pending--;
	free(q);
	boot_step_done();
}

static const uint32_t scalars_root[] = {CLU_OID_MIB, 1, SUB_SCALARS};
#define SCALARS_LEN (CLU_OID_MIB_LEN + 2)

static int ask_version(const struct clu_member *m, int boot)
{
	struct cm_snmpc_peer p;
	struct vq *q;
	int rc;

	if (asking_has(m->index))
		return -EBUSY;
	/* members added over SNMP since the start */
	if (cm_grow(&S.asking, &S.asking_cap, S.nasking, sizeof(*S.asking), 16) < 0)
		return -ENOMEM;
	if (!(q = calloc(1, sizeof(*q))))
		return -ENOMEM;
	q->gen = S.gen;
	q->member = m->index;
	q->boot = boot;
	peer_of(m, NULL, &p);
	if ((rc = clu_net->walk(&p, scalars_root, SCALARS_LEN, vq_vb, vq_done, q)) < 0) {
		free(q);
		clu_peer_contact_failed(m->index, strerror(-rc));
		return rc;
	}
	S.asking[S.nasking++] = m->index;
	return 0;
}

/* Every host peer (the writers of the table); a unit holds only what hosts gave it. */
static void ask_all(int boot)
{
	uint32_t idx = 0;

	while (clu_member_next(idx, &idx) == 0) {
		const struct clu_member *m = clu_member_get(idx);

		if (!m || m->type != CLU_HOST || clu_member_is_self(m))
			continue;
		if (ask_version(m, boot) == 0 && boot)
			S.boot_pending++;
	}
}

static void boot_round(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	S.boot_timer = 0;
	if (!S.running)
		return;
	ask_all(1);
	boot_step_done();
}

static void on_interval(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	if (S.running && clu_net)
		ask_all(0);
}

/* ---- pull --------------------------------------------------------------------------------------------- */
struct pull {
	unsigned int gen;
	uint32_t member;
	int step;  /* 0: sanCluObjects from the scalars through the owner table; 1: the scalars again */
	int stale; /* step 0 found the peer's version no newer than ours: the walk stopped there */
	int tries;
	struct clu_version first, last;
	int have_first, have_last;
	long granularity;
	struct clu_res *rows;
	size_t nrows, cap, cursor;
	int bad; /* out of memory or a malformed row: not adopted */
};

static void pull_free(struct pull *p)
{
	free(p->rows);
	free(p);
}

/* The row with that index, created in order: a walk brings each column's rows in ascending index order. */
static struct clu_res *pull_row(struct pull *p, uint32_t index, int create)
{
	if (p->cursor < p->nrows && p->rows[p->cursor].index > index)
		p->cursor = 0;
	while (p->cursor < p->nrows && p->rows[p->cursor].index < index)
		p->cursor++;
	if (p->cursor < p->nrows && p->rows[p->cursor].index == index)
		return &p->rows[p->cursor];
	if (!create)
		return NULL;
	if (cm_grow(&p->rows, &p->cap, p->nrows, sizeof(*p->rows), 64) < 0)
		return NULL;
	memmove(&p->rows[p->cursor + 1], &p->rows[p->cursor], (p->nrows - p->cursor) * sizeof(*p->rows));
	memset(&p->rows[p->cursor], 0, sizeof(*p->rows));
	p->rows[p->cursor].index = index;
	p->rows[p->cursor].valid = 1;
	p->rows[p->cursor].paths = 1;
	p->nrows++;
	return &p->rows[p->cursor];
}

static void copy_str(char *dst, size_t size, const struct cm_snmpc_vb *vb)
{
	size_t n = vb->len < size ? vb->len : size - 1;

	memcpy(dst, vb->str, n);
	dst[n] = 0;
}

static void take_res(struct pull *p, const uint32_t *o, size_t n, const struct cm_snmpc_vb *vb)
{
	struct clu_res *r;

	/* .1.3.1.COL.INDEX */
	if (n != 5 || o[2] != 1)
		return;
	if (!(r = pull_row(p, o[4], 1))) {
		p->bad = 1;
		return;
	}
	switch (o[3]) {
	case CLU_R_GUID:
		if (vb->type == CM_SNMPC_STRING && vb->len <= CLU_GUID_MAX) {
			memcpy(r->guid, vb->str, vb->len);
			r->guid_len = vb->len;
		}
		break;
	case CLU_R_TYPE: r->type = (int)vb->i; break;
	case CLU_R_ADDRESS:
		if (vb->type == CM_SNMPC_STRING)
			copy_str(r->address, sizeof(r->address), vb);
		break;
	case CLU_R_NUMBER: r->number = (uint32_t)vb->u; break;
	case CLU_R_PARENT: r->parent = (uint32_t)vb->u; break;
	case CLU_R_OWNERSHIP: r->ownership = (int)vb->i; break;
	case CLU_R_VERSION: r->version = (uint32_t)vb->u; break;
	case CLU_R_NAME:
		if (vb->type == CM_SNMPC_STRING)
			copy_str(r->name, sizeof(r->name), vb);
		break;
	case CLU_R_VENDOR:
		if (vb->type == CM_SNMPC_STRING)
			copy_str(r->vendor, sizeof(r->vendor), vb);
		break;
	case CLU_R_MODEL:
		if (vb->type == CM_SNMPC_STRING)
			copy_str(r->model, sizeof(r->model), vb);
		break;
	case CLU_R_SIZE: r->size = vb->u; break;
	case CLU_R_VALID: r->valid = vb->i == 1; break;
	case CLU_R_PATHS: r->paths = (uint32_t)vb->u; break;
	}
}

static void take_owner(struct pull *p, const uint32_t *o, size_t n, const struct cm_snmpc_vb *vb)
{
	struct clu_res *r;

	/* .1.4.1.2.RES.HOST = active(1) */
	if (n != 6 || o[2] != 1 || o[3] != CLU_O_ROW_STATUS || vb->type != CM_SNMPC_INTEGER || vb->i != 1)
		return;
	if (!(r = pull_row(p, o[4], 0)) || r->nowners >= CLU_MAX_OWNERS) {
		p->bad = 1; /* an owner row of a row the CRT walk did not bring: the table moved under us */
		return;
	}
	r->owners[r->nowners++] = o[5];
}

static int pull_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct pull *p = arg;
	const uint32_t *o;
	size_t n;

	if (p->gen != S.gen || p->bad)
		return 1;
	if (!(o = under_mib(vb->oid, vb->oidlen, &n)) || n < 2 || o[0] != 1)
		return 0;
	if (p->step == 1) {
		take_scalar(vb, &p->last, NULL, &p->have_last);
		return 0;
	}
	if (o[1] == SUB_SCALARS) {
		take_scalar(vb, &p->first, &p->granularity, &p->have_first);
		return 0;
	}
	if (p->have_first == 3 && !p->nrows) {
		struct clu_version ours;

		/* past the scalars: not newer any more (another pull or push brought it meanwhile), stop here */
		clu_version_get(&ours);
		if (clu_version_cmp(&p->first, &ours) <= 0) {
			p->stale = 1;
			return 1;
		}
	}
	if (o[1] == SUB_RES)
		take_res(p, o, n, vb);
	else if (o[1] == SUB_OWNERS)
		take_owner(p, o, n, vb);
	return o[1] > SUB_OWNERS; /* the peer and conflict tables, the counters: not part of the table */
}

static void pull_done(int rc, const char *why, void *arg);

/* Two walks: sanCluObjects from the version through the owner table (the members between are skipped), then the
 * scalars again for the closing version check. */
static int pull_walk(struct pull *p)
{
	uint32_t root[CLU_OID_MIB_LEN + 2] = {CLU_OID_MIB, 1, SUB_SCALARS};
	const struct clu_member *m = clu_member_get(p->member);
	struct cm_snmpc_peer sp;

	if (!m || !clu_net)
		return -ENOENT;
	peer_of(m, NULL, &sp);
	return clu_net->walk(&sp, root, p->step == 0 ? CLU_OID_MIB_LEN + 1 : CLU_OID_MIB_LEN + 2, pull_vb, pull_done,
	                     p);
}

static void pull_next_wanted(void)
{
	if (S.want && !S.pull) {
		S.want = 0;
		pull_start(S.want_member, &S.want_version);
	}
	boot_step_done();
}

static void pull_restart(struct pull *p)
{
	p->step = p->stale = 0;
	p->nrows = p->cursor = 0;
	p->have_first = p->have_last = 0;
	p->bad = 0;
	memset(&p->first, 0, sizeof(p->first));
	memset(&p->last, 0, sizeof(p->last));
}

static void pull_finish(struct pull *p)
{
	const struct clu_member *m = clu_member_get(p->member);
	struct clu_table t = {.version = p->first, .rows = p->rows, .nrows = p->nrows, .granularity = p->granularity};
	char vs[48];
	int rc;

	fmt_version(&p->first, vs, sizeof(vs));
	rc = clu_adopt(&t, m ? m->address : "?");
	if (rc == 0) {
		S.ctr.pulls++;
		clu_m.ctr.pulls++;
	}
	if (rc == 0)
		cm_log(CM_LOG_NOTICE, TAG, "adopted CRT version %s from %s (%zu rows)", vs, m ? m->address : "?",
		       p->nrows);
	else if (rc != -EALREADY)
		cm_log(CM_LOG_WARNING, TAG, "CRT version %s from %s not adopted: %s", vs, m ? m->address : "?",
		       strerror(-rc));
}

static void pull_done(int rc, const char *why, void *arg)
{
	struct pull *p = arg;
	char a[48], b[48];

	if (p->gen != S.gen) {
		pull_free(p);
		return;
	}
	if (rc < 0) {
		clu_peer_contact_failed(p->member, why && why[0] ? why : strerror(-rc));
		goto out;
	}
	if (p->step == 0 && p->have_first != 3) {
		clu_peer_contact_ok(p->member, NULL);
		goto out;
	}
	if (p->step == 0 && p->stale) {
		clu_peer_contact_ok(p->member, &p->first);
		goto out;
	}
	if (p->step == 0 && !p->bad) {
		p->step = 1;
		if ((rc = pull_walk(p)) == 0)
			return;
		clu_peer_contact_failed(p->member, strerror(-rc));
		goto out;
	}
	/* The walk took several PDUs: its rows are one table only if the version did not move meanwhile. */
	if (p->bad || p->have_last != 3 || clu_version_cmp(&p->first, &p->last) != 0) {
		fmt_version(&p->first, a, sizeof(a));
		fmt_version(&p->last, b, sizeof(b));
		if (++p->tries < PULL_TRIES) {
			cm_log(CM_LOG_INFO, TAG, "pull from member %u: version moved during the walk (%s -> %s), again",
			       p->member, a, b);
			pull_restart(p);
			if ((rc = pull_walk(p)) == 0)
				return;
		}
		cm_log(CM_LOG_WARNING, TAG, "pull from member %u given up: its table kept moving (%s -> %s)", p->member,
		       a, b);
		goto out;
	}
	clu_peer_contact_ok(p->member, &p->last);
	pull_finish(p);
out:
	S.pull = NULL;
	pull_free(p);
	pull_next_wanted();
}

static void pull_start(uint32_t member, const struct clu_version *v)
{
	struct clu_version ours;
	struct pull *p;
	int rc;

	clu_version_get(&ours);
	if (clu_version_cmp(v, &ours) <= 0)
		return;
	if (S.pull) {
		/* one at a time: the newest known comes next */
		if (!S.want || clu_version_cmp(v, &S.want_version) > 0) {
			S.want = 1;
			S.want_member = member;
			S.want_version = *v;
		}
		return;
	}
	if (!(p = calloc(1, sizeof(*p))))
		return;
	p->gen = S.gen;
	p->member = member;
	S.pull = p;
	if ((rc = pull_walk(p)) < 0) {
		S.pull = NULL;
		pull_free(p);
		clu_peer_contact_failed(member, strerror(-rc));
	}
}

/* ---- push ------------------------------------------------------------------------------------------- */
struct push {
	unsigned int gen;
	uint32_t member;
};

static void push_done(int rc, const char *why, void *arg)
{
	struct push *q = arg;

	if (q->gen == S.gen) {
		if (rc < 0)
			clu_peer_contact_failed(q->member, why && why[0] ? why : strerror(-rc));
		else
			clu_peer_contact_ok(q->member, NULL);
	}
	free(q);
}

static void push_to(const struct clu_member *m, const struct clu_version *v)
{
	static const uint32_t version_oid[] = {CLU_OID_MIB, 1, SUB_SCALARS, CLU_S_VERSION, 0};
	static const uint32_t writer_oid[] = {CLU_OID_MIB, 1, SUB_SCALARS, CLU_S_VERSION_WRITER, 0};
	struct cm_snmpc_vb vbs[2] = {
	    {.oid = version_oid, .oidlen = CLU_OID_MIB_LEN + 4, .type = CM_SNMPC_UNSIGNED, .u = v->counter},
	    {.oid = writer_oid,
	     .oidlen = CLU_OID_MIB_LEN + 4,
	     .type = CM_SNMPC_STRING,
	     .str = (const char *)v->writer,
	     .len = 8},
	};
	char addr[CLU_ADDR_MAX];
	struct cm_snmpc_peer p;
	struct push *q;
	int rc;

	if (!S.running || !clu_net || !clu_net->inform || !has_peer_user())
		return;
	if (!(q = calloc(1, sizeof(*q))))
		return;
	q->gen = S.gen;
	q->member = m->index;
	notify_addr_of(m, addr, sizeof(addr));
	peer_of(m, addr, &p);
	if ((rc = clu_net->inform(&p, crt_changed_oid, sizeof(crt_changed_oid) / sizeof(crt_changed_oid[0]), vbs, 2,
	                          push_done, q)) < 0) {
		free(q);
		clu_peer_contact_failed(m->index, strerror(-rc));
		return;
	}
	S.ctr.pushes_sent++;
	clu_m.ctr.pushes_sent++;
}

/* Every member but this agent: the hosts keep their copies, the units apply the table's ACLs. */
static void push_all(const struct clu_version *v)
{
	uint32_t idx = 0;

	while (clu_member_next(idx, &idx) == 0) {
		const struct clu_member *m = clu_member_get(idx);

		if (m && !clu_member_is_self(m))
			push_to(m, v);
	}
}

/* After every local change (clu_commit_local): an adopted table is not pushed on, its writer told everyone. */
void clu_sync_push(void)
{
	struct clu_version v;

	if (!S.running || !S.host)
		return;
	clu_version_get(&v);
	push_all(&v);
}

/* ---- receive ------------------------------------------------------------------------------------------ */
static int sync_user(const char *principal)
{
	for (size_t i = 0; principal && i < S.nsync_users; i++)
		if (strcmp(S.sync_users[i], principal) == 0)
			return 1;
	return 0;
}

/* The sender's member row.  By its source address when one host has it; several hosts on one address (agents on
 * loopback, told apart by port, while an inform leaves from any port) are told apart by the writer, who holds that
 * version or a newer one; the writer also stands in for a sender not found by address. */
static const struct clu_member *sender(const char *source, const struct clu_version *v)
{
	char src[CLU_ADDR_MAX], host[CLU_ADDR_MAX];
	uint32_t idx = 0;
	const struct clu_member *by_addr = NULL, *by_writer = NULL;
	size_t naddr = 0;

	addr_host(source ? source : "", src, sizeof(src));
	while (clu_member_next(idx, &idx) == 0) {
		const struct clu_member *m = clu_member_get(idx);

		if (!m || m->type != CLU_HOST || clu_member_is_self(m))
			continue;
		addr_host(m->address, host, sizeof(host));
		if (strcmp(host, src) == 0 && !naddr++)
			by_addr = m;
		if (memcmp(m->guid, v->writer, 8) == 0)
			by_writer = m;
	}
	if (naddr == 1)
		return by_addr;
	return by_writer ? by_writer : by_addr;
}

static void on_trap(int topic, const void *event, void *arg)
{
	const struct cm_trap *t = event;
	struct clu_version v = {0};
	const struct clu_member *m;
	int have = 0;

	(void)topic;
	(void)arg;
	if (!S.running)
		return;
	if (t->version != 3 || !sync_user(t->principal)) {
		/* counted always, logged at powers of two: a misconfigured peer must not flood the log */
		S.ctr.dropped++;
		if ((S.ctr.dropped & (S.ctr.dropped - 1)) == 0)
			cm_log(CM_LOG_WARNING, TAG,
			       "sanCluCrtChanged from %s%s%s dropped: not a sync user (%llu so far)",
			       t->version == 3 ? t->principal : "v2c", "@", t->source ? t->source : "?",
			       (unsigned long long)S.ctr.dropped);
		return;
	}
	for (size_t i = 0; i < t->nvars; i++) {
		const struct cm_trap_var *var = &t->vars[i];
		size_t n;
		const uint32_t *o = under_mib(var->oid, var->oid_len, &n);

		if (!o || n != 4 || o[0] != 1 || o[1] != SUB_SCALARS || o[3] != 0)
			continue;
		if (o[2] == CLU_S_VERSION && var->type == SA_TV_UNSIGNED && var->ival >= 0 && var->ival <= UINT32_MAX) {
			v.counter = (uint32_t)var->ival;
			have |= 1;
		} else if (o[2] == CLU_S_VERSION_WRITER && var->type == SA_TV_STRING && var->str_len == 8) {
			memcpy(v.writer, var->str, 8);
			have |= 2;
		}
	}
	S.ctr.pushes_received++;
	clu_m.ctr.pushes_received++;
	if (have != 3 || !(m = sender(t->source, &v))) {
		cm_log(CM_LOG_WARNING, TAG, "sanCluCrtChanged from %s@%s ignored: %s", t->principal,
		       t->source ? t->source : "?", have != 3 ? "no version in it" : "not a member");
		return;
	}
	clu_peer_contact_ok(m->index, &v);
	consider(m->index, &v);
}

/* ---- life ----------------------------------------------------------------------------------------------- */
static void config_free(void)
{
	free(S.user);
	secret_free(S.auth);
	secret_free(S.priv);
	for (size_t i = 0; i < S.nsync_users; i++)
		free(S.sync_users[i]);
	free(S.sync_users);
	free(S.notify);
	free(S.asking);
	S.user = S.auth = S.priv = NULL;
	S.sync_users = NULL;
	S.notify = NULL;
	S.asking = NULL;
	S.nsync_users = S.nnotify = S.nasking = S.asking_cap = 0;
}

static int config_take(const struct sa_cluster_config *c)
{
	S.host = !c->role || strcmp(c->role, "unit") != 0;
	S.interval_s = c->sync_interval > 0 ? c->sync_interval : 0;
	if (c->peer_user.present && c->peer_user.name && c->peer_user.auth_passphrase && c->peer_user.priv_passphrase)
		if (!(S.user = strdup(c->peer_user.name)) || !(S.auth = strdup(c->peer_user.auth_passphrase)) ||
		    !(S.priv = strdup(c->peer_user.priv_passphrase)))
			return -ENOMEM;
	if (c->nsync_users && !(S.sync_users = calloc(c->nsync_users, sizeof(char *))))
		return -ENOMEM;
	for (size_t i = 0; i < c->nsync_users; i++, S.nsync_users++)
		if (!(S.sync_users[i] = strdup(c->sync_users[i])))
			return -ENOMEM;
	if (c->nmembers && !(S.notify = calloc(c->nmembers, sizeof(*S.notify))))
		return -ENOMEM;
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct sa_clu_member_cfg *mc = &c->members[i];

		if (!mc->notify || !mc->notify[0] || hex_guid(mc->guid, S.notify[S.nnotify].guid) < 0)
			continue;
		snprintf(S.notify[S.nnotify].addr, sizeof(S.notify[0].addr), "%s", mc->notify);
		S.nnotify++;
	}

	return 0;
}

int clu_sync_booting(void)
{
	return S.running && S.booting;
}

void clu_sync_stop(void)
{
	if (S.timer)
		cm_ev_cancel(S.timer);
	if (S.boot_timer)
		cm_ev_cancel(S.boot_timer);
	if (S.trap_sub > 0)
		bus_unsubscribe(S.trap_sub);
	/* requests in flight belong to this generation: their callbacks free them and do nothing else */
	S.gen++;
	S.pull = NULL;
	config_free();
	S.running = S.booting = S.want = 0;
	S.boot_pending = 0;
	S.timer = S.boot_timer = 0;
	S.trap_sub = 0;
}

int clu_sync_start(const struct sa_cluster_config *c, char *err, size_t errlen)
{
	unsigned int gen = S.gen;
	int rc;

	clu_sync_stop();
	S.gen = gen + 1;
	if ((rc = config_take(c)) < 0) {
		config_free();
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	S.running = 1;
	if ((rc = bus_subscribe_key(BUS_TRAP, crt_changed_oid, sizeof(crt_changed_oid) / sizeof(crt_changed_oid[0]), 0,
	                            on_trap, NULL)) < 0) {
		clu_sync_stop();
		snprintf(err, errlen, "cannot subscribe: %s", strerror(-rc));
		return rc;
	}
	S.trap_sub = rc;
	if (!has_peer_user()) {
		cm_log(CM_LOG_NOTICE, TAG, "no peer_user: the CRT is not synchronised with other hosts");
		return 0;
	}
	if (!clu_net || !clu_net->walk || !clu_net->inform) {
		cm_log(CM_LOG_WARNING, TAG, "no SNMP client: the CRT is not synchronised with other hosts");
		return 0;
	}
	/* The boot round on the loop's first turn: the engine starts before the SNMP library has its security
	 * modules (USM) ready, and an authPriv request built now would fail. */
	S.booting = 1;
	if (!(S.boot_timer = cm_ev_timer(1, 0, boot_round, NULL)))
		boot_round(0, NULL);
	if (S.interval_s)
		S.timer = cm_ev_timer((unsigned int)S.interval_s * 1000u, 1, on_interval, NULL);
	return 0;
}

void clu_sync_counters_get(struct clu_sync_counters *out)
{
	/* kept across restarts of the sync (reloads, engine restarts): the process's totals */
	*out = S.ctr;
}
