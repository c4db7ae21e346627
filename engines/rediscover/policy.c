/* policy.c: thresholds with hold time, cooldowns per target and portal, the hourly cap, competing groups. */
#include "engines/rediscover/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/search.h"

#define HOUR 3600

int redisc_policy_validate(const struct redisc_policy *p)
{
	if (p->mode < REDISC_OFF || p->mode > REDISC_ACT)
		return -EINVAL;
	if (p->hold_s > 86400 || p->target_cooldown_s > 604800 || p->portal_cooldown_s > 604800 ||
	    p->max_moves_per_hour > 1000 || p->imbalance_pct < 50 || p->imbalance_pct > 100 || p->age_out_s < 1 ||
	    p->age_out_s > 86400)
		return -EINVAL;
	for (int i = 0; i < REDISC_NMETRICS; i++)
		if ((p->th[i].dir != REDISC_ABOVE && p->th[i].dir != REDISC_BELOW) ||
		    (p->th[i].enabled != 0 && p->th[i].enabled != 1))
			return -EINVAL;
	return 0;
}

unsigned int redisc_outside(const struct redisc_policy *p, const struct redisc_metrics *m)
{
	unsigned int out = 0;

	for (int i = 0; i < REDISC_NMETRICS; i++) {
		const struct redisc_threshold *t = &p->th[i];

		if (!t->enabled || !(m->have & (1u << i)))
			continue;
		if (t->dir == REDISC_ABOVE ? m->v[i] > t->value : m->v[i] < t->value)
			out |= 1u << i;
	}
	return out;
}

int redisc_hold_update(struct redisc_hold *h, const struct redisc_policy *p, const struct redisc_metrics *m,
                       uint64_t now_ms, uint32_t *value)
{
	unsigned int out = redisc_outside(p, m);
	int fired = 0;

	/* A clock of 0 would read as "inside": start at 1 ms at the earliest. */
	if (now_ms == 0)
		now_ms = 1;
	for (int i = 0; i < REDISC_NMETRICS; i++) {
		if (!(out & (1u << i))) {
			h->since_ms[i] = 0;
			continue;
		}
		if (!h->since_ms[i])
			h->since_ms[i] = now_ms;
		if (!fired && now_ms - h->since_ms[i] >= (uint64_t)p->hold_s * 1000u) {
			fired = i + 1;
			if (value)
				*value = m->v[i];
			h->since_ms[i] = now_ms;
		}
	}
	return fired;
}

uint32_t redisc_hold_age(const struct redisc_hold *h, uint64_t now_ms)
{
	uint64_t oldest = 0;

	for (int i = 0; i < REDISC_NMETRICS; i++)
		if (h->since_ms[i] && (!oldest || h->since_ms[i] < oldest))
			oldest = h->since_ms[i];
	return oldest && now_ms > oldest ? (uint32_t)((now_ms - oldest) / 1000u) : 0;
}

/* ---- cooldowns and cap ---------------------------------------------------------------------- */

static int stamp_cmp(const void *elem, const void *key)
{
	return strcmp(((const struct redisc_stamp *)elem)->key, key);
}

static size_t stamp_find(const struct redisc_stamp *s, size_t n, const char *key, int *found)
{
	size_t p = cm_lower_bound_cmp(s, n, sizeof(*s), key, stamp_cmp);

	*found = p < n && strcmp(s[p].key, key) == 0;
	return p;
}

static int stamp_in_cooldown(const struct redisc_stamp *s, size_t n, const char *key, uint32_t cooldown, time_t now)
{
	int found;
	size_t i = stamp_find(s, n, key, &found);

	return found && cooldown && now - s[i].when < (time_t)cooldown;
}

static int stamp_set(struct redisc_stamp **s, size_t *n, size_t *cap, const char *key, time_t now)
{
	int found;
	size_t i = stamp_find(*s, *n, key, &found);
	char *k;

	if (found) {
		if (now > (*s)[i].when)
			(*s)[i].when = now;
		return 0;
	}
	if (cm_grow(s, cap, *n, sizeof(**s), 16) < 0)
		return -ENOMEM;
	if (!(k = strdup(key)))
		return -ENOMEM;
	memmove(*s + i + 1, *s + i, (*n - i) * sizeof(**s));
	(*s)[i].key = k;
	(*s)[i].when = now;
	(*n)++;
	return 0;
}

/* Drops the ring's moves older than an hour. */
static void moves_expire(struct redisc_limiter *l, time_t now)
{
	while (l->nmoves && now - l->moves[l->head] >= HOUR) {
		l->head = (l->head + 1) % l->capmoves;
		l->nmoves--;
	}
}

size_t redisc_limit_moves(struct redisc_limiter *l, time_t now)
{
	moves_expire(l, now);
	return l->nmoves;
}

int redisc_limit_check(const struct redisc_limiter *l, const struct redisc_policy *p, const char *target,
                       const char *portal, time_t now)
{
	size_t recent = 0;

	if (stamp_in_cooldown(l->targets, l->ntargets, target, p->target_cooldown_s, now))
		return REDISC_SUPP_TARGET;
	if (stamp_in_cooldown(l->portals, l->nportals, portal, p->portal_cooldown_s, now))
		return REDISC_SUPP_PORTAL;
	for (size_t i = 0; i < l->nmoves; i++)
		if (now - l->moves[(l->head + i) % l->capmoves] < HOUR)
			recent++;
	return recent >= p->max_moves_per_hour ? REDISC_SUPP_CAP : REDISC_GO;
}

int redisc_limit_note(struct redisc_limiter *l, const char *target, const char *portal, const char *new_portal,
                      time_t now)
{
	int rc;

	moves_expire(l, now);
	if (l->nmoves == l->capmoves) {
		size_t nc = l->capmoves ? l->capmoves * 2 : 16;
		time_t *nm = malloc(nc * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		for (size_t i = 0; i < l->nmoves; i++)
			nm[i] = l->moves[(l->head + i) % l->capmoves];
		free(l->moves);
		l->moves = nm;
		l->head = 0;
		l->capmoves = nc;
	}
	if ((rc = stamp_set(&l->targets, &l->ntargets, &l->captargets, target, now)) < 0 ||
	    (rc = stamp_set(&l->portals, &l->nportals, &l->capportals, portal, now)) < 0 ||
	    (new_portal && (rc = stamp_set(&l->portals, &l->nportals, &l->capportals, new_portal, now)) < 0))
		return rc;
	l->moves[(l->head + l->nmoves) % l->capmoves] = now;
	l->nmoves++;
	return 0;
}

void redisc_limit_free(struct redisc_limiter *l)
{
	for (size_t i = 0; i < l->ntargets; i++)
		free(l->targets[i].key);
	for (size_t i = 0; i < l->nportals; i++)
		free(l->portals[i].key);
	free(l->targets);
	free(l->portals);
	free(l->moves);
	memset(l, 0, sizeof(*l));
}

const char *redisc_verdict_name(int verdict)
{
	switch (verdict) {
	case REDISC_GO: return "go";
	case REDISC_SUPP_TARGET: return "target cooldown";
	case REDISC_SUPP_PORTAL: return "portal cooldown";
	case REDISC_SUPP_CAP: return "hourly cap";
	default: return "?";
	}
}

/* ---- competing groups ---------------------------------------------------------------------- */

struct agg {
	const char *initiator;
	uint64_t bytes;
	unsigned int outside;
};

static int agg_by_name(const void *a, const void *b)
{
	return strcmp(((const struct agg *)a)->initiator, ((const struct agg *)b)->initiator);
}

/* Largest first; equal bytes by name, so the verdict does not depend on the order feedback came in. */
static int agg_by_bytes(const void *a, const void *b)
{
	const struct agg *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->initiator, y->initiator);
}

int redisc_judge(const struct redisc_policy *p, const struct redisc_member *m, size_t n, struct redisc_judgement *out)
{
	struct agg *a = n ? calloc(n, sizeof(*a)) : NULL;
	uint64_t total = 0;
	size_t k = 0;

	memset(out, 0, sizeof(*out));
	out->offender = -1;
	if (n && !a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		a[i].initiator = m[i].initiator;
		a[i].bytes = m[i].bytes;
		a[i].outside = m[i].outside;
	}
	if (n)
		qsort(a, n, sizeof(*a), agg_by_name);
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(a[k - 1].initiator, a[i].initiator) == 0) {
			a[k - 1].bytes += a[i].bytes;
			a[k - 1].outside |= a[i].outside;
			continue;
		}
		a[k++] = a[i];
	}
	if (k)
		qsort(a, k, sizeof(*a), agg_by_bytes);
	out->ninitiators = k;
	if (k) {
		out->order = calloc(k, sizeof(*out->order));
		out->bytes = calloc(k, sizeof(*out->bytes));
		if (!out->order || !out->bytes) {
			free(a);
			redisc_judgement_free(out);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < k; i++) {
		out->order[i] = a[i].initiator;
		out->bytes[i] = a[i].bytes;
		total += a[i].bytes;
		if (i > 0 && a[i].outside)
			out->suffering = 1;
	}
	/* Share in whole percent, rounded down: "more than imbalance_pct" must really be more. */
	out->share_pct = total ? (unsigned int)(a[0].bytes * 100u / total) : 0;
	if (k >= 2 && total && a[0].bytes * 100u > (uint64_t)p->imbalance_pct * total) {
		out->imbalance = out->suffering;
		if (out->imbalance)
			out->offender = 0;
	}
	free(a);
	return 0;
}

void redisc_judgement_free(struct redisc_judgement *j)
{
	free(j->order);
	free(j->bytes);
	j->order = NULL;
	j->bytes = NULL;
}

/* ---- the offender's alternative ------------------------------------------------------------- */

static int admits(const struct redisc_dir_target *t, const char *initiator)
{
	if (!t->ninitiators)
		return 1;
	for (size_t i = 0; i < t->ninitiators; i++)
		if (strcmp(t->initiators[i], initiator) == 0)
			return 1;
	return 0;
}

static const char *other_portal(const struct redisc_dir_target *t, const char *old_portal, const char *new_portal)
{
	for (size_t i = 0; i < t->nportals; i++)
		if (strcmp(t->portals[i], old_portal) != 0 && (!new_portal || strcmp(t->portals[i], new_portal) != 0))
			return t->portals[i];
	return NULL;
}

int redisc_pick_alternative(const struct redisc_dir_target *d, size_t n, const char *target, const char *old_portal,
                            const char *new_portal, const char *offender, struct redisc_alt *out)
{
	const char *portal;

	/* The same target elsewhere first: the offender keeps its data. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].name, target) == 0 && admits(&d[i], offender) &&
		    (portal = other_portal(&d[i], old_portal, new_portal))) {
			out->kind = REDISC_ALT_PORTAL;
			out->target = d[i].name;
			out->portal = portal;
			return 0;
		}
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].name, target) != 0 && admits(&d[i], offender) &&
		    (portal = other_portal(&d[i], old_portal, new_portal))) {
			out->kind = REDISC_ALT_TARGET;
			out->target = d[i].name;
			out->portal = portal;
			return 0;
		}
	return -ENOENT;
}
