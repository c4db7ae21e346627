/* test_clu_acl.c: what a unit binds and unbinds in tgt for one target (engines/cluster/acl.c clu_acl_plan) from a
 * CRT held by the test: unallocated, dedicated, shared, a controller of another unit, a unit not in the CRT yet,
 * rules already right, ALL and stray names, the administrator's address rules left alone. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "engines/cluster/clu_probe.h"
#include "iscsi/tgtctl.h"
#include "tests/unit/evloop_stub.h"

/* ---- the CRT, held by the test: hosts 1 (h1) and 2 (h2), unit 3, controller 4 (iqn.t:a) of unit 3,
 * controller 5 (iqn.t:b) of another unit 9 ---- */
static struct clu_res rows[5];

const struct clu_res *clu_res_get(uint32_t index)
{
	for (size_t i = 0; i < 5; i++)
		if (rows[i].index == index)
			return &rows[i];
	return NULL;
}

const struct clu_res *clu_res_find_name(int type, const char *name)
{
	for (size_t i = 0; i < 5; i++)
		if (rows[i].type == type && strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

/* What acl.c's rounds use besides the plan (not run here). */
const struct clu_res *clu_res_find_guid(const uint8_t *guid, size_t len)
{
	(void)guid;
	(void)len;
	return NULL;
}
void clu_self_guid(uint8_t out[8])
{
	memset(out, 0, 8);
}

static char log_[1024];

static void emit(uint32_t tid, int bind, int by_name, const char *rule, void *arg)
{
	size_t n = strlen(log_);

	(void)arg;
	snprintf(log_ + n, sizeof(log_) - n, "%s%s %u %s %s", n ? "; " : "", bind ? "bind" : "unbind",
	         (unsigned int)tid, by_name ? "name" : "addr", rule);
}

static void setup(void)
{
	memset(rows, 0, sizeof(rows));
	rows[0] = (struct clu_res){.index = 1, .type = CLU_HOST, .ownership = CLU_DEDICATED};
	snprintf(rows[0].name, sizeof(rows[0].name), "iqn.h:1");
	rows[1] = (struct clu_res){.index = 2, .type = CLU_HOST, .ownership = CLU_DEDICATED};
	snprintf(rows[1].name, sizeof(rows[1].name), "iqn.h:2");
	rows[2] =
	    (struct clu_res){.index = 3, .type = CLU_UNIT, .ownership = CLU_SHARED, .owners = {1, 2}, .nowners = 2};
	rows[3] = (struct clu_res){.index = 4, .type = CLU_CONTROLLER, .parent = 3, .ownership = CLU_UNALLOCATED};
	snprintf(rows[3].name, sizeof(rows[3].name), "iqn.t:a");
	rows[4] = (struct clu_res){
	    .index = 5, .type = CLU_CONTROLLER, .parent = 9, .ownership = CLU_DEDICATED, .owners = {1}, .nowners = 1};
	snprintf(rows[4].name, sizeof(rows[4].name), "iqn.t:b");
	log_[0] = '\0';
}

static char *always[] = {"iqn.u:probe"};

static void plan(const char *iqn, const char *const *rules, size_t n, int in_crt)
{
	struct tgtc_acl acls[8];
	struct tgtc_target_info t = {.tid = 7, .acls = acls, .nacls = n};

	snprintf(t.name, sizeof(t.name), "%s", iqn);
	for (size_t i = 0; i < n; i++)
		snprintf(acls[i].rule, sizeof(acls[i].rule), "%s", rules[i]);
	log_[0] = '\0';
	ck_assert_int_eq(clu_acl_plan(in_crt ? &rows[2] : NULL, &t, always, 1, emit, NULL), 0);
}

START_TEST(unallocated_admits_always_only)
{
	const char *r[] = {"ALL", "10.0.0.0/8", "iqn.h:1"};

	plan("iqn.t:a", r, 3, 1);
	ck_assert_str_eq(log_, "bind 7 name iqn.u:probe; unbind 7 addr ALL; unbind 7 name iqn.h:1");
	/* A target the CRT does not hold, or this unit not in the CRT: the same. */
	plan("iqn.t:new", r, 3, 1);
	ck_assert_str_eq(log_, "bind 7 name iqn.u:probe; unbind 7 addr ALL; unbind 7 name iqn.h:1");
	rows[3].ownership = CLU_DEDICATED;
	rows[3].owners[0] = 1;
	rows[3].nowners = 1;
	plan("iqn.t:a", r, 3, 0);
	ck_assert_str_eq(log_, "bind 7 name iqn.u:probe; unbind 7 addr ALL; unbind 7 name iqn.h:1");
}
END_TEST

START_TEST(owners_bound_others_unbound)
{
	const char *r[] = {"iqn.u:probe", "iqn.h:2", "192.0.2.1"};

	rows[3].ownership = CLU_DEDICATED;
	rows[3].owners[0] = 1;
	rows[3].nowners = 1;
	plan("iqn.t:a", r, 3, 1);
	ck_assert_str_eq(log_, "bind 7 name iqn.h:1; unbind 7 name iqn.h:2");
	rows[3].ownership = CLU_SHARED;
	rows[3].owners[1] = 2;
	rows[3].nowners = 2;
	plan("iqn.t:a", r, 3, 1);
	ck_assert_str_eq(log_, "bind 7 name iqn.h:1");
	/* Everything right already: nothing to do. */
	{
		const char *ok[] = {"iqn.h:2", "iqn.u:probe", "iqn.h:1"};

		plan("iqn.t:a", ok, 3, 1);
		ck_assert_str_eq(log_, "");
	}
}
END_TEST

START_TEST(another_units_controller_is_not_ours)
{
	const char *r[] = {"ALL"};

	/* iqn.t:b is dedicated to h1, but on unit 9: here it is a target the CRT does not give this unit. */
	plan("iqn.t:b", r, 1, 1);
	ck_assert_str_eq(log_, "bind 7 name iqn.u:probe; unbind 7 addr ALL");
}
END_TEST

START_TEST(acl_rule_kinds)
{
	ck_assert_int_eq(tgtc_acl_is_name("iqn.2026-01.x:y"), 1);
	ck_assert_int_eq(tgtc_acl_is_name("eui.0123456789abcdef"), 1);
	ck_assert_int_eq(tgtc_acl_is_name("naa.6001405"), 1);
	ck_assert_int_eq(tgtc_acl_is_name("ALL"), 0);
	ck_assert_int_eq(tgtc_acl_is_name("198.18.0.0/24"), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clu_acl");
	TCase *tc = tcase_create("plan");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, unallocated_admits_always_only);
	tcase_add_test(tc, owners_bound_others_unbound);
	tcase_add_test(tc, another_units_controller_is_not_ours);
	tcase_add_test(tc, acl_rule_kinds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
