/* sessions.c: the sessions the rediscover engine knows: by index for the MIB, by key for feedback and groups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/search.h"
#include "engines/rediscover/model.h"

/* ---- known sessions ------------------------------------------------------------------------ */

int redisc_addr_cmp(const struct redisc_addr *a, const struct redisc_addr *b)
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
		c = redisc_addr_cmp(portal, &s->portal);
	if (c == 0)
		c = strcmp(initiator, s->initiator);
	return c;
}

struct sess_key {
	const char *target;
	const struct redisc_addr *portal;
	const char *initiator;
};

/* by_key holds pointers; < 0 when the session sorts before the key. */
static int by_key_cmp(const void *elem, const void *key)
{
	const struct sess_key *k = key;
	int c = key_cmp(k->target, k->portal, k->initiator, *(struct redisc_session *const *)elem);

	return c > 0 ? -1 : c < 0;
}

size_t redisc_key_lower(const char *target, const struct redisc_addr *portal, const char *initiator)
{
	struct sess_key k = {target, portal, initiator};

	return cm_lower_bound_cmp(redisc_m.by_key, redisc_m.nsess, sizeof(*redisc_m.by_key), &k, by_key_cmp);
}

struct redisc_session *redisc_session_lookup(const char *target, const struct redisc_addr *portal,
                                             const char *initiator)
{
	size_t i = redisc_key_lower(target, portal, initiator);

	return i < redisc_m.nsess && key_cmp(target, portal, initiator, redisc_m.by_key[i]) == 0 ? redisc_m.by_key[i]
	                                                                                         : NULL;
}

static int64_t session_index_of(const void *elem)
{
	return (*(const struct redisc_session *const *)elem)->index;
}

static size_t index_lower(int64_t index)
{
	return cm_lower_bound(redisc_m.by_index, redisc_m.nsess, sizeof(*redisc_m.by_index), index, session_index_of);
}

struct redisc_session *redisc_session_add(const struct redisc_feedback *fb)
{
	struct redisc_session *s;
	size_t k;

	if (redisc_m.nsess == redisc_m.capsess) {
		size_t nc = redisc_m.capsess ? redisc_m.capsess * 2 : 64;
		struct redisc_session **bi = realloc(redisc_m.by_index, nc * sizeof(*bi));

		if (!bi)
			return NULL;
		redisc_m.by_index = bi;
		if (!(bi = realloc(redisc_m.by_key, nc * sizeof(*bi))))
			return NULL;
		redisc_m.by_key = bi;
		redisc_m.capsess = nc;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->index = ++redisc_m.next_session;
	snprintf(s->initiator, sizeof(s->initiator), "%s", fb->initiator);
	snprintf(s->target, sizeof(s->target), "%s", fb->target);
	s->portal = fb->portal;
	k = redisc_key_lower(s->target, &s->portal, s->initiator);
	memmove(redisc_m.by_key + k + 1, redisc_m.by_key + k, (redisc_m.nsess - k) * sizeof(*redisc_m.by_key));
	redisc_m.by_key[k] = s;
	redisc_m.sess_gen++;
	redisc_m.by_index[redisc_m.nsess++] = s; /* indexes only grow: appending keeps the order */
	return s;
}

static void session_remove(struct redisc_session *s)
{
	size_t i = index_lower(s->index), k = redisc_key_lower(s->target, &s->portal, s->initiator);

	memmove(redisc_m.by_index + i, redisc_m.by_index + i + 1,
	        (redisc_m.nsess - i - 1) * sizeof(*redisc_m.by_index));
	memmove(redisc_m.by_key + k, redisc_m.by_key + k + 1, (redisc_m.nsess - k - 1) * sizeof(*redisc_m.by_key));
	redisc_m.nsess--;
	redisc_m.sess_gen++;
	free(s);
}

/* After a move the target's sessions over the old portal were ended: a request or feedback that still names them
 * must not decide again about a portal the target has left. */
void redisc_sessions_forget(const char *target, const struct redisc_addr *portal)
{
	size_t k = redisc_key_lower(target, portal, "");

	while (k < redisc_m.nsess && strcmp(redisc_m.by_key[k]->target, target) == 0 &&
	       redisc_addr_cmp(&redisc_m.by_key[k]->portal, portal) == 0)
		session_remove(redisc_m.by_key[k]);
}

void redisc_sessions_free(void)
{
	for (size_t i = 0; i < redisc_m.nsess; i++)
		free(redisc_m.by_index[i]);
	free(redisc_m.by_index);
	free(redisc_m.by_key);
	redisc_m.by_index = redisc_m.by_key = NULL;
	redisc_m.nsess = redisc_m.capsess = 0;
}

/* Sessions no storage agent reported within the age-out are gone: feedback about them is about nothing. */
void redisc_sweep(unsigned int id, void *arg)
{
	uint64_t now = redisc_clock_ms(), limit = (uint64_t)redisc_m.pol.age_out_s * 1000u;

	(void)id;
	(void)arg;
	for (size_t i = redisc_m.nsess; i-- > 0;) {
		struct redisc_session *s = redisc_m.by_index[i];

		if (now - s->last_ms > limit) {
			cm_log(CM_LOG_INFO, REDISC_TAG, "session %s -> %s forgotten: unreported for %u s", s->initiator,
			       s->target, (unsigned int)redisc_m.pol.age_out_s);
			session_remove(s);
		}
	}
}

const struct redisc_session *redisc_session_next(uint32_t after)
{
	size_t i = index_lower((int64_t)after + 1);

	return i < redisc_m.nsess ? redisc_m.by_index[i] : NULL;
}

const struct redisc_session *redisc_session_find(uint32_t index)
{
	size_t i = index_lower(index);

	return i < redisc_m.nsess && redisc_m.by_index[i]->index == index ? redisc_m.by_index[i] : NULL;
}

size_t redisc_session_count(void)
{
	return redisc_m.nsess;
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
	for (size_t i = 0; i < redisc_m.nsess; i++)
		if (redisc_outside(&redisc_m.pol, &redisc_m.by_index[i]->m) & (1u << (metric - 1)))
			n++;
	return n;
}
