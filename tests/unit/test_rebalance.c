/* test_rebalance.c: unit tests for the seed 003 rebalancer and failover planner (engines/redirect/rebalance.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engines/redirect/rebalance.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct redir_rb_server up1[3] = {
    {1, REDIR_SRV_UP, 0},
    {1, REDIR_SRV_UP, 0},
    {1, REDIR_SRV_UP, 0},
};

/* Seed 003 [0098], Fig. 8A: first server 100+100, second 150+200, third 300+400. */
static void fig8(struct redir_rb_resource *r)
{
	static const uint64_t load[6] = {100, 100, 150, 200, 300, 400};
	static const uint32_t srv[6] = {0, 0, 1, 1, 2, 2};
	int i;

	for (i = 0; i < 6; i++)
		r[i] = (struct redir_rb_resource){load[i], srv[i], false};
}

static void server_loads(const struct redir_rb_resource *r, size_t n, uint64_t *out, size_t ns)
{
	size_t i;

	memset(out, 0, ns * sizeof(*out));
	for (i = 0; i < n; i++)
		out[r[i].server] += r[i].load;
}

/* Checks the invariants every plan keeps and applies it. */
static void check_plan(const struct redir_rb_server *s, size_t ns, struct redir_rb_resource *r, size_t nr,
                       const struct redir_plan *p, size_t max_moves)
{
	size_t i;

	ck_assert_uint_le(p->n_moves, max_moves);
	for (i = 0; i < p->n_moves; i++) {
		const struct redir_move *m = &p->moves[i];

		ck_assert_uint_lt(m->resource, nr);
		if (i > 0)
			ck_assert_uint_gt(m->resource, p->moves[i - 1].resource);
		ck_assert_uint_eq(m->from, r[m->resource].server);
		ck_assert_uint_ne(m->from, m->to);
		ck_assert_msg(!r[m->resource].pinned, "pinned resource %u moved", m->resource);
		ck_assert_int_eq(s[m->from].state, REDIR_SRV_UP);
		ck_assert_int_eq(s[m->to].state, REDIR_SRV_UP);
		ck_assert_uint_gt(s[m->to].capacity, 0);
	}
	ck_assert(p->max_rel_after <= p->max_rel_before);
	redir_plan_apply(p, r, nr);
}

START_TEST(fig8_two_moves_reach_450)
{
	struct redir_rb_resource r[6];
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, 2, false};
	struct redir_plan p;
	uint64_t l[3];

	fig8(r);
	server_loads(r, 6, l, 3);
	ck_assert_uint_eq(l[0], 200);
	ck_assert_uint_eq(l[1], 350);
	ck_assert_uint_eq(l[2], 700);
	ck_assert(redir_rb_imbalanced(up1, 3, r, 6, REDIR_RB_DEFAULT_THRESHOLD));

	ck_assert_int_eq(redir_rebalance(up1, 3, r, 6, &prm, &p), 0);
	ck_assert(p.triggered);
	ck_assert(p.max_rel_before == 700.0);
	ck_assert_uint_eq(p.max_server_before, 2);
	ck_assert_uint_le(p.n_moves, 2);
	ck_assert(p.max_rel_after == 450.0);
	check_plan(up1, 3, r, 6, &p, 2);
	redir_plan_free(&p);
	server_loads(r, 6, l, 3);
	ck_assert_uint_eq(l[0] > l[1] ? (l[0] > l[2] ? l[0] : l[2]) : (l[1] > l[2] ? l[1] : l[2]), 450);
	ck_assert_uint_eq(l[0] + l[1] + l[2], 1250);
	/* Fig. 8B: 450 vs 400 is within 50%: the trigger is quiet again. */
	ck_assert(!redir_rb_imbalanced(up1, 3, r, 6, REDIR_RB_DEFAULT_THRESHOLD));
}
END_TEST

START_TEST(fig8_unbounded_is_optimal_and_stable)
{
	struct redir_rb_resource r[6];
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, 100, true};
	struct redir_plan p;

	fig8(r);
	ck_assert_int_eq(redir_rebalance(up1, 3, r, 6, &prm, &p), 0);
	/* 450 is the optimum for these loads: 400 alone, then 300+150, 200+100+100. */
	ck_assert(p.max_rel_after == 450.0);
	ck_assert_uint_le(p.n_moves, 2);
	check_plan(up1, 3, r, 6, &p, 100);
	redir_plan_free(&p);
	/* Rerunning on the result finds nothing more to do. */
	ck_assert_int_eq(redir_rebalance(up1, 3, r, 6, &prm, &p), 0);
	ck_assert_uint_eq(p.n_moves, 0);
	redir_plan_free(&p);
}
END_TEST

START_TEST(deterministic)
{
	struct redir_rb_resource r[6];
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, 2, false};
	struct redir_plan a, b;

	fig8(r);
	ck_assert_int_eq(redir_rebalance(up1, 3, r, 6, &prm, &a), 0);
	ck_assert_int_eq(redir_rebalance(up1, 3, r, 6, &prm, &b), 0);
	ck_assert_uint_eq(a.n_moves, b.n_moves);
	ck_assert_mem_eq(a.moves, b.moves, a.n_moves * sizeof(*a.moves));
	/* The documented choice: 300 (resource 4) to the first server, then the
	 * lower-indexed 100 (resource 0) to the second. */
	ck_assert_uint_eq(a.n_moves, 2);
	ck_assert_uint_eq(a.moves[0].resource, 0);
	ck_assert_uint_eq(a.moves[0].to, 1);
	ck_assert_uint_eq(a.moves[1].resource, 4);
	ck_assert_uint_eq(a.moves[1].to, 0);
	redir_plan_free(&a);
	redir_plan_free(&b);
}
END_TEST

START_TEST(pinned_never_moves)
{
	struct redir_rb_resource r[6];
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, 10, false};
	struct redir_plan p;
	size_t i;

	fig8(r);
	r[4].pinned = true; /* 300 on the hot server */
	r[5].pinned = true; /* 400 on the hot server */
	ck_assert_int_eq(redir_rebalance(up1, 3, r, 6, &prm, &p), 0);
	ck_assert(p.triggered);
	for (i = 0; i < p.n_moves; i++)
		ck_assert_uint_lt(p.moves[i].resource, 4);
	/* Nothing can lower the 700: the plan must not pretend otherwise. */
	ck_assert(p.max_rel_after == 700.0);
	check_plan(up1, 3, r, 6, &p, 10);
	redir_plan_free(&p);
	ck_assert_uint_eq(r[4].server, 2);
	ck_assert_uint_eq(r[5].server, 2);
}
END_TEST

START_TEST(never_onto_drain_or_down)
{
	struct redir_rb_server s[4] = {
	    {1, REDIR_SRV_UP, 0},
	    {1, REDIR_SRV_DRAIN, 0},
	    {1, REDIR_SRV_DOWN, 0},
	    {1, REDIR_SRV_UP, 0},
	};
	struct redir_rb_resource r[8];
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, 10, false};
	struct redir_plan p;
	size_t i;

	for (i = 0; i < 6; i++)
		r[i] = (struct redir_rb_resource){100, 0, false};
	/* A resource still on the draining server is failover's business. */
	r[6] = (struct redir_rb_resource){1000, 1, false};
	r[7] = (struct redir_rb_resource){1000, 2, false};
	ck_assert_int_eq(redir_rebalance(s, 4, r, 8, &prm, &p), 0);
	ck_assert_uint_eq(p.n_moves, 3);
	for (i = 0; i < p.n_moves; i++) {
		ck_assert_uint_eq(p.moves[i].from, 0);
		ck_assert_uint_eq(p.moves[i].to, 3);
	}
	ck_assert(p.max_rel_after == 300.0);
	check_plan(s, 4, r, 8, &p, 10);
	redir_plan_free(&p);
}
END_TEST

START_TEST(capacity_weights)
{
	struct redir_rb_server s[2] = {{1, REDIR_SRV_UP, 0}, {3, REDIR_SRV_UP, 0}};
	struct redir_rb_resource r[8];
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, 100, false};
	struct redir_plan p;
	uint64_t l[2];
	size_t i;

	for (i = 0; i < 8; i++)
		r[i] = (struct redir_rb_resource){100, 0, false};
	ck_assert_int_eq(redir_rebalance(s, 2, r, 8, &prm, &p), 0);
	ck_assert(p.max_rel_after == 200.0);
	check_plan(s, 2, r, 8, &p, 100);
	redir_plan_free(&p);
	server_loads(r, 8, l, 2);
	ck_assert_uint_eq(l[0], 200);
	ck_assert_uint_eq(l[1], 600);
	/* 200/1 against 600/3: equal relative loads, so no trigger. */
	ck_assert(!redir_rb_imbalanced(s, 2, r, 8, 0));
}
END_TEST

START_TEST(max_moves_respected)
{
	struct redir_rb_resource r[40];
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, 0, false};
	struct redir_plan p;
	size_t i, m;

	for (m = 0; m <= 5; m++) {
		for (i = 0; i < LEN(r); i++)
			r[i] = (struct redir_rb_resource){10 + i, 0, false};
		prm.max_moves = m;
		ck_assert_int_eq(redir_rebalance(up1, 3, r, LEN(r), &prm, &p), 0);
		ck_assert(p.triggered);
		ck_assert_uint_eq(p.n_moves, m);
		check_plan(up1, 3, r, LEN(r), &p, m);
		redir_plan_free(&p);
	}
}
END_TEST

START_TEST(threshold_trigger)
{
	struct redir_rb_server s[2] = {{1, REDIR_SRV_UP, 0}, {1, REDIR_SRV_UP, 0}};
	struct redir_rb_resource r[2] = {{100, 0, false}, {150, 1, false}};
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, 10, false};
	struct redir_plan p;

	/* Exactly 50% more is not "more than 50%". */
	ck_assert(!redir_rb_imbalanced(s, 2, r, 2, 50));
	ck_assert_int_eq(redir_rebalance(s, 2, r, 2, &prm, &p), 0);
	ck_assert(!p.triggered);
	ck_assert_uint_eq(p.n_moves, 0);
	redir_plan_free(&p);
	r[1].load = 151;
	ck_assert(redir_rb_imbalanced(s, 2, r, 2, 50));
	ck_assert(!redir_rb_imbalanced(s, 2, r, 2, 52));
	ck_assert_int_eq(redir_rebalance(s, 2, r, 2, &prm, &p), 0);
	ck_assert(p.triggered);
	/* One resource each: no single move lowers 151. */
	ck_assert_uint_eq(p.n_moves, 0);
	redir_plan_free(&p);
	/* An idle server next to a loaded one is imbalance. */
	r[0].server = 1;
	ck_assert(redir_rb_imbalanced(s, 2, r, 2, 50));
	ck_assert_int_eq(redir_rebalance(s, 2, r, 2, &prm, &p), 0);
	ck_assert(p.triggered);
	ck_assert_uint_eq(p.n_moves, 1);
	ck_assert_uint_eq(p.moves[0].resource, 0);
	redir_plan_free(&p);
	/* Forced (periodic/manual) runs plan below the threshold. */
	{
		struct redir_rb_resource q[4] = {{100, 0, false}, {10, 0, false}, {10, 0, false}, {100, 1, false}};

		ck_assert(!redir_rb_imbalanced(s, 2, q, 4, 50));
		prm.force = true;
		ck_assert_int_eq(redir_rebalance(s, 2, q, 4, &prm, &p), 0);
		ck_assert(p.triggered);
		ck_assert_uint_eq(p.n_moves, 1);
		ck_assert(p.max_rel_after == 110.0);
		redir_plan_free(&p);
	}
	/* One server, or all idle: never imbalanced. */
	ck_assert(!redir_rb_imbalanced(s, 1, r, 2, 0));
	r[0].load = r[1].load = 0;
	ck_assert(!redir_rb_imbalanced(s, 2, r, 2, 0));
}
END_TEST

START_TEST(failover_moves_only_failed)
{
	struct redir_rb_server s[4] = {
	    {1, REDIR_SRV_UP, 0},
	    {1, REDIR_SRV_DOWN, 0},
	    {2, REDIR_SRV_UP, 0},
	    {1, REDIR_SRV_DRAIN, 0},
	};
	struct redir_rb_resource r[20], before[20];
	struct redir_plan p;
	uint64_t l[4];
	size_t i;

	for (i = 0; i < LEN(r); i++)
		r[i] = (struct redir_rb_resource){100, (uint32_t)(i % 4), false};
	r[5].pinned = true; /* on server 1 */
	memcpy(before, r, sizeof(r));
	ck_assert_int_eq(redir_failover(s, 4, r, LEN(r), 1, true, &p), 0);
	/* All five of server 1's resources move, and nothing else. */
	ck_assert_uint_eq(p.n_moves, 5);
	for (i = 0; i < p.n_moves; i++) {
		ck_assert_uint_eq(p.moves[i].from, 1);
		ck_assert(p.moves[i].to == 0 || p.moves[i].to == 2);
	}
	redir_plan_apply(&p, r, LEN(r));
	redir_plan_free(&p);
	for (i = 0; i < LEN(r); i++) {
		if (before[i].server != 1)
			ck_assert_uint_eq(r[i].server, before[i].server);
		else
			ck_assert_uint_ne(r[i].server, 1);
	}
	/* Before: 500 on server 0 (cap 1, relative 500) and 500 on server 2
	 * (cap 2, relative 250): server 2 takes all five and ends at 500
	 * relative too. */
	server_loads(r, LEN(r), l, 4);
	ck_assert_uint_eq(l[0] + l[2], 1500);
	ck_assert_uint_eq(l[0], 500);
	ck_assert_uint_eq(l[2], 1000);
	ck_assert_uint_eq(l[3], 500); /* the draining server keeps its own */

	/* Pinned ones stay when asked to. */
	memcpy(r, before, sizeof(r));
	ck_assert_int_eq(redir_failover(s, 4, r, LEN(r), 1, false, &p), 0);
	ck_assert_uint_eq(p.n_moves, 4);
	for (i = 0; i < p.n_moves; i++)
		ck_assert_uint_ne(p.moves[i].resource, 5);
	redir_plan_free(&p);
}
END_TEST

START_TEST(failover_balances_by_capacity)
{
	struct redir_rb_server s[3] = {{1, REDIR_SRV_UP, 0}, {2, REDIR_SRV_UP, 0}, {5, REDIR_SRV_UP, 0}};
	struct redir_rb_resource r[6];
	struct redir_plan p;
	uint32_t cnt[3] = {0, 0, 0};
	size_t i;

	/* No load measured yet: the count spreads by capacity (4 to 1, 2 to 0). */
	for (i = 0; i < 6; i++)
		r[i] = (struct redir_rb_resource){0, 2, false};
	ck_assert_int_eq(redir_failover(s, 3, r, 6, 2, false, &p), 0);
	ck_assert_uint_eq(p.n_moves, 6);
	redir_plan_apply(&p, r, 6);
	redir_plan_free(&p);
	for (i = 0; i < 6; i++)
		cnt[r[i].server]++;
	ck_assert_uint_eq(cnt[0], 2);
	ck_assert_uint_eq(cnt[1], 4);
	ck_assert_uint_eq(cnt[2], 0);

	/* Loads: LPT by relative load; 400 to cap 2 first, then 300, 200, 100... */
	{
		static const uint64_t ld[6] = {400, 300, 200, 100, 100, 100};
		uint64_t l[3];

		for (i = 0; i < 6; i++)
			r[i] = (struct redir_rb_resource){ld[i], 2, false};
		ck_assert_int_eq(redir_failover(s, 3, r, 6, 2, false, &p), 0);
		redir_plan_apply(&p, r, 6);
		ck_assert(p.max_rel_after <= 400.0);
		redir_plan_free(&p);
		server_loads(r, 6, l, 3);
		ck_assert_uint_eq(l[0] + l[1], 1200);
		/* cap 2 gets twice as much as cap 1 */
		ck_assert_uint_eq(l[0], 400);
		ck_assert_uint_eq(l[1], 800);
	}
	/* No healthy server left. */
	s[0].state = s[1].state = REDIR_SRV_DOWN;
	for (i = 0; i < 6; i++)
		r[i] = (struct redir_rb_resource){1, 2, false};
	ck_assert_int_eq(redir_failover(s, 3, r, 6, 2, false, &p), -EHOSTUNREACH);
	redir_plan_free(&p);
}
END_TEST

START_TEST(bad_input)
{
	struct redir_rb_resource r[1] = {{1, 7, false}};
	struct redir_rb_resource big[2] = {{UINT64_MAX, 0, false}, {1, 1, false}};
	struct redir_rb_params prm = {50, 1, true};
	struct redir_plan p;

	ck_assert_int_eq(redir_rebalance(up1, 3, r, 1, &prm, &p), -EINVAL);
	ck_assert_int_eq(redir_failover(up1, 3, r, 1, 0, false, &p), -EINVAL);
	r[0].server = 0;
	ck_assert_int_eq(redir_failover(up1, 3, r, 1, 3, false, &p), -EINVAL);
	ck_assert_int_eq(redir_rebalance(up1, 3, big, 2, &prm, &p), -EOVERFLOW);
	ck_assert_int_eq(redir_rebalance(up1, 3, r, 1, NULL, &p), -EINVAL);
	/* No servers, no resources: an empty plan. */
	ck_assert_int_eq(redir_rebalance(NULL, 0, NULL, 0, &prm, &p), 0);
	ck_assert_uint_eq(p.n_moves, 0);
	redir_plan_free(&p);
}
END_TEST

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random instances: the invariants always hold, and the result is within
 * 5% of the lower bound total/capacity. */
/* A server's own load (its host's CPU and memory) stays with it: the busy host gives its resources up first and
 * takes fewest on failover. */
START_TEST(host_base_load)
{
	struct redir_rb_server s[3] = {{1, REDIR_SRV_UP, 900}, {1, REDIR_SRV_UP, 100}, {1, REDIR_SRV_UP, 0}};
	struct redir_rb_resource r[6];
	struct redir_rb_params p = {.threshold_pct = 50, .max_moves = 10, .force = true};
	struct redir_plan plan = {0};
	size_t on0 = 0, i;

	for (i = 0; i < 6; i++)
		r[i] = (struct redir_rb_resource){100, i < 3 ? 0 : 1, false};
	s[2].state = REDIR_SRV_DOWN;
	ck_assert(redir_rb_imbalanced(s, 3, r, 6, 50));
	ck_assert_int_eq(redir_rebalance(s, 3, r, 6, &p, &plan), 0);
	check_plan(s, 3, r, 6, &plan, 10);
	/* 900 + k*100 against 100 + (6-k)*100: k = 0 gives the lowest maximum, 900. */
	for (i = 0; i < 6; i++)
		on0 += r[i].server == 0;
	ck_assert_uint_eq(on0, 0);
	ck_assert(plan.max_rel_after == 900.0);
	redir_plan_free(&plan);
	/* Server 2 comes back with two resources and fails: both go to server 1 (600, then 700, below 900 + 100). */
	s[2].state = REDIR_SRV_UP;
	r[0].server = r[1].server = 2;
	s[2].state = REDIR_SRV_DOWN;
	ck_assert_int_eq(redir_failover(s, 3, r, 6, 2, false, &plan), 0);
	ck_assert_uint_eq(plan.n_moves, 2);
	ck_assert_uint_eq(plan.moves[0].to, 1);
	ck_assert_uint_eq(plan.moves[1].to, 1);
	redir_plan_free(&plan);
}
END_TEST

START_TEST(random_instances)
{
	enum { NS = 20, NR = 4000 };
	static struct redir_rb_server s[NS];
	static struct redir_rb_resource r[NR];
	struct redir_rb_params prm = {REDIR_RB_DEFAULT_THRESHOLD, NR, true};
	struct redir_plan p;
	int round;
	size_t i;

	for (round = 0; round < 20; round++) {
		uint64_t total = 0, capsum = 0;
		double bound;

		for (i = 0; i < NS; i++) {
			s[i].capacity = 1 + (uint32_t)(rnd() % 4);
			s[i].state = i && rnd() % 8 == 0 ? REDIR_SRV_DOWN : REDIR_SRV_UP;
			if (s[i].state == REDIR_SRV_UP)
				capsum += s[i].capacity;
		}
		for (i = 0; i < NR; i++) {
			uint32_t srv;

			do
				srv = (uint32_t)(rnd() % (round % 2 ? NS : 3));
			while (s[srv].state != REDIR_SRV_UP);
			r[i] = (struct redir_rb_resource){rnd() % 1000, srv, rnd() % 50 == 0};
			total += r[i].load;
		}
		ck_assert_int_eq(redir_rebalance(s, NS, r, NR, &prm, &p), 0);
		check_plan(s, NS, r, NR, &p, NR);
		bound = (double)total / (double)capsum;
		ck_assert_msg(p.max_rel_after <= bound * 1.05, "round %d: %f vs bound %f", round, p.max_rel_after,
		              bound);
		redir_plan_free(&p);
	}
}
END_TEST

static Suite *rebalance_suite(void)
{
	Suite *s = suite_create("rebalance");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, fig8_two_moves_reach_450);
	tcase_add_test(tc, fig8_unbounded_is_optimal_and_stable);
	tcase_add_test(tc, deterministic);
	tcase_add_test(tc, pinned_never_moves);
	tcase_add_test(tc, never_onto_drain_or_down);
	tcase_add_test(tc, capacity_weights);
	tcase_add_test(tc, max_moves_respected);
	tcase_add_test(tc, threshold_trigger);
	tcase_add_test(tc, failover_moves_only_failed);
	tcase_add_test(tc, failover_balances_by_capacity);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, host_base_load);
	tcase_add_test(tc, random_instances);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rebalance_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
