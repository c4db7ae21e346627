/* sp_team.c: a team of paths to one LU: dispatch by share, queueing, failover, failback and the shm segment. */
#define _GNU_SOURCE /* POLLRDHUP */
#include "iscsi/sp_team_private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define TAG "sanpath"
#define MS (1000000ull)
#define TIMER_TICK_MS 10
/* epoll data of the team's own fds; a session's is its path index. */
#define WATCH_TICK 0xfffffff0u
#define WATCH_WAKE 0xfffffff1u

void sp_team_opts_default(struct sp_team_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->name = "team";
	o->initiator = SP_DEFAULT_INITIATOR;
	o->lun = 0;
	o->mode = SP_MODE_FAILOVER_LB;
	o->algo = SP_ALGO_STATIC;
	o->dyn.timer_interval_ms = 1000;
	o->dyn.change_threshold = 5;
	o->dyn.lb_change_pct = 5;
	o->max_inflight = 32;
	/* Silent loss is seen within nop_interval + nop_timeout: about 1 s. */
	o->nop_interval_ms = 250;
	o->nop_timeout_ms = 750;
	o->cmd_timeout_ms = 1000;
	o->login_timeout_ms = 3000;
	o->no_path_retry_s = 5;
	o->reconnect_min_ms = 200;
	o->reconnect_max_ms = 5000;
	o->failback = SP_FAILBACK_IMMEDIATE;
	o->failback_delay_ms = 5000;
	o->flap_count = 3;
	o->flap_window_ms = 30000;
	o->flap_hold_ms = 10000;
	o->report_ms = 1000;
	/* A path silent for 4 x its p99, and at least 20 ms, takes no new
	 * commands: on a LAN a healthy path answers within a few ms, and the
	 * application's window must not drain into a dead path for longer. */
	o->suspect = 1;
	o->suspect_k = 4;
	o->suspect_floor_ms = 20;
}

const char *sp_path_state_name(int state)
{
	switch (state) {
	case SP_PATH_IDLE: return "idle";
	case SP_PATH_CONNECTING: return "connecting";
	case SP_PATH_STANDBY: return "standby";
	case SP_PATH_ACTIVE: return "active";
	case SP_PATH_DOWN: return "down";
	case SP_PATH_REFUSED: return "refused";
	case SP_PATH_SUSPECT: return "suspect";
	case SP_PATH_REMOVED: return "removed";
	default: return "?";
	}
}

/* ---- CHAP credentials and login results ---------------------------------- */

const char *sp_login_result_name(int r)
{
	static const char *const n[] = {"?",
	                                "none",
	                                "success",
	                                "connectionFailed",
	                                "initiatorError",
	                                "targetNotFound",
	                                "authenticationFailure",
	                                "loginFailed",
	                                "serviceUnavailable",
	                                "redirected"};

	return r >= SP_LOGIN_NONE && r <= SP_LOGIN_REDIRECTED ? n[r] : n[0];
}

static void wipe_str(char *s)
{
	if (s)
		sp_chap_wipe_mem(s, strlen(s));
	free(s);
}

/* ---- team ----------------------------------------------------------------- */

static int dup_opt(char **dst, const char *v)
{
	*dst = NULL;
	if (!v || !*v)
		return 0;
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

int sp_team_new(struct sp_team **out, const struct sp_team_opts *o)
{
	struct sp_team *t;
	struct timespec ts;

	if (!o->target || !*o->target || o->lun < 0 || !o->max_inflight)
		return -EINVAL;
	/* CHAP needs a secret; mutual CHAP needs one-way CHAP first (libiscsi). */
	if ((o->chap_user && *o->chap_user && (!o->chap_secret || !*o->chap_secret)) ||
	    (o->chap_target_user && *o->chap_target_user &&
	     (!o->chap_user || !*o->chap_user || !o->chap_target_secret || !*o->chap_target_secret)))
		return -EINVAL;
	if (o->mode != SP_MODE_FAILOVER && o->mode != SP_MODE_FAILOVER_LB)
		return -EINVAL;
	if (o->algo < SP_ALGO_STATIC || o->algo > SP_ALGO_SERVICE_TIME)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->epoll_fd = t->tick_fd = -1;
	t->wake_fd = t->watched_wake_fd = -1;
	t->o = *o;
	t->name = strdup(o->name ? o->name : "team");
	t->target = strdup(o->target);
	t->initiator = strdup(o->initiator ? o->initiator : SP_DEFAULT_INITIATOR);
	t->shm_dir = o->shm_dir ? strdup(o->shm_dir) : NULL;
	if (!t->name || !t->target || !t->initiator || (o->shm_dir && !t->shm_dir) ||
	    dup_opt(&t->chap_user, o->chap_user) || dup_opt(&t->chap_secret, o->chap_secret) ||
	    dup_opt(&t->chap_target_user, o->chap_target_user) ||
	    dup_opt(&t->chap_target_secret, o->chap_target_secret)) {
		sp_team_free(t);
		return -ENOMEM;
	}
	/* The copies are the team's: callers may wipe theirs. */
	t->o.chap_user = t->chap_user;
	t->o.chap_secret = t->chap_secret;
	t->o.chap_target_user = t->chap_target_user;
	t->o.chap_target_secret = t->chap_target_secret;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->isid_rnd =
	    (uint32_t)(((uint64_t)getpid() * 2654435761u) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec) & 0xffffff;
	t->o.name = t->name;
	t->o.target = t->target;
	t->o.initiator = t->initiator;
	t->o.shm_dir = t->shm_dir;
	if (!t->o.report_ms)
		t->o.report_ms = 1000;
	t->bal.mode = o->mode;
	t->bal.algo = o->algo;
	t->team_state = SP_TEAM_FAILED;
	*out = t;
	return 0;
}

static void membership_changed(struct sp_team *t);
static void dispatch(struct sp_team *t);

int sp_team_add_path(struct sp_team *t, const struct sp_path_opts *po)
{
	struct sp_path *p;
	int d;

	if (t->npaths >= SP_MAX_PATHS)
		return -ENOSPC;
	if (!po->portal || !*po->portal || strlen(po->portal) >= sizeof(t->path[0].portal) ||
	    (po->iface && strlen(po->iface) >= sizeof(t->path[0].iface)))
		return -EINVAL;
	p = &t->path[t->npaths];
	sp_path_init(p, t, (int)t->npaths, po);
	t->npaths++;
	if (!t->started)
		return p->idx;
	/* A path joining a running team: no share until the operator gives it
	 * one, and it carries nothing before its identity check passed
	 * (sp_team_path_verified refuses another LU). */
	for (d = 0; d < 2; d++)
		t->share[d][p->idx] = 0;
	memset(&t->bal.path[p->idx], 0, sizeof(t->bal.path[p->idx]));
	t->bal.npaths = t->npaths;
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s): added to the running team", t->name, p->idx + 1, p->portal);
	sp_path_connect(p);
	membership_changed(t);
	return p->idx;
}

int sp_team_path_remove(struct sp_team *t, unsigned int i)
{
	struct sp_path *p;

	if (i >= t->npaths)
		return -ENOENT;
	p = &t->path[i];
	if (p->removed)
		return 0;
	p->removed = 1;
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s): leaving the team once its %u commands in flight finish",
	       t->name, p->idx + 1, p->portal, p->inflight);
	t->admin_seen |= 1u << i;
	/* The logout drains: out of service at once, in-flight commands finish, then Logout. */
	sp_path_logout(p);
	if ((p->state == SP_PATH_IDLE && !p->ctx) || p->state == SP_PATH_REFUSED || p->state == SP_PATH_DOWN)
		sp_path_set_state(p, SP_PATH_REMOVED);
	membership_changed(t);
	dispatch(t);
	return 0;
}

int sp_team_set_failback(struct sp_team *t, int failback, unsigned int delay_ms, unsigned int flap_count,
                         unsigned int flap_window_ms, unsigned int flap_hold_ms)
{
	if (failback < SP_FAILBACK_IMMEDIATE || failback > SP_FAILBACK_DELAYED || flap_count > 8 ||
	    (flap_count && !flap_window_ms))
		return -EINVAL;
	t->o.failback = failback;
	t->o.failback_delay_ms = delay_ms;
	t->o.flap_count = flap_count;
	t->o.flap_window_ms = flap_window_ms;
	t->o.flap_hold_ms = flap_hold_ms;
	return 0;
}

/* ---- membership: which paths carry I/O ---------------------------------- */

static int path_in_service(const struct sp_path *p)
{
	return p->state == SP_PATH_ACTIVE && p->ctx && !p->fail_pending && !p->refuse_pending;
}

/* In service and answering: a suspect path takes no new commands. */
static int path_usable(const struct sp_path *p)
{
	return path_in_service(p) && !p->suspect;
}

/* The configured primary is the path holding a 100% share, else path 1. */
static int configured_primary(const struct sp_team *t)
{
	unsigned int i;
	int d;

	for (d = 0; d < 2; d++)
		for (i = 0; i < t->npaths; i++)
			if (t->share[d][i] == 100)
				return (int)i;
	return 0;
}

static int effective_primary(const struct sp_team *t)
{
	int cp = configured_primary(t);
	unsigned int i;

	if (path_usable(&t->path[cp]))
		return cp;
	for (i = 0; i < t->npaths; i++)
		if (path_usable(&t->path[i]))
			return (int)i;
	/* Every path in service is suspect (sp_suspect.c keeps one out of it). */
	if (path_in_service(&t->path[cp]))
		return cp;
	for (i = 0; i < t->npaths; i++)
		if (path_in_service(&t->path[i]))
			return (int)i;
	return -1;
}

static void publish(struct sp_team *t);
static void drain_path_queues(struct sp_team *t);
static void close_loop_fds(struct sp_team *t);

static void update_team_state(struct sp_team *t)
{
	unsigned int i, up = 0, want = 0;
	int st;

	for (i = 0; i < t->npaths; i++) {
		/* Refused and logged-out paths are not expected to carry I/O. */
		if (t->path[i].state == SP_PATH_REFUSED || t->path[i].admin_down)
			continue;
		want++;
		if (path_in_service(&t->path[i]) || (t->path[i].state == SP_PATH_STANDBY && !t->path[i].held))
			up++;
	}
	st = up == 0 ? SP_TEAM_FAILED : up == want ? SP_TEAM_OPTIMAL : SP_TEAM_DEGRADED;
	if (st != t->team_state && t->started)
		cm_log(st == SP_TEAM_OPTIMAL ? CM_LOG_NOTICE : CM_LOG_WARNING, TAG,
		       "team %s: %s (%u of %u paths in service)", t->name,
		       st == SP_TEAM_OPTIMAL    ? "optimal"
		       : st == SP_TEAM_DEGRADED ? "degraded"
		                                : "failed",
		       up, want);
	t->team_state = st;
}

/* Paths came or went: the byte counts restart, or a returning path would
 * get every command until its DataPathBytes caught up with the others. */
static void membership_changed(struct sp_team *t)
{
	int d, prim = effective_primary(t);
	unsigned int i;

	for (d = 0; d < 2; d++)
		sp_lb_set_shares(&t->bal, d, t->share[d]);
	for (i = 0; i < t->npaths; i++)
		t->bal.path[i].primary = (int)i == prim;
	drain_path_queues(t);
	if (prim >= 0)
		t->t_nopath_since = 0;
	update_team_state(t);
	/* Readers see path and share changes at once, not at the next report. */
	publish(t);
}

/* ---- dispatch ---------------------------------------------------------- */

/*
 * Under the dynamic algorithm (LB mode) a command goes to the path the
 * selector picks even when that path is full: it waits in the path's own
 * queue, already accounted.  Handing it to another path instead (work
 * conserving) makes the fast path soak up the overflow and the seed's
 * adjustment then cuts the fast path's share: it diverges (shares.c, top
 * comment).  The other algorithms keep stepping a full path aside.
 */
static int queue_on_path(const struct sp_team *t)
{
	return t->bal.algo == SP_ALGO_DYNAMIC && t->bal.mode == SP_MODE_FAILOVER_LB;
}

/* The command no longer counts against its path in the selector: it
 * completed (service_ns > 0 feeds the service-time EWMA) or was withdrawn
 * to be re-issued (service_ns 0). */
static void unaccount(struct sp_team *t, struct sp_io *io, uint64_t service_ns)
{
	if (io->path >= 0)
		sp_lb_complete(&t->bal, io->path, io->dir, io->nblocks * t->block_size, service_ns);
	io->path = -1;
	io->slot = -1;
}

static void team_push_head(struct sp_team *t, struct sp_io *io)
{
	io->next = t->q_head;
	t->q_head = io;
	if (!t->q_tail)
		t->q_tail = io;
	t->queued++;
}

static struct sp_io *team_pop(struct sp_team *t)
{
	struct sp_io *io = t->q_head;

	if (!io)
		return NULL;
	t->q_head = io->next;
	if (!t->q_head)
		t->q_tail = NULL;
	t->queued--;
	io->next = NULL;
	return io;
}

/* A path that may no longer hold waiting commands (out of service, mode or
 * algorithm changed) hands them back to the head of the team queue, in
 * order: they were submitted before anything still waiting there. */
static void drain_path_queue(struct sp_team *t, struct sp_path *p)
{
	struct sp_io *io;

	if (!p->wq_head)
		return;
	for (io = p->wq_head; io; io = io->next)
		unaccount(t, io, 0);
	p->wq_tail->next = t->q_head;
	if (!t->q_head)
		t->q_tail = p->wq_tail;
	t->q_head = p->wq_head;
	t->queued += p->wqueued;
	p->wq_head = p->wq_tail = NULL;
	p->wqueued = 0;
}

static void drain_path_queues(struct sp_team *t)
{
	unsigned int i;

	for (i = 0; i < t->npaths; i++)
		if (!queue_on_path(t) || !path_usable(&t->path[i]))
			drain_path_queue(t, &t->path[i]);
}

static int pick_path(struct sp_team *t, struct sp_io *io)
{
	uint32_t len = io->nblocks * t->block_size;
	unsigned int i, max = t->o.max_inflight;
	int sel, prim = -1, wait_ok = queue_on_path(t);

	uint32_t avoid = io->tried == ~0u ? 0 : io->tried;

	for (i = 0; i < t->npaths; i++) {
		struct sp_path *p = &t->path[i];
		int ok = path_usable(p) && !((avoid >> i) & 1);

		if (ok && (t->bal.path[i].primary || avoid))
			prim = (int)i;
		/* In failover mode only the primary may carry I/O, even when it
		 * is full (a command that had a medium error on it tries the
		 * others); under dynamic LB a full path keeps its turn (the
		 * command waits for it); otherwise a full path steps aside. */
		if (t->bal.mode == SP_MODE_FAILOVER)
			t->bal.path[i].usable = ok && (t->bal.path[i].primary || avoid);
		else if (wait_ok)
			t->bal.path[i].usable = ok;
		else
			t->bal.path[i].usable = ok && p->inflight < max;
	}
	if (t->bal.mode == SP_MODE_FAILOVER && prim < 0)
		sel = -1;
	else
		sel = sp_lb_select(&t->bal, io->dir, len);
	if (sel < 0 && avoid) {
		/* Every path it has not tried is gone: it goes where it can, and
		 * its next medium error is the application's. */
		io->tried = ~0u;
		return pick_path(t, io);
	}
	if (sel < 0 || sel >= (int)t->npaths || !path_usable(&t->path[sel]))
		return -1;
	if (!wait_ok && t->path[sel].inflight >= max)
		return -1;
	sp_lb_account(&t->bal, sel, io->dir, len);
	io->path = sel;
	return sel;
}

static void dispatch(struct sp_team *t)
{
	struct sp_io *io;
	struct sp_path *p;
	unsigned int i;
	int sel;

	if (t->in_service)
		return;
	t->in_service++;
	/* Commands waiting for their own path go first: they were assigned earlier. */
	for (i = 0; i < t->npaths; i++) {
		p = &t->path[i];
		while ((io = p->wq_head) && p->nfree && path_usable(p)) {
			p->wq_head = io->next;
			if (!p->wq_head)
				p->wq_tail = NULL;
			p->wqueued--;
			io->next = NULL;
			if (sp_path_issue(p, io) < 0) {
				/* The path is marked failing; its queue drains when it fails. */
				unaccount(t, io, 0);
				team_push_head(t, io);
			}
		}
	}
	while (t->q_head) {
		sel = pick_path(t, t->q_head);
		if (sel < 0)
			break;
		io = team_pop(t);
		p = &t->path[sel];
		if (p->wq_head || !p->nfree) {
			/* Dynamic LB: wait for the chosen path, already accounted. */
			if (p->wq_tail)
				p->wq_tail->next = io;
			else
				p->wq_head = io;
			p->wq_tail = io;
			p->wqueued++;
			continue;
		}
		if (sp_path_issue(p, io) < 0) {
			/* The path is marked failing; the command waits for another. */
			unaccount(t, io, 0);
			team_push_head(t, io);
		}
	}
	t->in_service--;
}

int sp_team_untried_path(const struct sp_team *t, const struct sp_io *io)
{
	for (unsigned int i = 0; i < t->npaths; i++)
		if (path_usable(&t->path[i]) && !((io->tried >> i) & 1))
			return 1;
	return 0;
}

void sp_team_unaccount(struct sp_team *t, struct sp_io *io)
{
	unaccount(t, io, 0);
}

void sp_team_push_head(struct sp_team *t, struct sp_io *io)
{
	team_push_head(t, io);
}

int sp_team_unqueue(struct sp_team *t, struct sp_io *io)
{
	struct sp_io **pp, *prev = NULL;
	unsigned int i;

	for (pp = &t->q_head; *pp; prev = *pp, pp = &(*pp)->next)
		if (*pp == io) {
			*pp = io->next;
			if (t->q_tail == io)
				t->q_tail = prev;
			t->queued--;
			io->next = NULL;
			return 0;
		}
	for (i = 0; i < t->npaths; i++) {
		struct sp_path *p = &t->path[i];

		prev = NULL;
		for (pp = &p->wq_head; *pp; prev = *pp, pp = &(*pp)->next)
			if (*pp == io) {
				*pp = io->next;
				if (p->wq_tail == io)
					p->wq_tail = prev;
				p->wqueued--;
				io->next = NULL;
				unaccount(t, io, 0);
				return 0;
			}
	}
	return -ENOENT;
}

/*
 * The write ordering rule: a write that was handed to a session is re-issued
 * elsewhere only once that session can no longer deliver it.  The session is
 * gone (drop_session: the socket aborted with RST, so no retransmission of
 * ours reaches the target), and the command timeout has passed since, so a
 * copy the target already had queued has run or been dropped before ours
 * arrives elsewhere.  Until then the write stays outstanding for the
 * application (it has no answer), and nothing else of ours overtakes it at
 * the target: a later write to the same blocks is the application's, issued
 * after this one completed.
 */
void sp_team_fence(struct sp_team *t, struct sp_io *io)
{
	unaccount(t, io, 0);
	io->t_fence = sp_now_ns() + (uint64_t)t->o.cmd_timeout_ms * MS;
	io->next = NULL;
	if (t->f_tail)
		t->f_tail->next = io;
	else
		t->f_head = io;
	t->f_tail = io;
	t->fenced++;
}

/* Fenced writes whose time has come go to the head of the queue, in order. */
static void release_fenced(struct sp_team *t, uint64_t now)
{
	struct sp_io *head = NULL, *tail = NULL, *io;

	while ((io = t->f_head) && now >= io->t_fence) {
		t->f_head = io->next;
		if (!t->f_head)
			t->f_tail = NULL;
		t->fenced--;
		io->next = NULL;
		if (tail)
			tail->next = io;
		else
			head = io;
		tail = io;
	}
	if (!head)
		return;
	for (io = head; io; io = io->next)
		t->queued++;
	tail->next = t->q_head;
	if (!t->q_head)
		t->q_tail = tail;
	t->q_head = head;
}

void sp_team_requeue(struct sp_team *t, struct sp_io *io)
{
	/* At the head: it was issued before anything still waiting. */
	unaccount(t, io, 0);
	team_push_head(t, io);
}

void sp_team_retry(struct sp_team *t, struct sp_io *io)
{
	sp_team_requeue(t, io);
	dispatch(t);
}

void sp_team_complete(struct sp_team *t, struct sp_path *p, struct sp_io *io, int status)
{
	uint64_t len = (uint64_t)io->nblocks * t->block_size;
	uint64_t now = sp_now_ns();

	/* A hedged read's other copy may still be in flight: its data goes
	 * to the bounce buffer from now on, the caller's buffer is theirs. */
	sp_suspect_release_shadow(io);
	unaccount(t, io, now > io->t_issue ? now - io->t_issue : 1);
	t->outstanding--;
	if (status == 0) {
		p->bytes[io->dir] += len;
		p->cmds[io->dir]++;
		p->win_bytes[io->dir] += len;
		t->total_bytes[io->dir] += len;
	} else {
		t->app_errors++;
	}
	if (io->cb)
		io->cb(io, status, io->priv);
}

void sp_team_hedge_won(struct sp_team *t, struct sp_path *p, struct sp_io *io)
{
	if (io->path >= 0 && io->slot >= 0) {
		struct sp_slot *s = &t->path[io->path].slots[io->slot];

		sp_slot_orphan(s, io->hedge_buf);
		io->hedge_buf = NULL;
		unaccount(t, io, 0);
	} else if (sp_team_unqueue(t, io) < 0) {
		cm_log(CM_LOG_ERR, TAG, "team %s: a hedged read was in no queue", t->name);
	}
	sp_team_complete(t, p, io, 0);
}

/* ---- path events --------------------------------------------------------- */

static int should_hold(struct sp_team *t, struct sp_path *p)
{
	unsigned int i;
	int others = 0;

	for (i = 0; i < t->npaths; i++)
		if (&t->path[i] != p && path_in_service(&t->path[i]))
			others = 1;
	/* With nothing else carrying I/O, any verified path is taken at once. */
	if (!others)
		return 0;
	if (p->damped)
		return 1;
	/* Only a path that failed before is failing back; first logins go straight in. */
	if (!p->failures)
		return 0;
	return t->o.failback != SP_FAILBACK_IMMEDIATE;
}

void sp_team_path_verified(struct sp_team *t, struct sp_path *p)
{
	char a[40], b[40]; /* ids are shown truncated */

	if (!t->ident_len) {
		memcpy(t->ident, p->ident, p->ident_len);
		t->ident_len = p->ident_len;
		t->block_size = p->block_size;
		t->nblocks = p->nblocks;
	} else if (t->ident_len != p->ident_len || memcmp(t->ident, p->ident, p->ident_len) != 0) {
		sp_path_ident_hex(t->ident, t->ident_len, a, sizeof(a));
		sp_path_ident_hex(p->ident, p->ident_len, b, sizeof(b));
		snprintf(p->fail_reason, sizeof(p->fail_reason), "reaches a different LU (team id %s, path id %s)", a,
		         b);
		p->refuse_pending = 1;
		return;
	} else if (p->block_size != t->block_size || p->nblocks != t->nblocks) {
		snprintf(p->fail_reason, sizeof(p->fail_reason),
		         "same LU id but a different geometry (%u x %llu, team %u x %llu)", p->block_size,
		         (unsigned long long)p->nblocks, t->block_size, (unsigned long long)t->nblocks);
		p->refuse_pending = 1;
		return;
	}
	p->t_healthy = sp_now_ns();
	p->t_nop_next = p->t_healthy + (uint64_t)t->o.nop_interval_ms * MS;
	p->nop_outstanding = 0;
	p->first_attempt_done = 1;
	p->held = should_hold(t, p);
	sp_path_set_state(p, p->held ? SP_PATH_STANDBY : SP_PATH_ACTIVE);
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s) %s%s", t->name, p->idx + 1, p->portal,
	       p->failures ? "recovered" : "logged in and verified",
	       p->held ? (p->damped                             ? ", held in standby (flap damping)"
	                  : t->o.failback == SP_FAILBACK_MANUAL ? ", waiting for manual failback"
	                                                        : ", failback after the delay")
	               : "");
	membership_changed(t);
	dispatch(t);
}

void sp_team_paths_changed(struct sp_team *t)
{
	membership_changed(t);
	dispatch(t);
}

void sp_team_path_lost(struct sp_team *t, struct sp_path *p)
{
	(void)p;
	membership_changed(t);
	dispatch(t);
}

static void refuse(struct sp_team *t, struct sp_path *p)
{
	cm_log(CM_LOG_ERR, TAG, "team %s path %d (%s, target %s lun %d) refused: %s", t->name, p->idx + 1, p->portal,
	       p->target, p->lun, p->fail_reason);
	snprintf(p->last_error, sizeof(p->last_error), "refused: %s", p->fail_reason);
	/* Logged in, but to the wrong unit: the login as a whole failed. */
	p->login_result = SP_LOGIN_FAILED;
	p->login_status = 0;
	p->login_time_rt = 0;
	p->src_addr[0] = '\0';
	p->src_port = 0;
	sp_path_close(p);
	p->refuse_pending = 0;
	p->fail_pending = 0;
	p->first_attempt_done = 1;
	sp_path_set_state(p, SP_PATH_REFUSED);
	membership_changed(t);
}

static void release(struct sp_team *t, struct sp_path *p, const char *why)
{
	p->held = 0;
	p->damped = 0;
	sp_path_set_state(p, SP_PATH_ACTIVE);
	cm_log(CM_LOG_NOTICE, TAG, "team %s path %d (%s) back in service: %s", t->name, p->idx + 1, p->portal, why);
	membership_changed(t);
}

int sp_team_failback(struct sp_team *t, int path)
{
	unsigned int i;
	int n = 0;

	if (path >= (int)t->npaths)
		return -ENOENT;
	for (i = 0; i < t->npaths; i++) {
		if (path >= 0 && (int)i != path)
			continue;
		if (t->path[i].state == SP_PATH_STANDBY && t->path[i].held) {
			release(t, &t->path[i], "manual failback");
			n++;
		}
	}
	dispatch(t);
	return n;
}

/* ---- verbs --------------------------------------------------------------- */

int sp_team_set_shares(struct sp_team *t, int dir, const unsigned int *shares)
{
	int rc;

	if (dir != SP_READ && dir != SP_WRITE)
		return -EINVAL;
	rc = sp_lb_validate_shares(shares, t->npaths);
	if (rc)
		return rc;
	memcpy(t->share[dir], shares, t->npaths * sizeof(*shares));
	rc = sp_lb_set_shares(&t->bal, dir, t->share[dir]);
	membership_changed(t);
	return rc;
}

int sp_team_set_mode(struct sp_team *t, int mode)
{
	if (mode != SP_MODE_FAILOVER && mode != SP_MODE_FAILOVER_LB)
		return -EINVAL;
	t->bal.mode = mode;
	t->o.mode = mode;
	membership_changed(t);
	return 0;
}

static void sync_shares_from_bal(struct sp_team *t)
{
	unsigned int i;
	int d;

	for (d = 0; d < 2; d++)
		for (i = 0; i < t->npaths; i++)
			t->share[d][i] = t->bal.path[i].share[d];
}

int sp_team_set_algo(struct sp_team *t, int algo)
{
	if (algo < SP_ALGO_STATIC || algo > SP_ALGO_SERVICE_TIME)
		return -EINVAL;
	if (algo != t->bal.algo) {
		sp_lb_switch_algo(&t->bal, algo);
		sync_shares_from_bal(t);
	}
	t->bal.algo = algo;
	t->o.algo = algo;
	drain_path_queues(t);
	t->t_dyn_next = sp_now_ns() + (uint64_t)t->o.dyn.timer_interval_ms * MS;
	return 0;
}

int sp_team_set_dynamic(struct sp_team *t, const struct sp_lb_dynamic *d)
{
	int rc = sp_lb_validate_dynamic(d);

	if (rc)
		return rc;
	t->o.dyn = *d;
	return 0;
}

/* ---- shared memory ------------------------------------------------------- */

static void ctl_fill(const struct sp_team *t, struct sp_shm_ctl *c)
{
	unsigned int i;
	int d;

	memset(c, 0, sizeof(*c));
	c->mode = (uint32_t)t->bal.mode;
	c->algo = (uint32_t)t->bal.algo;
	for (d = 0; d < 2; d++)
		for (i = 0; i < t->npaths; i++)
			c->share[d][i] = t->share[d][i];
	c->timer_interval_ms = t->o.dyn.timer_interval_ms;
	c->change_threshold = t->o.dyn.change_threshold;
	c->lb_change_pct = t->o.dyn.lb_change_pct;
	c->failback_req = t->failback_seen;
	c->admin_down = t->admin_seen;
	for (i = 0; i < t->npaths; i++) {
		snprintf(c->portal[i], sizeof(c->portal[i]), "%s", t->path[i].portal);
		snprintf(c->iface[i], sizeof(c->iface[i]), "%s", t->path[i].iface);
		if (t->path[i].removed)
			c->removed |= 1u << i;
	}
	c->failback = (uint32_t)t->o.failback;
	c->failback_delay_ms = t->o.failback_delay_ms;
	c->flap_count = t->o.flap_count;
	c->flap_window_ms = t->o.flap_window_ms;
	c->flap_hold_ms = t->o.flap_hold_ms;
}

int sp_team_path_set_portal(struct sp_team *t, unsigned int i, const char *portal)
{
	if (i >= t->npaths)
		return -ENOENT;
	if (!portal || !portal[0] || strlen(portal) >= sizeof(t->path[i].portal))
		return -EINVAL;
	if (strcmp(t->path[i].portal, portal) == 0)
		return 0;
	sp_path_set_portal(&t->path[i], portal);
	membership_changed(t);
	dispatch(t);
	return 0;
}

int sp_team_path_logout(struct sp_team *t, unsigned int i)
{
	if (i >= t->npaths)
		return -ENOENT;
	t->admin_seen |= 1u << i;
	sp_path_logout(&t->path[i]);
	membership_changed(t);
	dispatch(t);
	return 0;
}

int sp_team_path_login(struct sp_team *t, unsigned int i)
{
	if (i >= t->npaths)
		return -ENOENT;
	t->admin_seen &= ~(1u << i);
	sp_path_login(&t->path[i]);
	membership_changed(t);
	return 0;
}

/* The control block changed: validate all of it, then apply all of it or
 * nothing, and say which in ctl_applied/ctl_result. */
static void apply_ctl(struct sp_team *t)
{
	struct sp_shm_ctl c;
	struct sp_lb_dynamic dyn;
	unsigned int sh[2][SP_MAX_PATHS];
	uint32_t seq = sp_shm_ctl_read(t->shm, &c);
	unsigned int i;
	int d, rc = 0;

	unsigned int n = t->npaths;

	t->ctl_seen = seq;
	if (c.mode != SP_MODE_FAILOVER && c.mode != SP_MODE_FAILOVER_LB)
		rc = -EINVAL;
	if (c.algo < SP_ALGO_STATIC || c.algo > SP_ALGO_SERVICE_TIME)
		rc = -EINVAL;
	for (i = 0; i < SP_SHM_MAX_PATHS && !rc; i++)
		if (!memchr(c.portal[i], 0, sizeof(c.portal[i])) || !memchr(c.iface[i], 0, sizeof(c.iface[i])))
			rc = -EINVAL;
	/* Paths to add: portals in the slots right after the team's paths, without gaps. */
	while (!rc && n < SP_MAX_PATHS && c.portal[n][0])
		n++;
	for (i = n; i < SP_SHM_MAX_PATHS && !rc; i++)
		if (c.portal[i][0])
			rc = -EINVAL;
	for (d = 0; d < 2 && !rc; d++) {
		for (i = 0; i < n; i++)
			sh[d][i] = c.share[d][i];
		rc = sp_lb_validate_shares(sh[d], n);
	}
	if (!rc && (c.failback < SP_FAILBACK_IMMEDIATE || c.failback > SP_FAILBACK_DELAYED || c.flap_count > 8 ||
	            (c.flap_count && !c.flap_window_ms)))
		rc = -EINVAL;
	if (!rc && n < 32 && (c.removed >> n))
		rc = -EINVAL;
	dyn.timer_interval_ms = c.timer_interval_ms;
	dyn.change_threshold = c.change_threshold;
	dyn.lb_change_pct = c.lb_change_pct;
	if (!rc)
		rc = sp_lb_validate_dynamic(&dyn);
	if (!rc && n < 32 && (c.admin_down >> n))
		rc = -EINVAL; /* a path the team does not have */
	if (rc) {
		cm_log(CM_LOG_WARNING, TAG, "team %s: control change %u rejected (invalid values); nothing changed",
		       t->name, seq);
		sp_shm_ctl_ack(t->shm, seq, rc);
		return;
	}
	t->o.dyn = dyn;
	sp_team_set_failback(t, (int)c.failback, c.failback_delay_ms, c.flap_count, c.flap_window_ms, c.flap_hold_ms);
	while (t->npaths < n) {
		struct sp_path_opts po = {.portal = c.portal[t->npaths], .iface = c.iface[t->npaths], .lun = -1};

		if (sp_team_add_path(t, &po) < 0)
			break; /* validated above: cannot happen */
	}
	if ((int)c.algo != t->bal.algo)
		sp_team_set_algo(t, (int)c.algo);
	for (d = 0; d < 2; d++) {
		if (memcmp(sh[d], t->share[d], t->npaths * sizeof(unsigned int)) != 0) {
			memcpy(t->share[d], sh[d], t->npaths * sizeof(unsigned int));
			sp_lb_set_shares(&t->bal, d, t->share[d]);
		}
	}
	t->bal.mode = (int)c.mode;
	t->o.mode = (int)c.mode;
	if (c.failback_req != t->failback_seen) {
		t->failback_seen = c.failback_req;
		sp_team_failback(t, -1);
	}
	for (i = 0; i < t->npaths; i++)
		if (c.portal[i][0] && !t->path[i].removed)
			sp_team_path_set_portal(t, i, c.portal[i]);
	for (i = 0; i < t->npaths; i++)
		if ((c.removed >> i) & 1)
			sp_team_path_remove(t, i);
	for (i = 0; i < t->npaths; i++) {
		uint32_t bit = 1u << i;

		if (t->path[i].removed)
			continue;
		if ((c.admin_down & bit) && !(t->admin_seen & bit))
			sp_team_path_logout(t, i);
		else if (!(c.admin_down & bit) && (t->admin_seen & bit))
			sp_team_path_login(t, i);
	}
	membership_changed(t);
	cm_log(CM_LOG_INFO, TAG, "team %s: control change %u applied", t->name, seq);
	sp_shm_ctl_ack(t->shm, seq, 0);
}

static void check_ctl(struct sp_team *t)
{
	uint32_t seq;

	if (!t->shm)
		return;
	seq = sp_shm_ctl_seq(t->shm);
	if (seq != t->ctl_seen && !(seq & 1))
		apply_ctl(t);
}

static int hold_of(const struct sp_team *t, const struct sp_path *p)
{
	if (p->state != SP_PATH_STANDBY || !p->held)
		return SP_HOLD_NONE;
	if (p->damped)
		return SP_HOLD_FLAP;
	return t->o.failback == SP_FAILBACK_MANUAL ? SP_HOLD_MANUAL : SP_HOLD_DELAY;
}

static void publish(struct sp_team *t)
{
	struct sp_shm_seg *g;
	unsigned int i;
	int d;

	if (!t->shm)
		return;
	g = t->shm->seg;
	sp_shm_stats_begin(t->shm);
	g->npaths = t->npaths;
	g->team_state = (uint32_t)t->team_state;
	g->block_size = t->block_size;
	g->nblocks = t->nblocks;
	g->total_bytes[0] = t->total_bytes[0];
	g->total_bytes[1] = t->total_bytes[1];
	g->app_errors = t->app_errors;
	for (i = 0; i < t->npaths; i++) {
		struct sp_path *p = &t->path[i];
		struct sp_shm_path *sp = &g->path[i];

		snprintf(sp->portal, sizeof(sp->portal), "%s", p->portal);
		snprintf(sp->iface, sizeof(sp->iface), "%s", p->iface);
		sp->state = (uint32_t)(p->suspect ? SP_PATH_SUSPECT : p->state);
		sp->role = t->bal.path[i].primary ? SP_ROLE_PRIMARY : SP_ROLE_SECONDARY;
		for (d = 0; d < 2; d++) {
			sp->share[d] = t->share[d][i];
			sp->actual_share[d] = p->actual_share[d];
			sp->bytes[d] = p->bytes[d];
			sp->cmds[d] = p->cmds[d];
		}
		sp->errors = p->failures;
		sp->reconnects = p->reconnects;
		sp->last_change = p->last_change_rt;
		sp->avg_latency_us = (uint32_t)(p->ewma_ns / 1000);
		sp->inflight = p->inflight;
		sp->login_result = (uint32_t)p->login_result;
		sp->login_status = p->login_status;
		sp->login_time = p->login_time_rt;
		memcpy(sp->isid, p->isid, sizeof(sp->isid));
		sp->tsih = 0;
		snprintf(sp->src_addr, sizeof(sp->src_addr), "%s", p->src_addr);
		sp->src_port = p->src_port;
		sp->max_latency_us = p->max_lat_us;
		sp->digest_errors = p->digest_errors;
		sp->timeout_errors = p->timeout_errors;
		sp->admin_down = (uint32_t)p->admin_down;
		sp->suspects = (uint32_t)p->suspects;
		sp->hold = (uint32_t)hold_of(t, p);
		sp->dampings = p->dampings;
		snprintf(sp->last_error, sizeof(sp->last_error), "%s", p->last_error);
	}
	sp_shm_stats_end(t->shm);
}

/* A data plane that gives up (no path logged in at start) exits before its
 * supervisor may have looked: leave the segment, with each path's last
 * login result, for the supervisor to read post mortem and remove. */
void sp_team_keep_segment(struct sp_team *t)
{
	if (!t->shm)
		return;
	publish(t);
	t->shm->owner = 0;
}

/* ---- the loop ------------------------------------------------------------ */

/* The team's one fd for an outer event loop: an epoll set of every
 * session's socket (with the events libiscsi wants for it), the wake fd, and
 * a timerfd ticking every TIMER_TICK_MS, since NOP-Outs, timeouts, reconnects
 * and dynamic load balancing run on the team's timers, not on socket events. */
static int open_loop_fds(struct sp_team *t)
{
	struct itimerspec tick = {
	    .it_interval = {.tv_sec = 0, .tv_nsec = TIMER_TICK_MS * 1000000L},
	    .it_value = {.tv_sec = 0, .tv_nsec = TIMER_TICK_MS * 1000000L},
	};
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WATCH_TICK};

	if ((t->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (t->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    timerfd_settime(t->tick_fd, 0, &tick, NULL) < 0 ||
	    epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, t->tick_fd, &ev) < 0) {
		int err = errno;

		close_loop_fds(t);
		return -err;
	}
	return 0;
}

int sp_team_start(struct sp_team *t)
{
	struct sp_shm_ctl c;
	unsigned int i;
	int d, rc, any;

	if (t->started)
		return -EALREADY;
	if (!t->npaths)
		return -EINVAL;
	for (d = 0; d < 2; d++) {
		any = 0;
		for (i = 0; i < t->npaths; i++) {
			t->share[d][i] = t->o.share[d][i];
			any |= t->share[d][i] != 0;
		}
		if (!any) /* equal shares; the remainder to the first paths */
			for (i = 0; i < t->npaths; i++)
				t->share[d][i] = 100 / t->npaths + (i < 100 % t->npaths);
		rc = sp_lb_validate_shares(t->share[d], t->npaths);
		if (rc) {
			cm_log(CM_LOG_ERR, TAG, "team %s: %s shares must each be 0..100 and sum to 100", t->name,
			       d == SP_READ ? "read" : "write");
			return rc;
		}
	}
	rc = sp_lb_validate_dynamic(&t->o.dyn);
	if (rc) {
		cm_log(CM_LOG_ERR, TAG, "team %s: invalid dynamic load balancing parameters", t->name);
		return rc;
	}
	t->bal.npaths = t->npaths;
	t->bal.mode = t->o.mode;
	t->bal.algo = t->o.algo;
	for (d = 0; d < 2; d++)
		sp_lb_set_shares(&t->bal, d, t->share[d]);
	if ((rc = open_loop_fds(t)) < 0) {
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot create its event fds: %s", t->name, strerror(-rc));
		return rc;
	}
	if (t->shm_dir) {
		rc = sp_shm_create(&t->shm, t->shm_dir, t->name, t->target, (unsigned int)t->o.lun);
		if (rc) {
			cm_log(CM_LOG_ERR, TAG, "team %s: cannot create the segment in %s: %s", t->name, t->shm_dir,
			       rc == -EBUSY ? "a live process owns it" : strerror(-rc));
			return rc;
		}
		ctl_fill(t, &c);
		rc = sp_shm_ctl_write(t->shm, &c);
		t->ctl_seen = sp_shm_ctl_seq(t->shm);
		sp_shm_ctl_ack(t->shm, t->ctl_seen, 0);
	}
	t->started = 1;
	t->t_report_last = sp_now_ns();
	t->t_report_next = t->t_report_last + (uint64_t)t->o.report_ms * MS;
	t->t_dyn_next = t->t_report_last + (uint64_t)t->o.dyn.timer_interval_ms * MS;
	for (i = 0; i < t->npaths; i++)
		sp_path_connect(&t->path[i]);
	publish(t);
	return 0;
}

static void close_loop_fds(struct sp_team *t)
{
	if (t->tick_fd >= 0)
		close(t->tick_fd);
	if (t->epoll_fd >= 0)
		close(t->epoll_fd);
	t->tick_fd = t->epoll_fd = -1;
}

static void fail_queued(struct sp_team *t, int status)
{
	struct sp_io *io;

	while ((io = t->q_head)) {
		t->q_head = io->next;
		if (!t->q_head)
			t->q_tail = NULL;
		t->queued--;
		io->next = NULL;
		sp_suspect_release_shadow(io);
		t->outstanding--;
		t->app_errors++;
		if (io->cb)
			io->cb(io, status, io->priv);
	}
}

static int nopath_expired(struct sp_team *t, uint64_t now)
{
	return t->t_nopath_since && now - t->t_nopath_since >= (uint64_t)t->o.no_path_retry_s * 1000 * MS;
}

static void team_timers(struct sp_team *t, uint64_t now)
{
	unsigned int i, actual[SP_MAX_PATHS];
	int d, changed, all_in;

	for (i = 0; i < t->npaths; i++)
		sp_path_timers(&t->path[i], now);
	sp_suspect_check(t, now);
	release_fenced(t, now);

	/* Failback of held paths. */
	for (i = 0; i < t->npaths; i++) {
		struct sp_path *p = &t->path[i];

		if (p->state != SP_PATH_STANDBY || !p->held)
			continue;
		if (effective_primary(t) < 0)
			release(t, p, "no other path in service");
		else if (p->damped && now - p->t_healthy >= (uint64_t)t->o.flap_hold_ms * MS)
			release(t, p, "stable after flapping");
		else if (!p->damped && t->o.failback == SP_FAILBACK_DELAYED &&
		         now - p->t_healthy >= (uint64_t)t->o.failback_delay_ms * MS)
			release(t, p, "healthy for the failback delay");
		else if (!p->damped && t->o.failback == SP_FAILBACK_IMMEDIATE)
			release(t, p, "failback policy now immediate");
	}

	if (effective_primary(t) < 0) {
		if (!t->t_nopath_since) {
			t->t_nopath_since = now;
			if (t->queued || t->outstanding)
				cm_log(CM_LOG_WARNING, TAG, "team %s: no path to the LU: I/O waits up to %u s", t->name,
				       t->o.no_path_retry_s);
		}
		if (nopath_expired(t, now) && t->queued) {
			cm_log(CM_LOG_ERR, TAG, "team %s: no path to the LU for %u s: failing %u queued commands",
			       t->name, t->o.no_path_retry_s, t->queued);
			fail_queued(t, -ENOLINK);
		}
	}

	/* Dynamic load balancing: skipped while a path with a share is out of
	 * service, or its zero bytes would be "corrected" towards zero. */
	if (t->bal.algo == SP_ALGO_DYNAMIC && now >= t->t_dyn_next) {
		t->t_dyn_next = now + (uint64_t)t->o.dyn.timer_interval_ms * MS;
		all_in = 1;
		for (i = 0; i < t->npaths; i++)
			if (!path_usable(&t->path[i]) && t->path[i].state != SP_PATH_REFUSED)
				all_in = 0;
		for (d = 0; d < 2 && all_in; d++) {
			changed = sp_lb_dynamic_tick(&t->bal, &t->o.dyn, d, actual);
			if (changed > 0) {
				char buf[128];
				size_t o = 0;

				sync_shares_from_bal(t);
				for (i = 0; i < t->npaths && o < sizeof(buf); i++)
					o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "/" : "",
					                      t->share[d][i]);
				cm_log(CM_LOG_INFO, TAG, "team %s: dynamic %s shares now %s", t->name,
				       d == SP_READ ? "read" : "write", buf);
			}
		}
	}

	if (now >= t->t_report_next) {
		uint64_t tot[2] = {0, 0};

		for (i = 0; i < t->npaths; i++)
			for (d = 0; d < 2; d++)
				tot[d] += t->path[i].win_bytes[d];
		for (i = 0; i < t->npaths; i++)
			for (d = 0; d < 2; d++) {
				t->path[i].actual_share[d] =
				    tot[d] ? (unsigned int)((t->path[i].win_bytes[d] * 100 + tot[d] / 2) / tot[d]) : 0;
				t->path[i].win_bytes[d] = 0;
			}
		for (i = 0; i < t->npaths; i++) {
			t->path[i].max_lat_us = (unsigned int)(t->path[i].win_max_lat_ns / 1000);
			t->path[i].win_max_lat_ns = 0;
		}
		t->t_report_last = now;
		t->t_report_next = now + (uint64_t)t->o.report_ms * MS;
		update_team_state(t);
		publish(t);
	}
	check_ctl(t);
}

int sp_team_get_fd(const struct sp_team *t)
{
	return t->started ? t->epoll_fd : -1;
}

/* Points the epoll set's entry for one fd at (fd, events): the old fd out
 * first when it changed.  The MOD is tried even when nothing seems to have
 * changed: libiscsi may close a session's socket and open the next one under
 * the same number (a reconnect, a login redirect), and the kernel drops a
 * closed socket from the set by itself, so only ENOENT tells. */
static void watch(struct sp_team *t, int *watched, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = {.events = events, .data.u32 = tag};

	if (*watched >= 0 && *watched != fd) {
		epoll_ctl(t->epoll_fd, EPOLL_CTL_DEL, *watched, NULL); /* ENOENT/EBADF: it was closed */
		*watched = -1;
	}
	if (fd < 0)
		return;
	if (epoll_ctl(t->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)) {
		cm_log(CM_LOG_ERR, TAG, "team %s: cannot watch fd %d: %s", t->name, fd, strerror(errno));
		return;
	}
	*watched = fd;
}

int sp_team_which_events(struct sp_team *t)
{
	unsigned int i;

	if (!t->started)
		return 0;
	/* Every stale entry out before any new one goes in: a number one path
	 * gave up may be another path's new socket by now. */
	for (i = 0; i < t->npaths; i++) {
		struct sp_path *p = &t->path[i];
		int fd = p->ctx && iscsi_which_events(p->ctx) ? iscsi_get_fd(p->ctx) : -1;

		if (p->watched_fd >= 0 && p->watched_fd != fd)
			watch(t, &p->watched_fd, -1, 0, i);
	}
	if (t->watched_wake_fd >= 0 && t->watched_wake_fd != t->wake_fd)
		watch(t, &t->watched_wake_fd, -1, 0, WATCH_WAKE);
	for (i = 0; i < t->npaths; i++) {
		struct sp_path *p = &t->path[i];
		int ev = p->ctx ? iscsi_which_events(p->ctx) : 0;
		uint32_t want = 0;

		if (!ev)
			continue;
		want |= (ev & POLLIN) ? EPOLLIN : 0;
		want |= (ev & POLLOUT) ? EPOLLOUT : 0;
		/* EPOLLRDHUP: libiscsi swallows an orderly close by the target
		 * when no command is outstanding; we must see it. */
		watch(t, &p->watched_fd, iscsi_get_fd(p->ctx), want | EPOLLRDHUP, i);
	}
	if (t->wake_fd >= 0)
		watch(t, &t->watched_wake_fd, t->wake_fd, EPOLLIN, WATCH_WAKE);
	/* The epoll fd is readable when a session, the wake fd or the tick is. */
	return POLLIN;
}

static void service_path(struct sp_path *p, short re)
{
	if (iscsi_service(p->ctx, re) < 0 && !p->fail_pending) {
		p->fail_pending = 1;
		snprintf(p->fail_reason, sizeof(p->fail_reason), "%s", iscsi_get_error(p->ctx));
	}
	/* Only a logged-in connection can hang up unseen by libiscsi.  During
	 * login it reports a close itself, and a login redirect (status
	 * 0x0101/0x0102) closes the old connection on purpose while libiscsi
	 * connects to the TargetAddress: that hang-up is not a failure. */
	if ((re & (POLLHUP | POLLERR | POLLRDHUP)) && !p->fail_pending && p->ctx && iscsi_is_logged_in(p->ctx)) {
		p->fail_pending = 1;
		snprintf(p->fail_reason, sizeof(p->fail_reason), "connection %s",
		         re & POLLERR ? "error" : "closed by the target");
	}
}

/* epoll's event bits as poll's, for iscsi_service(). */
static short poll_bits(uint32_t e)
{
	return (short)(((e & EPOLLIN) ? POLLIN : 0) | ((e & EPOLLOUT) ? POLLOUT : 0) | ((e & EPOLLERR) ? POLLERR : 0) |
	               ((e & EPOLLHUP) ? POLLHUP : 0) | ((e & EPOLLRDHUP) ? POLLRDHUP : 0));
}

int sp_team_service(struct sp_team *t, int revents)
{
	struct epoll_event evs[SP_MAX_PATHS + 2];
	unsigned int i;
	int n = 0;

	if (!t->started)
		return -EINVAL;
	/* revents 0 (the outer loop's timeout) still runs the timers. */
	if (revents && (n = epoll_wait(t->epoll_fd, evs, SP_MAX_PATHS + 2, 0)) < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	for (int k = 0; k < n; k++) {
		uint32_t tag = evs[k].data.u32;

		if (tag == WATCH_TICK) {
			uint64_t ticks;

			if (read(t->tick_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				cm_log(CM_LOG_WARNING, TAG, "team %s: tick: %s", t->name, strerror(errno));
		} else if (tag < t->npaths && t->path[tag].ctx && t->path[tag].watched_fd >= 0) {
			service_path(&t->path[tag], poll_bits(evs[k].events));
		} /* WATCH_WAKE: the caller drains it */
	}
	for (i = 0; i < t->npaths; i++) {
		struct sp_path *p = &t->path[i];

		if (p->refuse_pending)
			refuse(t, p);
		else if (p->fail_pending)
			sp_path_fail(p, p->fail_reason);
	}
	team_timers(t, sp_now_ns());
	dispatch(t);
	return 0;
}

int sp_team_poll(struct sp_team *t, int timeout_ms)
{
	struct pollfd pfd;
	int rc, wait = timeout_ms;

	if (!t->started)
		return -EINVAL;
	pfd.fd = sp_team_get_fd(t);
	pfd.events = (short)sp_team_which_events(t);
	pfd.revents = 0;
	if (wait < 0 || wait > TIMER_TICK_MS)
		wait = TIMER_TICK_MS;
	rc = poll(&pfd, 1, wait);
	if (rc < 0 && errno != EINTR)
		return -errno;
	return sp_team_service(t, rc > 0 ? pfd.revents : 0);
}

int sp_team_wait_settled(struct sp_team *t, int timeout_ms)
{
	uint64_t end = sp_now_ns() + (uint64_t)timeout_ms * MS;
	unsigned int i, unsettled, usable;
	int rc;

	for (;;) {
		unsettled = 0;
		usable = 0;
		for (i = 0; i < t->npaths; i++) {
			int s = t->path[i].state;

			if (s == SP_PATH_ACTIVE || s == SP_PATH_STANDBY)
				usable++;
			else if (s != SP_PATH_REFUSED && !t->path[i].admin_down &&
			         !(s == SP_PATH_DOWN && t->path[i].first_attempt_done))
				unsettled++;
		}
		if (!unsettled || sp_now_ns() >= end)
			return (int)usable;
		rc = sp_team_poll(t, 50);
		if (rc)
			return rc;
	}
}

int sp_team_submit(struct sp_team *t, struct sp_io *io)
{
	uint64_t now;

	if (!t->started || !t->block_size)
		return -ENOTCONN;
	if (io->nblocks == 0 || io->lba + io->nblocks > t->nblocks || (io->dir != SP_READ && io->dir != SP_WRITE))
		return -EINVAL;
	check_ctl(t);
	now = sp_now_ns();
	if (effective_primary(t) < 0 && nopath_expired(t, now))
		return -ENOLINK;
	io->t_submit = now;
	io->attempts = 0;
	io->tried = 0;
	io->medium_path = -1;
	io->next = NULL;
	io->path = -1;
	io->slot = -1;
	t->outstanding++;
	if (t->q_tail)
		t->q_tail->next = io;
	else
		t->q_head = io;
	t->q_tail = io;
	t->queued++;
	dispatch(t);
	return 0;
}

void sp_team_free(struct sp_team *t)
{
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < t->npaths; i++)
		sp_path_close(&t->path[i]);
	/* Commands handed back by the closing sessions never complete now. */
	t->q_head = t->q_tail = NULL;
	t->f_head = t->f_tail = NULL;
	if (t->shm)
		sp_shm_close(t->shm);
	close_loop_fds(t);
	free(t->name);
	free(t->target);
	free(t->initiator);
	free(t->shm_dir);
	wipe_str(t->chap_user);
	wipe_str(t->chap_secret);
	wipe_str(t->chap_target_user);
	wipe_str(t->chap_target_secret);
	free(t);
}

void sp_team_set_wake_fd(struct sp_team *t, int fd)
{
	t->wake_fd = fd;
}

unsigned int sp_team_npaths(const struct sp_team *t)
{
	return t->npaths;
}

uint32_t sp_team_block_size(const struct sp_team *t)
{
	return t->block_size;
}

uint64_t sp_team_nblocks(const struct sp_team *t)
{
	return t->nblocks;
}

unsigned int sp_team_outstanding(const struct sp_team *t)
{
	return t->outstanding;
}

int sp_team_state(const struct sp_team *t)
{
	return t->team_state;
}

int sp_team_path_info(const struct sp_team *t, unsigned int i, struct sp_path_info *pi)
{
	const struct sp_path *p;
	int d;

	if (i >= t->npaths)
		return -ENOENT;
	p = &t->path[i];
	memset(pi, 0, sizeof(*pi));
	snprintf(pi->portal, sizeof(pi->portal), "%s", p->portal);
	snprintf(pi->iface, sizeof(pi->iface), "%s", p->iface);
	snprintf(pi->target, sizeof(pi->target), "%s", p->target);
	pi->state = p->suspect ? SP_PATH_SUSPECT : p->state;
	pi->role = t->bal.path[i].primary ? SP_ROLE_PRIMARY : SP_ROLE_SECONDARY;
	for (d = 0; d < 2; d++) {
		pi->share[d] = t->share[d][i];
		pi->actual_share[d] = p->actual_share[d];
		pi->bytes[d] = p->bytes[d];
		pi->cmds[d] = p->cmds[d];
	}
	pi->failures = p->failures;
	pi->reconnects = p->reconnects;
	pi->avg_latency_us = (unsigned int)(p->ewma_ns / 1000);
	pi->inflight = p->inflight;
	snprintf(pi->last_error, sizeof(pi->last_error), "%s", p->last_error);
	pi->login_result = p->login_result;
	pi->login_status = p->login_status;
	pi->login_time = p->login_time_rt;
	memcpy(pi->isid, p->isid, sizeof(pi->isid));
	pi->tsih = 0;
	snprintf(pi->src_addr, sizeof(pi->src_addr), "%s", p->src_addr);
	pi->src_port = p->src_port;
	pi->max_latency_us = p->max_lat_us;
	pi->digest_errors = p->digest_errors;
	pi->timeout_errors = p->timeout_errors;
	pi->admin_down = p->admin_down;
	pi->suspect = p->suspect;
	pi->suspects = p->suspects;
	pi->suspect_threshold_us = (unsigned int)((p->threshold_ns > (uint64_t)t->o.suspect_floor_ms * MS
	                                               ? p->threshold_ns
	                                               : (uint64_t)t->o.suspect_floor_ms * MS) /
	                                          1000);
	pi->hedged_reads = p->hedged_reads;
	pi->fenced_writes = p->fenced_writes;
	pi->hold = hold_of(t, p);
	pi->dampings = p->dampings;
	pi->removed = p->removed;
	pi->silence_max_us = (unsigned int)(p->silence_max_ns / 1000);
	pi->silences_20ms = p->silences_20ms;
	pi->silences_50ms = p->silences_50ms;
	return 0;
}
