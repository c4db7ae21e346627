/* poll.c: the pull side of session feedback: the rediscover engine walks each storage agent's sanStorSessionTable
 * every poll_interval seconds and takes each session with a known portal as that agent's feedback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/secret.h"
#include "engines/rediscover/model.h"
#include "engines/rediscover/redisc_poll.h"

/* SANAGENT-SESSION-MIB's sanStorSessionEntry (the storage agent's table; mib_lint.sh checks the MIB's numbers):
 * indexed by tid and tgt's session id. */
static const uint32_t sess_entry[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1, 15, 1};
#define ENTRY_LEN (sizeof(sess_entry) / sizeof(sess_entry[0]))
enum {
	COL_INITIATOR = 2,
	COL_TARGET = 5,
	COL_READ_BYTES = 6,
	COL_WRITE_BYTES = 7,
	COL_PORTAL_TYPE = 12,
	COL_PORTAL_ADDR = 13,
	COL_PORTAL_PORT = 14,
	COL_TX_MAX = 15, /* .. COL_TX_AVG: max, min, avg as the metrics' order */
	COL_TX_AVG = 17
};

struct row {
	uint32_t tid, sid;
	struct redisc_feedback fb;
	uint64_t rd, wr;
	size_t alen;
};

struct agent;
/* One walk in flight.  It outlives its agent when the engine stops or reloads meanwhile (the client's callbacks
 * still come): orphaned, it is freed by its done callback. */
struct walk {
	struct agent *a; /* NULL: orphaned */
	struct row *rows;
	size_t nrows, cap;
};

enum { ST_UNKNOWN = 0, ST_UP, ST_DOWN };
struct agent {
	char *peer, *user, *auth, *priv; /* secrets copied, wiped when freed, never logged */
	int interval_s;
	unsigned int timer;
	struct walk *busy;
	int state;
};

static const struct redisc_poll_ops *poll_ops;
static struct agent *agents;
static size_t nagents;
static int warned_no_ops;

void redisc_poll_ops_register(const struct redisc_poll_ops *ops)
{
	poll_ops = ops;
}

static struct row *row_get(struct walk *w, uint32_t tid, uint32_t sid)
{
	/* Column by column: a row's later columns come in the order of its first. */
	for (size_t i = 0; i < w->nrows; i++)
		if (w->rows[i].tid == tid && w->rows[i].sid == sid)
			return &w->rows[i];
	if (cm_grow(&w->rows, &w->cap, w->nrows, sizeof(*w->rows), 32) < 0)
		return NULL;
	memset(&w->rows[w->nrows], 0, sizeof(w->rows[0]));
	w->rows[w->nrows].tid = tid;
	w->rows[w->nrows].sid = sid;
	return &w->rows[w->nrows++];
}

static void copy_str(char *dst, size_t size, const struct cm_snmpc_vb *vb)
{
	size_t n = vb->len < size ? vb->len : size - 1;

	if (vb->type != CM_SNMPC_STRING)
		return;
	memcpy(dst, vb->str, n);
	dst[n] = 0;
}

static int on_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct walk *w = arg;
	struct row *r;
	uint32_t col;

	if (!w->a)
		return 1; /* orphaned: stop reading */
	if (vb->oidlen != ENTRY_LEN + 3 || memcmp(vb->oid, sess_entry, sizeof(sess_entry)) != 0)
		return 0;
	col = vb->oid[ENTRY_LEN];
	if (!(r = row_get(w, vb->oid[ENTRY_LEN + 1], vb->oid[ENTRY_LEN + 2])))
		return 1;
	switch (col) {
	case COL_INITIATOR: copy_str(r->fb.initiator, sizeof(r->fb.initiator), vb); break;
	case COL_TARGET: copy_str(r->fb.target, sizeof(r->fb.target), vb); break;
	case COL_READ_BYTES: r->rd = vb->u; break;
	case COL_WRITE_BYTES: r->wr = vb->u; break;
	case COL_PORTAL_TYPE: r->fb.portal.type = (int)vb->i; break;
	case COL_PORTAL_ADDR:
		if (vb->type == CM_SNMPC_STRING && vb->len <= sizeof(r->fb.portal.a)) {
			memcpy(r->fb.portal.a, vb->str, vb->len);
			r->alen = vb->len;
		}
		break;
	case COL_PORTAL_PORT: r->fb.portal.port = vb->u <= 65535 ? (uint16_t)vb->u : 0; break;
	default:
		if (col >= COL_TX_MAX && col <= COL_TX_AVG && vb->type == CM_SNMPC_UNSIGNED) {
			r->fb.m.v[col - COL_TX_MAX] = vb->u > UINT32_MAX ? UINT32_MAX : (uint32_t)vb->u;
			r->fb.m.have |= 1u << (col - COL_TX_MAX);
		}
		break;
	}
	return 0;
}

/* An iSCSI name as the feedback decoder takes it: printable, no spaces. */
static int name_ok(const char *s)
{
	if (!s[0])
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s > '~')
			return 0;
	return 1;
}

static void on_done(int rc, const char *why, void *arg)
{
	struct walk *w = arg;
	struct agent *a = w->a;
	size_t taken = 0, unknown = 0;

	if (!a) {
		free(w->rows);
		free(w);
		return;
	}
	a->busy = NULL;
	if (rc < 0) {
		redisc_m.ctr.poll_failures++;
		if (a->state != ST_DOWN)
			cm_log(CM_LOG_WARNING, REDISC_TAG,
			       "storage agent %s does not answer (%s): its sessions age out", a->peer,
			       why && why[0] ? why : strerror(-rc));
		a->state = ST_DOWN;
	} else {
		redisc_m.ctr.polls++;
		for (size_t i = 0; i < w->nrows; i++) {
			struct row *r = &w->rows[i];

			/* Without its portal a session belongs to no group: the storage agent does not know it yet. */
			if (!name_ok(r->fb.initiator) || !name_ok(r->fb.target) ||
			    (r->fb.portal.type != 1 && r->fb.portal.type != 2) ||
			    r->alen != redisc_addr_len(&r->fb.portal) || !r->fb.portal.port) {
				unknown++;
				continue;
			}
			r->fb.bytes = r->rd + r->wr;
			r->fb.have_bytes = 1;
			/* A storage agent's window rates are 0 before its first window closed: not reported then. */
			if (!r->fb.m.v[0] && !r->fb.m.v[1] && !r->fb.m.v[2])
				r->fb.m.have = 0;
			redisc_take_polled(&r->fb, a->peer);
			taken++;
		}
		if (a->state != ST_UP)
			cm_log(CM_LOG_NOTICE, REDISC_TAG,
			       "storage agent %s answers: %zu sessions, %zu without a portal", a->peer, taken, unknown);
		a->state = ST_UP;
	}
	free(w->rows);
	free(w);
}

static void poll_one(unsigned int id, void *arg)
{
	struct agent *a = &agents[(size_t)(uintptr_t)arg];
	struct cm_snmpc_peer p = {.peer = a->peer, .user = a->user, .auth_pass = a->auth, .priv_pass = a->priv};
	struct walk *w;
	int rc;

	(void)id;
	/* One walk at a time: a slow agent is not asked again before it answered or timed out. */
	if (a->busy || !poll_ops || !poll_ops->walk)
		return;
	if (!(w = calloc(1, sizeof(*w))))
		return;
	w->a = a;
	a->busy = w;
	if ((rc = poll_ops->walk(&p, sess_entry, ENTRY_LEN, on_vb, on_done, w)) < 0) {
		a->busy = NULL;
		free(w);
		redisc_m.ctr.poll_failures++;
		if (a->state != ST_DOWN)
			cm_log(CM_LOG_WARNING, REDISC_TAG, "storage agent %s: cannot poll: %s", a->peer, strerror(-rc));
		a->state = ST_DOWN;
	}
}

void redisc_poll_stop(void)
{
	for (size_t i = 0; i < nagents; i++) {
		struct agent *a = &agents[i];

		if (a->timer)
			cm_ev_cancel(a->timer);
		if (a->busy)
			a->busy->a = NULL; /* its done callback frees it */
		free(a->peer);
		free(a->user);
		cm_secret_free(a->auth);
		cm_secret_free(a->priv);
	}
	free(agents);
	agents = NULL;
	nagents = 0;
}

void redisc_poll_apply(const struct sa_rediscover_config *c)
{
	size_t n = 0;

	redisc_poll_stop();
	for (size_t i = 0; i < c->nstorage_agents; i++)
		n += c->storage_agents[i].poll_interval > 0;
	if (!n)
		return;
	if (!poll_ops || !poll_ops->walk) {
		if (!warned_no_ops++)
			cm_log(CM_LOG_ERR, REDISC_TAG, "no SNMP client: storage agents are not polled");
		return;
	}
	if (!(agents = calloc(n, sizeof(*agents)))) {
		cm_log(CM_LOG_ERR, REDISC_TAG, "out of memory: storage agents are not polled");
		return;
	}
	for (size_t i = 0; i < c->nstorage_agents; i++) {
		const struct sa_redisc_storage_agent_cfg *sc = &c->storage_agents[i];
		struct agent *a = &agents[nagents];

		if (sc->poll_interval <= 0)
			continue;
		a->peer = strdup(sc->peer);
		a->user = strdup(sc->user);
		a->auth = strdup(sc->auth_passphrase);
		a->priv = strdup(sc->priv_passphrase);
		a->interval_s = sc->poll_interval;
		nagents++;
		if (!a->peer || !a->user || !a->auth || !a->priv ||
		    !(a->timer = cm_ev_timer((unsigned int)a->interval_s * 1000u, 1, poll_one,
		                             (void *)(uintptr_t)(nagents - 1)))) {
			cm_log(CM_LOG_ERR, REDISC_TAG, "out of memory: storage agent %s not polled", sc->peer);
			continue;
		}
		/* The first poll after one interval: the engine starts before the agent's SNMP client is ready. */
		cm_log(CM_LOG_INFO, REDISC_TAG, "polling storage agent %s every %d s", a->peer, a->interval_s);
	}
}
