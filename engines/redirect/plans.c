/* plans.c: the redirect engine's plans (failover, rebalance, placement) and how they are applied. */
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engines/redirect/model.h"
#include "common/log.h"

#define TAG "redirect"
#define REDIR_MAX_PLANS 100 /* plan history rows kept */

static uint32_t next_plan = 1;
static struct timespec last_auto_plan;

void redir_rb_free(struct redir_rbctx *c)
{
	free(c->srv);
	free(c->res);
	free(c->resmap);
}

int redir_rb_build(struct redir_rbctx *c)
{
	memset(c, 0, sizeof(*c));
	c->srv = calloc(redir_servers.n ? redir_servers.n : 1, sizeof(*c->srv));
	c->res = calloc(redir_resources.n ? redir_resources.n : 1, sizeof(*c->res));
	c->resmap = calloc(redir_resources.n ? redir_resources.n : 1, sizeof(*c->resmap));
	if (!c->srv || !c->res || !c->resmap) {
		redir_rb_free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < redir_servers.n; i++) {
		c->srv[i].capacity = SRV(i)->pub.capacity;
		c->srv[i].state = redir_srv_rb_state(SRV(i));
		c->srv[i].base = SRV(i)->pub.host_load;
	}
	for (size_t i = 0; i < redir_resources.n; i++) {
		size_t p;

		if (!RES(i)->pub.server)
			continue;
		p = redir_vec_pos(&redir_servers, RES(i)->pub.server);
		if (p >= redir_servers.n || SRV(p)->pub.index != RES(i)->pub.server)
			continue;
		c->res[c->nres].load = RES(i)->pub.load;
		c->res[c->nres].server = (uint32_t)p;
		c->res[c->nres].pinned = RES(i)->pub.pinned != 0;
		c->resmap[c->nres++] = i;
	}
	return 0;
}

void redir_end_sessions(uint32_t server, const char *target)
{
	const struct redir_server *s = redir_server_find(server);

	if (s && s->tgt_control >= 0)
		tgtc_end_sessions(s->tgt_control, target);
}

static void record_plan(int trigger, const struct redir_plan *plan, const struct redir_rbctx *c)
{
	struct redir_plan_record *pr;
	size_t off = 0;

	while (redir_plans.n >= REDIR_MAX_PLANS) {
		uint32_t gone = PLAN(0)->index;

		redir_vec_remove_pos(&redir_plans, 0);
		redir_emit(REDIR_EV_ROW_REMOVED, REDIR_T_PLAN, gone, 0);
	}
	pr = redir_vec_insert(&redir_plans, next_plan++);
	if (!pr)
		return;
	pr->when = time(NULL);
	pr->trigger = trigger;
	pr->nmoves = (uint32_t)plan->n_moves;
	/* Load per unit of capacity, rounded: seed 003's Fig. 8 reads 700 -> 450. */
	pr->max_before = (uint64_t)llround(plan->max_rel_before);
	pr->max_after = (uint64_t)llround(plan->max_rel_after);
	for (size_t i = 0; i < plan->n_moves; i++) {
		const struct redir_move *m = &plan->moves[i];
		char one[64];
		int n =
		    snprintf(one, sizeof(one), "%sres%u:%u->%u", i ? " " : "", RES(c->resmap[m->resource])->pub.index,
		             SRV(m->from)->pub.index, SRV(m->to)->pub.index);

		if (n < 0)
			break;
		if (off + (size_t)n + 4 >= sizeof(pr->moves)) {
			snprintf(pr->moves + off, sizeof(pr->moves) - off, "...");
			break;
		}
		memcpy(pr->moves + off, one, (size_t)n + 1);
		off += (size_t)n;
	}
	redir_emit(REDIR_EV_ROW_ADDED, REDIR_T_PLAN, pr->index, 0);
	redir_emit(REDIR_EV_REBALANCED, pr->index, 0, 0);
}

static const char *trigger_name(int t)
{
	static const char *const n[] = {"?", "periodic", "threshold", "manual", "failover", "drain"};

	return t >= 1 && t <= 5 ? n[t] : n[0];
}

/* Rewrites the mapping, ends the moved resources' sessions on their old
 * server (their initiators log in again through the portal), persists. */
static void apply_plan(int trigger, const struct redir_plan *plan, const struct redir_rbctx *c, bool record)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < plan->n_moves; i++) {
		const struct redir_move *m = &plan->moves[i];
		struct redir_res *r = RES(c->resmap[m->resource]);
		uint32_t from = SRV(m->from)->pub.index, to = SRV(m->to)->pub.index;

		r->pub.server = to;
		r->pub.mapped_since = now;
		redir_st_save_map(r);
		redir_end_sessions(from, r->pub.target);
		cm_log(CM_LOG_INFO, TAG, "%s: %s moved from %s to %s", trigger_name(trigger), r->pub.target,
		       SRV(m->from)->pub.name, SRV(m->to)->pub.name);
		redir_emit(REDIR_EV_RESOURCE_REMAPPED, r->pub.index, from, to);
	}
	redir_recount();
	if (plan->n_moves && redir_st())
		redir_st_commit();
	if (record)
		record_plan(trigger, plan, c);
}

/* The standby spare that takes a failed server's resources (seed 003
 * [0088]): up, holding none, the largest capacity (lowest index on a tie). */
static size_t standby_spare(size_t failed)
{
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < redir_servers.n; i++) {
		const struct redir_srv *s = SRV(i);

		if (i == failed || s->pub.admin != REDIR_ADMIN_SPARE || s->pub.oper != REDIR_OPER_UP ||
		    s->pub.nresources || !s->pub.capacity)
			continue;
		if (best == SIZE_MAX || s->pub.capacity > SRV(best)->pub.capacity)
			best = i;
	}
	return best;
}

/* Highest load per unit of capacity over the servers that take resources,
 * with the mapping as it is (plan NULL) or after plan. */
static double rel_max(const struct redir_rbctx *c, const struct redir_plan *plan)
{
	uint64_t *load = calloc(redir_servers.n ? redir_servers.n : 1, sizeof(*load));
	double max = 0;

	if (!load)
		return 0;
	for (size_t i = 0; i < redir_servers.n; i++)
		load[i] = c->srv[i].base;
	for (size_t k = 0; k < c->nres; k++)
		load[c->res[k].server] += c->res[k].load;
	for (size_t i = 0; plan && i < plan->n_moves; i++) {
		load[plan->moves[i].from] -= c->res[plan->moves[i].resource].load;
		load[plan->moves[i].to] += c->res[plan->moves[i].resource].load;
	}
	for (size_t i = 0; i < redir_servers.n; i++)
		if (c->srv[i].state == REDIR_SRV_UP && c->srv[i].capacity && (double)load[i] / c->srv[i].capacity > max)
			max = (double)load[i] / c->srv[i].capacity;
	free(load);
	return max;
}

/* Every resource of the failed server that may move goes to the spare. */
static int spare_plan(struct redir_rbctx *c, size_t failed, size_t spare, struct redir_plan *plan)
{
	if (!(plan->moves = calloc(c->nres ? c->nres : 1, sizeof(*plan->moves))))
		return -ENOMEM;
	plan->triggered = true;
	plan->max_rel_before = rel_max(c, NULL);
	for (size_t k = 0; k < c->nres; k++)
		if (c->res[k].server == failed && !c->res[k].pinned)
			plan->moves[plan->n_moves++] = (struct redir_move){
			    .resource = (uint32_t)k, .from = (uint32_t)failed, .to = (uint32_t)spare};
	c->srv[spare].state = REDIR_SRV_UP;
	plan->max_rel_after = rel_max(c, plan);
	return 0;
}

/* Resources left on a failed server (pinned with the stay policy, or no
 * server could take them) are reported once until their server is back or
 * they move. */
static void report_stranded(uint32_t index)
{
	for (size_t i = 0; i < redir_resources.n; i++) {
		struct redir_res *r = RES(i);

		if (r->pub.server != index || r->stranded)
			continue;
		r->stranded = 1;
		cm_log(CM_LOG_WARNING, TAG, "%s stays on failed server %u%s: logins get 0x0301", r->pub.target, index,
		       r->pub.pinned && r->pub.fail_policy == REDIR_FAIL_STAY ? " (pinned, policy stay)" : "");
		redir_emit(REDIR_EV_RESOURCE_STRANDED, r->pub.index, index, 0);
	}
}

/* Moves the resources off one server that went down or is drained. */
void redir_failover_server(uint32_t index, int trigger)
{
	struct redir_plan plan = {0};
	struct redir_rbctx c;
	size_t pos = redir_vec_pos(&redir_servers, index), spare = SIZE_MAX;
	bool failed = trigger == REDIR_TRIG_FAILOVER;
	int rc;

	if (pos >= redir_servers.n || SRV(pos)->pub.index != index || !SRV(pos)->pub.nresources || REDIR_PASSIVE())
		return;
	if (redir_rb_build(&c) < 0)
		return;
	/* Pinned resources whose policy is to follow a failure move like the rest. */
	for (size_t k = 0; failed && k < c.nres; k++)
		if (c.res[k].server == pos && c.res[k].pinned && RES(c.resmap[k])->pub.fail_policy == REDIR_FAIL_MOVE)
			c.res[k].pinned = false;
	if (failed)
		spare = standby_spare(pos);
	if (spare != SIZE_MAX)
		rc = spare_plan(&c, pos, spare, &plan);
	else
		rc = redir_failover(c.srv, redir_servers.n, c.res, c.nres, (uint32_t)pos, false, &plan);
	if (rc == -EHOSTUNREACH)
		cm_log(CM_LOG_WARNING, TAG, "%s: no server is up to take its %u resources; logins get 0x0301",
		       SRV(pos)->pub.name, SRV(pos)->pub.nresources);
	else if (rc < 0)
		cm_log(CM_LOG_ERR, TAG, "%s: failover failed: %s", SRV(pos)->pub.name, strerror(-rc));
	else if (plan.n_moves) {
		if (spare != SIZE_MAX) {
			SRV(spare)->pub.spare_for = index;
			cm_log(CM_LOG_NOTICE, TAG, "spare %s takes over %zu resources of %s", SRV(spare)->pub.name,
			       plan.n_moves, SRV(pos)->pub.name);
		}
		apply_plan(trigger, &plan, &c, true);
	}
	redir_plan_free(&plan);
	redir_rb_free(&c);
	if (failed && (pos = redir_vec_pos(&redir_servers, index)) < redir_servers.n &&
	    redir_srv_rb_state(SRV(pos)) == REDIR_SRV_DOWN)
		report_stranded(index);
}

/* Resources stuck on servers that cannot take them (all servers were down
 * when theirs failed) move as soon as some server is up again. */
void redir_heal_orphans(void)
{
	if (REDIR_PASSIVE())
		return;
	for (size_t i = 0; i < redir_servers.n; i++) {
		struct redir_srv *s = SRV(i);

		if (redir_srv_rb_state(s) != REDIR_SRV_UP && s->pub.nresources)
			redir_failover_server(s->pub.index, s->pub.admin == REDIR_ADMIN_DRAIN ? REDIR_TRIG_DRAIN
			                                                                      : REDIR_TRIG_FAILOVER);
	}
}

/* Places one unmapped resource on the UP server with the fewest resources
 * per unit of capacity (loads are unknown for a new resource). */
void redir_place(struct redir_res *r)
{
	struct redir_srv *best = NULL;

	for (size_t i = 0; i < redir_servers.n; i++) {
		struct redir_srv *s = SRV(i);

		if (redir_srv_rb_state(s) != REDIR_SRV_UP)
			continue;
		if (!best ||
		    (uint64_t)s->pub.nresources * best->pub.capacity < (uint64_t)best->pub.nresources * s->pub.capacity)
			best = s;
	}
	if (!best)
		return;
	r->pub.server = best->pub.index;
	r->pub.mapped_since = time(NULL);
	best->pub.nresources++;
	best->pub.load += r->pub.load;
}

int redir_run_rebalance(int trigger, bool force, bool record_empty)
{
	struct redir_rb_params p = {
	    .threshold_pct = redir_cur_params.threshold_pct, .max_moves = redir_cur_params.max_moves, .force = force};
	struct redir_plan plan = {0};
	struct redir_rbctx c;
	int rc;

	if (REDIR_PASSIVE())
		return -EPERM;
	if ((rc = redir_rb_build(&c)) < 0)
		return rc;
	rc = redir_rebalance(c.srv, redir_servers.n, c.res, c.nres, &p, &plan);
	if (rc < 0) {
		cm_log(CM_LOG_ERR, TAG, "%s rebalance failed: %s", trigger_name(trigger), strerror(-rc));
	} else if (plan.triggered && (plan.n_moves || record_empty)) {
		cm_log(CM_LOG_NOTICE, TAG, "%s rebalance: %zu moves, max load per capacity %.0f -> %.0f",
		       trigger_name(trigger), plan.n_moves, plan.max_rel_before, plan.max_rel_after);
		apply_plan(trigger, &plan, &c, true);
		if (plan.n_moves)
			clock_gettime(CLOCK_MONOTONIC, &last_auto_plan);
	} else if (record_empty) {
		apply_plan(trigger, &plan, &c, true);
	}
	redir_plan_free(&plan);
	redir_rb_free(&c);
	return rc;
}

bool redir_plan_cooled_down(void)
{
	struct timespec now;
	double gap = 3.0 * redir_cur_params.load_interval_s;

	if (!last_auto_plan.tv_sec)
		return true;
	if (gap < 5)
		gap = 5;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - last_auto_plan.tv_sec) + (now.tv_nsec - last_auto_plan.tv_nsec) / 1e9 >= gap;
}
