/* engine.c: the rediscover engine: its life, feedback from the trap receiver, decisions and the manual trigger. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/evloop.h"
#include "common/log.h"
#include "common/trap.h"
#include "engines/registry.h"
#include "engines/rediscover/model.h"

#define SWEEP_MS 1000u

static uint64_t clock_ms_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static time_t clock_wall_real(void)
{
	return time(NULL);
}

uint64_t (*redisc_clock_ms)(void) = clock_ms_real;
time_t (*redisc_clock_wall)(void) = clock_wall_real;

/* The engine's state, shared by its files (model.h). */
struct redisc_model redisc_m;

/* ---- configuration ------------------------------------------------------------------------- */

static const char *const metric_names[REDISC_NMETRICS] = {"tx_rate_max", "tx_rate_min", "tx_rate_avg", "error_rate",
                                                          "latency"};

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_copy(char ***dst, size_t *dn, char *const *src, size_t n)
{
	char **v = n ? calloc(n, sizeof(*v)) : NULL;

	if (n && !v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(src[i]))) {
			strv_free(v, i);
			return -ENOMEM;
		}
	*dst = v;
	*dn = n;
	return 0;
}

static int strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void agents_free(struct redisc_storage_agent *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].peer);
		free(v[i].user);
		if (v[i].auth_pass)
			explicit_bzero(v[i].auth_pass, strlen(v[i].auth_pass));
		if (v[i].priv_pass)
			explicit_bzero(v[i].priv_pass, strlen(v[i].priv_pass));
		free(v[i].auth_pass);
		free(v[i].priv_pass);
		free(v[i].portals);
	}
	free(v);
}

static int agents_copy(const struct sa_rediscover_config *c, struct redisc_storage_agent **out, char *err,
                       size_t errlen)
{
	struct redisc_storage_agent *v = c->nstorage_agents ? calloc(c->nstorage_agents, sizeof(*v)) : NULL;

	*out = NULL;
	if (c->nstorage_agents && !v)
		goto oom;
	for (size_t i = 0; i < c->nstorage_agents; i++) {
		const struct sa_redisc_storage_agent_cfg *a = &c->storage_agents[i];

		if (!(v[i].peer = strdup(a->peer ? a->peer : "")) || !(v[i].user = strdup(a->user ? a->user : "")) ||
		    !(v[i].auth_pass = strdup(a->auth_passphrase ? a->auth_passphrase : "")) ||
		    !(v[i].priv_pass = strdup(a->priv_passphrase ? a->priv_passphrase : "")) ||
		    (a->nportals && !(v[i].portals = calloc(a->nportals, sizeof(*v[i].portals)))))
			goto oom_free;
		v[i].nportals = a->nportals;
		v[i].poll_interval = a->poll_interval;
		for (size_t k = 0; k < a->nportals; k++)
			if (redisc_parse_portal(a->portals[k], &v[i].portals[k]) < 0 || !v[i].portals[k].port) {
				snprintf(err, errlen, "storage_agents[%zu]: not a portal: %s", i, a->portals[k]);
				agents_free(v, c->nstorage_agents);
				return -EINVAL;
			}
	}
	*out = v;
	return 0;
oom_free:
	agents_free(v, c->nstorage_agents);
oom:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* The policy a config section asks for; thresholds not listed are off. */
static int policy_from_config(const struct sa_rediscover_config *c, struct redisc_policy *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->mode = strcmp(c->mode, "off") == 0 ? REDISC_OFF : strcmp(c->mode, "act") == 0 ? REDISC_ACT : REDISC_DRY_RUN;
	p->hold_s = (uint32_t)c->hold_time;
	p->target_cooldown_s = (uint32_t)c->target_cooldown;
	p->portal_cooldown_s = (uint32_t)c->portal_cooldown;
	p->max_moves_per_hour = (uint32_t)c->max_moves_per_hour;
	p->imbalance_pct = (uint32_t)c->imbalance_share;
	p->age_out_s = (uint32_t)c->session_age_out;
	for (int i = 0; i < REDISC_NMETRICS; i++)
		p->th[i].dir = i < REDISC_M_ERRORS - 1 ? REDISC_BELOW : REDISC_ABOVE;
	for (size_t k = 0; k < c->nthresholds; k++) {
		const struct sa_redisc_threshold_cfg *t = &c->thresholds[k];
		int i;

		for (i = 0; i < REDISC_NMETRICS && strcmp(metric_names[i], t->metric) != 0; i++)
			;
		if (i == REDISC_NMETRICS) {
			snprintf(err, errlen, "unknown metric %s", t->metric);
			return -EINVAL;
		}
		p->th[i].value = (uint32_t)t->value;
		p->th[i].dir = strcmp(t->direction, "below") == 0 ? REDISC_BELOW : REDISC_ABOVE;
		p->th[i].enabled = 1;
	}
	if (redisc_policy_validate(p) < 0) {
		snprintf(err, errlen, "policy out of range");
		return -EINVAL;
	}
	return 0;
}

/* ---- decisions ----------------------------------------------------------------------------- */

static void append(char *buf, size_t len, const char *fmt, const char *a, const char *b)
{
	size_t off = strlen(buf);

	if (off < len)
		snprintf(buf + off, len - off, fmt, off ? " " : "", a, b);
}

static void set_failed(struct redisc_decision *d, void *arg)
{
	d->state = REDISC_ST_FAILED;
	snprintf(d->error, sizeof(d->error), "%s", (const char *)arg);
}

/* One decision for target over portal (seed 000 steps 62 and 74-76): the competing group, the offender, the
 * replacement address and the messages, recorded; the mode says whether anything is carried out. */
static int decide(int trigger, const char *target, const struct redisc_addr *portal, int metric, uint32_t value,
                  const char *source, const char *offender_hint)
{
	struct redisc_decision d;
	struct redisc_member *members = NULL;
	struct redisc_judgement j;
	char ptext[64], ntext[64];
	size_t first, n = 0;
	time_t now = redisc_clock_wall();
	int verdict, publish_failed = 0;

	if (redisc_m.pol.mode == REDISC_OFF)
		return -ENODEV;
	redisc_addr_text(portal, ptext, sizeof(ptext));
	if ((verdict = redisc_limit_check(&redisc_m.lim, &redisc_m.pol, target, ptext, now)) != REDISC_GO) {
		redisc_m.ctr.suppressed++;
		return -EAGAIN;
	}
	memset(&d, 0, sizeof(d));
	d.when = now;
	d.trigger = trigger;
	snprintf(d.source, sizeof(d.source), "%s", source);
	d.metric = metric;
	d.value = value;
	snprintf(d.target, sizeof(d.target), "%s", target);
	d.old_portal = *portal;
	d.mode = redisc_m.pol.mode;

	/* The group is one contiguous run of the key order. */
	first = redisc_key_lower(target, portal, "");
	while (first + n < redisc_m.nsess && strcmp(redisc_m.by_key[first + n]->target, target) == 0 &&
	       redisc_addr_cmp(&redisc_m.by_key[first + n]->portal, portal) == 0)
		n++;
	if (n && !(members = calloc(n, sizeof(*members)))) {
		cm_log(CM_LOG_ERR, REDISC_TAG, "out of memory: decision for %s dropped", target);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct redisc_session *s = redisc_m.by_key[first + i];

		members[i].initiator = s->initiator;
		members[i].bytes = s->bytes;
		members[i].outside = redisc_outside(&redisc_m.pol, &s->m);
	}
	if (redisc_judge(&redisc_m.pol, members, n, &j) < 0) {
		free(members);
		cm_log(CM_LOG_ERR, REDISC_TAG, "out of memory: decision for %s dropped", target);
		return -ENOMEM;
	}
	/* A sender's offender counts only if it has a session in the group; an administrator's always does. */
	if (offender_hint && offender_hint[0]) {
		for (size_t i = 0; i < j.ninitiators; i++)
			if (strcmp(j.order[i], offender_hint) == 0)
				snprintf(d.offender, sizeof(d.offender), "%s", offender_hint);
		if (trigger == REDISC_TRIG_MANUAL)
			snprintf(d.offender, sizeof(d.offender), "%s", offender_hint);
	}
	if (!d.offender[0] && j.offender >= 0)
		snprintf(d.offender, sizeof(d.offender), "%s", j.order[j.offender]);
	for (size_t i = 0; i < j.ninitiators; i++) {
		const struct redisc_agent *a = redisc_agent_by_name(j.order[i]);
		char at[64];

		if (a)
			redisc_addr_text(&a->addr, at, sizeof(at));
		append(d.competing, sizeof(d.competing), "%s%s%s", j.order[i], "");
		append(d.messages, sizeof(d.messages),
		       strcmp(j.order[i], d.offender) == 0 ? "%stype2:%s@%s" : "%stype1:%s@%s", j.order[i],
		       a ? at : "iSNS");
	}
	if (d.offender[0] && !strstr(d.messages, "type2:")) {
		const struct redisc_agent *a = redisc_agent_by_name(d.offender);
		char at[64];

		if (a)
			redisc_addr_text(&a->addr, at, sizeof(at));
		append(d.messages, sizeof(d.messages), "%stype2:%s@%s", d.offender, a ? at : "iSNS");
	}
	redisc_judgement_free(&j);
	free(members);

	if (redisc_pool_pick(portal, &d.new_portal) < 0) {
		d.state = REDISC_ST_FAILED;
		snprintf(d.error, sizeof(d.error), "address pool exhausted");
	} else if (d.mode == REDISC_DRY_RUN) {
		d.state = REDISC_ST_RECORDED;
	} else {
		/* Carried out by move.c once the row is stored (inProgress first: a restart finds it). */
		d.state = REDISC_ST_IN_PROGRESS;
		d.step = REDISC_MV_NONE;
	}
	d.index = ++redisc_m.next_decision;
	redisc_addr_text(&d.new_portal, ntext, sizeof(ntext));
	/* A failed decision starts the cooldowns as well: a failing move is not retried at every feedback. */
	if (redisc_limit_note(&redisc_m.lim, target, ptext, ntext[0] ? ntext : NULL, now) < 0 ||
	    redisc_decision_store(&d) < 0) {
		cm_log(CM_LOG_ERR, REDISC_TAG, "out of memory: decision %u for %s dropped", (unsigned int)d.index,
		       target);
		return -ENOMEM;
	}
	redisc_m.ctr.decisions++;
	if (d.state == REDISC_ST_IN_PROGRESS) {
		char err[128] = "";

		redisc_pool_take(&d.new_portal, d.index);
		if (redisc_move_start(d.index, err, sizeof(err)) < 0) {
			redisc_pool_release(d.index);
			d.state = REDISC_ST_FAILED;
			snprintf(d.error, sizeof(d.error), "%s", err);
			redisc_decision_update(d.index, set_failed, err);
			publish_failed = 1;
		}
	}
	if (d.state == REDISC_ST_FAILED)
		redisc_m.ctr.moves_failed++;
	cm_log(CM_LOG_NOTICE, REDISC_TAG, "decision %u (%s): %s at %s -> %s; competing %s; offender %s; %s%s%s",
	       (unsigned int)d.index, d.mode == REDISC_DRY_RUN ? "dry run" : "act", target, ptext,
	       ntext[0] ? ntext : "none", d.competing[0] ? d.competing : "none", d.offender[0] ? d.offender : "none",
	       d.messages, d.error[0] ? "; failed: " : "", d.error);
	{
		struct redisc_event ev = {.type = REDISC_EV_DECISION, .index = d.index};

		bus_publish(BUS_REDISCOVER, &ev);
		if (publish_failed) {
			ev.type = REDISC_EV_MOVE_FAILED;
			bus_publish(BUS_REDISCOVER, &ev);
		}
	}
	return (int)d.index;
}

static int name_ok(const char *s, int empty_ok)
{
	size_t n = strlen(s);

	if (n == 0)
		return empty_ok;
	if (n >= REDISC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~')
			return 0;
	return 1;
}

int redisc_trigger_check(const char *target, const struct redisc_addr *portal, const char *offender)
{
	char ptext[64];

	if (!redisc_m.running || redisc_m.pol.mode == REDISC_OFF)
		return -ENODEV;
	if (!name_ok(target, 0) || !name_ok(offender, 1) || (portal->type != 1 && portal->type != 2) || !portal->port)
		return -EINVAL;
	redisc_addr_text(portal, ptext, sizeof(ptext));
	return redisc_limit_check(&redisc_m.lim, &redisc_m.pol, target, ptext, redisc_clock_wall()) == REDISC_GO
	           ? 0
	           : -EAGAIN;
}

int redisc_trigger(const char *target, const struct redisc_addr *portal, const char *offender)
{
	int rc = redisc_trigger_check(target, portal, offender);

	if (rc < 0)
		return rc;
	return decide(REDISC_TRIG_MANUAL, target, portal, REDISC_M_NONE, 0, "snmp", offender);
}

/* ---- feedback ------------------------------------------------------------------------------ */

static int drop(int why)
{
	redisc_m.ctr.dropped++;
	switch (why) {
	case REDISC_DROP_UNAUTHORIZED: redisc_m.ctr.dropped_unauthorized++; break;
	case REDISC_DROP_UNKNOWN_SESSION: redisc_m.ctr.dropped_unknown_session++; break;
	default: redisc_m.ctr.dropped_malformed++; break;
	}
	return why;
}

static int group_exists(const char *target, const struct redisc_addr *portal)
{
	size_t i = redisc_key_lower(target, portal, "");

	return i < redisc_m.nsess && strcmp(redisc_m.by_key[i]->target, target) == 0 &&
	       redisc_addr_cmp(&redisc_m.by_key[i]->portal, portal) == 0;
}

static int take_session(const struct redisc_feedback *fb, int storage, const char *who, const char *source, int polled);

int redisc_take_polled(const struct redisc_feedback *fb, const char *source)
{
	char who[REDISC_SOURCE_MAX];

	if (!redisc_m.running)
		return REDISC_DROP_NONE;
	snprintf(who, sizeof(who), "poll@%s", source);
	return take_session(fb, 1, who, source, 1);
}

int redisc_take(const struct redisc_feedback *fb, int request, int version, const char *principal, const char *source)
{
	char who[REDISC_SOURCE_MAX];
	int storage;

	if (!redisc_m.running)
		return REDISC_DROP_NONE;
	redisc_m.ctr.received++;
	if (request)
		redisc_m.ctr.requests++;
	/* The receiver authenticated the sender; whether it may steer targets is the engine's call: only
	 * listed v3 users (their level is the receiver's, authPriv in the shipped config). */
	storage = version == 3 && strv_has(redisc_m.storage_users, redisc_m.nstorage_users, principal);
	if (!storage && !(version == 3 && strv_has(redisc_m.feedback_users, redisc_m.nfeedback_users, principal)))
		return drop(REDISC_DROP_UNAUTHORIZED);
	if (!fb)
		return drop(REDISC_DROP_MALFORMED);
	snprintf(who, sizeof(who), "%s@%s", principal, source);
	if (request) {
		if (!group_exists(fb->target, &fb->portal))
			return drop(REDISC_DROP_UNKNOWN_SESSION);
		redisc_m.ctr.accepted++;
		decide(REDISC_TRIG_REQUEST, fb->target, &fb->portal, REDISC_M_NONE, 0, who, fb->offender);
		return REDISC_DROP_NONE;
	}
	return take_session(fb, storage, who, source, 0);
}

/* A session's report, from a notification or a poll of a storage agent's table (a storage agent's word; not in
 * the feedback counters, which count notifications). */
static int take_session(const struct redisc_feedback *fb, int storage, const char *who, const char *source, int polled)
{
	struct redisc_session *s;
	uint32_t value = 0;
	int metric;

	s = redisc_session_lookup(fb->target, &fb->portal, fb->initiator);
	if (!s) {
		/* Only a storage agent sees sessions from the target's side: its word makes one exist. */
		if (!storage)
			return drop(REDISC_DROP_UNKNOWN_SESSION);
		if (!(s = redisc_session_add(fb))) {
			cm_log(CM_LOG_ERR, REDISC_TAG, "out of memory: session %s -> %s not kept", fb->initiator,
			       fb->target);
			return drop(REDISC_DROP_MALFORMED);
		}
		redisc_outcome_note(s);
	}
	if (storage)
		s->last_ms = redisc_clock_ms();
	for (int i = 0; i < REDISC_NMETRICS; i++)
		if (fb->m.have & (1u << i))
			s->m.v[i] = fb->m.v[i];
	s->m.have |= fb->m.have;
	if (fb->have_bytes)
		s->bytes = fb->bytes;
	s->feedbacks++;
	snprintf(s->source, sizeof(s->source), "%s", source);
	if (!storage)
		redisc_agent_learn(fb->initiator, source);
	if (!polled)
		redisc_m.ctr.accepted++;
	metric = redisc_hold_update(&s->hold, &redisc_m.pol, &s->m, redisc_clock_ms(), &value);
	if (metric)
		decide(polled ? REDISC_TRIG_POLL : REDISC_TRIG_FEEDBACK, s->target, &s->portal, metric, value, who,
		       NULL);
	return REDISC_DROP_NONE;
}

static const uint32_t oid_feedback[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_FEEDBACK};
static const uint32_t oid_request[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_REQUEST};

/* Only notifications the receiver accepted arrive here (community and source, or a configured v3 user). */
static void on_trap(int topic, const void *data, void *arg)
{
	const struct cm_trap *t = data;
	int request = arg != NULL;
	struct redisc_feedback fb;

	(void)topic;
	if (!redisc_m.running)
		return;
	redisc_take(redisc_feedback_decode(t, request, &fb) == REDISC_DROP_NONE ? &fb : NULL, request, t->version,
	            t->principal ? t->principal : "", t->source ? t->source : "?");
}

static void unsubscribe(void)
{
	for (int i = 0; i < 2; i++)
		if (redisc_m.subs[i] > 0)
			bus_unsubscribe(redisc_m.subs[i]);
	redisc_m.subs[0] = redisc_m.subs[1] = 0;
}

static int subscribe(void)
{
	static int request_tag = 1;
	int h;

	if ((h = bus_subscribe_key(BUS_TRAP, oid_feedback, sizeof(oid_feedback) / sizeof(uint32_t), 0, on_trap, NULL)) <
	    0)
		return h;
	redisc_m.subs[0] = h;
	if ((h = bus_subscribe_key(BUS_TRAP, oid_request, sizeof(oid_request) / sizeof(uint32_t), 0, on_trap,
	                           &request_tag)) < 0) {
		unsubscribe();
		return h;
	}
	redisc_m.subs[1] = h;
	return 0;
}

/* ---- engine life --------------------------------------------------------------------------- */

static int apply(const struct sa_rediscover_config *c, char *err, size_t errlen)
{
	struct redisc_policy p;
	struct redisc_storage_agent *sa = NULL;
	char **fu = NULL, **su = NULL;
	size_t nfu = 0, nsu = 0;
	int rc;

	if ((rc = policy_from_config(c, &p, err, errlen)) < 0)
		return rc;
	if (strv_copy(&fu, &nfu, c->feedback_users, c->nfeedback_users) < 0 ||
	    strv_copy(&su, &nsu, c->storage_users, c->nstorage_users) < 0) {
		strv_free(fu, nfu);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = agents_copy(c, &sa, err, errlen)) < 0) {
		strv_free(fu, nfu);
		strv_free(su, nsu);
		return rc;
	}
	if ((rc = redisc_pool_apply(c->pool, c->npool, err, errlen)) < 0 ||
	    (rc = redisc_agents_apply(c->initiator_agents, c->ninitiator_agents, err, errlen)) < 0 ||
	    (rc = redisc_messages_apply(c, err, errlen)) < 0) {
		strv_free(fu, nfu);
		strv_free(su, nsu);
		agents_free(sa, c->nstorage_agents);
		return rc;
	}
	/* Moves in flight keep copies of their storage agent's address and user: they go on. */
	agents_free(redisc_m.storage_agents, redisc_m.nstorage_agents);
	redisc_m.storage_agents = sa;
	redisc_m.nstorage_agents = c->nstorage_agents;
	snprintf(redisc_m.isns_server, sizeof(redisc_m.isns_server), "%s", c->isns_server ? c->isns_server : "");
	snprintf(redisc_m.isns_source, sizeof(redisc_m.isns_source), "%s", c->isns_source ? c->isns_source : "");
	redisc_m.pol = p;
	strv_free(redisc_m.feedback_users, redisc_m.nfeedback_users);
	strv_free(redisc_m.storage_users, redisc_m.nstorage_users);
	redisc_m.feedback_users = fu;
	redisc_m.nfeedback_users = nfu;
	redisc_m.storage_users = su;
	redisc_m.nstorage_users = nsu;
	redisc_m.agent_port = c->agent_port;
	redisc_m.history = (size_t)c->history;
	/* A move in flight keeps the deadline it armed; the next step takes the new one. */
	if (c->move_step_timeout > 0)
		redisc_move_step_ms = (unsigned int)c->move_step_timeout;
	return 0;
}

void redisc_stop(void)
{
	redisc_poll_stop();
	if (redisc_m.sweep_timer)
		cm_ev_cancel(redisc_m.sweep_timer);
	redisc_m.sweep_timer = 0;
	if (redisc_m.recover_timer)
		cm_ev_cancel(redisc_m.recover_timer);
	redisc_moves_stop();
	agents_free(redisc_m.storage_agents, redisc_m.nstorage_agents);
	unsubscribe();
	redisc_messages_stop();
	redisc_sessions_free();
	redisc_groups_free();
	free(redisc_m.dec);
	redisc_agents_free();
	redisc_pool_free();
	strv_free(redisc_m.feedback_users, redisc_m.nfeedback_users);
	strv_free(redisc_m.storage_users, redisc_m.nstorage_users);
	redisc_limit_free(&redisc_m.lim);
	memset(&redisc_m, 0, sizeof(redisc_m));
}

int redisc_start(const struct sa_rediscover_config *c, char *err, size_t errlen)
{
	int rc;

	if (redisc_m.running)
		redisc_stop();
	redisc_pool_load();
	redisc_agents_load();
	if ((rc = apply(c, err, errlen)) < 0) {
		redisc_stop();
		return rc;
	}
	redisc_m.running = 1;
	redisc_decisions_load();
	redisc_move_recover();
	if ((rc = subscribe()) < 0 || (rc = redisc_messages_start()) < 0) {
		snprintf(err, errlen, "cannot subscribe to feedback notifications: %s", strerror(-rc));
		redisc_stop();
		return rc;
	}
	if (!(redisc_m.sweep_timer = cm_ev_timer(SWEEP_MS, 1, redisc_sweep, NULL))) {
		snprintf(err, errlen, "cannot create the age-out timer");
		redisc_stop();
		return -ENOMEM;
	}
	redisc_poll_apply(c);
	cm_log(CM_LOG_INFO, REDISC_TAG, "started: mode %s, hold %u s, cooldowns %u/%u s, cap %u/h, %zu pool addresses",
	       c->mode, (unsigned int)redisc_m.pol.hold_s, (unsigned int)redisc_m.pol.target_cooldown_s,
	       (unsigned int)redisc_m.pol.portal_cooldown_s, (unsigned int)redisc_m.pol.max_moves_per_hour,
	       redisc_m.npool);
	return 0;
}

int redisc_reload(const struct sa_rediscover_config *c, char *err, size_t errlen)
{
	int rc;

	if (!redisc_m.running)
		return redisc_start(c, err, errlen);
	if ((rc = apply(c, err, errlen)) == 0)
		redisc_poll_apply(c);
	return rc;
}

int redisc_running(void)
{
	return redisc_m.running;
}

const struct redisc_policy *redisc_policy(void)
{
	return redisc_m.running ? &redisc_m.pol : NULL;
}

int redisc_policy_check(const struct redisc_policy *p)
{
	if (!redisc_m.running)
		return -ENODEV;
	return redisc_policy_validate(p);
}

int redisc_policy_set(const struct redisc_policy *p)
{
	int rc = redisc_policy_check(p);

	if (rc < 0)
		return rc;
	redisc_m.pol = *p;
	return 0;
}

const struct redisc_counters *redisc_counters(void)
{
	return redisc_m.running ? &redisc_m.ctr : NULL;
}

/* The registry's ops: each hands the engine its own section. */
static int ops_start(const void *section, char *err, size_t errlen)
{
	if (!section) {
		snprintf(err, errlen, "no rediscover section");
		return -EINVAL;
	}
	return redisc_start(section, err, errlen);
}

static int ops_reload(const void *section, char *err, size_t errlen)
{
	if (!section) {
		snprintf(err, errlen, "no rediscover section");
		return -EINVAL;
	}
	return redisc_reload(section, err, errlen);
}

const struct sa_engine_ops redisc_engine_ops = {
    .start = ops_start,
    .reload = ops_reload,
    .stop = redisc_stop,
};
