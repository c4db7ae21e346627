/* remote.c: the redirector's resources and loads read from the storage servers' own sanagent agents over SNMP. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/redirect/redir_int.h"
#include "engines/redirect/redirect.h"
#include "common/array.h"
#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/search.h"

#define TAG "redirect"
/* A discovered target survives this many load intervals unlisted (at least
 * REMOTE_GRACE_MIN_S): an agent restarting or a tgtd being refilled must
 * not make resources flap. */
#define REMOTE_GRACE_ROUNDS 10
#define REMOTE_GRACE_MIN_S 10

/* SANAGENT-SESSION-MIB, storage side: sanStorTargetEntry and sanStorSessionEntry. */
static const uint32_t stor_target_entry[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1, 13, 1};
static const uint32_t stor_session_entry[] = {1, 3, 6, 1, 4, 1, 32473, 1, 3, 1, 1, 15, 1};
#define ENTRY_LEN (sizeof(stor_target_entry) / sizeof(uint32_t))
enum { COL_TGT_NAME = 2, COL_TGT_READ = 5, COL_TGT_WRITE = 6 };
enum { COL_SESS_TARGET = 5, COL_SESS_END = 11 };
#define SESS_END_END 2

struct tgt_row {
	uint32_t tid;
	char name[REDIR_NAME_MAX];
	uint64_t rd, wr;
	int have_name;
};

struct rsrv {
	char name[64];
	char peer[128];
	char *community, *user, *auth, *priv; /* secrets: never logged */
	struct redir_agent_info info;
	/* the last sample, for rates */
	struct tgt_row *prev;
	size_t nprev;
	struct timespec prev_at;
	int have_prev;
	/* the walk in flight */
	struct tgt_row *cur;
	size_t ncur, capcur;
	int busy, ok;
	uint32_t index; /* the engine's server index, resolved at each round */
	uint64_t gen;   /* this entry's generation: callbacks of a replaced entry are dropped */
	/* the host walk in flight (HOST-RESOURCES-MIB) */
	int hbusy;
	uint32_t ram_row; /* hrStorageIndex of "Physical memory", 0 until seen */
	uint64_t ram_size, ram_used;
	int64_t cpu_sum;
	unsigned int ncpu;
};

static const struct redir_agent_ops *ops;
static struct rsrv *srvs;
static size_t nsrvs;
static unsigned int round_timer, first_timer, interval_s;
static int round_reported; /* agents reported since the last round_close */
static uint64_t next_gen = 1;
static int redir_sub; /* bus handle, 0 until subscribed */

void redir_agent_ops_register(const struct redir_agent_ops *o)
{
	ops = o;
}

uint64_t redir_remote_delta(uint64_t prev, uint64_t cur)
{
	return cur >= prev ? cur - prev : cur;
}

uint64_t redir_remote_rate(uint64_t delta, double secs)
{
	double r;

	if (!(secs > 0.01))
		return UINT64_MAX;
	r = (double)delta / secs;
	return r >= 1.8e19 ? UINT64_MAX - 1 : (uint64_t)(r + 0.5);
}

static struct rsrv *rsrv_by_gen(uint64_t gen)
{
	for (size_t i = 0; i < nsrvs; i++)
		if (srvs[i].gen == gen)
			return &srvs[i];
	return NULL;
}

const struct redir_agent_info *redir_server_agent(uint32_t server)
{
	const struct redir_server *s = redir_server_find(server);

	if (!s)
		return NULL;
	/* By the index each round resolved (a walk of the server table asks
	 * for every row), then by name for a server added since. */
	for (size_t i = 0; i < nsrvs; i++)
		if (srvs[i].index == server)
			return &srvs[i].info;
	for (size_t i = 0; i < nsrvs; i++)
		if (strcmp(srvs[i].name, s->name) == 0)
			return &srvs[i].info;
	return NULL;
}

static void peer_of(const struct rsrv *r, struct cm_snmpc_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->peer = r->peer;
	p->community = r->community;
	p->user = r->user;
	p->auth_pass = r->auth;
	p->priv_pass = r->priv;
	p->timeout_ms = 1000;
	p->retries = 1;
}

static void secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void rsrv_free(struct rsrv *r)
{
	secret_free(r->community);
	secret_free(r->user);
	secret_free(r->auth);
	secret_free(r->priv);
	free(r->prev);
	free(r->cur);
	memset(r, 0, sizeof(*r));
}

/* ---- target list walks ------------------------------------------------- */

static int64_t tgt_row_tid(const void *elem)
{
	return ((const struct tgt_row *)elem)->tid;
}

static struct tgt_row *cur_row(struct rsrv *r, uint32_t tid)
{
	/* Each column arrives in tid order: mostly an append. */
	size_t lo = cm_lower_bound(r->cur, r->ncur, sizeof(*r->cur), tid, tgt_row_tid);

	if (lo < r->ncur && r->cur[lo].tid == tid)
		return &r->cur[lo];
	if (cm_grow(&r->cur, &r->capcur, r->ncur, sizeof(*r->cur), 16) < 0)
		return NULL;
	memmove(&r->cur[lo + 1], &r->cur[lo], (r->ncur - lo) * sizeof(*r->cur));
	memset(&r->cur[lo], 0, sizeof(*r->cur));
	r->cur[lo].tid = tid;
	r->ncur++;
	return &r->cur[lo];
}

static int target_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct rsrv *r = rsrv_by_gen((uint64_t)(uintptr_t)arg);
	struct tgt_row *t;
	uint32_t col;

	if (!r)
		return 1;
	if (vb->oidlen != ENTRY_LEN + 2)
		return 0;
	col = vb->oid[ENTRY_LEN];
	if (col != COL_TGT_NAME && col != COL_TGT_READ && col != COL_TGT_WRITE)
		return col > COL_TGT_WRITE; /* nothing of interest after the write bytes */
	if (!(t = cur_row(r, vb->oid[ENTRY_LEN + 1])))
		return 0;
	if (col == COL_TGT_NAME && vb->type == CM_SNMPC_STRING && vb->len && vb->len < sizeof(t->name)) {
		memcpy(t->name, vb->str, vb->len);
		t->name[vb->len] = '\0';
		t->have_name = 1;
	} else if (col == COL_TGT_READ && (vb->type == CM_SNMPC_COUNTER64 || vb->type == CM_SNMPC_UNSIGNED)) {
		t->rd = vb->u;
	} else if (col == COL_TGT_WRITE && (vb->type == CM_SNMPC_COUNTER64 || vb->type == CM_SNMPC_UNSIGNED)) {
		t->wr = vb->u;
	}
	return 0;
}

/* One agent answered or failed: its list and rates go to the engine at
 * once, so a slow or dead agent never holds the others' loads back. */
static void agent_finish(struct rsrv *r)
{
	struct timespec now;
	char **names;
	uint64_t *rates;
	double secs;
	size_t n = 0;

	r->busy = 0;
	if (!r->index)
		return;
	if (!r->ok) {
		r->have_prev = 0;
		redir_agent_report(r->index, 0, NULL, NULL, 0);
		return;
	}
	names = calloc(r->ncur ? r->ncur : 1, sizeof(*names));
	rates = calloc(r->ncur ? r->ncur : 1, sizeof(*rates));
	if (!names || !rates) {
		free(names);
		free(rates);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - r->prev_at.tv_sec) + (double)(now.tv_nsec - r->prev_at.tv_nsec) / 1e9;
	for (size_t j = 0, k = 0; j < r->ncur; j++) {
		const struct tgt_row *t = &r->cur[j];
		uint64_t rate = UINT64_MAX;

		if (!t->have_name)
			continue;
		/* Same tid and name as last time: the same target (a tid may
		 * be reused by a new target in between).  Both lists are in
		 * tid order: one merge pass. */
		while (r->have_prev && k < r->nprev && r->prev[k].tid < t->tid)
			k++;
		if (r->have_prev && k < r->nprev && r->prev[k].tid == t->tid && strcmp(r->prev[k].name, t->name) == 0)
			rate =
			    redir_remote_rate(redir_remote_delta(r->prev[k].rd + r->prev[k].wr, t->rd + t->wr), secs);
		names[n] = r->cur[j].name;
		rates[n++] = rate;
	}
	r->info.targets = (uint32_t)n;
	redir_agent_report(r->index, 1, names, rates, n);
	free(names);
	free(rates);
	/* This sample becomes the previous one. */
	free(r->prev);
	r->prev = r->cur;
	r->nprev = r->ncur;
	r->cur = NULL;
	r->ncur = r->capcur = 0;
	r->prev_at = now;
	r->have_prev = 1;
}

/* Places the targets reported since the last call, drops the ones no
 * agent listed for the grace time, checks the threshold. */
static void round_close(void)
{
	unsigned int grace = interval_s * REMOTE_GRACE_ROUNDS;

	round_reported = 0;
	redir_agent_round(grace < REMOTE_GRACE_MIN_S ? REMOTE_GRACE_MIN_S : grace);
}

static int any_busy(void)
{
	for (size_t i = 0; i < nsrvs; i++)
		if (srvs[i].busy)
			return 1;
	return 0;
}

static void note_result(struct rsrv *r, int rc, const char *why)
{
	int was = r->info.status;

	if (rc == 0) {
		r->info.status = REDIR_AGENT_OK;
		r->info.error[0] = '\0';
		r->info.polls_ok++;
		r->info.last_ok = time(NULL);
		if (was != REDIR_AGENT_OK)
			cm_log(CM_LOG_INFO, TAG, "server %s: its agent %s answers", r->name, r->peer);
		return;
	}
	r->info.status = rc == -ETIMEDOUT ? REDIR_AGENT_TIMEOUT : REDIR_AGENT_ERROR;
	snprintf(r->info.error, sizeof(r->info.error), "%s", why ? why : strerror(-rc));
	r->info.polls_failed++;
	/* One line per change, not one per poll of a dead agent. */
	if (was != r->info.status)
		cm_log(CM_LOG_WARNING, TAG, "server %s: its agent %s: %s", r->name, r->peer, r->info.error);
}

static void target_done(int rc, const char *why, void *arg)
{
	struct rsrv *r = rsrv_by_gen((uint64_t)(uintptr_t)arg);

	if (!r)
		return;
	note_result(r, rc, why);
	r->ok = rc == 0;
	agent_finish(r);
	round_reported = 1;
	if (!any_busy())
		round_close();
}

static void host_walk(struct rsrv *r);

static void round_tick(unsigned int id, void *arg)
{
	struct cm_snmpc_peer p;

	(void)id;
	(void)arg;
	if (!ops)
		return;
	/* Whatever the agents that answered brought is placed now, even while
	 * a slow one is still being waited for. */
	if (round_reported)
		round_close();
	/* An agent still busy is skipped, never waited for: its request has a timeout. */
	for (size_t i = 0; i < nsrvs; i++) {
		struct rsrv *r = &srvs[i];

		if (r->busy)
			continue;
		r->index = redir_server_index_by_name(r->name);
		if (!redir_server_find(r->index))
			continue;
		host_walk(r);
		r->ncur = 0;
		r->ok = 0;
		peer_of(r, &p);
		r->busy = 1;
		if (ops->walk(&p, stor_target_entry, ENTRY_LEN, target_vb, target_done, (void *)(uintptr_t)r->gen) <
		    0) {
			note_result(r, -EIO, "cannot send the request");
			agent_finish(r);
			round_reported = 1;
		}
	}
	if (round_reported && !any_busy())
		round_close();
}

static void first_round(unsigned int id, void *arg)
{
	first_timer = 0;
	round_tick(id, arg);
}

/* ---- the host's processor and memory load (HOST-RESOURCES-MIB) -------------
 * The server's own agent runs under an snmpd, whose HOST-RESOURCES-MIB says
 * how busy its host is: hrProcessorLoad (per processor, % over the last
 * minute) and the hrStorageRam row of hrStorageTable.  The memory row is
 * found by its description, net-snmp's "Physical memory" (hrStorageType is
 * an OID, which the client does not pass on). */
static const uint32_t hr_storage_entry[] = {1, 3, 6, 1, 2, 1, 25, 2, 3, 1};
static const uint32_t hr_processor_load[] = {1, 3, 6, 1, 2, 1, 25, 3, 3, 1, 2};
#define HR_STORAGE_LEN (sizeof(hr_storage_entry) / sizeof(uint32_t))
#define HR_PROC_LEN (sizeof(hr_processor_load) / sizeof(uint32_t))
enum { COL_HR_DESCR = 3, COL_HR_SIZE = 5, COL_HR_USED = 6 };

static int storage_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct rsrv *r = rsrv_by_gen((uint64_t)(uintptr_t)arg);
	uint32_t col, row;

	if (!r)
		return 1;
	if (vb->oidlen != HR_STORAGE_LEN + 2)
		return 0;
	col = vb->oid[HR_STORAGE_LEN];
	row = vb->oid[HR_STORAGE_LEN + 1];
	/* Columns arrive in order: the description before the sizes. */
	if (col == COL_HR_DESCR && !r->ram_row && vb->type == CM_SNMPC_STRING && vb->len == 15 &&
	    memcmp(vb->str, "Physical memory", 15) == 0)
		r->ram_row = row;
	else if (col == COL_HR_SIZE && row == r->ram_row && vb->type == CM_SNMPC_INTEGER && vb->i > 0)
		r->ram_size = (uint64_t)vb->i;
	else if (col == COL_HR_USED && row == r->ram_row && vb->type == CM_SNMPC_INTEGER && vb->i >= 0)
		r->ram_used = (uint64_t)vb->i;
	return col > COL_HR_USED;
}

static int processor_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct rsrv *r = rsrv_by_gen((uint64_t)(uintptr_t)arg);

	if (!r)
		return 1;
	if (vb->oidlen == HR_PROC_LEN + 1 && vb->type == CM_SNMPC_INTEGER && vb->i >= 0 && vb->i <= 100) {
		r->cpu_sum += vb->i;
		r->ncpu++;
	}
	return 0;
}

static void processor_done(int rc, const char *why, void *arg)
{
	struct rsrv *r = rsrv_by_gen((uint64_t)(uintptr_t)arg);
	int cpu, mem;

	(void)why;
	if (!r)
		return;
	r->hbusy = 0;
	cpu = rc == 0 && r->ncpu ? (int)((r->cpu_sum + r->ncpu / 2) / r->ncpu) : -1;
	mem =
	    r->ram_size && r->ram_used <= r->ram_size ? (int)((r->ram_used * 100 + r->ram_size / 2) / r->ram_size) : -1;
	if (r->index && redir_server_find(r->index))
		redir_host_report(r->index, cpu, mem);
}

static void storage_done(int rc, const char *why, void *arg)
{
	struct rsrv *r = rsrv_by_gen((uint64_t)(uintptr_t)arg);
	struct cm_snmpc_peer p;

	(void)why;
	if (!r)
		return;
	if (rc < 0)
		r->ram_size = 0;
	peer_of(r, &p);
	if (!ops || ops->walk(&p, hr_processor_load, HR_PROC_LEN, processor_vb, processor_done, arg) < 0)
		processor_done(-EIO, NULL, arg);
}

static void host_walk(struct rsrv *r)
{
	struct cm_snmpc_peer p;

	if (r->hbusy)
		return;
	r->ram_row = 0;
	r->ram_size = r->ram_used = 0;
	r->cpu_sum = 0;
	r->ncpu = 0;
	peer_of(r, &p);
	r->hbusy = 1;
	if (ops->walk(&p, hr_storage_entry, HR_STORAGE_LEN, storage_vb, storage_done, (void *)(uintptr_t)r->gen) < 0) {
		r->hbusy = 0;
		redir_host_report(r->index, -1, -1);
	}
}

/* ---- ending a moved resource's sessions on its old server ----------------- */

struct end_ctx {
	uint64_t gen;
	char target[REDIR_NAME_MAX];
	uint32_t (*ids)[2];
	size_t n, cap;
};

static int session_vb(const struct cm_snmpc_vb *vb, void *arg)
{
	struct end_ctx *c = arg;

	if (vb->oidlen != ENTRY_LEN + 3 || vb->oid[ENTRY_LEN] != COL_SESS_TARGET)
		return vb->oidlen > ENTRY_LEN && vb->oid[ENTRY_LEN] > COL_SESS_TARGET;
	if (vb->type != CM_SNMPC_STRING || vb->len != strlen(c->target) || memcmp(vb->str, c->target, vb->len))
		return 0;
	if (cm_grow(&c->ids, &c->cap, c->n, sizeof(*c->ids), 8) < 0)
		return 0;
	c->ids[c->n][0] = vb->oid[ENTRY_LEN + 1];
	c->ids[c->n][1] = vb->oid[ENTRY_LEN + 2];
	c->n++;
	return 0;
}

struct set_ctx {
	uint64_t gen;
	char target[REDIR_NAME_MAX];
	uint32_t tid, sid;
};

static void end_set_done(int rc, const char *why, void *arg)
{
	struct set_ctx *c = arg;
	struct rsrv *r = rsrv_by_gen(c->gen);

	if (r && rc == 0)
		cm_log(CM_LOG_INFO, TAG, "server %s: session %u.%u of %s ended through its agent", r->name, c->tid,
		       c->sid, c->target);
	else if (r)
		cm_log(CM_LOG_WARNING, TAG, "server %s: cannot end session %u.%u of %s through its agent: %s", r->name,
		       c->tid, c->sid, c->target, why ? why : strerror(-rc));
	free(c);
}

static void end_walk_done(int rc, const char *why, void *arg)
{
	struct end_ctx *c = arg;
	struct rsrv *r = rsrv_by_gen(c->gen);
	struct cm_snmpc_peer p;

	if (!r || !ops) {
		free(c->ids);
		free(c);
		return;
	}
	if (rc < 0) {
		cm_log(CM_LOG_WARNING, TAG, "server %s: cannot list the sessions of %s through its agent: %s", r->name,
		       c->target, why ? why : strerror(-rc));
	} else if (!c->n) {
		cm_log(CM_LOG_INFO, TAG, "server %s: no session of %s to end", r->name, c->target);
	}
	peer_of(r, &p);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		uint32_t o[ENTRY_LEN + 3];
		struct set_ctx *sc = calloc(1, sizeof(*sc));
		int src;

		if (!sc)
			break;
		sc->gen = c->gen;
		sc->tid = c->ids[i][0];
		sc->sid = c->ids[i][1];
		snprintf(sc->target, sizeof(sc->target), "%s", c->target);
		memcpy(o, stor_session_entry, sizeof(stor_session_entry));
		o[ENTRY_LEN] = COL_SESS_END;
		o[ENTRY_LEN + 1] = sc->tid;
		o[ENTRY_LEN + 2] = sc->sid;
		if ((src = ops->set_int(&p, o, ENTRY_LEN + 3, SESS_END_END, end_set_done, sc)) < 0) {
			cm_log(CM_LOG_WARNING, TAG, "server %s: cannot end session %u.%u of %s: %s", r->name, sc->tid,
			       sc->sid, c->target,
			       src == -EPERM ? "no agent_user (SETs go over SNMPv3 authPriv only)" : strerror(-src));
			free(sc);
		}
	}
	free(c->ids);
	free(c);
}

/* A resource left a server: its initiators there must log in again
 * through the portal.  Local servers are handled through tgtadm
 * (tgt_control); remote ones through their agent's sanStorSessionEnd. */
static void on_event(int topic, const void *data, void *arg)
{
	const struct redir_event *ev = data;
	const struct redir_resource *res;
	const struct redir_server *old;
	struct rsrv *r;
	struct end_ctx *c;
	struct cm_snmpc_peer p;
	uint32_t root[ENTRY_LEN + 1];

	(void)topic;
	(void)arg;
	if (ev->type != REDIR_EV_RESOURCE_REMAPPED || !ops || !ev->b)
		return;
	res = redir_resource_find(ev->a);
	old = redir_server_find(ev->b);
	if (!res || !old || old->tgt_control >= 0)
		return;
	r = NULL;
	for (size_t i = 0; i < nsrvs && !r; i++)
		if (strcmp(srvs[i].name, old->name) == 0)
			r = &srvs[i];
	if (!r)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->gen = r->gen;
	snprintf(c->target, sizeof(c->target), "%s", res->target);
	memcpy(root, stor_session_entry, sizeof(stor_session_entry));
	root[ENTRY_LEN] = COL_SESS_TARGET;
	peer_of(r, &p);
	if (ops->walk(&p, root, ENTRY_LEN + 1, session_vb, end_walk_done, c) < 0) {
		cm_log(CM_LOG_WARNING, TAG, "server %s: cannot ask its agent for the sessions of %s", r->name,
		       res->target);
		free(c);
	}
}

/* ---- configuration ----------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

void redir_remote_stop(void)
{
	cm_ev_cancel(round_timer);
	cm_ev_cancel(first_timer);
	round_timer = first_timer = 0;
	round_reported = 0;
	if (ops && ops->cancel_all)
		ops->cancel_all();
	for (size_t i = 0; i < nsrvs; i++)
		rsrv_free(&srvs[i]);
	free(srvs);
	srvs = NULL;
	nsrvs = 0;
}

int redir_remote_start(const struct sa_redirect_config *rc)
{
	size_t n = 0;

	/* Requests in flight belong to the old settings: a reload starts over. */
	redir_remote_stop();
	for (size_t i = 0; i < rc->nservers; i++)
		if (rc->servers[i].agent && rc->servers[i].agent[0])
			n++;
	if (!n)
		return 0;
	if (!ops) {
		cm_log(CM_LOG_WARNING, TAG, "servers name agents, but no SNMP client is available here; ignored");
		return -ENOTSUP;
	}
	srvs = calloc(n, sizeof(*srvs));
	if (!srvs)
		return -ENOMEM;
	for (size_t i = 0; i < rc->nservers; i++) {
		const struct sa_redir_server_cfg *c = &rc->servers[i];
		struct rsrv *r;

		if (!c->agent || !c->agent[0])
			continue;
		r = &srvs[nsrvs++];
		snprintf(r->name, sizeof(r->name), "%s", c->name);
		snprintf(r->peer, sizeof(r->peer), "%s", c->agent);
		snprintf(r->info.peer, sizeof(r->info.peer), "%s", c->agent);
		r->community = dup_or_null(c->agent_community);
		r->user = dup_or_null(c->agent_user);
		r->auth = dup_or_null(c->agent_auth_passphrase);
		r->priv = dup_or_null(c->agent_priv_passphrase);
		r->info.status = REDIR_AGENT_UNKNOWN;
		r->gen = next_gen++;
	}
	if (!redir_sub) {
		int h = bus_subscribe(BUS_REDIRECT, on_event, NULL);

		if (h < 0)
			return h;
		redir_sub = h;
	}
	interval_s = redir_params()->load_interval_s ? redir_params()->load_interval_s : 1;
	round_timer = cm_ev_timer(interval_s * 1000u, 1, round_tick, NULL);
	/* The first round on the loop's first turn, not an interval later:
	 * resources should not wait.  Not from here: sanagentd starts its
	 * engines before net-snmp's init_snmp() registers the SNMPv3 security
	 * model a request needs. */
	first_timer = cm_ev_timer(1, 0, first_round, NULL);
	return round_timer && first_timer ? 0 : -ENOMEM;
}
