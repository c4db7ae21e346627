/* loads.c: resource loads from tgt and from the servers' agents, the rebalance timers and the threshold check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/redirect/model.h"
#include "common/array.h"
#include "common/evloop.h"
#include "common/log.h"

#define TAG "redirect"

static unsigned int rebalance_timer, load_timer, manual_timer;
static unsigned int loads_pending;
static int loads_measured;

static void loads_round_done(void)
{
	struct redir_rbctx c;

	redir_etcd_publish_loads();
	if (!loads_measured || !redir_running)
		return;
	loads_measured = 0;
	/* Only measured loads trigger: SET loads wait for a manual or periodic
	 * run, so an external monitor can inject a whole set first. */
	if (!redir_plan_cooled_down() || redir_rb_build(&c) < 0)
		return;
	if (redir_rb_imbalanced(c.srv, redir_servers.n, c.res, c.nres, redir_cur_params.threshold_pct)) {
		redir_rb_free(&c);
		redir_run_rebalance(REDIR_TRIG_THRESHOLD, false, false);
		return;
	}
	redir_rb_free(&c);
}

static void stats_done(uint32_t server, int rc, const struct tgtc_stats *stt)
{
	struct redir_srv *s = redir_vec_find(&redir_servers, server);
	struct timespec now;
	double secs;

	if (loads_pending)
		loads_pending--;
	if (!s) {
		if (!loads_pending)
			loads_round_done();
		return;
	}
	s->load_busy = 0;
	if (rc < 0 || !stt) {
		s->have_prev = 0;
		if (!loads_pending)
			loads_round_done();
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - s->prev_at.tv_sec) + (now.tv_nsec - s->prev_at.tv_nsec) / 1e9;
	if (s->have_prev && secs > 0.01) {
		/* Per target: the byte growth of each (lun, session) counter since
		 * the last sample; a session that is new since then counts whole. */
		uint64_t *delta = calloc(stt->ntargets ? 2 * stt->ntargets : 1, sizeof(uint64_t));
		uint64_t *cdelta = delta ? delta + stt->ntargets : NULL; /* commands */

		for (size_t i = 0; delta && i < stt->ncounters; i++) {
			const struct tgtc_counter *k = &stt->counters[i];
			uint64_t before = 0, cbefore = 0, cmds = k->rd_cmds + k->wr_cmds;
			size_t t;

			for (size_t j = 0; j < s->nprev; j++) {
				if (s->prev[j].tid == k->tid && s->prev[j].lun == k->lun && s->prev[j].sid == k->sid) {
					before = s->prev[j].bytes;
					cbefore = s->prev[j].rd_cmds + s->prev[j].wr_cmds;
					break;
				}
			}
			for (t = 0; t < stt->ntargets; t++)
				if (stt->targets[t].tid == k->tid)
					break;
			if (t < stt->ntargets && k->bytes >= before)
				delta[t] += k->bytes - before;
			if (t < stt->ntargets && cmds >= cbefore)
				cdelta[t] += cmds - cbefore;
		}
		for (size_t t = 0; delta && t < stt->ntargets; t++) {
			struct redir_res *r = redir_res_by_target(stt->targets[t].name);

			/* The mapped server's figure is the resource's load; a SET
			 * load stays until the next SET (documented in the MIB). */
			if (r && r->pub.server == server) {
				r->pub.byte_rate = (uint64_t)((double)delta[t] / secs);
				r->pub.cmd_rate = (uint64_t)((double)cdelta[t] / secs);
				if (!r->pub.load_set)
					r->pub.load = redir_weighted(r->pub.byte_rate, r->pub.cmd_rate);
			}
		}
		/* Mapped here but no longer exported or idle: no bytes. */
		for (size_t i = 0; delta && i < redir_resources.n; i++) {
			struct redir_res *r = RES(i);
			size_t t;

			if (r->pub.server != server)
				continue;
			for (t = 0; t < stt->ntargets; t++)
				if (strcmp(stt->targets[t].name, r->pub.target) == 0)
					break;
			if (t < stt->ntargets)
				continue;
			r->pub.byte_rate = r->pub.cmd_rate = 0;
			if (!r->pub.load_set)
				r->pub.load = 0;
		}
		free(delta);
		loads_measured = 1;
		redir_recount();
	}
	free(s->prev);
	s->prev = NULL;
	s->nprev = 0;
	if (stt->ncounters && (s->prev = malloc(stt->ncounters * sizeof(*s->prev)))) {
		memcpy(s->prev, stt->counters, stt->ncounters * sizeof(*s->prev));
		s->nprev = stt->ncounters;
	}
	s->prev_at = now;
	s->have_prev = 1;
	if (!loads_pending)
		loads_round_done();
}

static void load_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	for (size_t i = 0; i < redir_servers.n; i++) {
		struct redir_srv *s = SRV(i);

		if (s->pub.tgt_control < 0 || s->load_busy || s->pub.oper == REDIR_OPER_DOWN)
			continue;
		if (tgtc_read_stats(s->pub.index, s->pub.tgt_control, stats_done) == 0) {
			s->load_busy = 1;
			loads_pending++;
		}
	}
}

static void rebalance_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	redir_run_rebalance(REDIR_TRIG_PERIODIC, true, false);
}

static void manual_tick(unsigned int id, void *arg)
{
	(void)id;
	(void)arg;
	manual_timer = 0;
	redir_run_rebalance(REDIR_TRIG_MANUAL, true, true);
}

void redir_timers_stop(void)
{
	cm_ev_cancel(rebalance_timer);
	cm_ev_cancel(load_timer);
	cm_ev_cancel(manual_timer);
	rebalance_timer = load_timer = manual_timer = 0;
}

void redir_timers_start(void)
{
	redir_timers_stop();
	if (redir_cur_params.interval_s)
		rebalance_timer = cm_ev_timer(redir_cur_params.interval_s * 1000u, 1, rebalance_tick, NULL);
	load_timer = cm_ev_timer(redir_cur_params.load_interval_s * 1000u, 1, load_tick, NULL);
}

/* ---- targets and loads from the servers' agents (remote.c) ------------------ */

/* (resource, server that lists it) pairs of new targets, for placement at the end of a round. */
struct lister {
	uint32_t res, srv;
};
static struct lister *listers;
static size_t nlisters, caplisters;

void redir_agent_report(uint32_t server, int ok, char *const *names, const uint64_t *rates, size_t n)
{
	time_t now = time(NULL);
	struct redir_srv *s = redir_vec_find(&redir_servers, server);

	if (!s || !redir_running)
		return;
	if (!ok) {
		/* Unknown is not gone: what it serves stays until it answers. */
		for (size_t i = 0; i < redir_resources.n; i++)
			if (RES(i)->pub.server == server)
				RES(i)->agent_seen = now;
		return;
	}
	for (size_t i = 0; i < redir_resources.n; i++)
		RES(i)->seen = 0;
	for (size_t i = 0; i < n; i++) {
		struct redir_res *r = redir_res_by_target(names[i]);

		if (!r) {
			if (!redir_name_ok(names[i], REDIR_NAME_MAX))
				continue;
			r = redir_res_add(redir_idx_for(false, names[i]), names[i], redir_persisted_map(names[i]), 0,
			                  REDIR_ORIGIN_DISCOVERED, REDIR_ST_VOLATILE);
			if (!r)
				continue;
			cm_log(CM_LOG_INFO, TAG, "resource %s listed by the agent of %s", names[i], s->pub.name);
			redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_RESOURCE, r->pub.index, 0);
		}
		r->agent_seen = now;
		r->seen = 1;
		if (!r->pub.server && nlisters < 1000000) {
			if (cm_grow(&listers, &caplisters, nlisters, sizeof(*listers), 64) < 0)
				continue;
			listers[nlisters++] = (struct lister){r->pub.index, server};
		}
		/* A follower shows the leader's loads (etcd load/ keys).  A
		 * server with a local tgtd control port measures there, with
		 * commands as well as bytes. */
		if (r->pub.server == server && s->pub.tgt_control < 0 && rates && rates[i] != UINT64_MAX &&
		    !REDIR_PASSIVE()) {
			r->pub.byte_rate = rates[i];
			if (!r->pub.load_set)
				r->pub.load = redir_weighted(r->pub.byte_rate, r->pub.cmd_rate);
			loads_measured = 1;
		}
	}
	/* Mapped here but no longer listed: no bytes (the server is the source). */
	for (size_t i = 0; i < redir_resources.n && !REDIR_PASSIVE() && s->pub.tgt_control < 0; i++)
		if (RES(i)->pub.server == server && !RES(i)->seen) {
			RES(i)->pub.byte_rate = 0;
			if (!RES(i)->pub.load_set)
				RES(i)->pub.load = 0;
		}
	redir_recount();
	redir_idx_commit(); /* new targets' indexes, one commit per report */
}

void redir_agent_round(unsigned int grace_s)
{
	time_t now = time(NULL);
	bool changed = false;

	/* New targets go to the least-filled server (per capacity) among those
	 * that listed them: another server may not export them at all.  A
	 * follower takes the leader's placement from etcd instead. */
	for (size_t i = 0; i < nlisters && !REDIR_PASSIVE(); i++) {
		struct redir_res *r = redir_vec_find(&redir_resources, listers[i].res);
		struct redir_srv *best = NULL;

		if (!r || r->pub.server)
			continue;
		for (size_t j = i; j < nlisters; j++) {
			struct redir_srv *s;

			if (listers[j].res != listers[i].res || !(s = redir_vec_find(&redir_servers, listers[j].srv)) ||
			    redir_srv_rb_state(s) != REDIR_SRV_UP)
				continue;
			if (!best || (uint64_t)s->pub.nresources * best->pub.capacity <
			                 (uint64_t)best->pub.nresources * s->pub.capacity)
				best = s;
		}
		if (!best)
			continue;
		r->pub.server = best->pub.index;
		r->pub.mapped_since = now;
		best->pub.nresources++;
		redir_st_save_map(r);
		changed = true;
	}
	nlisters = 0;
	for (size_t i = 0; i < redir_resources.n;) {
		struct redir_res *r = RES(i);

		if (r->pub.origin == REDIR_ORIGIN_DISCOVERED && grace_s && now - r->agent_seen > (time_t)grace_s) {
			cm_log(CM_LOG_NOTICE, TAG, "resource %s: no agent lists it any more; dropped", r->pub.target);
			redir_res_remove(r->pub.index);
			changed = true;
			continue;
		}
		i++;
	}
	redir_recount();
	if (changed && redir_st())
		redir_st_commit();
	loads_round_done();
}

int redir_rebalance_now(void)
{
	if (!redir_running || REDIR_PASSIVE())
		return -EAGAIN;
	if (!manual_timer)
		manual_timer = cm_ev_timer(1, 0, manual_tick, NULL);
	return manual_timer ? 0 : -ENOMEM;
}

/* At stop: a round in flight is forgotten with the model. */
void redir_loads_reset(void)
{
	nlisters = 0;
	loads_pending = 0;
}
