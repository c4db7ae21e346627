/* rebalance.c: seed 003 load rebalancing (bounded greedy moves) and capacity-balanced failover. */
/*
 * Algorithm (rebalance)
 * ---------------------
 * Seed 003 [0097]-[0100] asks for "a more efficient distribution of the
 * resources among the servers that will result in a more balanced load",
 * found by analysing each resource's load, and triggered periodically or
 * when one server's load exceeds another's by more than 50%.  Its Fig. 8
 * example moves two resources and takes the loads 200/350/700 to 400/450/400.
 * The seed gives no procedure, so this is ours:
 *
 *   repeat while fewer than max_moves resources have moved:
 *     h = the UP server with the highest relative load (load/capacity) that
 *         is not "blocked";
 *     for the UP targets t with the lowest relative loads, pick the movable
 *     resource of h whose load is nearest the balance point
 *         l* = (L_h*c_t - L_t*c_h) / (c_h + c_t)
 *     (the load that would leave both at the same relative load), and
 *     evaluate max((L_h-l)/c_h, (L_t+l)/c_t);
 *     take the best move if that value is strictly below h's relative load,
 *     otherwise mark h blocked (nothing single can lower it) and go on with
 *     the next highest server.
 *
 * Every accepted move strictly lowers the highest load of the pair and never
 * raises any load above h's old one, so the sorted vector of relative loads
 * decreases lexicographically and the loop ends; the global maximum never
 * rises.  Fig. 8: h = 700 {300, 400}; moving 300 to the 200 server gives
 * 500/350/400; then h = 500 {100, 100, 300}; moving 100 to the 350 server
 * gives 400/450/400.  Two moves, maximum 450, like the seed (which moved
 * other resources: 200 to the first server and 300 to the second; the
 * loads and the maximum are the same).
 *
 * Departures from the seed's prose, and why:
 *  - relative load (load/capacity) replaces raw load so servers of
 *    different sizes are compared fairly; with equal capacities it is the
 *    seed's rule;
 *  - a plan counts resources whose server changed, so a resource moved
 *    twice within one plan counts once and is reported once;
 *  - with equal capacities the least loaded server is always the best
 *    target, so it is the only one tried (exact); with mixed capacities
 *    only the REDIR_RB_TARGETS least loaded servers are tried (a heuristic:
 *    a big server a little further up the order can be missed), and
 *    targets that cannot beat the best candidate found so far are
 *    skipped; a step costs O(K log n) instead of O(servers * log n);
 *  - a server is blocked for the rest of the run once no single move lowers
 *    it; swaps are not tried, so a plan can stop short of the optimum when
 *    only an exchange of two resources would help.
 * Ties break deterministically: on relative load by server index, among
 * moves with the same result by lower target index, then lower resource
 * index (the resource with the lowest index among equal loads).
 *
 * Algorithm (failover)
 * --------------------
 * Seed 003 [0082]-[0087] remaps the failed server's resources onto the
 * remaining servers and leaves the rest of the table alone.  We place them
 * in order of decreasing load (LPT), each onto the UP server whose relative
 * load after placement is lowest; ties go to the lowest relative resource
 * count after placement (so resources without measured load still spread by
 * capacity), then to the lowest server index.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engines/redirect/rebalance.h"
#include "common/search.h"

typedef unsigned __int128 u128;

/* How many of the least-loaded servers a move may target. */
#define REDIR_RB_TARGETS 64

struct rl {
	uint64_t load;
	uint32_t idx;
};

struct vec {
	struct rl *v;
	uint32_t n, cap;
	bool sorted;
};

struct rb {
	const struct redir_rb_server *srv;
	size_t ns, nr;
	uint64_t *load;  /* per server, all resources including pinned */
	struct vec *mv;  /* per server: movable resources */
	uint32_t *cur;   /* per resource: server now */
	uint32_t *order; /* UP servers, by relative load asc then index */
	uint32_t *pos;   /* server -> position in order, UINT32_MAX if absent */
	uint32_t nup;
	bool uniform; /* every UP server has the same capacity */
	bool *blocked;
	uint32_t *touched; /* resources moved at least once */
	size_t ntouched;
	bool *was_touched;
	size_t moved; /* resources whose server differs from the input */
};

static bool takes_load(const struct redir_rb_server *s)
{
	return s->state == REDIR_SRV_UP && s->capacity > 0;
}

/* a/ca < b/cb, exactly (denominators are capacities or sums of two). */
static bool frac_lt(uint64_t a, uint64_t ca, uint64_t b, uint64_t cb)
{
	return (u128)a * cb < (u128)b * ca;
}

static bool rel_lt(const struct rb *r, uint32_t a, uint32_t b)
{
	uint64_t la = r->load[a], lb = r->load[b];
	uint32_t ca = r->srv[a].capacity, cb = r->srv[b].capacity;

	if (frac_lt(la, ca, lb, cb))
		return true;
	if (frac_lt(lb, cb, la, ca))
		return false;
	return a < b;
}

static int vec_push(struct vec *v, struct rl e)
{
	if (v->n == v->cap) {
		uint32_t ncap = v->cap ? v->cap * 2 : 8;
		struct rl *nv = realloc(v->v, (size_t)ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = e;
	return 0;
}

static int rl_cmp(const void *elem, const void *key)
{
	const struct rl *e = elem, *k = key;

	if (e->load != k->load)
		return e->load < k->load ? -1 : 1;
	return e->idx < k->idx ? -1 : e->idx > k->idx;
}

/* First position whose element is not less than (load, idx). */
static uint32_t vec_lower(const struct vec *v, uint64_t load, uint32_t idx)
{
	struct rl k = {.load = load, .idx = idx};

	return (uint32_t)cm_lower_bound_cmp(v->v, v->n, sizeof(*v->v), &k, rl_cmp);
}

static int vec_insert(struct vec *v, struct rl e)
{
	uint32_t at;
	int rc;

	if (!v->sorted)
		return vec_push(v, e);
	at = vec_lower(v, e.load, e.idx);
	rc = vec_push(v, e);
	if (rc)
		return rc;
	memmove(&v->v[at + 1], &v->v[at], (size_t)(v->n - 1 - at) * sizeof(*v->v));
	v->v[at] = e;
	return 0;
}

static void vec_remove(struct vec *v, uint64_t load, uint32_t idx)
{
	uint32_t at = vec_lower(v, load, idx);

	if (at < v->n && v->v[at].idx == idx) {
		memmove(&v->v[at], &v->v[at + 1], (size_t)(v->n - at - 1) * sizeof(*v->v));
		v->n--;
	}
}

/* One stable LSD radix pass on byte `shift` of the key; false when every
 * element has the same byte there (nothing to do). */
static bool radix_pass(struct rl *src, struct rl *dst, uint32_t n, bool on_idx, unsigned shift)
{
	uint32_t cnt[256] = {0}, i, sum = 0;
	uint64_t first;

	for (i = 0; i < n; i++)
		cnt[((on_idx ? src[i].idx : src[i].load) >> shift) & 0xff]++;
	first = ((on_idx ? src[0].idx : src[0].load) >> shift) & 0xff;
	if (cnt[first] == n)
		return false;
	for (i = 0; i < 256; i++) {
		uint32_t c = cnt[i];

		cnt[i] = sum;
		sum += c;
	}
	for (i = 0; i < n; i++)
		dst[cnt[((on_idx ? src[i].idx : src[i].load) >> shift) & 0xff]++] = src[i];
	return true;
}

/* Sorts by (load, idx).  A radix sort: the lists are sorted lazily, one per
 * server that becomes a source, and at 1,000 resources per server qsort's
 * comparison callbacks were half of a whole 1M-resource plan. */
static int vec_sort(struct vec *v)
{
	struct rl *tmp, *a, *b;
	bool idx_ordered = true;
	unsigned shift;
	uint32_t i;

	if (v->sorted)
		return 0;
	v->sorted = true;
	if (v->n < 2)
		return 0;
	tmp = malloc((size_t)v->n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	a = v->v;
	b = tmp;
	for (i = 1; i < v->n && idx_ordered; i++)
		idx_ordered = a[i - 1].idx < a[i].idx;
	/* Stable passes: the index first (unless already in index order),
	 * then the load, least significant byte first. */
	for (shift = 0; !idx_ordered && shift < 32; shift += 8)
		if (radix_pass(a, b, v->n, true, shift)) {
			struct rl *t = a;

			a = b;
			b = t;
		}
	for (shift = 0; shift < 64; shift += 8)
		if (radix_pass(a, b, v->n, false, shift)) {
			struct rl *t = a;

			a = b;
			b = t;
		}
	if (a != v->v)
		memcpy(v->v, a, (size_t)v->n * sizeof(*a));
	free(tmp);
	return 0;
}

/* The server being moved in the order, for the searches of reposition(). */
struct rel_key {
	const struct rb *r;
	uint32_t s;
};

/* s moved up: the servers it ranks before sort after it, the rest before. */
static int rel_before(const void *elem, const void *key)
{
	const struct rel_key *k = key;

	return rel_lt(k->r, k->s, *(const uint32_t *)elem) ? 1 : -1;
}

/* s moved down: the servers that rank before it sort before it. */
static int rel_after(const void *elem, const void *key)
{
	const struct rel_key *k = key;

	return rel_lt(k->r, *(const uint32_t *)elem, k->s) ? -1 : 1;
}

/* Moves server s to its place in order after its load changed: a binary
 * search for the place, then a shift of the entries in between. */
static void reposition(struct rb *r, uint32_t s)
{
	uint32_t p = r->pos[s], lo, q;
	struct rel_key k = {r, s};

	if (p > 0 && rel_lt(r, s, r->order[p - 1])) {
		/* The first of order[0, p - 1) that s ranks before, else p - 1. */
		lo = (uint32_t)cm_lower_bound_cmp(r->order, p - 1, sizeof(*r->order), &k, rel_before);
		memmove(&r->order[lo + 1], &r->order[lo], (size_t)(p - lo) * sizeof(*r->order));
		for (q = lo + 1; q <= p; q++)
			r->pos[r->order[q]] = q;
		p = lo;
	} else if (p + 1 < r->nup && rel_lt(r, r->order[p + 1], s)) {
		/* The last of order[p + 1, nup) that ranks before s (order[p + 1] does). */
		lo = p +
		     (uint32_t)cm_lower_bound_cmp(&r->order[p + 1], r->nup - p - 1, sizeof(*r->order), &k, rel_after);
		memmove(&r->order[p], &r->order[p + 1], (size_t)(lo - p) * sizeof(*r->order));
		for (q = p; q < lo; q++)
			r->pos[r->order[q]] = q;
		p = lo;
	}
	r->order[p] = s;
	r->pos[s] = p;
}

static void rb_free(struct rb *r)
{
	size_t i;

	if (r->mv)
		for (i = 0; i < r->ns; i++)
			free(r->mv[i].v);
	free(r->mv);
	free(r->load);
	free(r->cur);
	free(r->order);
	free(r->pos);
	free(r->blocked);
	free(r->touched);
	free(r->was_touched);
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

	return a < b ? -1 : a > b;
}

/* Loads, the current mapping and the UP order; movable lists when wanted. */
static int rb_init(struct rb *r, const struct redir_rb_server *srv, size_t ns, const struct redir_rb_resource *res,
                   size_t nr, bool movable)
{
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	r->srv = srv;
	r->ns = ns;
	r->nr = nr;
	if (ns >= UINT32_MAX || nr >= UINT32_MAX || (ns && !srv) || (nr && !res))
		return -EINVAL;
	r->load = calloc(ns ? ns : 1, sizeof(*r->load));
	r->mv = calloc(ns ? ns : 1, sizeof(*r->mv));
	r->cur = malloc((nr ? nr : 1) * sizeof(*r->cur));
	r->order = malloc((ns ? ns : 1) * sizeof(*r->order));
	r->pos = malloc((ns ? ns : 1) * sizeof(*r->pos));
	r->blocked = calloc(ns ? ns : 1, sizeof(*r->blocked));
	r->touched = malloc((nr ? nr : 1) * sizeof(*r->touched));
	r->was_touched = calloc(nr ? nr : 1, sizeof(*r->was_touched));
	if (!r->load || !r->mv || !r->cur || !r->order || !r->pos || !r->blocked || !r->touched || !r->was_touched)
		return -ENOMEM;
	for (i = 0; i < ns; i++)
		r->load[i] = srv[i].base;
	for (i = 0; i < nr; i++) {
		uint32_t s = res[i].server;

		if (s >= ns)
			return -EINVAL;
		if (r->load[s] + res[i].load < r->load[s])
			return -EOVERFLOW;
		r->load[s] += res[i].load;
		r->cur[i] = s;
	}
	/* Sums per server fit; the whole total must too, since a plan may
	 * pile several servers' resources onto one. */
	{
		uint64_t total = 0;

		for (i = 0; i < ns; i++) {
			if (total + r->load[i] < total)
				return -EOVERFLOW;
			total += r->load[i];
		}
	}
	if (movable) {
		for (i = 0; i < nr; i++) {
			uint32_t s = res[i].server;

			if (res[i].pinned || !takes_load(&srv[s]))
				continue;
			rc = vec_push(&r->mv[s], (struct rl){res[i].load, (uint32_t)i});
			if (rc)
				return rc;
		}
	}
	r->uniform = true;
	for (i = 0; i < ns; i++) {
		r->pos[i] = UINT32_MAX;
		if (takes_load(&srv[i])) {
			if (r->nup && srv[i].capacity != srv[r->order[0]].capacity)
				r->uniform = false;
			r->order[r->nup] = (uint32_t)i;
			r->pos[i] = r->nup++;
			reposition(r, (uint32_t)i);
		}
	}
	return 0;
}

static void max_rel(const struct rb *r, double *rel, uint32_t *who)
{
	uint32_t i, best = UINT32_MAX;

	/* The order is by rel asc then index asc; the maximum with the lowest
	 * index is the first of the last group of equals. */
	if (r->nup) {
		i = r->nup - 1;
		best = r->order[i];
		while (i > 0 && !frac_lt(r->load[r->order[i - 1]], r->srv[r->order[i - 1]].capacity, r->load[best],
		                         r->srv[best].capacity)) {
			i--;
			best = r->order[i];
		}
	}
	*who = best;
	*rel = best == UINT32_MAX ? 0.0 : (double)r->load[best] / (double)r->srv[best].capacity;
}

/* Records a move of resource i from its current server to t. */
static int do_move(struct rb *r, const struct redir_rb_resource *res, uint32_t i, uint32_t t)
{
	uint32_t h = r->cur[i];
	uint64_t l = res[i].load;
	bool was_home = r->cur[i] == res[i].server;
	int rc;

	rc = vec_insert(&r->mv[t], (struct rl){l, i});
	if (rc)
		return rc;
	vec_remove(&r->mv[h], l, i);
	r->load[h] -= l;
	r->load[t] += l;
	r->cur[i] = t;
	if (was_home)
		r->moved++;
	else if (t == res[i].server)
		r->moved--;
	if (!r->was_touched[i]) {
		r->was_touched[i] = true;
		r->touched[r->ntouched++] = i;
	}
	reposition(r, h);
	reposition(r, t);
	return 0;
}

static int make_plan(struct rb *r, const struct redir_rb_resource *res, struct redir_plan *plan)
{
	size_t i, n = 0;

	qsort(r->touched, r->ntouched, sizeof(*r->touched), cmp_u32);
	plan->moves = NULL;
	plan->n_moves = 0;
	for (i = 0; i < r->ntouched; i++)
		if (r->cur[r->touched[i]] != res[r->touched[i]].server)
			n++;
	if (!n)
		return 0;
	plan->moves = malloc(n * sizeof(*plan->moves));
	if (!plan->moves)
		return -ENOMEM;
	for (i = 0; i < r->ntouched; i++) {
		uint32_t k = r->touched[i];

		if (r->cur[k] != res[k].server)
			plan->moves[plan->n_moves++] = (struct redir_move){k, res[k].server, r->cur[k]};
	}
	return 0;
}

/* hi/c_hi > lo/c_lo * (100 + t) / 100, over the UP order. */
static bool rb_imbalanced(const struct rb *r, unsigned threshold_pct)
{
	uint32_t lo, hi;

	if (r->nup < 2)
		return false;
	lo = r->order[0];
	hi = r->order[r->nup - 1];
	return (u128)r->load[hi] * r->srv[lo].capacity * 100 >
	       (u128)r->load[lo] * r->srv[hi].capacity * (100 + (u128)threshold_pct);
}

bool redir_rb_imbalanced(const struct redir_rb_server *srv, size_t nsrv, const struct redir_rb_resource *res,
                         size_t nres, unsigned threshold_pct)
{
	struct rb r;
	bool out = false;

	if (rb_init(&r, srv, nsrv, res, nres, false) == 0)
		out = rb_imbalanced(&r, threshold_pct);
	rb_free(&r);
	return out;
}

/* One candidate move of h's resource at position k of its list onto t. */
struct cand {
	bool ok;
	uint64_t num; /* the pair's new maximum, num/den */
	uint32_t den;
	uint32_t target, res;
};

static bool cand_better(const struct cand *a, const struct cand *b)
{
	if (!b->ok)
		return true;
	if (frac_lt(a->num, a->den, b->num, b->den))
		return true;
	if (frac_lt(b->num, b->den, a->num, a->den))
		return false;
	if (a->target != b->target)
		return a->target < b->target;
	return a->res < b->res;
}

static void try_pos(const struct rb *r, uint32_t h, uint32_t t, const struct vec *v, uint32_t k, struct cand *best)
{
	uint64_t l;
	struct cand c;

	if (k >= v->n)
		return;
	l = v->v[k].load;
	/* Among equal loads take the lowest resource index. */
	k = vec_lower(v, l, 0);
	c.ok = true;
	c.target = t;
	c.res = v->v[k].idx;
	if (frac_lt(r->load[h] - l, r->srv[h].capacity, r->load[t] + l, r->srv[t].capacity)) {
		c.num = r->load[t] + l;
		c.den = r->srv[t].capacity;
	} else {
		c.num = r->load[h] - l;
		c.den = r->srv[h].capacity;
	}
	if (cand_better(&c, best))
		*best = c;
}

int redir_rebalance(const struct redir_rb_server *srv, size_t nsrv, const struct redir_rb_resource *res, size_t nres,
                    const struct redir_rb_params *p, struct redir_plan *plan)
{
	uint32_t ntargets;
	struct rb r;
	int rc;

	if (!p || !plan)
		return -EINVAL;
	memset(plan, 0, sizeof(*plan));
	rc = rb_init(&r, srv, nsrv, res, nres, true);
	if (rc)
		goto out;
	max_rel(&r, &plan->max_rel_before, &plan->max_server_before);
	plan->max_rel_after = plan->max_rel_before;
	plan->max_server_after = plan->max_server_before;
	plan->triggered = p->force || rb_imbalanced(&r, p->threshold_pct);
	if (!plan->triggered)
		goto out;

	/* With equal capacities the least loaded target dominates every other
	 * (for any l, L_t + l grows with L_t), so one target is exact; only
	 * mixed capacities need the wider, heuristic search. */
	ntargets = r.uniform ? 1 : REDIR_RB_TARGETS;
	while (r.moved < p->max_moves) {
		struct cand best = {.ok = false};
		uint32_t hp, h, j, tried = 0;
		uint64_t lh;
		uint32_t ch;
		struct vec *v;

		/* Highest relative load that is not blocked. */
		hp = r.nup;
		while (hp > 0 && r.blocked[r.order[hp - 1]])
			hp--;
		if (hp == 0)
			break;
		h = r.order[hp - 1];
		lh = r.load[h];
		ch = srv[h].capacity;
		v = &r.mv[h];
		rc = vec_sort(v);
		if (rc)
			goto out;

		for (j = 0; j < r.nup && tried < ntargets; j++) {
			uint32_t t = r.order[j];
			uint32_t ct = srv[t].capacity;
			u128 a, b;
			uint64_t lstar;
			uint32_t k;

			if (t == h)
				continue;
			/* t's own load bounds the pair maximum from below, and
			 * targets only get more loaded from here on. */
			if (best.ok && !frac_lt(r.load[t], ct, best.num, best.den))
				break;
			if (!frac_lt(r.load[t], ct, lh, ch))
				break;
			tried++;
			/* Nor can the pair end below its weighted average. */
			if (best.ok && !frac_lt(best.num, best.den, lh + r.load[t], (uint64_t)ch + ct))
				continue;
			a = (u128)lh * ct;
			b = (u128)r.load[t] * ch;
			lstar = (uint64_t)((a - b) / ((u128)ch + ct));
			/* Nearest loads on both sides of the balance point. */
			k = vec_lower(v, lstar, UINT32_MAX);
			if (k > 0)
				try_pos(&r, h, t, v, k - 1, &best);
			try_pos(&r, h, t, v, k, &best);
		}
		if (!best.ok || !frac_lt(best.num, best.den, lh, ch)) {
			r.blocked[h] = true;
			continue;
		}
		rc = do_move(&r, res, best.res, best.target);
		if (rc)
			goto out;
	}
	rc = make_plan(&r, res, plan);
	if (rc)
		goto out;
	max_rel(&r, &plan->max_rel_after, &plan->max_server_after);
out:
	rb_free(&r);
	return rc;
}

struct fo_item {
	uint64_t load;
	uint32_t idx;
};

static int cmp_fo(const void *pa, const void *pb)
{
	const struct fo_item *a = pa, *b = pb;

	if (a->load != b->load)
		return a->load > b->load ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int redir_failover(const struct redir_rb_server *srv, size_t nsrv, const struct redir_rb_resource *res, size_t nres,
                   uint32_t failed, bool move_pinned, struct redir_plan *plan)
{
	struct fo_item *items = NULL;
	uint32_t *count = NULL;
	size_t i, n = 0;
	struct rb r;
	int rc;

	if (!plan)
		return -EINVAL;
	memset(plan, 0, sizeof(*plan));
	rc = rb_init(&r, srv, nsrv, res, nres, false);
	if (rc)
		goto out;
	if (failed >= nsrv) {
		rc = -EINVAL;
		goto out;
	}
	/* The failed server is out of the comparison even if the caller has
	 * not marked it down yet. */
	if (r.pos[failed] != UINT32_MAX) {
		for (i = r.pos[failed]; i + 1 < r.nup; i++) {
			r.order[i] = r.order[i + 1];
			r.pos[r.order[i]] = (uint32_t)i;
		}
		r.nup--;
		r.pos[failed] = UINT32_MAX;
	}
	plan->triggered = true;
	max_rel(&r, &plan->max_rel_before, &plan->max_server_before);
	items = malloc((nres ? nres : 1) * sizeof(*items));
	count = calloc(nsrv ? nsrv : 1, sizeof(*count));
	if (!items || !count) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nres; i++) {
		count[res[i].server]++;
		if (res[i].server == failed && (move_pinned || !res[i].pinned))
			items[n++] = (struct fo_item){res[i].load, (uint32_t)i};
	}
	if (n && r.nup == 0) {
		rc = -EHOSTUNREACH;
		goto out;
	}
	qsort(items, n, sizeof(*items), cmp_fo);
	for (i = 0; i < n; i++) {
		uint32_t j, best = UINT32_MAX;
		uint64_t l = items[i].load;

		for (j = 0; j < r.nup; j++) {
			uint32_t t = r.order[j];
			uint32_t ct = srv[t].capacity;
			uint64_t bl, nl;
			uint32_t bc;

			if (best == UINT32_MAX) {
				best = t;
				continue;
			}
			bl = r.load[best] + l;
			bc = srv[best].capacity;
			nl = r.load[t] + l;
			if (frac_lt(nl, ct, bl, bc)) {
				best = t;
			} else if (!frac_lt(bl, bc, nl, ct)) {
				/* Same load after placement: spread by count. */
				if (frac_lt(count[t] + 1, ct, count[best] + 1, bc) ||
				    (!frac_lt(count[best] + 1, bc, count[t] + 1, ct) && t < best))
					best = t;
			}
		}
		r.load[best] += l;
		count[best]++;
		count[failed]--;
		r.cur[items[i].idx] = best;
		r.touched[r.ntouched++] = items[i].idx;
		reposition(&r, best);
	}
	rc = make_plan(&r, res, plan);
	if (rc)
		goto out;
	max_rel(&r, &plan->max_rel_after, &plan->max_server_after);
out:
	free(items);
	free(count);
	rb_free(&r);
	return rc;
}

void redir_plan_apply(const struct redir_plan *plan, struct redir_rb_resource *res, size_t nres)
{
	size_t i;

	for (i = 0; plan && i < plan->n_moves; i++)
		if (plan->moves[i].resource < nres)
			res[plan->moves[i].resource].server = plan->moves[i].to;
}

void redir_plan_free(struct redir_plan *plan)
{
	if (!plan)
		return;
	free(plan->moves);
	plan->moves = NULL;
	plan->n_moves = 0;
}
