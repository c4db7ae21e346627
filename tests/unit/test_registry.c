/* test_registry.c: engine rows follow the config, honour SNMP overrides and report changes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus.h"
#include "engines/registry.h"

static int events;
static void on_change(int topic, const void *data, void *arg)
{
	(void)data;
	(void)topic;
	(void)arg;
	events++;
}

START_TEST(follows_config)
{
	struct sa_engine_config cfg[SA_ENGINE_COUNT];

	memset(cfg, 0, sizeof(cfg));
	cfg[SA_ENGINE_BALANCE].enabled = 1;
	ck_assert_int_gt(bus_subscribe(BUS_ENGINES, on_change, NULL), 0);
	events = 0;
	sa_engines_apply(cfg);
	ck_assert_int_eq(sa_engine_count(), 5);
	ck_assert_str_eq(sa_engine_get(2)->name, "balance");
	ck_assert_int_eq(sa_engine_get(2)->admin, SA_ADMIN_UP);
	/* Not built yet: admin up must not pretend to run. */
	ck_assert_int_eq(sa_engine_get(2)->oper, SA_OPER_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(sa_engine_get(2)->last_error, "not implemented"));
	ck_assert_int_eq(sa_engine_get(1)->admin, SA_ADMIN_DOWN);
	ck_assert_int_eq(sa_engine_get(1)->oper, SA_OPER_DOWN);
	ck_assert_int_eq(events, 1);
	ck_assert_ptr_null(sa_engine_get(0));
	ck_assert_ptr_null(sa_engine_get(6));

	/* An SNMP override wins over the config, also across a reload. */
	ck_assert_int_eq(sa_engine_set_admin(1, SA_ADMIN_UP, cfg), 0);
	ck_assert_int_eq(sa_engine_get(1)->admin, SA_ADMIN_UP);
	ck_assert_int_eq(events, 2);
	sa_engines_apply(cfg);
	ck_assert_int_eq(sa_engine_get(1)->admin, SA_ADMIN_UP);
	ck_assert_int_eq(events, 2);
	ck_assert_int_eq(sa_engine_set_admin(2, SA_ADMIN_DOWN, cfg), 0);
	ck_assert_int_eq(sa_engine_get(2)->oper, SA_OPER_DOWN);

	ck_assert_int_lt(sa_engine_validate_admin(1, 3), 0);
	ck_assert_int_lt(sa_engine_validate_admin(9, 1), 0);
	ck_assert_int_eq(sa_engine_validate_admin(5, 2), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, follows_config);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
