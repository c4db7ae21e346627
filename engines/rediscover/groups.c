/* groups.c: competing groups, live: runs of the known sessions' key order with two or more initiators. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/search.h"
#include "engines/rediscover/model.h"

static int group_key_cmp(const struct redisc_group *a, const struct redisc_group *b)
{
	int c = strcmp(a->target, b->target);

	return c ? c : redisc_addr_cmp(&a->portal, &b->portal);
}

static int by_key(const void *a, const void *b)
{
	return group_key_cmp(a, b);
}

static int by_index(const void *a, const void *b)
{
	const struct redisc_group *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* The run of sessions at key position i: its length and whether two initiators share it. */
static size_t run_at(size_t i, int *competing)
{
	const struct redisc_session *first = redisc_m.by_key[i];
	size_t n = 1;

	*competing = 0;
	while (i + n < redisc_m.nsess && strcmp(redisc_m.by_key[i + n]->target, first->target) == 0 &&
	       redisc_addr_cmp(&redisc_m.by_key[i + n]->portal, &first->portal) == 0) {
		/* Initiators are sorted within the run: a different one is the second initiator. */
		if (strcmp(redisc_m.by_key[i + n]->initiator, first->initiator) != 0)
			*competing = 1;
		n++;
	}
	return n;
}

/* Rebuilt only when a session came or went since the last look: O(n log n) then, nothing otherwise.  Old and new
 * groups meet in key order, so a group that stays keeps its index. */
static int refresh(void)
{
	struct redisc_group *old = redisc_m.groups, *ng = NULL;
	size_t nold = redisc_m.ngroups, n = 0, k = 0;

	if (redisc_m.groups && redisc_m.groups_gen == redisc_m.sess_gen)
		return 0;
	if (redisc_m.nsess && !(ng = calloc(redisc_m.nsess, sizeof(*ng))))
		return -ENOMEM;
	if (nold)
		qsort(old, nold, sizeof(*old), by_key);
	for (size_t i = 0; i < redisc_m.nsess;) {
		int competing;
		size_t len = run_at(i, &competing);

		if (competing) {
			struct redisc_group *g = &ng[n++];

			snprintf(g->target, sizeof(g->target), "%s", redisc_m.by_key[i]->target);
			g->portal = redisc_m.by_key[i]->portal;
			while (k < nold && group_key_cmp(&old[k], g) < 0)
				k++;
			g->index = k < nold && group_key_cmp(&old[k], g) == 0 ? old[k].index : ++redisc_m.next_group;
		}
		i += len;
	}
	if (n)
		qsort(ng, n, sizeof(*ng), by_index);
	free(old);
	redisc_m.groups = ng;
	redisc_m.ngroups = n;
	redisc_m.groups_gen = redisc_m.sess_gen;
	return 0;
}

static int64_t group_index_of(const void *elem)
{
	return ((const struct redisc_group *)elem)->index;
}

const struct redisc_group *redisc_group_next(uint32_t after)
{
	size_t i;

	if (refresh() < 0)
		return NULL;
	i = cm_lower_bound(redisc_m.groups, redisc_m.ngroups, sizeof(*redisc_m.groups), (int64_t)after + 1,
	                   group_index_of);
	return i < redisc_m.ngroups ? &redisc_m.groups[i] : NULL;
}

const struct redisc_group *redisc_group_find(uint32_t index)
{
	size_t i;

	if (refresh() < 0)
		return NULL;
	i = cm_lower_bound(redisc_m.groups, redisc_m.ngroups, sizeof(*redisc_m.groups), index, group_index_of);
	return i < redisc_m.ngroups && redisc_m.groups[i].index == index ? &redisc_m.groups[i] : NULL;
}

int redisc_group_view(const struct redisc_group *g, struct redisc_group_view *out)
{
	size_t first = redisc_key_lower(g->target, &g->portal, ""), n;
	struct redisc_member *m;
	struct redisc_judgement j;
	char ptext[64];
	int competing, rc, holding = 0;

	memset(out, 0, sizeof(*out));
	if (first >= redisc_m.nsess || strcmp(redisc_m.by_key[first]->target, g->target) != 0 ||
	    redisc_addr_cmp(&redisc_m.by_key[first]->portal, &g->portal) != 0)
		return -ENOENT;
	n = run_at(first, &competing);
	if (!(m = calloc(n, sizeof(*m))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct redisc_session *s = redisc_m.by_key[first + i];

		m[i].initiator = s->initiator;
		m[i].bytes = s->bytes;
		m[i].outside = redisc_outside(&redisc_m.pol, &s->m);
		holding |= m[i].outside != 0;
	}
	rc = redisc_judge(&redisc_m.pol, m, n, &j);
	free(m);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < j.ninitiators; i++) {
		size_t off = strlen(out->initiators);

		snprintf(out->initiators + off, sizeof(out->initiators) - off, "%s%s", off ? " " : "", j.order[i]);
	}
	if (j.offender >= 0)
		snprintf(out->offender, sizeof(out->offender), "%s", j.order[j.offender]);
	out->share_pct = j.share_pct;
	redisc_judgement_free(&j);
	redisc_addr_text(&g->portal, ptext, sizeof(ptext));
	if (redisc_limit_check(&redisc_m.lim, &redisc_m.pol, g->target, ptext, redisc_clock_wall()) != REDISC_GO)
		out->state = REDISC_G_COOLING;
	else
		out->state = holding ? REDISC_G_HOLDING : REDISC_G_BALANCED;
	return 0;
}

void redisc_groups_free(void)
{
	free(redisc_m.groups);
	redisc_m.groups = NULL;
	redisc_m.ngroups = 0;
}
