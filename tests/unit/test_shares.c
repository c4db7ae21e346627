/* test_shares.c: seed 002's load-balancing formulas as unit vectors, plus the dynamic-LB convergence simulation. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/sp_shares.h"

/* A team of n usable paths, path 0 primary, load balancing by static shares. */
static void team_init(struct sp_lb_team *t, unsigned int n)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->npaths = n;
	t->mode = SP_MODE_FAILOVER_LB;
	t->algo = SP_ALGO_STATIC;
	for (i = 0; i < n; i++)
		t->path[i].usable = 1;
	t->path[0].primary = 1;
}

static void set2(struct sp_lb_team *t, int dir, unsigned int a, unsigned int b)
{
	unsigned int s[2] = {a, b};

	ck_assert_int_eq(sp_lb_set_shares(t, dir, s), 0);
}

/* Dispatches one command: select, account, complete at once. */
static int run1(struct sp_lb_team *t, int dir, uint32_t len)
{
	int p = sp_lb_select(t, dir, len);

	if (p >= 0) {
		sp_lb_account(t, p, dir, len);
		sp_lb_complete(t, p, dir, len, 0);
	}
	return p;
}

START_TEST(lbv_values)
{
	struct sp_lb_team t;

	team_init(&t, 3);
	{
		unsigned int s[3] = {50, 50, 0};
		ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, s), 0);
	}
	/* No bytes yet: infinite for a share > 0, zero for a 0% share. */
	ck_assert_uint_eq(sp_lb_lbv(&t, SP_READ, 0), UINT64_MAX);
	ck_assert_uint_eq(sp_lb_lbv(&t, SP_READ, 2), 0);
	/* TotalTeamBytes 1000: (1000/400)*50 = 125, (1000/600)*50 = 83.3. */
	t.path[0].bytes[SP_READ] = 400;
	t.path[1].bytes[SP_READ] = 600;
	ck_assert_uint_eq(sp_lb_lbv(&t, SP_READ, 0), 125);
	ck_assert_uint_eq(sp_lb_lbv(&t, SP_READ, 1), 83);
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 4096), 0);
	/* One byte apart still decides. */
	t.path[0].bytes[SP_READ] = 601;
	t.path[1].bytes[SP_READ] = 600;
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 4096), 1);
	/* Huge counters: the cross-products must not overflow. */
	t.path[0].bytes[SP_READ] = UINT64_MAX - 1;
	t.path[1].bytes[SP_READ] = UINT64_MAX;
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 4096), 0);
	t.path[0].bytes[SP_READ] = UINT64_MAX;
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 4096), 0); /* tie */
	/* The write direction is untouched by read shares. */
	ck_assert_uint_eq(sp_lb_lbv(&t, SP_WRITE, 0), 0);
}
END_TEST

/* Runs ncmd commands of len bytes and checks that after every command the
 * byte split is within one command of the shares. */
static void check_split(unsigned int a, unsigned int b, unsigned int ncmd, const uint32_t *lens, unsigned int nlens,
                        uint32_t maxlen, char *seq, size_t seqlen)
{
	struct sp_lb_team t;
	uint64_t total = 0;
	unsigned int k;

	team_init(&t, 2);
	set2(&t, SP_READ, a, b);
	for (k = 0; k < ncmd; k++) {
		uint32_t len = lens[k % nlens];
		int p = run1(&t, SP_READ, len);
		int64_t dev;

		ck_assert(p == 0 || p == 1);
		if (seq && k < seqlen - 1) {
			seq[k] = (char)('0' + p);
			seq[k + 1] = 0;
		}
		total += len;
		/* 100 * bytes0 - a * total, within one command (x100). */
		dev = (int64_t)(t.path[0].bytes[SP_READ] * 100) - (int64_t)(a * total);
		ck_assert_msg(llabs(dev) <= (int64_t)maxlen * 100, "cmd %u: path0 %llu of %llu bytes", k,
		              (unsigned long long)t.path[0].bytes[SP_READ], (unsigned long long)total);
	}
}

START_TEST(split_50_50)
{
	uint32_t len = 4096;
	char seq[16];

	check_split(50, 50, 1000, &len, 1, len, seq, sizeof(seq));
	/* Zero bytes wins (lowest index first), then ties go to the lowest index. */
	ck_assert_str_eq(seq, "010101010101010");
}
END_TEST

START_TEST(split_70_30)
{
	uint32_t len = 4096;
	uint32_t mixed[] = {512, 65536, 4096, 8192, 131072, 1024};
	char seq[16];
	struct sp_lb_team t;
	unsigned int k;

	check_split(70, 30, 1000, &len, 1, len, seq, sizeof(seq));
	ck_assert_str_eq(seq, "010010010001001");
	/* Exact over whole rounds of ten. */
	team_init(&t, 2);
	set2(&t, SP_READ, 70, 30);
	for (k = 0; k < 1000; k++)
		run1(&t, SP_READ, len);
	ck_assert_uint_eq(t.path[0].bytes[SP_READ], 700 * 4096);
	ck_assert_uint_eq(t.path[1].bytes[SP_READ], 300 * 4096);
	/* Mixed sizes: within the largest command at every step. */
	check_split(70, 30, 5000, mixed, 6, 131072, NULL, 0);
	check_split(1, 99, 5000, mixed, 6, 131072, NULL, 0);
}
END_TEST

START_TEST(read_write_separate)
{
	struct sp_lb_team t;
	unsigned int k;

	team_init(&t, 2);
	set2(&t, SP_READ, 70, 30);
	set2(&t, SP_WRITE, 20, 80);
	for (k = 0; k < 1000; k++) {
		run1(&t, SP_READ, 4096);
		run1(&t, SP_WRITE, 8192);
		run1(&t, SP_WRITE, 8192);
	}
	ck_assert_uint_eq(t.path[0].bytes[SP_READ], 700 * 4096);
	ck_assert_uint_eq(t.path[1].bytes[SP_READ], 300 * 4096);
	ck_assert_uint_eq(t.path[0].bytes[SP_WRITE], 400 * 8192);
	ck_assert_uint_eq(t.path[1].bytes[SP_WRITE], 1600 * 8192);
	/* Setting the write shares restarts only the write counts. */
	set2(&t, SP_WRITE, 50, 50);
	ck_assert_uint_eq(t.path[0].bytes[SP_WRITE], 0);
	ck_assert_uint_eq(t.path[0].bytes[SP_READ], 700 * 4096);
	ck_assert_uint_eq(t.path[0].share[SP_READ], 70);
}
END_TEST

START_TEST(zero_bytes_and_zero_shares)
{
	struct sp_lb_team t;
	unsigned int s[4] = {0, 60, 40, 0};
	unsigned int k, c[4] = {0};

	team_init(&t, 4);
	ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, s), 0);
	/* Both paths with a share and no bytes are infinite: lowest index first. */
	ck_assert_int_eq(run1(&t, SP_READ, 1000), 1);
	ck_assert_int_eq(run1(&t, SP_READ, 1000), 2);
	for (k = 0; k < 98; k++)
		c[run1(&t, SP_READ, 1000)]++;
	/* A 0% share never carries I/O while a path with a share is usable. */
	ck_assert_uint_eq(c[0], 0);
	ck_assert_uint_eq(c[3], 0);
	ck_assert_uint_eq(t.path[1].bytes[SP_READ], 60000);
	ck_assert_uint_eq(t.path[2].bytes[SP_READ], 40000);
	/* Only 0% paths left usable: they share evenly rather than stall. */
	t.path[1].usable = 0;
	t.path[2].usable = 0;
	ck_assert_int_eq(sp_lb_failover_path(&t, SP_READ), -1);
	ck_assert_int_eq(run1(&t, SP_READ, 1000), 0);
	ck_assert_int_eq(run1(&t, SP_READ, 1000), 3);
	ck_assert_int_eq(run1(&t, SP_READ, 1000), 0);
	/* Zero-length commands do not confuse the comparison. */
	team_init(&t, 2);
	set2(&t, SP_READ, 50, 50);
	ck_assert_int_eq(run1(&t, SP_READ, 0), 0);
	ck_assert_int_eq(run1(&t, SP_READ, 0), 0);
}
END_TEST

START_TEST(ties)
{
	struct sp_lb_team t;
	unsigned int s[3] = {30, 40, 30};

	team_init(&t, 3);
	ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, s), 0);
	/* 30/75 = 40/100 = 30/75: equal values, the lowest index wins. */
	t.path[0].bytes[SP_READ] = 75;
	t.path[1].bytes[SP_READ] = 100;
	t.path[2].bytes[SP_READ] = 75;
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 1), 0);
	t.path[0].usable = 0;
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 1), 1);
	t.path[0].usable = 1;
	t.path[0].bytes[SP_READ] = 76;
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 1), 1);
}
END_TEST

START_TEST(unusable_paths)
{
	struct sp_lb_team t;
	unsigned int s[3] = {50, 25, 25};
	unsigned int k;

	team_init(&t, 3);
	ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, s), 0);
	t.path[0].usable = 0;
	for (k = 0; k < 100; k++)
		ck_assert_int_eq(run1(&t, SP_READ, 512), (int)(1 + k % 2));
	ck_assert_uint_eq(t.path[0].bytes[SP_READ], 0);
	t.path[1].usable = t.path[2].usable = 0;
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 512), -1);
	ck_assert_int_eq(sp_lb_failover_path(&t, SP_READ), -1);
	/* Bad arguments never pick a path. */
	t.path[1].usable = 1;
	ck_assert_int_eq(sp_lb_select(&t, 7, 512), -1);
	sp_lb_account(&t, 9, SP_READ, 512);
	sp_lb_account(&t, -1, SP_READ, 512);
	ck_assert_uint_eq(t.path[1].bytes[SP_READ], 50 * 512);
}
END_TEST

START_TEST(failover_mode)
{
	struct sp_lb_team t;
	unsigned int s[3] = {40, 30, 30};
	unsigned int k;

	team_init(&t, 3);
	ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, s), 0);
	t.mode = SP_MODE_FAILOVER;
	t.path[0].primary = 0;
	t.path[1].primary = 1;
	for (k = 0; k < 10; k++)
		ck_assert_int_eq(run1(&t, SP_READ, 512), 1);
	/* Failover mode applies to every algorithm. */
	t.algo = SP_ALGO_ROUND_ROBIN;
	ck_assert_int_eq(run1(&t, SP_READ, 512), 1);
	/* Primary down: the first usable path. */
	t.path[1].usable = 0;
	ck_assert_int_eq(run1(&t, SP_READ, 512), 0);
	t.path[0].usable = 0;
	ck_assert_int_eq(run1(&t, SP_READ, 512), 2);
	t.path[0].usable = t.path[1].usable = 1;
	ck_assert_int_eq(run1(&t, SP_READ, 512), 1);

	/* Failover+LB with a 100% share: that path carries everything... */
	team_init(&t, 3);
	{
		unsigned int f[3] = {0, 100, 0};
		ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, f), 0);
	}
	ck_assert_int_eq(sp_lb_failover_path(&t, SP_READ), 1);
	for (k = 0; k < 10; k++)
		ck_assert_int_eq(run1(&t, SP_READ, 512), 1);
	/* ...and when it is down, the primary takes over, not a spread. */
	t.path[1].usable = 0;
	for (k = 0; k < 10; k++)
		ck_assert_int_eq(run1(&t, SP_READ, 512), 0);

	/* A single usable path carries everything, whatever its share. */
	team_init(&t, 3);
	{
		unsigned int f[3] = {0, 50, 50};
		ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, f), 0);
	}
	ck_assert_int_eq(sp_lb_failover_path(&t, SP_READ), -1);
	t.path[1].usable = t.path[2].usable = 0;
	ck_assert_int_eq(sp_lb_failover_path(&t, SP_READ), 0);
	ck_assert_int_eq(run1(&t, SP_READ, 512), 0);
}
END_TEST

START_TEST(validate)
{
	unsigned int ok[3] = {0, 0, 100}, ok2[2] = {50, 50}, bad[2] = {50, 49}, big[2] = {101, 0};
	unsigned int wrap[2] = {0xffffffffu, 101}, one[1] = {100};
	struct sp_lb_team t;
	struct sp_lb_dynamic d = {1000, 5, 5};

	ck_assert_int_eq(sp_lb_validate_shares(ok, 3), 0);
	ck_assert_int_eq(sp_lb_validate_shares(ok2, 2), 0);
	ck_assert_int_eq(sp_lb_validate_shares(one, 1), 0);
	ck_assert_int_eq(sp_lb_validate_shares(bad, 2), -EINVAL);
	ck_assert_int_eq(sp_lb_validate_shares(big, 2), -EINVAL);
	ck_assert_int_eq(sp_lb_validate_shares(wrap, 2), -EINVAL);
	ck_assert_int_eq(sp_lb_validate_shares(ok2, 0), -EINVAL);
	ck_assert_int_eq(sp_lb_validate_shares(NULL, 2), -EINVAL);
	/* A rejected set changes nothing. */
	team_init(&t, 2);
	set2(&t, SP_READ, 70, 30);
	t.path[0].bytes[SP_READ] = 123;
	ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, bad), -EINVAL);
	ck_assert_int_eq(sp_lb_set_shares(&t, 2, ok2), -EINVAL);
	ck_assert_uint_eq(t.path[0].share[SP_READ], 70);
	ck_assert_uint_eq(t.path[0].bytes[SP_READ], 123);

	ck_assert_int_eq(sp_lb_validate_dynamic(&d), 0);
	d.lb_change_pct = 0;
	ck_assert_int_eq(sp_lb_validate_dynamic(&d), -EINVAL);
	d.lb_change_pct = 5;
	d.change_threshold = 101;
	ck_assert_int_eq(sp_lb_validate_dynamic(&d), -EINVAL);
	d.change_threshold = 5;
	d.timer_interval_ms = 0;
	ck_assert_int_eq(sp_lb_validate_dynamic(&d), -EINVAL);
	ck_assert_int_eq(sp_lb_validate_dynamic(NULL), -EINVAL);
	ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), -EINVAL);
}
END_TEST

/* Sets up n paths with shares sh[] and one interval's bytes b[]. */
static void dyn_setup(struct sp_lb_team *t, unsigned int n, const unsigned int *sh, const uint64_t *b)
{
	unsigned int i;

	team_init(t, n);
	ck_assert_int_eq(sp_lb_set_shares(t, SP_READ, sh), 0);
	sp_lb_switch_algo(t, SP_ALGO_DYNAMIC);
	for (i = 0; i < n; i++)
		t->path[i].interval_bytes[SP_READ] = b[i];
}

START_TEST(dynamic_seed_example)
{
	/* [0033]: DifferenceLB -15%, 15%, 10%: the -15% path is raised.  The
	 * seed's three numbers do not sum to 0 as all paths' differences must,
	 * so a fourth path at -10% completes the team. */
	unsigned int sh[4] = {40, 30, 20, 10}, act[SP_MAX_PATHS];
	uint64_t b[4] = {2500, 4500, 3000, 0};
	struct sp_lb_dynamic d = {1000, 5, 5};
	struct sp_lb_team t;

	dyn_setup(&t, 4, sh, b);
	t.path[0].bytes[SP_READ] = 77;
	ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, act), 3);
	ck_assert_uint_eq(act[0], 25);
	ck_assert_uint_eq(act[1], 45);
	ck_assert_uint_eq(act[2], 30);
	ck_assert_uint_eq(act[3], 0);
	/* 15 > 5 and 10 > 5: both cut by 5, both given to the -15% path. */
	ck_assert_uint_eq(t.path[0].share[SP_READ], 50);
	ck_assert_uint_eq(t.path[1].share[SP_READ], 25);
	ck_assert_uint_eq(t.path[2].share[SP_READ], 15);
	ck_assert_uint_eq(t.path[3].share[SP_READ], 10);
	/* The interval and the static counts restart. */
	ck_assert_uint_eq(t.path[1].interval_bytes[SP_READ], 0);
	ck_assert_uint_eq(t.path[0].bytes[SP_READ], 0);
	/* The administrator's shares are kept aside. */
	ck_assert_uint_eq(t.path[0].cfg_share[SP_READ], 40);

	/* Threshold boundary: a difference equal to the threshold does not move
	 * (pseudocode ">", not the prose's "less than"). */
	d.change_threshold = 10;
	dyn_setup(&t, 4, sh, b);
	ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 2);
	ck_assert_uint_eq(t.path[0].share[SP_READ], 45);
	ck_assert_uint_eq(t.path[1].share[SP_READ], 25);
	ck_assert_uint_eq(t.path[2].share[SP_READ], 20);
	d.change_threshold = 15;
	dyn_setup(&t, 4, sh, b);
	ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 0);
	ck_assert_uint_eq(t.path[1].share[SP_READ], 30);
	/* Just above the threshold moves: 15.01 > 15. */
	b[1] = 450100;
	b[0] = 249900;
	b[2] = 300000;
	dyn_setup(&t, 4, sh, b);
	ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 2);
	ck_assert_uint_eq(t.path[1].share[SP_READ], 25);
}
END_TEST

START_TEST(dynamic_ties_and_limits)
{
	struct sp_lb_dynamic d = {1000, 5, 5};
	struct sp_lb_team t;

	/* Lowest difference tied at -10: the higher actual share is raised. */
	{
		unsigned int sh[3] = {30, 40, 30};
		uint64_t b[3] = {20, 30, 50};
		dyn_setup(&t, 3, sh, b);
		ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 2);
		ck_assert_uint_eq(t.path[0].share[SP_READ], 30);
		ck_assert_uint_eq(t.path[1].share[SP_READ], 45);
		ck_assert_uint_eq(t.path[2].share[SP_READ], 25);
	}
	/* A share smaller than LBChange% goes to 0, not below. */
	{
		unsigned int sh[2] = {3, 97};
		uint64_t b[2] = {50, 50};
		dyn_setup(&t, 2, sh, b);
		ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 2);
		ck_assert_uint_eq(t.path[0].share[SP_READ], 0);
		ck_assert_uint_eq(t.path[1].share[SP_READ], 100);
		/* 100% is failover: nothing moves any more. */
		t.path[0].interval_bytes[SP_READ] = 10;
		t.path[1].interval_bytes[SP_READ] = 90;
		ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 0);
	}
	/* An empty interval moves nothing; a down path is neither cut nor raised. */
	{
		unsigned int sh[3] = {20, 40, 40};
		uint64_t b[3] = {0, 0, 0};
		dyn_setup(&t, 3, sh, b);
		ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 0);
		t.path[0].usable = 0;
		t.path[1].interval_bytes[SP_READ] = 70;
		t.path[2].interval_bytes[SP_READ] = 30;
		ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 2);
		ck_assert_uint_eq(t.path[0].share[SP_READ], 20);
		ck_assert_uint_eq(t.path[1].share[SP_READ], 35);
		ck_assert_uint_eq(t.path[2].share[SP_READ], 45);
	}
}
END_TEST

START_TEST(dynamic_invariants)
{
	struct sp_lb_team t;
	unsigned int k, i, n;
	unsigned int seed = 12345;

	for (k = 0; k < 20000; k++) {
		struct sp_lb_dynamic d;
		unsigned int sum = 0;

		if (k % 200 == 0) {
			unsigned int sh[SP_MAX_PATHS] = {0}, left = 100;

			n = 2 + rand_r(&seed) % (SP_MAX_PATHS - 1);
			team_init(&t, n);
			for (i = 0; i + 1 < n; i++) {
				sh[i] = rand_r(&seed) % (left + 1);
				left -= sh[i];
			}
			sh[n - 1] = left;
			ck_assert_int_eq(sp_lb_set_shares(&t, SP_READ, sh), 0);
			sp_lb_switch_algo(&t, SP_ALGO_DYNAMIC);
		}
		d.timer_interval_ms = 100;
		d.change_threshold = rand_r(&seed) % 30;
		d.lb_change_pct = 1 + rand_r(&seed) % 40;
		for (i = 0; i < t.npaths; i++) {
			t.path[i].usable = rand_r(&seed) % 8 != 0;
			t.path[i].interval_bytes[SP_READ] =
			    rand_r(&seed) % 3 == 0 ? 0 : ((uint64_t)rand_r(&seed) << (rand_r(&seed) % 32));
		}
		ck_assert_int_ge(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 0);
		for (i = 0; i < t.npaths; i++) {
			ck_assert_uint_le(t.path[i].share[SP_READ], 100);
			sum += t.path[i].share[SP_READ];
		}
		ck_assert_uint_eq(sum, 100);
	}
}
END_TEST

START_TEST(switch_algo)
{
	struct sp_lb_dynamic d = {1000, 5, 10};
	struct sp_lb_team t;

	team_init(&t, 2);
	set2(&t, SP_READ, 70, 30);
	set2(&t, SP_WRITE, 40, 60);
	sp_lb_switch_algo(&t, SP_ALGO_DYNAMIC);
	ck_assert_int_eq(t.algo, SP_ALGO_DYNAMIC);
	/* Dynamic starts from the configured shares. */
	ck_assert_uint_eq(t.path[0].share[SP_READ], 70);
	t.path[0].interval_bytes[SP_READ] = 90;
	t.path[1].interval_bytes[SP_READ] = 10;
	ck_assert_int_eq(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 2);
	ck_assert_uint_eq(t.path[0].share[SP_READ], 60);
	ck_assert_uint_eq(t.path[1].share[SP_READ], 40);
	ck_assert_uint_eq(t.path[0].share[SP_WRITE], 40);
	/* Back to static: the configured shares return, counts restart. */
	t.path[0].bytes[SP_READ] = 1000;
	sp_lb_switch_algo(&t, SP_ALGO_STATIC);
	ck_assert_uint_eq(t.path[0].share[SP_READ], 70);
	ck_assert_uint_eq(t.path[1].share[SP_READ], 30);
	ck_assert_uint_eq(t.path[0].bytes[SP_READ], 0);
	/* Shares poked in without sp_lb_set_shares are kept rather than zeroed. */
	team_init(&t, 2);
	t.algo = SP_ALGO_DYNAMIC;
	t.path[0].share[SP_READ] = 25;
	t.path[1].share[SP_READ] = 75;
	sp_lb_switch_algo(&t, SP_ALGO_STATIC);
	ck_assert_uint_eq(t.path[0].share[SP_READ], 25);
}
END_TEST

START_TEST(reference_selectors)
{
	struct sp_lb_team t;
	int p;

	team_init(&t, 3);
	t.algo = SP_ALGO_ROUND_ROBIN;
	t.path[1].usable = 0;
	ck_assert_int_eq(run1(&t, SP_READ, 1), 0);
	ck_assert_int_eq(run1(&t, SP_READ, 1), 2);
	ck_assert_int_eq(run1(&t, SP_READ, 1), 0);
	t.path[1].usable = 1;
	ck_assert_int_eq(run1(&t, SP_READ, 1), 1);
	ck_assert_int_eq(run1(&t, SP_READ, 1), 2);

	/* Queue length: fewest bytes in flight, ties to the lowest index. */
	team_init(&t, 3);
	t.algo = SP_ALGO_QUEUE_LENGTH;
	p = sp_lb_select(&t, SP_READ, 100);
	ck_assert_int_eq(p, 0);
	sp_lb_account(&t, 0, SP_READ, 100);
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 100), 1);
	sp_lb_account(&t, 1, SP_WRITE, 50);
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 100), 2);
	sp_lb_account(&t, 2, SP_READ, 80);
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 100), 1);
	ck_assert_uint_eq(t.path[1].inflight, 1);
	sp_lb_complete(&t, 0, SP_READ, 100, 0);
	ck_assert_uint_eq(t.path[0].inflight_bytes, 0);
	ck_assert_uint_eq(t.path[0].pending[SP_READ], 0);
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 100), 0);

	/* Service time: least (inflight + 1) * ewma. */
	team_init(&t, 2);
	t.algo = SP_ALGO_SERVICE_TIME;
	sp_lb_account(&t, 0, SP_READ, 1);
	sp_lb_complete(&t, 0, SP_READ, 1, 1000); /* seeds the EWMA */
	ck_assert_uint_eq(t.path[0].ewma_service_ns, 1000);
	sp_lb_account(&t, 1, SP_READ, 1);
	sp_lb_complete(&t, 1, SP_READ, 1, 3000);
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 1), 0); /* 1000 < 3000 */
	sp_lb_account(&t, 0, SP_READ, 1);
	sp_lb_account(&t, 0, SP_READ, 1);
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 1), 0); /* 3000 vs 3000: tie */
	sp_lb_account(&t, 0, SP_READ, 1);
	ck_assert_int_eq(sp_lb_select(&t, SP_READ, 1), 1); /* 4000 > 3000 */
	sp_lb_complete(&t, 0, SP_READ, 1, 9000);
	ck_assert_uint_eq(t.path[0].ewma_service_ns, 2000); /* 1000 + 8000/8 */
	sp_lb_complete(&t, 0, SP_READ, 1, 0);               /* withdrawn: no sample */
	ck_assert_uint_eq(t.path[0].ewma_service_ns, 2000);
	sp_lb_complete(&t, 0, SP_READ, 1, 400);
	ck_assert_uint_eq(t.path[0].ewma_service_ns, 1800);
	sp_lb_complete(&t, 0, SP_READ, 1, 400); /* one too many: saturates */
	ck_assert_uint_eq(t.path[0].inflight, 0);
	ck_assert_uint_eq(t.path[0].pending[SP_READ], 0);
}
END_TEST

/*
 * The closed-loop simulation behind the comment at the top of shares.c:
 * two paths serving 256 and 768 bytes per tick (1:3), a fixed queue depth
 * of 4 KiB commands (each completion issues the next command at once), FIFO
 * per path, every command going where sp_lb_select() says.  Deterministic:
 * no randomness at all.
 */
#define SIM_QMAX 256
struct sim_fifo {
	unsigned int head, n;
	uint32_t left[SIM_QMAX];
};

struct sim_result {
	unsigned int share0[200]; /* path 0's share after each interval */
	uint64_t tput_last;       /* bytes per tick in the last interval */
};

/* completed != 0 models the wrong counting instead: work-conserving dispatch
 * with a per-path limit (a full path's command goes to the other one) and
 * the interval's completed bytes fed in as DataPathBytes. */
static void simulate(unsigned int qd, unsigned int intervals, unsigned int ticks, int completed, unsigned int limit,
                     struct sim_result *res)
{
	static const uint32_t rate[2] = {256, 768}, len = 4096;
	struct sp_lb_dynamic d = {100, 5, 2};
	struct sim_fifo f[2];
	struct sp_lb_team t;
	uint64_t done[2];
	unsigned int k, tick, i, issue;
	int p;

	memset(f, 0, sizeof(f));
	team_init(&t, 2);
	set2(&t, SP_READ, 50, 50);
	sp_lb_switch_algo(&t, SP_ALGO_DYNAMIC);
	issue = qd;
	for (k = 0; k < intervals; k++) {
		done[0] = done[1] = 0;
		for (tick = 0; tick < ticks; tick++) {
			for (i = 0; i < issue; i++) {
				p = sp_lb_select(&t, SP_READ, len);
				ck_assert(p == 0 || p == 1);
				if (completed && f[p].n >= limit)
					p = !p;
				sp_lb_account(&t, p, SP_READ, len);
				ck_assert_uint_lt(f[p].n, SIM_QMAX);
				f[p].left[(f[p].head + f[p].n) % SIM_QMAX] = len;
				f[p].n++;
			}
			issue = 0;
			for (p = 0; p < 2; p++) {
				uint32_t r = rate[p];

				while (r && f[p].n) {
					uint32_t *c = &f[p].left[f[p].head];
					uint32_t s = *c < r ? *c : r;

					*c -= s;
					r -= s;
					done[p] += s;
					if (*c == 0) {
						sp_lb_complete(&t, p, SP_READ, len, 1);
						f[p].head = (f[p].head + 1) % SIM_QMAX;
						f[p].n--;
						issue++;
					}
				}
			}
		}
		if (completed) {
			t.path[0].interval_bytes[SP_READ] = done[0];
			t.path[1].interval_bytes[SP_READ] = done[1];
		}
		ck_assert_int_ge(sp_lb_dynamic_tick(&t, &d, SP_READ, NULL), 0);
		res->share0[k] = t.path[0].share[SP_READ];
		ck_assert_uint_eq(t.path[0].share[SP_READ] + t.path[1].share[SP_READ], 100);
		res->tput_last = (done[0] + done[1]) / ticks;
	}
}

START_TEST(dynamic_converges_to_bandwidth)
{
	static struct sim_result r;
	const unsigned int n = 80;
	unsigned int k, settled = n, lo = 100, hi = 0;

	simulate(32, n, 5000, 0, 0, &r);
	/* The first interval after which path 0 (the slow one) stays within 5
	 * points of 25 for the rest of the run. */
	for (k = n; k-- > 0;) {
		if (r.share0[k] + 5 < 25 || r.share0[k] > 30)
			break;
		settled = k;
	}
	for (k = settled; k < n; k++) {
		lo = r.share0[k] < lo ? r.share0[k] : lo;
		hi = r.share0[k] > hi ? r.share0[k] : hi;
	}
	printf("dynamic LB, 1:3 paths, queue depth 32, LBChange 2, threshold 5: within 5 points of 25/75 "
	       "after %u intervals, then %u..%u, final %u/%u, %llu of 1024 bytes/tick\n",
	       settled + 1, lo, hi, r.share0[n - 1], 100 - r.share0[n - 1], (unsigned long long)r.tput_last);
	ck_assert_uint_lt(settled, 40);
	ck_assert_uint_ge(r.share0[n - 1], 20);
	ck_assert_uint_le(r.share0[n - 1], 30);
	/* Settled near the ratio, the team runs near the sum of both paths. */
	ck_assert_uint_ge(r.tput_last, 1024 * 9 / 10);
}
END_TEST

START_TEST(completed_bytes_diverge)
{
	/* Counting completed bytes under work-conserving dispatch cuts the fast
	 * path: the shares run away from 25/75 towards the slow path. */
	static struct sim_result r;

	simulate(32, 40, 5000, 1, 8, &r);
	printf("completed-bytes counting: path 0 (slow) share after 40 intervals: %u\n", r.share0[39]);
	ck_assert_uint_ge(r.share0[39], 90);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shares");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lbv_values);
	tcase_add_test(tc, split_50_50);
	tcase_add_test(tc, split_70_30);
	tcase_add_test(tc, read_write_separate);
	tcase_add_test(tc, zero_bytes_and_zero_shares);
	tcase_add_test(tc, ties);
	tcase_add_test(tc, unusable_paths);
	tcase_add_test(tc, failover_mode);
	tcase_add_test(tc, validate);
	tcase_add_test(tc, dynamic_seed_example);
	tcase_add_test(tc, dynamic_ties_and_limits);
	tcase_add_test(tc, dynamic_invariants);
	tcase_add_test(tc, switch_algo);
	tcase_add_test(tc, reference_selectors);
	tcase_add_test(tc, dynamic_converges_to_bandwidth);
	tcase_add_test(tc, completed_bytes_diverge);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
