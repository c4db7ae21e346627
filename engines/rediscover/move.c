/* move.c: act mode: moves a target's portal on the storage agent, in iSNS, and ends its sessions over the old one;
 * a small state machine on the agent loop, every step persisted before it is taken, undone on failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "engines/rediscover/model.h"

/* SANAGENT-SESSION-MIB on the storage agent: sanStorPortalNextIndex, sanStorPortalTable, sanStorSessionTable. */
#define STOR_OBJECTS 1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1
static const uint32_t oid_portal_next[] = {STOR_OBJECTS, 11};
static const uint32_t oid_portal_entry[] = {STOR_OBJECTS, 12, 1};
static const uint32_t oid_session_entry[] = {STOR_OBJECTS, 15, 1};
enum { POR_ADDR_TYPE = 2, POR_ADDR = 3, POR_PORT = 4, POR_STORAGE = 6, POR_ROW_STATUS = 7, POR_IFNAME = 8 };
enum { SES_INITIATOR = 2, SES_TARGET = 5, SES_END = 11 };
enum { RS_ACTIVE = 1, RS_NOT_IN_SERVICE = 2, RS_CREATE_AND_GO = 4, RS_DESTROY = 6 };
#define ST_NONVOLATILE 3
#define SES_END_END 2
#define POLL_FIRST_MS 5u /* tgt usually listens 10-40 ms after the SET: a close step while it is likely */
#define POLL_CLOSE_MS 100u
#define POLL_MS 200u
#define MAX_ENDS 64 /* sessions ended in one SET */

unsigned int redisc_move_step_ms = 10000;

static struct redisc_move_ops move_ops;

void redisc_move_ops_register(const struct redisc_move_ops *ops)
{
	if (ops)
		move_ops = *ops;
	else
		memset(&move_ops, 0, sizeof(move_ops));
}

/* One move in flight.  Callbacks find it by id: a move that ended (or an engine that stopped) ignores late ones. */
struct move {
	struct move *next;
	uint32_t id, decision;
	/* The storage agent's address and user, copied: a reload may replace the config's list meanwhile. */
	char peer_spec[128], user[64], auth[128], priv[128];
	struct cm_snmpc_peer peer;
	unsigned int timer; /* the step's deadline or the next poll */
	uint64_t deadline_ms;
	int undoing, isns_touched, row_touched;
	int waiting; /* queued behind another move of the same storage agent (they would race for one row index) */
	uint32_t row_status;  /* of the polled row, 0 absent */
	unsigned int poll_ms; /* the last wait between two reads of the row */
	uint32_t next_index;
	uint32_t ends[MAX_ENDS][2];
	size_t nends;
	char why[128];
	uint64_t began_ms[REDISC_MV_UNDO + 1]; /* when each step began (redisc_clock_ms), for the log of a move */
};

static struct move *moves;
static uint32_t next_move_id;

static struct move *move_by_id(uint32_t id)
{
	for (struct move *m = moves; m; m = m->next)
		if (m->id == id)
			return m;
	return NULL;
}

static struct redisc_decision *dec_of(const struct move *m)
{
	return (struct redisc_decision *)redisc_decision_find(m->decision);
}

static void start_index(struct move *m);

static int same_agent(const struct move *a, const struct move *b)
{
	return strcmp(a->peer_spec, b->peer_spec) == 0;
}

static void move_free(struct move *m)
{
	struct move **pp, *next = NULL;

	for (pp = &moves; *pp && *pp != m; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = m->next;
	if (m->timer)
		cm_ev_cancel(m->timer);
	/* The oldest move waiting for this storage agent goes next (the list is newest first). */
	for (struct move *w = moves; w; w = w->next)
		if (w->waiting && same_agent(w, m))
			next = w;
	explicit_bzero(m->auth, sizeof(m->auth));
	explicit_bzero(m->priv, sizeof(m->priv));
	free(m);
	if (next) {
		next->waiting = 0;
		start_index(next);
	}
}

static void publish(int type, uint32_t index)
{
	struct redisc_event ev = {.type = type, .index = index};

	bus_publish(BUS_REDISCOVER, &ev);
}

/* The step moves on: persisted before anything of it is done, so a restart knows what may need undoing. */
static void set_step(struct move *m, int step)
{
	struct redisc_decision *d = dec_of(m);

	m->began_ms[step] = redisc_clock_ms();
	if (!d)
		return;
	d->step = step;
	redisc_decision_persist(d);
}

static void step_done(unsigned int id, void *arg);
static void undo_next(struct move *m);
static void fail(struct move *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arm(struct move *m, unsigned int ms)
{
	if (m->timer)
		cm_ev_cancel(m->timer);
	m->timer = cm_ev_timer(ms, 0, step_done, (void *)(uintptr_t)m->id);
}

static void oid_cat(uint32_t *out, size_t *n, const uint32_t *base, size_t nbase)
{
	memcpy(out + *n, base, nbase * sizeof(*base));
	*n += nbase;
}

/* ---- the end of a move ------------------------------------------------------------------------------------- */

/* Milliseconds from the start of step a to the start of step b (b < 0: now); 0 when a step did not run (a move
 * recovered after a restart). */
static unsigned int step_ms(const struct move *m, int a, int b)
{
	uint64_t end = b < 0 ? redisc_clock_ms() : m->began_ms[b];

	return m->began_ms[a] && end >= m->began_ms[a] ? (unsigned int)(end - m->began_ms[a]) : 0;
}

static void finish_done(struct move *m)
{
	struct redisc_decision *d = dec_of(m);
	char np[64];

	if (d) {
		d->state = REDISC_ST_DONE;
		d->step = REDISC_MV_FINISH;
		redisc_pool_take(&d->new_portal, d->index);
		redisc_decision_persist(d);
		redisc_sessions_forget(d->target, &d->old_portal);
		redisc_m.ctr.moves++;
		redisc_addr_text(&d->new_portal, np, sizeof(np));
		/* Where a move's time goes, step by step: the figure an administrator (and the feedback bench) needs
		 * when messages leave later than expected. */
		cm_log(CM_LOG_NOTICE, REDISC_TAG,
		       "decision %u: %s moved to %s, %u sessions ended (ms: index %u, create %u, wait %u, isns %u, "
		       "sessions %u, finish %u)",
		       (unsigned int)d->index, d->target, np, (unsigned int)d->sessions_ended,
		       step_ms(m, REDISC_MV_INDEX, REDISC_MV_CREATE), step_ms(m, REDISC_MV_CREATE, REDISC_MV_WAIT),
		       step_ms(m, REDISC_MV_WAIT, REDISC_MV_ISNS), step_ms(m, REDISC_MV_ISNS, REDISC_MV_SESSIONS),
		       step_ms(m, REDISC_MV_SESSIONS, REDISC_MV_FINISH), step_ms(m, REDISC_MV_FINISH, -1));
		publish(REDISC_EV_MOVED, d->index);
	}
	move_free(m);
}

static void finish_failed(struct move *m, const char *undo_error)
{
	struct redisc_decision *d = dec_of(m);

	if (d) {
		d->state = REDISC_ST_FAILED;
		if (undo_error)
			snprintf(d->error, sizeof(d->error), "%.50s; undo failed: %.50s", m->why, undo_error);
		else
			snprintf(d->error, sizeof(d->error), "%s", m->why);
		redisc_pool_release(d->index);
		redisc_decision_persist(d);
		redisc_m.ctr.moves_failed++;
		cm_log(CM_LOG_WARNING, REDISC_TAG, "decision %u: moving %s failed: %s", (unsigned int)d->index,
		       d->target, d->error);
		publish(REDISC_EV_MOVE_FAILED, d->index);
	}
	move_free(m);
}

static void fail(struct move *m, const char *fmt, ...)
{
	va_list ap;

	if (m->undoing)
		return;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	m->undoing = 1;
	set_step(m, REDISC_MV_UNDO);
	undo_next(m);
}

/* ---- undo: iSNS back, then the new portal row destroyed ------------------------------------------------------ */

static void undo_done(int rc, const char *why, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);

	if (!m)
		return;
	if (m->isns_touched) {
		m->isns_touched = 0;
		if (rc < 0) {
			finish_failed(m, why && why[0] ? why : "iSNS");
			return;
		}
	} else {
		m->row_touched = 0;
		/* A row that is already gone is what undo wanted. */
		if (rc < 0 && rc != -ENOENT && !(why && strstr(why, "noCreation"))) {
			finish_failed(m, why && why[0] ? why : "portal row");
			return;
		}
	}
	undo_next(m);
}

static void undo_next(struct move *m)
{
	struct redisc_decision *d = dec_of(m);
	int rc;

	if (!d) {
		move_free(m);
		return;
	}
	arm(m, redisc_move_step_ms);
	if (m->isns_touched && redisc_m.isns_server[0]) {
		rc = move_ops.isns_move
		         ? move_ops.isns_move(redisc_m.isns_server, redisc_m.isns_source, d->target, &d->old_portal,
		                              &d->new_portal, 1, undo_done, (void *)(uintptr_t)m->id)
		         : -ENOSYS;
		if (rc < 0)
			finish_failed(m, "iSNS not reachable");
		return;
	}
	m->isns_touched = 0;
	if (m->row_touched && d->stor_row) {
		uint32_t o[32];
		size_t n = 0;
		struct cm_snmpc_vb vb = {.type = CM_SNMPC_INTEGER, .i = RS_DESTROY};

		oid_cat(o, &n, oid_portal_entry, sizeof(oid_portal_entry) / sizeof(*oid_portal_entry));
		o[n++] = POR_ROW_STATUS;
		o[n++] = d->stor_row;
		vb.oid = o;
		vb.oidlen = n;
		rc = move_ops.set ? move_ops.set(&m->peer, &vb, 1, undo_done, (void *)(uintptr_t)m->id) : -ENOSYS;
		if (rc < 0)
			finish_failed(m, "cannot reach the storage agent");
		return;
	}
	finish_failed(m, NULL);
}

/* ---- the steps ----------------------------------------------------------------------------------------------- */

static void start_create(struct move *m);
static void start_poll(struct move *m);
static void start_isns(struct move *m);
static void start_sessions(struct move *m);

static const char *snmp_why(int rc, const char *why)
{
	if (rc == -ETIMEDOUT)
		return "storage agent unreachable (no answer)";
	return why && why[0] ? why : strerror(-rc);
}

static int next_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);

	if (m && vb->type == CM_SNMPC_UNSIGNED)
		m->next_index = (uint32_t)vb->u;
	return 1;
}

static void index_done(int rc, const char *why, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);
	struct redisc_decision *d;

	if (!m || m->undoing)
		return;
	if (rc < 0 || !m->next_index) {
		fail(m, "sanStorPortalNextIndex: %s", rc < 0 ? snmp_why(rc, why) : "not answered");
		return;
	}
	m->began_ms[REDISC_MV_CREATE] = redisc_clock_ms();
	if ((d = dec_of(m))) {
		d->stor_row = m->next_index;
		d->step = REDISC_MV_CREATE;
		redisc_decision_persist(d);
	}
	start_create(m);
}

static void start_index(struct move *m)
{
	int rc;

	set_step(m, REDISC_MV_INDEX);
	arm(m, redisc_move_step_ms);
	rc = move_ops.walk ? move_ops.walk(&m->peer, oid_portal_next, sizeof(oid_portal_next) / sizeof(uint32_t),
	                                   next_vb, index_done, (void *)(uintptr_t)m->id)
	                   : -ENOSYS;
	if (rc < 0)
		fail(m, "cannot ask the storage agent: %s", strerror(-rc));
}

static void create_done(int rc, const char *why, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);

	if (!m || m->undoing)
		return;
	if (rc < 0) {
		/* The SET may have been applied and its answer lost: undo destroys the row in any case. */
		fail(m, "creating the portal on the storage agent: %s", snmp_why(rc, why));
		return;
	}
	set_step(m, REDISC_MV_WAIT);
	m->deadline_ms = redisc_clock_ms() + redisc_move_step_ms;
	m->poll_ms = 0;
	start_poll(m);
}

static void start_create(struct move *m)
{
	struct redisc_decision *d = dec_of(m);
	uint32_t o[6][32];
	size_t n[6] = {0}, nvb = 5;
	struct cm_snmpc_vb vb[6];
	static const int cols[6] = {POR_ADDR_TYPE, POR_ADDR, POR_PORT, POR_STORAGE, POR_ROW_STATUS, POR_IFNAME};
	const char *iface = redisc_pool_iface(m->decision);
	int rc;

	if (!d)
		return;
	memset(vb, 0, sizeof(vb));
	for (int i = 0; i < 6; i++) {
		oid_cat(o[i], &n[i], oid_portal_entry, sizeof(oid_portal_entry) / sizeof(*oid_portal_entry));
		o[i][n[i]++] = (uint32_t)cols[i];
		o[i][n[i]++] = d->stor_row;
		vb[i].oid = o[i];
		vb[i].oidlen = n[i];
		vb[i].type = CM_SNMPC_INTEGER;
	}
	vb[0].i = d->new_portal.type;
	vb[1].type = CM_SNMPC_STRING;
	vb[1].str = (const char *)d->new_portal.a;
	vb[1].len = redisc_addr_len(&d->new_portal);
	vb[2].type = CM_SNMPC_UNSIGNED;
	vb[2].u = d->new_portal.port;
	vb[3].i = ST_NONVOLATILE; /* the moved portal outlives a restart of the storage agent */
	vb[4].i = RS_CREATE_AND_GO;
	if (iface[0]) {
		/* The storage agent puts the address on that interface first (sanStorPortalIfName). */
		vb[5].type = CM_SNMPC_STRING;
		vb[5].str = iface;
		vb[5].len = strlen(iface);
		nvb = 6;
	}
	m->row_touched = 1;
	arm(m, redisc_move_step_ms);
	rc = move_ops.set ? move_ops.set(&m->peer, vb, nvb, create_done, (void *)(uintptr_t)m->id) : -ENOSYS;
	if (rc < 0)
		fail(m, "cannot ask the storage agent: %s", strerror(-rc));
}

static int row_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);
	struct redisc_decision *d = m ? dec_of(m) : NULL;
	size_t base = sizeof(oid_portal_entry) / sizeof(*oid_portal_entry);

	if (!d || vb->oidlen != base + 2 || vb->oid[base] != POR_ROW_STATUS)
		return 0;
	if (vb->oid[base + 1] == d->stor_row && vb->type == CM_SNMPC_INTEGER)
		m->row_status = (uint32_t)vb->i;
	return 0;
}

static void poll_done(int rc, const char *why, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);

	if (!m || m->undoing)
		return;
	if (rc < 0) {
		fail(m, "reading the portal row: %s", snmp_why(rc, why));
		return;
	}
	if (m->row_status == RS_ACTIVE) {
		start_isns(m);
		return;
	}
	if (!m->row_status) {
		/* The storage agent removes a row tgt refused. */
		fail(m, "tgt refused the portal (row gone)");
		return;
	}
	if (redisc_clock_ms() >= m->deadline_ms) {
		fail(m, "tgt does not listen on the new portal within %u ms", redisc_move_step_ms);
		return;
	}
	/* The storage agent lists tgt's portals right after its tgtadm: the row is usually active within tens of ms,
	 * and the messages wait for this step, so ask every few ms for that long, then less and less often. */
	if (redisc_clock_ms() - m->began_ms[REDISC_MV_WAIT] < POLL_CLOSE_MS)
		m->poll_ms = POLL_FIRST_MS;
	else
		m->poll_ms = m->poll_ms * 2 < POLL_MS ? m->poll_ms * 2 : POLL_MS;
	arm(m, m->poll_ms);
}

static void start_poll(struct move *m)
{
	uint32_t o[32];
	size_t n = 0;
	int rc;

	oid_cat(o, &n, oid_portal_entry, sizeof(oid_portal_entry) / sizeof(*oid_portal_entry));
	o[n++] = POR_ROW_STATUS;
	m->row_status = 0;
	arm(m, redisc_move_step_ms);
	rc = move_ops.walk ? move_ops.walk(&m->peer, o, n, row_vb, poll_done, (void *)(uintptr_t)m->id) : -ENOSYS;
	if (rc < 0)
		fail(m, "cannot ask the storage agent: %s", strerror(-rc));
}

static void isns_done(int rc, const char *why, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);

	if (!m || m->undoing)
		return;
	if (rc == -ENOENT) {
		struct redisc_decision *d = dec_of(m);

		/* The name server does not list the target: no initiator finds it through iSNS, so there is no
		 * registration to move (or to undo); the portal move and the messages still matter.  Said in the
		 * outcome, so the row does not read as if iSNS had been updated. */
		m->isns_touched = 0;
		if (d)
			snprintf(d->outcome, sizeof(d->outcome), "iSNS:not-registered");
		cm_log(CM_LOG_WARNING, REDISC_TAG, "decision %u: %s is not registered with iSNS: moved without it",
		       (unsigned int)m->decision, why && why[0] ? why : "unknown target");
	} else if (rc < 0) {
		fail(m, "iSNS: %s", why && why[0] ? why : strerror(-rc));
		return;
	}
	start_sessions(m);
}

static void start_isns(struct move *m)
{
	struct redisc_decision *d = dec_of(m);
	int rc;

	if (!d)
		return;
	if (!redisc_m.isns_server[0]) {
		start_sessions(m);
		return;
	}
	set_step(m, REDISC_MV_ISNS);
	m->isns_touched = 1;
	arm(m, redisc_move_step_ms);
	rc = move_ops.isns_move
	         ? move_ops.isns_move(redisc_m.isns_server, redisc_m.isns_source, d->target, &d->old_portal,
	                              &d->new_portal, 0, isns_done, (void *)(uintptr_t)m->id)
	         : -ENOSYS;
	if (rc < 0) {
		m->isns_touched = 0;
		fail(m, "iSNS: %s", strerror(-rc));
	}
}

/* A session row of the storage agent is ended when it is the target's and its initiator is one the engine
 * knows at the old portal. */
static int initiator_known_at_old(const struct redisc_decision *d, const char *initiator, size_t len)
{
	size_t i = redisc_key_lower(d->target, &d->old_portal, "");

	for (; i < redisc_m.nsess && strcmp(redisc_m.by_key[i]->target, d->target) == 0 &&
	       redisc_addr_cmp(&redisc_m.by_key[i]->portal, &d->old_portal) == 0;
	     i++)
		if (strlen(redisc_m.by_key[i]->initiator) == len &&
		    memcmp(redisc_m.by_key[i]->initiator, initiator, len) == 0)
			return 1;
	return 0;
}

/* The walk gives each row's columns in column order: the initiator (2) before the target (5). */
struct ses_row {
	uint32_t tid, sid;
	int known;
};

static int session_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);
	struct redisc_decision *d = m ? dec_of(m) : NULL;
	size_t base = sizeof(oid_session_entry) / sizeof(*oid_session_entry);
	uint32_t col, tid, sid;

	if (!d || vb->oidlen != base + 3 || vb->type != CM_SNMPC_STRING)
		return 0;
	col = vb->oid[base];
	tid = vb->oid[base + 1];
	sid = vb->oid[base + 2];
	if (col == SES_INITIATOR && initiator_known_at_old(d, vb->str, vb->len) && m->nends < MAX_ENDS) {
		m->ends[m->nends][0] = tid;
		m->ends[m->nends][1] = sid;
		m->nends++;
	} else if (col == SES_TARGET && (strlen(d->target) != vb->len || memcmp(d->target, vb->str, vb->len) != 0)) {
		for (size_t i = 0; i < m->nends; i++)
			if (m->ends[i][0] == tid && m->ends[i][1] == sid) {
				m->ends[i][0] = m->ends[m->nends - 1][0];
				m->ends[i][1] = m->ends[m->nends - 1][1];
				m->nends--;
				break;
			}
	}
	return col > SES_TARGET; /* the other columns are not needed */
}

static void end_done(int rc, const char *why, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);
	struct redisc_decision *d;

	if (!m || m->undoing)
		return;
	if (rc < 0) {
		fail(m, "ending sessions: %s", snmp_why(rc, why));
		return;
	}
	m->began_ms[REDISC_MV_FINISH] = redisc_clock_ms();
	if ((d = dec_of(m))) {
		d->sessions_ended = (uint32_t)m->nends;
		d->step = REDISC_MV_FINISH;
		redisc_decision_persist(d);
	}
	finish_done(m);
}

static void sessions_walked(int rc, const char *why, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);
	uint32_t o[MAX_ENDS][32];
	struct cm_snmpc_vb vb[MAX_ENDS];

	if (!m || m->undoing)
		return;
	if (rc < 0) {
		fail(m, "reading the sessions: %s", snmp_why(rc, why));
		return;
	}
	if (!m->nends) {
		end_done(0, NULL, arg);
		return;
	}
	memset(vb, 0, sizeof(vb));
	for (size_t i = 0; i < m->nends; i++) {
		size_t n = 0;

		oid_cat(o[i], &n, oid_session_entry, sizeof(oid_session_entry) / sizeof(*oid_session_entry));
		o[i][n++] = SES_END;
		o[i][n++] = m->ends[i][0];
		o[i][n++] = m->ends[i][1];
		vb[i].oid = o[i];
		vb[i].oidlen = n;
		vb[i].type = CM_SNMPC_INTEGER;
		vb[i].i = SES_END_END;
	}
	arm(m, redisc_move_step_ms);
	rc = move_ops.set(&m->peer, vb, m->nends, end_done, arg);
	if (rc < 0)
		fail(m, "ending sessions: %s", strerror(-rc));
}

static void start_sessions(struct move *m)
{
	uint32_t o[32];
	size_t n = 0;
	int rc;

	set_step(m, REDISC_MV_SESSIONS);
	oid_cat(o, &n, oid_session_entry, sizeof(oid_session_entry) / sizeof(*oid_session_entry));
	m->nends = 0;
	arm(m, redisc_move_step_ms);
	rc = move_ops.walk ? move_ops.walk(&m->peer, o, n, session_vb, sessions_walked, (void *)(uintptr_t)m->id)
	                   : -ENOSYS;
	if (rc < 0)
		fail(m, "cannot ask the storage agent: %s", strerror(-rc));
}

/* A step's deadline, or the next poll of the portal row. */
static void step_done(unsigned int id, void *arg)
{
	struct move *m = move_by_id((uint32_t)(uintptr_t)arg);
	struct redisc_decision *d;

	(void)id;
	if (!m)
		return;
	m->timer = 0;
	d = dec_of(m);
	if (m->undoing) {
		finish_failed(m, "no answer");
		return;
	}
	if (d && d->step == REDISC_MV_WAIT && redisc_clock_ms() < m->deadline_ms) {
		start_poll(m);
		return;
	}
	fail(m, "no answer within %u ms (step %d)", redisc_move_step_ms, d ? d->step : 0);
}

/* ---- starting ------------------------------------------------------------------------------------------------ */

static const struct redisc_storage_agent *agent_for(const struct redisc_addr *portal)
{
	for (size_t i = 0; i < redisc_m.nstorage_agents; i++)
		for (size_t k = 0; k < redisc_m.storage_agents[i].nportals; k++)
			if (redisc_addr_cmp(&redisc_m.storage_agents[i].portals[k], portal) == 0)
				return &redisc_m.storage_agents[i];
	return NULL;
}

static struct move *move_new(struct redisc_decision *d, const struct redisc_storage_agent *sa)
{
	struct move *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->id = ++next_move_id;
	m->decision = d->index;
	snprintf(m->peer_spec, sizeof(m->peer_spec), "%s", sa->peer);
	snprintf(m->user, sizeof(m->user), "%s", sa->user);
	snprintf(m->auth, sizeof(m->auth), "%s", sa->auth_pass);
	snprintf(m->priv, sizeof(m->priv), "%s", sa->priv_pass);
	m->peer.peer = m->peer_spec;
	m->peer.user = m->user;
	m->peer.auth_pass = m->auth;
	m->peer.priv_pass = m->priv;
	m->peer.timeout_ms = 1000;
	m->peer.retries = 1;
	m->next = moves;
	moves = m;
	return m;
}

int redisc_move_start(uint32_t index, char *err, size_t errlen)
{
	struct redisc_decision *d = (struct redisc_decision *)redisc_decision_find(index);
	const struct redisc_storage_agent *sa;
	struct move *m;
	char op[64];

	if (!d)
		return -ENOENT;
	redisc_addr_text(&d->old_portal, op, sizeof(op));
	if (!(sa = agent_for(&d->old_portal))) {
		snprintf(err, errlen, "no storage agent serves %s (rediscover.storage_agents)", op);
		return -ENODEV;
	}
	if (!move_ops.walk || !move_ops.set) {
		snprintf(err, errlen, "no SNMP client in this agent");
		return -ENOSYS;
	}
	if (!(m = move_new(d, sa))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (struct move *o = m->next; o; o = o->next)
		if (same_agent(o, m))
			m->waiting = 1;
	if (!m->waiting)
		start_index(m);
	return 0;
}

/* After a restart: a move that had done everything but its final write is completed; any other is undone. */
static void recover_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	redisc_m.recover_timer = 0;
	for (size_t i = 0; i < redisc_m.ndec; i++) {
		struct redisc_decision *d = &redisc_m.dec[i];
		const struct redisc_storage_agent *sa;
		struct move *m;

		if (d->state != REDISC_ST_IN_PROGRESS)
			continue;
		sa = agent_for(&d->old_portal);
		if (d->step == REDISC_MV_FINISH) {
			d->state = REDISC_ST_DONE;
			redisc_pool_take(&d->new_portal, d->index);
			redisc_decision_persist(d);
			cm_log(CM_LOG_NOTICE, REDISC_TAG, "decision %u: the move had finished before the restart",
			       (unsigned int)d->index);
			publish(REDISC_EV_MOVED, d->index);
			continue;
		}
		if (!sa || !(m = move_new(d, sa))) {
			d->state = REDISC_ST_FAILED;
			snprintf(d->error, sizeof(d->error),
			         "agent restarted during the move; cannot undo: no storage agent");
			redisc_decision_persist(d);
			continue;
		}
		m->row_touched = d->step >= REDISC_MV_CREATE && d->stor_row;
		m->isns_touched = d->step >= REDISC_MV_ISNS;
		snprintf(m->why, sizeof(m->why), "agent restarted during the move; undone");
		m->undoing = 1;
		d->step = REDISC_MV_UNDO;
		redisc_decision_persist(d);
		undo_next(m);
	}
}

void redisc_move_recover(void)
{
	for (size_t i = 0; i < redisc_m.ndec; i++)
		if (redisc_m.dec[i].state == REDISC_ST_DONE)
			redisc_pool_take(&redisc_m.dec[i].new_portal, redisc_m.dec[i].index);
		else if (redisc_m.dec[i].state == REDISC_ST_IN_PROGRESS && !redisc_m.recover_timer)
			redisc_m.recover_timer = cm_ev_timer(1, 0, recover_tick, NULL);
}

void redisc_moves_stop(void)
{
	while (moves)
		move_free(moves);
}
