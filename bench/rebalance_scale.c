/* rebalance_scale.c: the rebalancer on 1,000,000 resources and 1,000 servers against LPT computed from scratch. */
/*
 * Usage: rebalance_scale [NRES [NSRV [SEED]]]
 *
 * Two scenarios, each planned by redir_rebalance() (linked from
 * engines/redirect/rebalance.c, forced, max_moves = NRES so only the
 * algorithm decides when to stop) and by LPT in the same run:
 *   random  every resource on a random server, loads exponential (mean 1000);
 *   drift   the LPT placement of those loads, then 10% of the resources
 *           change load (x0.2..x5): the state a periodic rebalance meets.
 * LPT (longest processing time first) sorts the loads in decreasing order
 * and puts each on the least-loaded server (a binary heap): the classic
 * from-scratch answer.  Its moves are counted twice: as placed, and after
 * relabelling its bins onto the old servers by a greedy largest-overlap
 * matching, which is the kindest reading for LPT (bins are interchangeable).
 * Equal capacities, so relative load is load and LPT is the textbook one.
 * Times are wall clock (CLOCK_MONOTONIC), best of ROUNDS runs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#include "engines/redirect/rebalance.h"

#define ROUNDS 3

static uint64_t rng_state;

/* splitmix64: reproducible, fast, good enough for test data. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double urand(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- LPT ------------------------------------------------------------------ */

struct hent {
	uint64_t load;
	uint32_t srv;
};

static int hless(const struct hent *a, const struct hent *b)
{
	return a->load < b->load || (a->load == b->load && a->srv < b->srv);
}

static void hdown(struct hent *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < n && hless(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && hless(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct hent t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static const uint64_t *sort_loads;

static int by_load_desc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (sort_loads[x] != sort_loads[y])
		return sort_loads[x] < sort_loads[y] ? 1 : -1;
	return x < y ? -1 : x > y;
}

/* Places every resource from scratch; out[i] = server of resource i. */
static void lpt(const uint64_t *load, size_t nres, size_t nsrv, uint32_t *out)
{
	uint32_t *ord = malloc(nres * sizeof(*ord));
	struct hent *h = malloc(nsrv * sizeof(*h));

	if (!ord || !h) {
		perror("malloc");
		exit(1);
	}
	for (size_t i = 0; i < nres; i++)
		ord[i] = (uint32_t)i;
	sort_loads = load;
	qsort(ord, nres, sizeof(*ord), by_load_desc);
	for (size_t s = 0; s < nsrv; s++)
		h[s] = (struct hent){0, (uint32_t)s};
	for (size_t k = 0; k < nres; k++) {
		out[ord[k]] = h[0].srv;
		h[0].load += load[ord[k]];
		hdown(h, nsrv, 0);
	}
	free(ord);
	free(h);
}

/* ---- helpers ------------------------------------------------------------- */

static uint64_t max_load(const uint64_t *load, const uint32_t *map, size_t nres, size_t nsrv, double *mean)
{
	uint64_t *sum = calloc(nsrv, sizeof(*sum)), mx = 0, tot = 0;

	for (size_t i = 0; i < nres; i++)
		sum[map[i]] += load[i];
	for (size_t s = 0; s < nsrv; s++) {
		tot += sum[s];
		if (sum[s] > mx)
			mx = sum[s];
	}
	free(sum);
	*mean = (double)tot / (double)nsrv;
	return mx;
}

static size_t count_moves(const uint32_t *a, const uint32_t *b, size_t nres)
{
	size_t n = 0;

	for (size_t i = 0; i < nres; i++)
		n += a[i] != b[i];
	return n;
}

struct pair {
	uint32_t cnt, bin, srv;
};

static int by_cnt_desc(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return x->cnt < y->cnt ? 1 : x->cnt > y->cnt ? -1 : 0;
}

/* LPT's moves after renaming its bins onto old servers, greedily by overlap. */
static size_t lpt_moves_relabelled(const uint32_t *old, const uint32_t *lp, size_t nres, size_t nsrv)
{
	uint32_t *m = calloc(nsrv * nsrv, sizeof(*m));
	struct pair *p;
	size_t np = 0, kept = 0;
	uint32_t *bin_to = malloc(nsrv * sizeof(*bin_to));
	char *srv_used = calloc(nsrv, 1);

	for (size_t i = 0; i < nres; i++)
		m[(size_t)lp[i] * nsrv + old[i]]++;
	for (size_t k = 0; k < nsrv * nsrv; k++)
		np += m[k] != 0;
	p = malloc((np ? np : 1) * sizeof(*p));
	np = 0;
	for (size_t k = 0; k < nsrv * nsrv; k++)
		if (m[k])
			p[np++] = (struct pair){m[k], (uint32_t)(k / nsrv), (uint32_t)(k % nsrv)};
	qsort(p, np, sizeof(*p), by_cnt_desc);
	for (size_t s = 0; s < nsrv; s++)
		bin_to[s] = UINT32_MAX;
	for (size_t k = 0; k < np; k++) {
		if (bin_to[p[k].bin] != UINT32_MAX || srv_used[p[k].srv])
			continue;
		bin_to[p[k].bin] = p[k].srv;
		srv_used[p[k].srv] = 1;
		kept += p[k].cnt;
	}
	free(m);
	free(p);
	free(bin_to);
	free(srv_used);
	return nres - kept;
}

/* ---- one scenario --------------------------------------------------------- */

static int scenario(const char *name, const uint64_t *load, const uint32_t *init, size_t nres, size_t nsrv)
{
	struct redir_rb_server *srv = calloc(nsrv, sizeof(*srv));
	struct redir_rb_resource *res = calloc(nres, sizeof(*res));
	uint32_t *after = malloc(nres * sizeof(*after)), *lp = malloc(nres * sizeof(*lp));
	struct redir_rb_params prm = {.threshold_pct = REDIR_RB_DEFAULT_THRESHOLD, .max_moves = nres, .force = true};
	struct redir_plan plan;
	double t_rb = 1e9, t_lpt = 1e9, mean, t;
	uint64_t mx_before, mx_rb, mx_lpt;
	size_t moves = 0, lpt_raw, lpt_rel;
	int rc;

	if (!srv || !res || !after || !lp) {
		perror("calloc");
		return 1;
	}
	for (size_t s = 0; s < nsrv; s++)
		srv[s] = (struct redir_rb_server){.capacity = 1, .state = REDIR_SRV_UP};
	for (size_t i = 0; i < nres; i++)
		res[i] = (struct redir_rb_resource){.load = load[i], .server = init[i], .pinned = false};

	for (int r = 0; r < ROUNDS; r++) {
		memset(&plan, 0, sizeof(plan));
		t = now();
		rc = redir_rebalance(srv, nsrv, res, nres, &prm, &plan);
		t = now() - t;
		if (rc) {
			fprintf(stderr, "redir_rebalance: %s\n", strerror(-rc));
			return 1;
		}
		if (t < t_rb)
			t_rb = t;
		moves = plan.n_moves;
		if (r < ROUNDS - 1)
			redir_plan_free(&plan);
	}
	redir_plan_apply(&plan, res, nres);
	redir_plan_free(&plan);
	for (size_t i = 0; i < nres; i++)
		after[i] = res[i].server;

	for (int r = 0; r < ROUNDS; r++) {
		t = now();
		lpt(load, nres, nsrv, lp);
		t = now() - t;
		if (t < t_lpt)
			t_lpt = t;
	}

	mx_before = max_load(load, init, nres, nsrv, &mean);
	mx_rb = max_load(load, after, nres, nsrv, &mean);
	mx_lpt = max_load(load, lp, nres, nsrv, &mean);
	lpt_raw = count_moves(init, lp, nres);
	lpt_rel = lpt_moves_relabelled(init, lp, nres, nsrv);
	if (count_moves(init, after, nres) != moves) {
		fprintf(stderr, "plan reports %zu moves, %zu resources changed server\n", moves,
		        count_moves(init, after, nres));
		return 1;
	}

	printf("scenario %s: %zu resources, %zu servers, mean load per server %.0f\n", name, nres, nsrv, mean);
	printf("  before:      max load %llu (%.4fx mean)\n", (unsigned long long)mx_before, (double)mx_before / mean);
	printf("  rebalancer:  plan %.4f s, max load %llu (%.4fx mean), %zu moves\n", t_rb, (unsigned long long)mx_rb,
	       (double)mx_rb / mean, moves);
	printf("  LPT:         plan %.4f s, max load %llu (%.4fx mean), %zu moves as placed, %zu relabelled\n", t_lpt,
	       (unsigned long long)mx_lpt, (double)mx_lpt / mean, lpt_raw, lpt_rel);
	printf("  ratios:      max load %.6fx LPT (goal <= 1.01), moves %.5f of LPT's relabelled (goal <= 0.1), "
	       "time %.3fx LPT; plan time %s 0.2 s\n",
	       (double)mx_rb / (double)mx_lpt, lpt_rel ? (double)moves / (double)lpt_rel : 0.0, t_rb / t_lpt,
	       t_rb <= 0.2 ? "<=" : ">");
	printf("RESULT %s plan_s=%.4f max_ratio=%.6f moves=%zu lpt_moves=%zu move_ratio=%.5f\n", name, t_rb,
	       (double)mx_rb / (double)mx_lpt, moves, lpt_rel, lpt_rel ? (double)moves / (double)lpt_rel : 0.0);
	free(srv);
	free(res);
	free(after);
	free(lp);
	return 0;
}

int main(int argc, char **argv)
{
	size_t nres = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
	size_t nsrv = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
	uint64_t *load, *load2;
	uint32_t *init, *drift;
	int rc;

	rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : 3;
	if (!nres || !nsrv || nsrv > 100000) {
		fprintf(stderr, "usage: %s [NRES [NSRV [SEED]]]\n", argv[0]);
		return 2;
	}
	load = malloc(nres * sizeof(*load));
	load2 = malloc(nres * sizeof(*load2));
	init = malloc(nres * sizeof(*init));
	drift = malloc(nres * sizeof(*drift));
	if (!load || !load2 || !init || !drift) {
		perror("malloc");
		return 1;
	}
	/* Exponential loads, mean 1000 (bytes/s, say), at least 1. */
	for (size_t i = 0; i < nres; i++) {
		load[i] = 1 + (uint64_t)(-1000.0 * log(1.0 - urand()));
		init[i] = (uint32_t)(rnd() % nsrv);
	}
	rc = scenario("random", load, init, nres, nsrv);
	if (rc)
		return rc;

	/* Drift: start balanced (LPT), then a tenth of the loads change. */
	lpt(load, nres, nsrv, drift);
	for (size_t i = 0; i < nres; i++) {
		load2[i] = load[i];
		if (rnd() % 10 == 0)
			load2[i] = 1 + (uint64_t)((double)load[i] * (0.2 + 4.8 * urand()));
	}
	rc = scenario("drift", load2, drift, nres, nsrv);
	free(load);
	free(load2);
	free(init);
	free(drift);
	return rc;
}
