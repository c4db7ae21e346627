/* engine.c: the rediscover engine: feedback from the trap receiver, known sessions, decisions, history, state. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "common/evloop.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/search.h"
#include "common/state.h"
#include "common/trap.h"
#include "engines/registry.h"
#include "engines/rediscover/rediscover.h"

#define TAG "rediscover"
#define STATE_PREFIX "rediscover.decision."
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

struct pool_entry {
	struct redisc_addr addr; /* port 0: keep the portal's */
};

/* Where an initiator's messages go; learned from the source of its feedback. */
struct agent {
	char initiator[REDISC_NAME_MAX];
	char address[REDISC_SOURCE_MAX]; /* "ip:port" of its trap receiver */
	uint64_t messages;
};

static struct {
	int running;
	struct redisc_policy pol;
	char **feedback_users, **storage_users;
	size_t nfeedback_users, nstorage_users;
	int agent_port;
	size_t history;
	struct pool_entry *pool;
	size_t npool;
	/* Sessions: by index (append order, indexes only grow) and by key. */
	struct redisc_session **by_index, **by_key;
	size_t nsess, capsess;
	uint32_t next_session;
	struct redisc_decision *dec; /* by index, oldest first */
	size_t ndec, capdec;
	uint32_t next_decision;
	struct agent *agents;
	size_t nagents, capagents;
	struct redisc_limiter lim;
	struct redisc_counters ctr;
	int subs[2];
	unsigned int sweep_timer;
} R;

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

/* "ADDRESS", "ADDRESS:PORT" or "[V6]:PORT" into a portal; port 0 when absent. */
static int parse_portal(const char *s, struct redisc_addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long port = 0;
	size_t hl;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		colon = close[1] ? close + 1 : NULL;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (colon) {
		char *end;

		port = strtoul(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, a->a) == 1)
		a->type = 1;
	else if (inet_pton(AF_INET6, host, a->a) == 1)
		a->type = 2;
	else
		return -EINVAL;
	a->port = (uint16_t)port;
	return 0;
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

/* ---- known sessions ------------------------------------------------------------------------ */

static int addr_cmp(const struct redisc_addr *a, const struct redisc_addr *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(a->a, b->a, redisc_addr_len(a));
}

/* Target and portal first: a competing group is one contiguous run. */
static int key_cmp(const char *target, const struct redisc_addr *portal, const char *initiator,
                   const struct redisc_session *s)
{
	int c = strcmp(target, s->target);

	if (c == 0)
		c = addr_cmp(portal, &s->portal);
	if (c == 0)
		c = strcmp(initiator, s->initiator);
	return c;
}

static size_t key_lower(const char *target, const struct redisc_addr *portal, const char *initiator)
{
	size_t lo = 0, hi = R.nsess;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(target, portal, initiator, R.by_key[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct redisc_session *session_lookup(const char *target, const struct redisc_addr *portal,
                                             const char *initiator)
{
	size_t i = key_lower(target, portal, initiator);

	return i < R.nsess && key_cmp(target, portal, initiator, R.by_key[i]) == 0 ? R.by_key[i] : NULL;
}

static int64_t session_index_of(const void *elem)
{
	return (*(const struct redisc_session *const *)elem)->index;
}

static size_t index_lower(int64_t index)
{
	return sa_lower_bound(R.by_index, R.nsess, sizeof(*R.by_index), index, session_index_of);
}

static struct redisc_session *session_add(const struct redisc_feedback *fb)
{
	struct redisc_session *s;
	size_t k;

	if (R.nsess == R.capsess) {
		size_t nc = R.capsess ? R.capsess * 2 : 64;
		struct redisc_session **bi = realloc(R.by_index, nc * sizeof(*bi));

		if (!bi)
			return NULL;
		R.by_index = bi;
		if (!(bi = realloc(R.by_key, nc * sizeof(*bi))))
			return NULL;
		R.by_key = bi;
		R.capsess = nc;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->index = ++R.next_session;
	snprintf(s->initiator, sizeof(s->initiator), "%s", fb->initiator);
	snprintf(s->target, sizeof(s->target), "%s", fb->target);
	s->portal = fb->portal;
	k = key_lower(s->target, &s->portal, s->initiator);
	memmove(R.by_key + k + 1, R.by_key + k, (R.nsess - k) * sizeof(*R.by_key));
	R.by_key[k] = s;
	R.by_index[R.nsess++] = s; /* indexes only grow: appending keeps the order */
	return s;
}

static void session_remove(struct redisc_session *s)
{
	size_t i = index_lower(s->index), k = key_lower(s->target, &s->portal, s->initiator);

	memmove(R.by_index + i, R.by_index + i + 1, (R.nsess - i - 1) * sizeof(*R.by_index));
	memmove(R.by_key + k, R.by_key + k + 1, (R.nsess - k - 1) * sizeof(*R.by_key));
	R.nsess--;
	free(s);
}

static void sessions_free(void)
{
	for (size_t i = 0; i < R.nsess; i++)
		free(R.by_index[i]);
	free(R.by_index);
	free(R.by_key);
	R.by_index = R.by_key = NULL;
	R.nsess = R.capsess = 0;
}

/* Sessions no storage agent reported within the age-out are gone: feedback about them is about nothing. */
static void sweep(unsigned int id, void *arg)
{
	uint64_t now = redisc_clock_ms(), limit = (uint64_t)R.pol.age_out_s * 1000u;

	(void)id;
	(void)arg;
	for (size_t i = R.nsess; i-- > 0;) {
		struct redisc_session *s = R.by_index[i];

		if (now - s->last_ms > limit) {
			sa_log(SA_LOG_INFO, TAG, "session %s -> %s forgotten: unreported for %u s", s->initiator,
			       s->target, (unsigned int)R.pol.age_out_s);
			session_remove(s);
		}
	}
}

const struct redisc_session *redisc_session_next(uint32_t after)
{
	size_t i = index_lower((int64_t)after + 1);

	return i < R.nsess ? R.by_index[i] : NULL;
}

const struct redisc_session *redisc_session_find(uint32_t index)
{
	size_t i = index_lower(index);

	return i < R.nsess && R.by_index[i]->index == index ? R.by_index[i] : NULL;
}

size_t redisc_session_count(void)
{
	return R.nsess;
}

uint32_t redisc_session_outside_age(const struct redisc_session *s)
{
	return redisc_hold_age(&s->hold, redisc_clock_ms());
}

uint32_t redisc_outside_count(int metric)
{
	uint32_t n = 0;

	if (metric < 1 || metric > REDISC_NMETRICS)
		return 0;
	for (size_t i = 0; i < R.nsess; i++)
		if (redisc_outside(&R.pol, &R.by_index[i]->m) & (1u << (metric - 1)))
			n++;
	return n;
}

/* ---- initiator agents ---------------------------------------------------------------------- */

static struct agent *agent_find(const char *initiator)
{
	for (size_t i = 0; i < R.nagents; i++)
		if (strcmp(R.agents[i].initiator, initiator) == 0)
			return &R.agents[i];
	return NULL;
}

/* The agent's trap receiver listens on agent_port at the address the feedback came from. */
static void agent_learn(const char *initiator, const char *source)
{
	char host[REDISC_SOURCE_MAX];
	const char *colon = strrchr(source, ':');
	size_t hl = colon ? (size_t)(colon - source) : strlen(source);
	struct agent *a = agent_find(initiator);

	if (hl >= sizeof(host))
		return;
	memcpy(host, source, hl);
	host[hl] = 0;
	if (!a) {
		if (R.nagents == R.capagents) {
			size_t nc = R.capagents ? R.capagents * 2 : 16;
			struct agent *na = realloc(R.agents, nc * sizeof(*na));

			if (!na)
				return;
			R.agents = na;
			R.capagents = nc;
		}
		a = &R.agents[R.nagents++];
		memset(a, 0, sizeof(*a));
		snprintf(a->initiator, sizeof(a->initiator), "%s", initiator);
	}
	snprintf(a->address, sizeof(a->address), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, R.agent_port);
}

/* ---- decisions ----------------------------------------------------------------------------- */

static int64_t decision_index_of(const void *elem)
{
	return ((const struct redisc_decision *)elem)->index;
}

static size_t decision_lower(int64_t index)
{
	return sa_lower_bound(R.dec, R.ndec, sizeof(*R.dec), index, decision_index_of);
}

const struct redisc_decision *redisc_decision_next(uint32_t after)
{
	size_t i = decision_lower((int64_t)after + 1);

	return i < R.ndec ? &R.dec[i] : NULL;
}

const struct redisc_decision *redisc_decision_find(uint32_t index)
{
	size_t i = decision_lower(index);

	return i < R.ndec && R.dec[i].index == index ? &R.dec[i] : NULL;
}

static void hex_of(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int hex_to(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (!s[2 * i] || (hi = sa_hex_digit(s[2 * i])) < 0 || (lo = sa_hex_digit(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return s[2 * n] == 0 ? 0 : -1;
}

/* One line of tab-separated fields per decision: names have no tabs (checked on the way in). */
#define DEC_FIELDS 21

static int decision_encode(const struct redisc_decision *d, char *buf, size_t len)
{
	char oh[33], nh[33];
	int n;

	hex_of(d->old_portal.a, redisc_addr_len(&d->old_portal), oh);
	hex_of(d->new_portal.a, redisc_addr_len(&d->new_portal), nh);
	n = snprintf(buf, len, "1\t%lld\t%d\t%s\t%d\t%u\t%s\t%d\t%s\t%u\t%d\t%s\t%u\t%s\t%s\t%d\t%d\t%u\t%s\t%s\t%s",
	             (long long)d->when, d->trigger, d->source, d->metric, (unsigned int)d->value, d->target,
	             d->old_portal.type, oh, (unsigned int)d->old_portal.port, d->new_portal.type, nh,
	             (unsigned int)d->new_portal.port, d->competing, d->offender, d->mode, d->state,
	             (unsigned int)d->sessions_ended, d->messages, d->outcome, d->error);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static int decision_decode(uint32_t index, const char *line, struct redisc_decision *d)
{
	char *copy = strdup(line), *f[DEC_FIELDS], *p = copy;
	int n = 0, rc = -EINVAL;

	if (!copy)
		return -ENOMEM;
	while (n < DEC_FIELDS && p) {
		f[n++] = p;
		if ((p = strchr(p, '\t')))
			*p++ = 0;
	}
	if (n != DEC_FIELDS || p || strcmp(f[0], "1") != 0)
		goto out;
	memset(d, 0, sizeof(*d));
	d->index = index;
	d->when = (time_t)strtoll(f[1], NULL, 10);
	d->trigger = atoi(f[2]);
	snprintf(d->source, sizeof(d->source), "%s", f[3]);
	d->metric = atoi(f[4]);
	d->value = (uint32_t)strtoul(f[5], NULL, 10);
	snprintf(d->target, sizeof(d->target), "%s", f[6]);
	d->old_portal.type = atoi(f[7]);
	d->new_portal.type = atoi(f[10]);
	if (d->old_portal.type < 0 || d->old_portal.type > 2 || d->new_portal.type < 0 || d->new_portal.type > 2 ||
	    hex_to(f[8], d->old_portal.a, redisc_addr_len(&d->old_portal)) < 0 ||
	    hex_to(f[11], d->new_portal.a, redisc_addr_len(&d->new_portal)) < 0)
		goto out;
	d->old_portal.port = (uint16_t)strtoul(f[9], NULL, 10);
	d->new_portal.port = (uint16_t)strtoul(f[12], NULL, 10);
	snprintf(d->competing, sizeof(d->competing), "%s", f[13]);
	snprintf(d->offender, sizeof(d->offender), "%s", f[14]);
	d->mode = atoi(f[15]);
	d->state = atoi(f[16]);
	d->sessions_ended = (uint32_t)strtoul(f[17], NULL, 10);
	snprintf(d->messages, sizeof(d->messages), "%s", f[18]);
	snprintf(d->outcome, sizeof(d->outcome), "%s", f[19]);
	snprintf(d->error, sizeof(d->error), "%s", f[20]);
	rc = 0;
out:
	free(copy);
	return rc;
}

static void decision_key(char *key, size_t len, uint32_t index)
{
	snprintf(key, len, STATE_PREFIX "%010u", (unsigned int)index);
}

/* Appends d (its index set) and persists it; the oldest row goes when the history is full. */
static int decision_store(const struct redisc_decision *d)
{
	struct sa_state *st = sa_engines_state();
	char key[64], line[4 * REDISC_TEXT_MAX + 1024];
	int rc;

	if (R.ndec == R.capdec) {
		size_t nc = R.capdec ? R.capdec * 2 : 64;
		struct redisc_decision *nd = realloc(R.dec, nc * sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		R.dec = nd;
		R.capdec = nc;
	}
	if (st) {
		if ((rc = decision_encode(d, line, sizeof(line))) < 0)
			return rc;
		decision_key(key, sizeof(key), d->index);
		if ((rc = sa_state_set(st, key, line)) < 0)
			return rc;
	}
	R.dec[R.ndec++] = *d;
	while (R.ndec > R.history) {
		if (st) {
			decision_key(key, sizeof(key), R.dec[0].index);
			sa_state_del(st, key);
		}
		memmove(R.dec, R.dec + 1, (R.ndec - 1) * sizeof(*R.dec));
		R.ndec--;
	}
	if (st && (rc = sa_state_commit(st)) < 0)
		sa_log(SA_LOG_ERR, TAG, "decision %u not persisted: %s", (unsigned int)d->index, strerror(-rc));
	return 0;
}

struct load_ctx {
	int bad;
};

static void load_one(const char *key, const char *value, void *arg)
{
	struct load_ctx *lc = arg;
	struct redisc_decision d;
	char *end;
	unsigned long index = strtoul(key + strlen(STATE_PREFIX), &end, 10);

	if (*end || !index || index > UINT32_MAX || decision_decode((uint32_t)index, value, &d) < 0) {
		lc->bad++;
		return;
	}
	if (R.ndec == R.capdec) {
		size_t nc = R.capdec ? R.capdec * 2 : 64;
		struct redisc_decision *nd = realloc(R.dec, nc * sizeof(*nd));

		if (!nd) {
			lc->bad++;
			return;
		}
		R.dec = nd;
		R.capdec = nc;
	}
	R.dec[R.ndec++] = d; /* the keys' zero padding makes key order index order */
}

/* The history and, from it, the cooldowns and the cap: a restart does not reopen the gates. */
static void decisions_load(void)
{
	struct sa_state *st = sa_engines_state();
	struct load_ctx lc = {0};

	if (!st)
		return;
	sa_state_foreach(st, STATE_PREFIX, load_one, &lc);
	if (lc.bad)
		sa_log(SA_LOG_WARNING, TAG, "%d decision rows in the state file are unreadable: skipped", lc.bad);
	for (size_t i = 0; i < R.ndec; i++) {
		char op[64], np[64];

		redisc_addr_text(&R.dec[i].old_portal, op, sizeof(op));
		redisc_addr_text(&R.dec[i].new_portal, np, sizeof(np));
		redisc_limit_note(&R.lim, R.dec[i].target, op, np[0] ? np : NULL, R.dec[i].when);
	}
	R.next_decision = R.ndec ? R.dec[R.ndec - 1].index : 0;
	if (R.ndec)
		sa_log(SA_LOG_INFO, TAG, "%zu decisions restored, the latest %u", R.ndec,
		       (unsigned int)R.next_decision);
}

/* The first pool address of the portal's family other than the portal itself. */
static int pool_pick(const struct redisc_addr *old, struct redisc_addr *out)
{
	for (size_t i = 0; i < R.npool; i++) {
		struct redisc_addr a = R.pool[i].addr;

		if (a.type != old->type)
			continue;
		if (!a.port)
			a.port = old->port;
		if (addr_cmp(&a, old) == 0)
			continue;
		*out = a;
		return 0;
	}
	return -ENOENT;
}

static void append(char *buf, size_t len, const char *fmt, const char *a, const char *b)
{
	size_t off = strlen(buf);

	if (off < len)
		snprintf(buf + off, len - off, fmt, off ? " " : "", a, b);
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
	int verdict;

	if (R.pol.mode == REDISC_OFF)
		return -ENODEV;
	redisc_addr_text(portal, ptext, sizeof(ptext));
	if ((verdict = redisc_limit_check(&R.lim, &R.pol, target, ptext, now)) != REDISC_GO) {
		R.ctr.suppressed++;
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
	d.mode = R.pol.mode;

	/* The group is one contiguous run of the key order. */
	first = key_lower(target, portal, "");
	while (first + n < R.nsess && strcmp(R.by_key[first + n]->target, target) == 0 &&
	       addr_cmp(&R.by_key[first + n]->portal, portal) == 0)
		n++;
	if (n && !(members = calloc(n, sizeof(*members)))) {
		sa_log(SA_LOG_ERR, TAG, "out of memory: decision for %s dropped", target);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct redisc_session *s = R.by_key[first + i];

		members[i].initiator = s->initiator;
		members[i].bytes = s->bytes;
		members[i].outside = redisc_outside(&R.pol, &s->m);
	}
	if (redisc_judge(&R.pol, members, n, &j) < 0) {
		free(members);
		sa_log(SA_LOG_ERR, TAG, "out of memory: decision for %s dropped", target);
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
		const struct agent *a = agent_find(j.order[i]);

		append(d.competing, sizeof(d.competing), "%s%s%s", j.order[i], "");
		append(d.messages, sizeof(d.messages),
		       strcmp(j.order[i], d.offender) == 0 ? "%stype2:%s@%s" : "%stype1:%s@%s", j.order[i],
		       a ? a->address : "iSNS");
	}
	if (d.offender[0] && !strstr(d.messages, "type2:")) {
		const struct agent *a = agent_find(d.offender);

		append(d.messages, sizeof(d.messages), "%stype2:%s@%s", d.offender, a ? a->address : "iSNS");
	}
	redisc_judgement_free(&j);
	free(members);

	if (pool_pick(portal, &d.new_portal) < 0) {
		d.state = REDISC_ST_FAILED;
		snprintf(d.error, sizeof(d.error), "address pool exhausted");
	} else if (d.mode == REDISC_DRY_RUN) {
		d.state = REDISC_ST_RECORDED;
	} else {
		/* Ending sessions, moving the portal and updating iSNS are not
		 * part of this build: say so rather than pretend. */
		d.state = REDISC_ST_FAILED;
		snprintf(d.error, sizeof(d.error), "moving portals is not available in this build");
	}
	d.index = ++R.next_decision;
	redisc_addr_text(&d.new_portal, ntext, sizeof(ntext));
	/* A failed decision starts the cooldowns as well: a failing move is not retried at every feedback. */
	if (redisc_limit_note(&R.lim, target, ptext, ntext[0] ? ntext : NULL, now) < 0 || decision_store(&d) < 0) {
		sa_log(SA_LOG_ERR, TAG, "out of memory: decision %u for %s dropped", (unsigned int)d.index, target);
		return -ENOMEM;
	}
	R.ctr.decisions++;
	if (d.state == REDISC_ST_FAILED)
		R.ctr.moves_failed++;
	sa_log(SA_LOG_NOTICE, TAG, "decision %u (%s): %s at %s -> %s; competing %s; offender %s; %s%s%s",
	       (unsigned int)d.index, d.mode == REDISC_DRY_RUN ? "dry run" : "act", target, ptext,
	       ntext[0] ? ntext : "none", d.competing[0] ? d.competing : "none", d.offender[0] ? d.offender : "none",
	       d.messages, d.error[0] ? "; failed: " : "", d.error);
	{
		struct redisc_event ev = {.type = REDISC_EV_DECISION, .index = d.index};

		bus_publish(BUS_REDISCOVER, &ev);
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

	if (!R.running || R.pol.mode == REDISC_OFF)
		return -ENODEV;
	if (!name_ok(target, 0) || !name_ok(offender, 1) || (portal->type != 1 && portal->type != 2) || !portal->port)
		return -EINVAL;
	redisc_addr_text(portal, ptext, sizeof(ptext));
	return redisc_limit_check(&R.lim, &R.pol, target, ptext, redisc_clock_wall()) == REDISC_GO ? 0 : -EAGAIN;
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
	R.ctr.dropped++;
	switch (why) {
	case REDISC_DROP_UNAUTHORIZED: R.ctr.dropped_unauthorized++; break;
	case REDISC_DROP_UNKNOWN_SESSION: R.ctr.dropped_unknown_session++; break;
	default: R.ctr.dropped_malformed++; break;
	}
	return why;
}

static int group_exists(const char *target, const struct redisc_addr *portal)
{
	size_t i = key_lower(target, portal, "");

	return i < R.nsess && strcmp(R.by_key[i]->target, target) == 0 && addr_cmp(&R.by_key[i]->portal, portal) == 0;
}

int redisc_take(const struct redisc_feedback *fb, int request, int version, const char *principal, const char *source)
{
	char who[REDISC_SOURCE_MAX];
	struct redisc_session *s;
	int storage;
	uint32_t value = 0;
	int metric;

	if (!R.running)
		return REDISC_DROP_NONE;
	R.ctr.received++;
	if (request)
		R.ctr.requests++;
	/* The receiver authenticated the sender; whether it may steer targets is the engine's call: only
	 * listed v3 users (their level is the receiver's, authPriv in the shipped config). */
	storage = version == 3 && strv_has(R.storage_users, R.nstorage_users, principal);
	if (!storage && !(version == 3 && strv_has(R.feedback_users, R.nfeedback_users, principal)))
		return drop(REDISC_DROP_UNAUTHORIZED);
	if (!fb)
		return drop(REDISC_DROP_MALFORMED);
	snprintf(who, sizeof(who), "%s@%s", principal, source);
	if (request) {
		if (!group_exists(fb->target, &fb->portal))
			return drop(REDISC_DROP_UNKNOWN_SESSION);
		R.ctr.accepted++;
		decide(REDISC_TRIG_REQUEST, fb->target, &fb->portal, REDISC_M_NONE, 0, who, fb->offender);
		return REDISC_DROP_NONE;
	}
	s = session_lookup(fb->target, &fb->portal, fb->initiator);
	if (!s) {
		/* Only a storage agent sees sessions from the target's side: its word makes one exist. */
		if (!storage)
			return drop(REDISC_DROP_UNKNOWN_SESSION);
		if (!(s = session_add(fb))) {
			sa_log(SA_LOG_ERR, TAG, "out of memory: session %s -> %s not kept", fb->initiator, fb->target);
			return drop(REDISC_DROP_MALFORMED);
		}
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
		agent_learn(fb->initiator, source);
	R.ctr.accepted++;
	metric = redisc_hold_update(&s->hold, &R.pol, &s->m, redisc_clock_ms(), &value);
	if (metric)
		decide(REDISC_TRIG_FEEDBACK, s->target, &s->portal, metric, value, who, NULL);
	return REDISC_DROP_NONE;
}

static const uint32_t oid_feedback[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_FEEDBACK};
static const uint32_t oid_request[] = {REDISC_OID_NOTIFICATIONS, REDISC_N_REQUEST};

/* Only notifications the receiver accepted arrive here (community and source, or a configured v3 user). */
static void on_trap(int topic, const void *data, void *arg)
{
	const struct sa_trap *t = data;
	int request = arg != NULL;
	struct redisc_feedback fb;

	(void)topic;
	if (!R.running)
		return;
	redisc_take(redisc_feedback_decode(t, request, &fb) == REDISC_DROP_NONE ? &fb : NULL, request, t->version,
	            t->principal ? t->principal : "", t->source ? t->source : "?");
}

static void unsubscribe(void)
{
	for (int i = 0; i < 2; i++)
		if (R.subs[i] > 0)
			bus_unsubscribe(R.subs[i]);
	R.subs[0] = R.subs[1] = 0;
}

static int subscribe(void)
{
	static int request_tag = 1;
	int h;

	if ((h = bus_subscribe_key(BUS_TRAP, oid_feedback, sizeof(oid_feedback) / sizeof(uint32_t), 0, on_trap, NULL)) <
	    0)
		return h;
	R.subs[0] = h;
	if ((h = bus_subscribe_key(BUS_TRAP, oid_request, sizeof(oid_request) / sizeof(uint32_t), 0, on_trap,
	                           &request_tag)) < 0) {
		unsubscribe();
		return h;
	}
	R.subs[1] = h;
	return 0;
}

/* ---- engine life --------------------------------------------------------------------------- */

static int apply(const struct sa_rediscover_config *c, char *err, size_t errlen)
{
	struct redisc_policy p;
	struct pool_entry *pool = NULL;
	char **fu = NULL, **su = NULL;
	size_t nfu = 0, nsu = 0;
	int rc;

	if ((rc = policy_from_config(c, &p, err, errlen)) < 0)
		return rc;
	if (c->npool && !(pool = calloc(c->npool, sizeof(*pool))))
		goto nomem;
	for (size_t i = 0; i < c->npool; i++)
		if (parse_portal(c->pool[i], &pool[i].addr) < 0) {
			snprintf(err, errlen, "pool: not an address: %s", c->pool[i]);
			free(pool);
			return -EINVAL;
		}
	if (strv_copy(&fu, &nfu, c->feedback_users, c->nfeedback_users) < 0 ||
	    strv_copy(&su, &nsu, c->storage_users, c->nstorage_users) < 0) {
		strv_free(fu, nfu);
		free(pool);
		goto nomem;
	}
	R.pol = p;
	free(R.pool);
	R.pool = pool;
	R.npool = c->npool;
	strv_free(R.feedback_users, R.nfeedback_users);
	strv_free(R.storage_users, R.nstorage_users);
	R.feedback_users = fu;
	R.nfeedback_users = nfu;
	R.storage_users = su;
	R.nstorage_users = nsu;
	R.agent_port = c->agent_port;
	R.history = (size_t)c->history;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

void redisc_stop(void)
{
	if (R.sweep_timer)
		sa_ev_cancel(R.sweep_timer);
	R.sweep_timer = 0;
	unsubscribe();
	sessions_free();
	free(R.dec);
	free(R.agents);
	free(R.pool);
	strv_free(R.feedback_users, R.nfeedback_users);
	strv_free(R.storage_users, R.nstorage_users);
	redisc_limit_free(&R.lim);
	memset(&R, 0, sizeof(R));
}

int redisc_start(const struct sa_rediscover_config *c, char *err, size_t errlen)
{
	int rc;

	if (R.running)
		redisc_stop();
	if ((rc = apply(c, err, errlen)) < 0) {
		redisc_stop();
		return rc;
	}
	R.running = 1;
	decisions_load();
	if ((rc = subscribe()) < 0) {
		snprintf(err, errlen, "cannot subscribe to feedback notifications: %s", strerror(-rc));
		redisc_stop();
		return rc;
	}
	if (!(R.sweep_timer = sa_ev_timer(SWEEP_MS, 1, sweep, NULL))) {
		snprintf(err, errlen, "cannot create the age-out timer");
		redisc_stop();
		return -ENOMEM;
	}
	sa_log(SA_LOG_INFO, TAG, "started: mode %s, hold %u s, cooldowns %u/%u s, cap %u/h, %zu pool addresses",
	       c->mode, (unsigned int)R.pol.hold_s, (unsigned int)R.pol.target_cooldown_s,
	       (unsigned int)R.pol.portal_cooldown_s, (unsigned int)R.pol.max_moves_per_hour, R.npool);
	return 0;
}

int redisc_reload(const struct sa_rediscover_config *c, char *err, size_t errlen)
{
	if (!R.running)
		return redisc_start(c, err, errlen);
	return apply(c, err, errlen);
}

int redisc_running(void)
{
	return R.running;
}

const struct redisc_policy *redisc_policy(void)
{
	return R.running ? &R.pol : NULL;
}

int redisc_policy_check(const struct redisc_policy *p)
{
	if (!R.running)
		return -ENODEV;
	return redisc_policy_validate(p);
}

int redisc_policy_set(const struct redisc_policy *p)
{
	int rc = redisc_policy_check(p);

	if (rc < 0)
		return rc;
	R.pol = *p;
	return 0;
}

const struct redisc_counters *redisc_counters(void)
{
	return R.running ? &R.ctr : NULL;
}
